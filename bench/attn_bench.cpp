// attn-bench: attnc's attention kernels against a naive loop, OpenBLAS- and
// oneDNN-composed attention and the FMA peak, in one Google Benchmark run.
//
// Benchmarks are registered in this order, and Google Benchmark runs them in
// it (do not pass --benchmark_enable_random_interleaving):
//   peak/fma_<isa>/t1, t2
//   for each shape and mask: naive (smallest shape only), openblas t1, t2,
//     onednn t1, t2, halide t1, t2, attnc t1, t2
//   gpt2_block_1024: openblas t1, t2, halide t1, t2, attnc t1, t2
//   bandwidth/triad t1, t2, then decode/gpt2_block_1024/attnc t1, t2
//   pool/back_to_back/t2, pool/after_idle/t2 (the thread pool's hand-offs)
// Every benchmark stores its time per iteration, so the attnc lines that come
// last can report vs_<baseline> = baseline median time / attnc time (> 1:
// attnc is faster). See bench/README.md for every counter.

#include "attn_bench_models.h"
#include "common.h"

#include "attnc/Frontend/Diagnostics.h"
#include "attnc/parallel.h"
#include "attnc/scratch.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/Reference/Interpreter.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <benchmark/benchmark.h>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace attnbench;

namespace {

// --- options ----------------------------------------------------------------

/// Target wall time of one repetition; each benchmark's iteration count is
/// chosen from it and an estimate of its speed (at least one iteration).
double repSeconds = 0.5;
/// Shapes up to this many dense flops also get the naive loop and a check
/// against attnc's double-precision reference interpreter.
double smallFlops = 1.0e9;

/// Rough speeds in GFLOP/s per thread, only used to choose iteration counts.
double estimatedRate(const std::string &impl) {
  if (impl == "naive") return 1.5;
  // attnc, OpenBLAS, oneDNN. (attnc's estimate was 8 from its first, scalar
  // kernels; kept that low it skipped the warm-up call at 1-2K tokens, so
  // every timed call paid for fresh pages and cold caches.)
  return 100.0;
}

// --- small helpers -----------------------------------------------------------

using Clock = std::chrono::steady_clock;

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Resets the process's peak RSS (Linux: "5" to clear_refs), so that
/// getrusage reports the peak of the benchmark that follows; first returns
/// the heap that earlier benchmarks freed to the system.
bool rssResetWorks = false;
void resetPeakRss() {
  // Blocks the runtime keeps for attnc kernels, on this thread and the
  // pool's workers.
  attn_scratch_release();
  malloc_trim(0);
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  rssResetWorks = bool(f);
}
double peakRssMB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0; // KiB on Linux
}
double overallPeakRssMB = 0;
std::string overallPeakRssWhere;

double peakGflops[3] = {0, 0, 0}; // by thread count: start-up, then the peak lines

/// Median seconds per iteration of every benchmark that ran, by key.
std::map<std::string, std::vector<double>> timesByKey;

/// Reference outputs by case: attnc's interpreter on small shapes, else
/// one call of the OpenBLAS-composed twin on one thread, made when the
/// case's first line runs, so that no line's error depends on which ran
/// first (random interleaving runs them in any order). Without OpenBLAS,
/// the first line that ran the case.
struct Reference {
  std::vector<float> data;
  std::string by;
};
/// `by` of a reference made by one call of the OpenBLAS twin on one thread.
constexpr const char *kOpenblasReference = "openblas (one call, t1)";
std::map<std::string, Reference> references;

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= m)) // NaN counts as infinitely wrong
      m = std::isnan(d) ? INFINITY : d;
  }
  return m;
}

std::optional<attnc::Graph> loadGraph(const char *source, const char *name) {
  auto sourceMgr = std::make_unique<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, name), llvm::SMLoc());
  attnc::DiagnosticReporter diag(*sourceMgr, &llvm::errs());
  return attnc::loadModel(diag);
}

/// Inputs of one case, generated with attnc's makeRandomArguments (the data
/// attn-run uses); one case is kept at a time to bound memory.
struct CaseData {
  std::string key;
  attnc::Graph graph;
  std::vector<std::vector<float>> args; // inputs and params, ABI order
};
std::unique_ptr<CaseData> currentCase;

CaseData &caseData(const std::string &key, const char *source) {
  if (!currentCase || currentCase->key != key) {
    currentCase.reset();
    auto data = std::make_unique<CaseData>();
    data->key = key;
    std::optional<attnc::Graph> graph = loadGraph(source, key.c_str());
    if (!graph) {
      std::fprintf(stderr, "attn-bench: cannot load the model of %s\n",
                   key.c_str());
      std::exit(1);
    }
    data->graph = std::move(*graph);
    data->args = attnc::makeRandomArguments(data->graph, /*seed=*/1);
    currentCase = std::move(data);
  }
  return *currentCase;
}

/// The double-precision interpreter's output for the current case, as float.
std::vector<float> interpreterOutput(const CaseData &c) {
  std::vector<attnc::RefTensor> inputs;
  size_t a = 0;
  for (const attnc::KernelArg &arg : c.graph.args) {
    if (arg.role == attnc::ArgRole::Output)
      continue;
    const std::vector<float> &data = c.args[a++];
    inputs.push_back({arg.shape, std::vector<double>(data.begin(), data.end())});
  }
  std::vector<attnc::RefTensor> outputs = attnc::interpret(c.graph, inputs);
  return std::vector<float>(outputs[0].data.begin(), outputs[0].data.end());
}

#ifdef ATTN_BENCH_HAVE_OPENBLAS
/// The OpenBLAS-composed attention's output for the current case.
std::vector<float> blasOutput(const AttnShape &s, const CaseData &c) {
  const int64_t HD = int64_t(s.H) * s.D;
  std::vector<float> out(size_t(s.S) * HD);
  std::vector<std::vector<float>> scratch;
  blasAttention(s, c.args[0].data(), HD, c.args[1].data(), HD,
                c.args[2].data(), HD, out.data(), HD, /*threads=*/1, scratch);
  return out;
}
#endif

// --- the measuring harness ----------------------------------------------------

struct Measured {
  double secondsPerIter = 0;
};

/// Runs `work` once untimed when it is cheap (first-touch and JIT warm-up),
/// then the timed loop; every iteration is timed by hand (UseManualTime).
Measured timedLoop(benchmark::State &state, const std::function<void()> &work,
                   bool warmUp) {
  if (warmUp)
    work();
  double total = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    work();
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(dt);
    total += dt;
  }
  Measured m;
  m.secondsPerIter = total / double(std::max<int64_t>(1, state.iterations()));
  return m;
}

struct CaseInfo {
  std::string caseKey; // "H8_S512_D64/causal" or "gpt2_block_1024"
  double denseFlops;
  double usefulFlops;
  bool masked;
};

/// Counters common to every line, and the bookkeeping for the ratios.
void report(benchmark::State &state, const CaseInfo &c, const std::string &impl,
            int threads, const Measured &m, const std::vector<float> *output) {
  const std::string key = c.caseKey + "/" + impl + "/t" + std::to_string(threads);
  timesByKey[key].push_back(m.secondsPerIter);
  double gflops = c.denseFlops / m.secondsPerIter * 1e-9;
  state.counters["GFLOPs"] = gflops;
  state.counters["useful_GFLOPs"] = c.usefulFlops / m.secondsPerIter * 1e-9;
  if (peakGflops[threads] > 0)
    state.counters["pct_peak"] = 100.0 * gflops / peakGflops[threads];

  if (output) {
    auto ref = references.find(c.caseKey);
    if (ref == references.end()) {
      references[c.caseKey] = Reference{*output, impl + "/t" + std::to_string(threads)};
    } else {
      state.counters["err"] = maxAbsDiff(*output, ref->second.data);
    }
  }

  if (impl == "attnc" || impl == "halide") {
    for (const char *base : {"naive/t1", "openblas/t1", "openblas/t2",
                             "onednn/t1", "onednn/t2", "halide/t1",
                             "halide/t2"}) {
      if (impl == "halide" && std::string(base).rfind("halide", 0) == 0)
        continue;
      auto it = timesByKey.find(c.caseKey + "/" + base);
      if (it == timesByKey.end())
        continue;
      std::string name = std::string("vs_") + base;
      name.replace(name.find('/'), 1, "_");
      state.counters[name] = medianOf(it->second) / m.secondsPerIter;
    }
  }

  double rss = peakRssMB();
  state.counters["rss_MB"] = rss;
  if (rss > overallPeakRssMB) {
    overallPeakRssMB = rss;
    overallPeakRssWhere = key;
  }
}

int64_t iterationsFor(double flops, const std::string &impl, int threads) {
  double est = flops / (estimatedRate(impl) * threads * 1e9);
  return std::max<int64_t>(1, std::min<int64_t>(10000, std::llround(repSeconds / est)));
}
bool warmUpFor(double flops, const std::string &impl, int threads) {
  return flops / (estimatedRate(impl) * threads * 1e9) < 2.0;
}

/// Sets the runtime's thread count for attnc kernels while it lives.
struct ThreadSetting {
  explicit ThreadSetting(int threads) : previous(attn_set_num_threads(threads)) {}
  ~ThreadSetting() { attn_set_num_threads(previous); }
  int previous;
};

// --- attention benchmarks --------------------------------------------------------

void registerAttention(const AttentionModel &model) {
  const AttnShape s = model.shape();
  const CaseInfo info{s.shapeLabel() + "/" + s.maskLabel(), s.denseFlops(),
                      s.usefulFlops(), s.mask != Mask::None};
  const bool small = s.denseFlops() <= smallFlops;
  const int64_t HD = int64_t(s.H) * s.D;
  const size_t elems = size_t(s.S) * HD;

  // The work one call does, for its iteration count: attnc's kernels skip
  // the key tiles a mask hides (a window(256) line at S2048 is 1/6 of the
  // dense work, and sized as dense it ran a single 30-60 ms iteration per
  // repetition); the baselines compute every score.
  auto workFlops = [&](const std::string &impl) {
    return impl == "attnc" || impl == "halide" ? s.usefulFlops()
                                               : s.denseFlops();
  };
  auto add = [&](const std::string &impl, int threads,
                 std::function<void(benchmark::State &, CaseData &,
                                    std::vector<float> &)>
                     body) {
    std::string name = info.caseKey + "/" + impl + "/t" + std::to_string(threads);
    benchmark::RegisterBenchmark(
        name.c_str(),
        [=, &model](benchmark::State &state) {
          CaseData &data = caseData(info.caseKey, model.source);
          if (!references.count(info.caseKey)) {
            if (small)
              references[info.caseKey] = Reference{interpreterOutput(data), "interpreter"};
#ifdef ATTN_BENCH_HAVE_OPENBLAS
            else
              references[info.caseKey] = Reference{blasOutput(s, data), kOpenblasReference};
#endif
          }
          resetPeakRss();
          std::vector<float> out(elems, 0.0f);
          body(state, data, out);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(iterationsFor(workFlops(impl), impl, threads));
  };
  auto timeIt = [=](const std::string &impl, int threads,
                    std::function<void(const float *, const float *,
                                       const float *, float *)>
                        fn) {
    return [=](benchmark::State &state, CaseData &data, std::vector<float> &out) {
      const float *q = data.args[0].data(), *k = data.args[1].data(),
                  *v = data.args[2].data();
      Measured m = timedLoop(state, [&] { fn(q, k, v, out.data()); },
                             warmUpFor(s.denseFlops(), impl, threads));
      report(state, info, impl, threads, m, &out);
    };
  };

  if (small)
    add("naive", 1, timeIt("naive", 1, [s](const float *q, const float *k,
                                           const float *v, float *o) {
          naiveAttention(s, q, k, v, o);
        }));

#ifdef ATTN_BENCH_HAVE_OPENBLAS
  for (int t : {1, 2}) {
    add("openblas", t, [=](benchmark::State &state, CaseData &data,
                           std::vector<float> &out) {
      std::vector<std::vector<float>> scratch; // one [S, S] per thread
      timeIt("openblas", t, [&](const float *q, const float *k, const float *v,
                                float *o) {
        blasAttention(s, q, HD, k, HD, v, HD, o, HD, t, scratch);
      })(state, data, out);
    });
  }
#endif

#ifdef ATTN_BENCH_HAVE_DNNL
  for (int t : {1, 2}) {
    add("onednn", t, [=](benchmark::State &state, CaseData &data,
                         std::vector<float> &out) {
      DnnlAttention attn(s, data.args[0].data(), data.args[1].data(),
                         data.args[2].data(), out.data(), t);
      state.SetLabel(attn.implementations());
      if (attn.usesReference())
        std::fprintf(stderr, "attn-bench: warning: oneDNN uses a reference "
                             "implementation for %s: %s\n",
                     info.caseKey.c_str(), attn.implementations().c_str());
      Measured m = timedLoop(state, [&] { attn.run(); },
                             warmUpFor(s.denseFlops(), "onednn", t));
      report(state, info, "onednn", t, m, &out);
    });
  }
#endif

  // attnc's two backends, Halide first so that the attnc (MLIR) lines can
  // report vs_halide; both on the attnc runtime's pool.
  auto addKernel = [&](const std::string &impl, auto run, auto kernelInfo) {
    for (int t : {1, 2}) {
      add(impl, t, [=](benchmark::State &state, CaseData &data,
                       std::vector<float> &out) {
        const attn_kernel_info *ki = kernelInfo();
        if (ki->num_args != 4 || ki->context != s.S ||
            ki->args[0].shape[1] != HD) {
          state.SkipWithError("the kernel's metadata does not match the shape");
          return;
        }
        const float *q = data.args[0].data(), *k = data.args[1].data(),
                    *v = data.args[2].data();
        int status = 0;
        ThreadSetting threads(t);
        Measured m = timedLoop(
            state, [&] { status |= run(q, k, v, out.data()); },
            warmUpFor(s.denseFlops(), impl, t));
        if (status != 0) {
          state.SkipWithError("the kernel returned non-zero");
          return;
        }
        report(state, info, impl, t, m, &out);
      });
    }
  };
  if (model.halideRun)
    addKernel("halide", model.halideRun, model.halideInfo);
  addKernel("attnc", model.run, model.info);
}

// --- memory ----------------------------------------------------------------------

/// Resident memory now, in MB (/proc/self/statm).
double currentRssMB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

/// memory/<shape>/causal/attnc/tN: one call of a long attention, and the
/// memory it needs beyond its inputs and output: the most bytes of
/// temporaries it held at once, counted by the runtime's scratch allocator
/// over all threads (scratch_MB, and scratch_MB_per_thread), and the peak
/// RSS during the call minus the RSS just before it, with the inputs and
/// the output already written (extra_MB; the kernel's counters are synced
/// in batches of pages, so this one is only good to a few hundred KB).
void registerMemory(const AttentionModel &model) {
  const AttnShape s = model.shape();
  const CaseInfo info{"memory/" + s.shapeLabel() + "/" + s.maskLabel(),
                      s.denseFlops(), s.usefulFlops(), true};
  const size_t elems = size_t(s.S) * s.H * s.D;
  for (int t : {1, 2}) {
    std::string name = info.caseKey + "/attnc/t" + std::to_string(t);
    benchmark::RegisterBenchmark(
        name.c_str(),
        [=, &model](benchmark::State &state) {
          CaseData &data = caseData(info.caseKey, model.source);
          std::vector<float> out(elems, 0.0f);
          resetPeakRss();
          attn_scratch_reset_peak();
          double before = currentRssMB();
          ThreadSetting threads(t);
          int status = 0;
          Measured m = timedLoop(
              state,
              [&] {
                status |= model.run(data.args[0].data(), data.args[1].data(),
                                    data.args[2].data(), out.data());
              },
              /*warmUp=*/false);
          if (status != 0) {
            state.SkipWithError("the kernel returned non-zero");
            return;
          }
          double extra = peakRssMB() - before;
          size_t scratchPeak = 0;
          attn_scratch_usage(nullptr, &scratchPeak);
          state.counters["extra_MB"] = extra;
          state.counters["scratch_MB"] = double(scratchPeak) / (1 << 20);
          state.counters["scratch_MB_per_thread"] =
              double(scratchPeak) / (1 << 20) / t;
          report(state, info, "attnc", t, m, /*output=*/nullptr);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
}

// --- the GPT-2 block -------------------------------------------------------------

void registerGpt2() {
  constexpr int S = 1024, W = 768, H = 12, D = 64;
  const AttnShape attn{H, S, D, Mask::Causal, 0};
  const double linearFlops = 2.0 * S * W * (3 * W) + 2.0 * S * W * W;
  const CaseInfo info{"gpt2_block_1024", linearFlops + attn.denseFlops(),
                      linearFlops + attn.usefulFlops(), true};

  // make(args) builds the per-run state (scratch buffers) and returns the
  // function to time, so that buffers live only while their benchmark runs.
  using Make = std::function<std::function<void(float *)>(
      const std::vector<std::vector<float>> &)>;
#ifdef ATTN_BENCH_HAVE_OPENBLAS
  auto openblasBlock = [=](int t) -> Make {
    return [=](const std::vector<std::vector<float>> &args) {
      auto qkv = std::make_shared<std::vector<float>>(size_t(S) * 3 * W);
      auto a = std::make_shared<std::vector<float>>(size_t(S) * W);
      auto scratch = std::make_shared<std::vector<std::vector<float>>>();
      return std::function<void(float *)>([=, &args](float *y) {
        // args: x, w_qkv, b_qkv, w_o, b_o (the model's ABI order).
        blasLinear(args[0].data(), args[1].data(), args[2].data(), qkv->data(),
                   S, 3 * W, W, t);
        const float *q = qkv->data();
        blasAttention(attn, q, 3 * W, q + W, 3 * W, q + 2 * W, 3 * W,
                      a->data(), W, t, *scratch);
        blasLinear(a->data(), args[3].data(), args[4].data(), y, S, W, W, t);
      });
    };
  };
#endif
  auto add = [&](const std::string &impl, int threads, Make make) {
    std::string name = info.caseKey + "/" + impl + "/t" + std::to_string(threads);
    benchmark::RegisterBenchmark(
        name.c_str(),
        [=](benchmark::State &state) {
          CaseData &data = caseData(info.caseKey, kGpt2Source);
#ifdef ATTN_BENCH_HAVE_OPENBLAS
          if (!references.count(info.caseKey)) {
            std::vector<float> y(size_t(S) * W);
            openblasBlock(1)(data.args)(y.data());
            references[info.caseKey] = Reference{std::move(y), kOpenblasReference};
          }
#endif
          resetPeakRss();
          std::vector<float> y(size_t(S) * W, 0.0f);
          std::function<void(float *)> fn = make(data.args);
          Measured m = timedLoop(state, [&] { fn(y.data()); },
                                 warmUpFor(info.denseFlops, impl, threads));
          report(state, info, impl, threads, m, &y);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(iterationsFor(info.denseFlops, impl, threads));
  };

#ifdef ATTN_BENCH_HAVE_OPENBLAS
  for (int t : {1, 2})
    add("openblas", t, openblasBlock(t));
#endif

  // The block as either backend compiled it (both have the same C ABI).
  using Block = int (*)(const float *, const float *, const float *,
                        const float *, const float *, float *);
  auto addBlock = [&](const std::string &impl, Block block) {
    for (int t : {1, 2})
      add(impl, t, [t, block](const std::vector<std::vector<float>> &args) {
        auto threads = std::make_shared<int>(t);
        return std::function<void(float *)>([&args, threads, block](float *y) {
          ThreadSetting setting(*threads);
          block(args[0].data(), args[1].data(), args[2].data(), args[3].data(),
                args[4].data(), y);
        });
      });
  };
#ifdef ATTN_BENCH_HAVE_HALIDE
  addBlock("halide", gpt2_block_1024_halide); // first: attnc reports vs_halide
#endif
  addBlock("attnc", gpt2_block_1024);
}

// --- the FMA peak ----------------------------------------------------------------

/// GFLOP/s of the FMA microkernel on `threads` threads at once, best of 5.
double measurePeak(int threads) {
  const int64_t iters = 20'000'000;
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    double flops[2] = {0, 0};
    parallelChunks(threads, threads, [&](int, int, int t) { flops[t] = fmaPeakRun(iters); });
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, (flops[0] + flops[1]) / dt * 1e-9);
  }
  return best;
}

void registerPeak() {
  for (int t : {1, 2}) {
    std::string name = std::string("peak/fma_") + fmaPeakIsa() + "/t" + std::to_string(t);
    benchmark::RegisterBenchmark(name.c_str(), [t](benchmark::State &state) {
      const int64_t iters = 10'000'000;
      double flops = 0, seconds = 0;
      for (auto _ : state) {
        auto t0 = Clock::now();
        double f[2] = {0, 0};
        parallelChunks(t, t, [&](int, int, int th) { f[th] = fmaPeakRun(iters); });
        double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        state.SetIterationTime(dt);
        flops += f[0] + f[1];
        seconds += dt;
        // The lines after this one take their % of peak from the best rate
        // seen, not only from the start-up measurement, which another
        // tenant's burst can pull down for the whole run.
        peakGflops[t] = std::max(peakGflops[t], (f[0] + f[1]) / dt * 1e-9);
      }
      double gflops = flops / seconds * 1e-9;
      state.counters["GFLOPs"] = gflops;
      state.counters["pct_peak"] = 100.0 * gflops / peakGflops[t];
    })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(20);
  }
}

/// OpenBLAS's kernels for --attn_openblas_coretype=auto on an AVX-512 CPU.
bool keepOpenblasCore = false;

/// Takes this program's own --attn_* flags out of argv.
void parseOwnFlags(int &argc, char **argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (std::strncmp(a, "--attn_rep_seconds=", 19) == 0)
      repSeconds = std::atof(a + 19);
    else if (std::strncmp(a, "--attn_small_flops=", 19) == 0)
      smallFlops = std::atof(a + 19);
    else if (std::strcmp(a, "--attn_openblas_coretype=library") == 0)
      keepOpenblasCore = true;
    else if (std::strcmp(a, "--attn_openblas_coretype=auto") == 0)
      keepOpenblasCore = false;
    else
      argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
}

#ifdef ATTN_BENCH_HAVE_OPENBLAS
/// A fair OpenBLAS baseline uses its AVX-512 kernels on an AVX-512 CPU. This
/// machine's environment sets OPENBLAS_CORETYPE=Haswell (AVX2 kernels, ~60%
/// of the SkylakeX kernels' sgemm speed here); OpenBLAS reads the variable
/// when the library loads, before main. So when the CPU has the AVX-512
/// subsets the SkylakeX kernels need and OpenBLAS runs Haswell or Zen
/// kernels, attn-bench sets OPENBLAS_CORETYPE=SkylakeX and runs itself again
/// (reported in the context lines). --attn_openblas_coretype=library keeps
/// whatever the environment and the library chose.
void maybeReexecForOpenblas(char **originalArgv) {
  if (keepOpenblasCore || std::getenv("ATTN_BENCH_OPENBLAS_CORE_WAS"))
    return;
  if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd")))
    return;
  std::string core = openblas_get_corename();
  if (core != "Haswell" && core != "haswell" && core != "Zen" && core != "zen")
    return;
  const char *env = std::getenv("OPENBLAS_CORETYPE");
  std::string was = core + (env ? std::string(", from OPENBLAS_CORETYPE=") + env
                                : std::string(", the library's choice"));
  setenv("ATTN_BENCH_OPENBLAS_CORE_WAS", was.c_str(), 1);
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  std::fflush(nullptr);
  execv("/proc/self/exe", originalArgv);
  std::fprintf(stderr, "attn-bench: could not re-run with OPENBLAS_CORETYPE="
                       "SkylakeX; OpenBLAS keeps its %s kernels\n", core.c_str());
}
#endif

} // namespace

int main(int argc, char **argv) {
  std::vector<char *> originalArgv(argv, argv + argc + 1);
  parseOwnFlags(argc, argv);
#ifdef ATTN_BENCH_HAVE_OPENBLAS
  maybeReexecForOpenblas(originalArgv.data());
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;

  peakGflops[1] = measurePeak(1);
  peakGflops[2] = measurePeak(2);
  char text[64];
  std::snprintf(text, sizeof text, "%.1f", peakGflops[1]);
  benchmark::AddCustomContext("fma_peak_gflops_t1", text);
  std::snprintf(text, sizeof text, "%.1f", peakGflops[2]);
  benchmark::AddCustomContext("fma_peak_gflops_t2", text);
  benchmark::AddCustomContext("fma_peak_isa", fmaPeakIsa());
  benchmark::AddCustomContext(
      "attnc_threads", "t1/t2 set through attn_set_num_threads (the runtime's "
                       "thread pool; t1 runs on the calling thread)");
#ifdef ATTN_BENCH_HAVE_OPENBLAS
  std::string blas = blasSetup();
  if (const char *was = std::getenv("ATTN_BENCH_OPENBLAS_CORE_WAS"))
    blas += std::string(" (OPENBLAS_CORETYPE=SkylakeX set by attn-bench; "
                        "it was ") + was + ")";
  benchmark::AddCustomContext("openblas", blas);
#else
  benchmark::AddCustomContext("openblas", "not built (OpenBLAS not found)");
#endif
#ifdef ATTN_BENCH_HAVE_DNNL
  benchmark::AddCustomContext("onednn", dnnlDescription());
#else
  benchmark::AddCustomContext("onednn", "not built (oneDNN not found)");
#endif

  registerPeak();
  for (const AttentionModel &model : kMemoryModels)
    registerMemory(model);
  for (const AttentionModel &model : kAttentionModels)
    registerAttention(model);
  registerGpt2();
  registerDecode();
  registerPool();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  std::printf("attn-bench: peak RSS %.0f MB (%s)%s\n", overallPeakRssMB,
              overallPeakRssWhere.c_str(),
              rssResetWorks ? "" : "; peak RSS could not be reset per benchmark, "
                                   "so rss_MB is the process's peak so far");
  for (const auto &[key, ref] : references)
    std::printf("attn-bench: err of %s is against %s\n", key.c_str(), ref.by.c_str());
  return 0;
}
