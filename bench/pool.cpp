// The runtime's thread pool on its own: what one parallel loop costs beyond
// its tasks. A decode step runs a dozen short loops one after another
// (microseconds each), so the hand-off to the workers and back decides
// whether a second thread helps it at all.
//   pool/back_to_back/t2   loops of two empty tasks on two threads, each
//                          started as soon as the last ended: us_per_loop
//   pool/after_idle/t2     the same loop after 2 ms without any: the
//                          workers' wake-up from sleep, us_per_loop

#include "common.h"

#include "attnc/parallel.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int64_t> tasksRun{0};
void emptyTask(void *, int64_t) {
  tasksRun.fetch_add(1, std::memory_order_relaxed);
}

void registerBackToBack() {
  benchmark::RegisterBenchmark(
      "pool/back_to_back/t2",
      [](benchmark::State &state) {
        const int previous = attn_set_num_threads(2);
        attnc_parallel_for(2, emptyTask, nullptr); // starts the worker
        const int loops = 1000;
        for (auto _ : state) {
          auto t0 = Clock::now();
          for (int i = 0; i < loops; ++i)
            attnc_parallel_for(2, emptyTask, nullptr);
          state.SetIterationTime(
              std::chrono::duration<double>(Clock::now() - t0).count());
        }
        attn_set_num_threads(previous);
        state.counters["us_per_loop"] = benchmark::Counter(
            double(loops) * state.iterations() * 1e-6,
            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
      })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(20);
}

void registerAfterIdle() {
  benchmark::RegisterBenchmark(
      "pool/after_idle/t2",
      [](benchmark::State &state) {
        const int previous = attn_set_num_threads(2);
        attnc_parallel_for(2, emptyTask, nullptr);
        for (auto _ : state) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          auto t0 = Clock::now();
          attnc_parallel_for(2, emptyTask, nullptr);
          state.SetIterationTime(
              std::chrono::duration<double>(Clock::now() - t0).count());
        }
        attn_set_num_threads(previous);
        state.counters["us_per_loop"] = benchmark::Counter(
            state.iterations() * 1e-6,
            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
      })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond)
      ->Iterations(200);
}

} // namespace

void registerPool() {
  registerBackToBack();
  registerAfterIdle();
}

} // namespace attnbench
