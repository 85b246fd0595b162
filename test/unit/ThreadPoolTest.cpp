//===- ThreadPoolTest.cpp - attnc_parallel_for and threaded kernels -------===//

#include "TestModels.h"

#include "attnc/parallel.h"

#include "gtest/gtest.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attnc::test;

namespace {

/// Restores the thread setting a test changes.
class SavedThreadCount {
public:
  SavedThreadCount() : saved(attn_set_num_threads(0)) {}
  ~SavedThreadCount() { attn_set_num_threads(saved); }

private:
  int saved;
};

class ThreadPoolTest : public testing::Test {
  SavedThreadCount threads;
};

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(size_t n) : hits(n) {}
};

TEST_F(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    attn_set_num_threads(threads);
    for (int64_t count : {1, 2, 7, 1000}) {
      Counts counts(count);
      attnc_parallel_for(
          count,
          [](void *c, int64_t i) {
            static_cast<Counts *>(c)->hits[i].fetch_add(1);
          },
          &counts);
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(counts.hits[i].load(), 1)
            << "index " << i << " of " << count << ", " << threads
            << " threads";
    }
  }
}

TEST_F(ThreadPoolTest, EmptyRangesRunNothing) {
  int calls = 0;
  auto task = [](void *c, int64_t) { ++*static_cast<int *>(c); };
  attnc_parallel_for(0, task, &calls);
  attnc_parallel_for(-5, task, &calls);
  EXPECT_EQ(calls, 0);
}

struct ThreadIds {
  std::mutex lock;
  std::set<std::thread::id> ids;
};

TEST_F(ThreadPoolTest, TwoThreadsShareTheWork) {
  attn_set_num_threads(2);
  ThreadIds seen;
  attnc_parallel_for(
      64,
      [](void *c, int64_t) {
        auto *s = static_cast<ThreadIds *>(c);
        // Long enough that one thread cannot take every task before the
        // other wakes up.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::lock_guard<std::mutex> guard(s->lock);
        s->ids.insert(std::this_thread::get_id());
      },
      &seen);
  EXPECT_EQ(seen.ids.size(), 2u);
}

TEST_F(ThreadPoolTest, OneThreadRunsOnTheCaller) {
  attn_set_num_threads(1);
  ThreadIds seen;
  attnc_parallel_for(
      16,
      [](void *c, int64_t) {
        auto *s = static_cast<ThreadIds *>(c);
        std::lock_guard<std::mutex> guard(s->lock);
        s->ids.insert(std::this_thread::get_id());
      },
      &seen);
  ASSERT_EQ(seen.ids.size(), 1u);
  EXPECT_EQ(*seen.ids.begin(), std::this_thread::get_id());
}

/// A loop started inside a task runs on that task's thread and finishes.
TEST_F(ThreadPoolTest, NestedLoopsRunInline) {
  attn_set_num_threads(2);
  Counts counts(8 * 8);
  attnc_parallel_for(
      8,
      [](void *c, int64_t outer) {
        struct Inner {
          Counts *counts;
          int64_t outer;
        } inner{static_cast<Counts *>(c), outer};
        attnc_parallel_for(
            8,
            [](void *ic, int64_t i) {
              auto *in = static_cast<Inner *>(ic);
              in->counts->hits[in->outer * 8 + i].fetch_add(1);
            },
            &inner);
      },
      &counts);
  for (auto &h : counts.hits)
    EXPECT_EQ(h.load(), 1);
}

/// Overwrites the stack below the caller, where a finished loop kept its job.
__attribute__((noinline)) void scribbleStack() {
  volatile unsigned char junk[4096];
  for (size_t i = 0; i < sizeof junk; ++i)
    junk[i] = 0x7f;
}

/// Workers left out of a loop (fewer threads than the pool has) wake up
/// after the loop's caller has returned; they must not touch its job.
TEST_F(ThreadPoolTest, LoopsWithFewerThreadsThanThePoolAreSafe) {
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 2000; ++round) {
    attn_set_num_threads(round % 2 ? 2 : 8);
    attnc_parallel_for(
        3,
        [](void *c, int64_t i) {
          static_cast<std::atomic<int64_t> *>(c)->fetch_add(i + 1);
        },
        &total);
    scribbleStack();
  }
  EXPECT_EQ(total.load(), 2000 * 6);
}

/// Context switches of the whole process so far: voluntary ones (a thread
/// blocking, a woken worker going back to sleep) and forced ones.
long contextSwitches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw + usage.ru_nivcsw;
}

/// A loop wakes the workers that take part in it, not the whole pool: once
/// grown to 64 threads, a 2-thread loop woke all 63 workers, each to go
/// back to sleep (two context switches apiece, 63 per loop at least), and
/// a decode step's loops slowed from 16 to 28 us. Counted, not timed: 500
/// loops of 2 threads may switch a few times each, not 63.
TEST_F(ThreadPoolTest, ALoopWakesOnlyItsOwnWorkers) {
  std::atomic<int64_t> total{0};
  auto add = [](void *c, int64_t i) {
    static_cast<std::atomic<int64_t> *>(c)->fetch_add(i + 1);
  };
  attn_set_num_threads(64);
  attnc_parallel_for(64, add, &total); // starts 63 workers
  attn_set_num_threads(2);
  constexpr int kLoops = 500;
  long before = contextSwitches();
  for (int loop = 0; loop < kLoops; ++loop)
    attnc_parallel_for(2, add, &total);
  long switches = contextSwitches() - before;
  EXPECT_EQ(total.load(), 64 * 65 / 2 + kLoops * 3);
  EXPECT_LT(switches, kLoops * 8) << "context switches in " << kLoops
                                  << " loops of 2 threads";
}

/// Voluntary context switches of the whole process so far: a thread
/// blocking (waiting on a condition variable), not one preempted or yielding.
long blockingSwitches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw;
}

/// Loops started one right after another hand off by polling: the worker
/// watches for the next loop and the caller for the worker's end, so neither
/// blocks. Sleeping instead costs both threads a switch per loop (38 us per
/// loop of two empty tasks against 0.24, pool/back_to_back in
/// bench/README.md). Counted, not timed; a thread preempted for longer than
/// the budget on a busy machine blocks once, so a quarter is allowed.
TEST_F(ThreadPoolTest, BackToBackLoopsHandOffWithoutBlocking) {
  if (std::getenv("ATTNC_SPIN_US"))
    GTEST_SKIP() << "ATTNC_SPIN_US is set; this checks the default polling";
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
    GTEST_SKIP() << "one CPU: threads never poll for one another";
  std::atomic<int64_t> total{0};
  auto add = [](void *c, int64_t i) {
    static_cast<std::atomic<int64_t> *>(c)->fetch_add(i + 1);
  };
  attn_set_num_threads(2);
  attnc_parallel_for(2, add, &total); // the worker exists and has run once
  constexpr int kLoops = 2000;
  long before = blockingSwitches();
  for (int loop = 0; loop < kLoops; ++loop)
    attnc_parallel_for(2, add, &total);
  long switches = blockingSwitches() - before;
  EXPECT_EQ(total.load(), (kLoops + 1) * 3);
  EXPECT_LT(switches, kLoops / 4) << "threads blocked in " << kLoops
                                  << " back-to-back loops of 2 threads";
}

/// A child of fork() inherits none of the pool's workers: its loops start
/// workers of its own instead of waiting for its parent's forever.
TEST_F(ThreadPoolTest, AForkedChildRunsLoopsOnItsOwnWorkers) {
  attn_set_num_threads(3);
  auto sumOfIndices = []() {
    std::atomic<int64_t> sum{0};
    attnc_parallel_for(
        1000,
        [](void *s, int64_t i) {
          static_cast<std::atomic<int64_t> *>(s)->fetch_add(i);
        },
        &sum);
    return sum.load();
  };
  ASSERT_EQ(sumOfIndices(), 499500); // the parent's workers are running
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    alarm(20); // a hang fails the test instead of stalling it
    bool right = sumOfIndices() == 499500 && sumOfIndices() == 499500;
    _exit(right ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal "
                                 << WTERMSIG(status) << " (SIGALRM: it hung)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's loop summed wrong";
  EXPECT_EQ(sumOfIndices(), 499500); // and the parent's pool still works
}

TEST_F(ThreadPoolTest, ThreadCountFromTheApiThenTheEnvironment) {
  EXPECT_EQ(attn_set_num_threads(3), 0);
  EXPECT_EQ(attn_num_threads(), 3);
  EXPECT_EQ(attn_set_num_threads(0), 3);
  ASSERT_EQ(setenv("ATTNC_NUM_THREADS", "5", 1), 0);
  EXPECT_EQ(attn_num_threads(), 5);
  ASSERT_EQ(setenv("ATTNC_NUM_THREADS", "not a number", 1), 0);
  EXPECT_GE(attn_num_threads(), 1); // ignored: the CPU count
  unsetenv("ATTNC_NUM_THREADS");
}

/// Tasks compute the same thing whichever thread runs them, so a threaded
/// kernel's outputs equal the single-threaded ones bit for bit (and both
/// match the reference, as everywhere else), on both backends: a Halide
/// kernel's parallel loops run on the same pool.
class KernelThreadsTest : public PerBackendTest {
  SavedThreadCount threads;
};

TEST_P(KernelThreadsTest, OutputsDoNotDependOnTheThreadCount) {
  const std::string source = R"(model threaded {
  context = 128
  dtype = f32
  input x : [context, 64]
  param w_q : [64, 64]
  param w_kv : [64, 32]
  param w_o : [64, 64]
  q = linear(x, w_q)
  k, v = split(linear(x, w_kv), 2)
  a = attention(q, k, v, heads = 8, kv_heads = 2, mask = window(40))
  y = linear(a, w_o)
  output y
}
)";
  std::string error;
  auto compiled = CompiledModel::compile(source, error, {}, false, GetParam());
  ASSERT_TRUE(compiled) << error;
  std::vector<std::vector<float>> inputs =
      attnc::makeRandomArguments(compiled->graph(), 5);
  attn_set_num_threads(1);
  std::vector<float> serial = compiled->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  attn_set_num_threads(2);
  std::vector<float> threaded = compiled->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(serial.size(), threaded.size());
  for (size_t i = 0; i < serial.size(); ++i)
    ASSERT_EQ(serial[i], threaded[i]) << "element " << i;
  expectMatchesReference(source, 1e-5, 1e-4, {1, 2}, {}, GetParam());
}

ATTNC_INSTANTIATE_PER_BACKEND(KernelThreadsTest);

} // namespace
