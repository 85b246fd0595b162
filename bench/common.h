// Shapes, masks, FLOP counts and the baselines' entry points for attn-bench.
#ifndef ATTN_BENCH_COMMON_H
#define ATTN_BENCH_COMMON_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

struct attn_kernel_info;

namespace attnbench {

enum class Mask { None, Causal, Window };

/// One multi-head attention problem: q, k, v, out are [S, H*D] row-major.
struct AttnShape {
  int H = 0, S = 0, D = 0;
  Mask mask = Mask::None;
  int window = 0; ///< for Mask::Window: query i sees keys i-window < j <= i

  std::string shapeLabel() const {
    return "H" + std::to_string(H) + "_S" + std::to_string(S) + "_D" +
           std::to_string(D);
  }
  std::string maskLabel() const {
    switch (mask) {
    case Mask::None: return "none";
    case Mask::Causal: return "causal";
    case Mask::Window: return "window" + std::to_string(window);
    }
    return "?";
  }
  /// The language's default scale, 1/sqrt(D).
  float scale() const { return 1.0f / std::sqrt(float(D)); }

  /// The keys query i sees: [lo, hi], inclusive (the attnc language's rules).
  void visible(int i, int &lo, int &hi) const {
    lo = 0;
    hi = S - 1;
    if (mask == Mask::Causal) {
      hi = i;
    } else if (mask == Mask::Window) {
      hi = i;
      lo = std::max(0, i - window + 1);
    }
  }
  /// Query-key pairs the mask leaves visible, over all heads.
  double visiblePairs() const {
    double pairs = 0;
    for (int i = 0; i < S; ++i) {
      int lo, hi;
      visible(i, lo, hi);
      pairs += hi - lo + 1;
    }
    return pairs * H;
  }
  /// 4*H*S^2*D: Q K^T and P V at 2 flops per multiply-add, every pair counted
  /// (causal and window counted dense).
  double denseFlops() const { return 4.0 * H * double(S) * S * D; }
  /// The same counting only the pairs the mask leaves visible.
  double usefulFlops() const { return 4.0 * D * visiblePairs(); }
};

/// An attention model compiled by attnc_add_model (see attn_bench_models.h).
struct AttentionModel {
  const char *name;
  int H, S, D;
  Mask mask;
  int window;
  int (*run)(const float *q, const float *k, const float *v, float *y);
  const attn_kernel_info *(*info)(void);
  /// The same model through attnc's Halide backend (null without it).
  int (*halideRun)(const float *q, const float *k, const float *v, float *y);
  const attn_kernel_info *(*halideInfo)(void);
  const char *source;

  AttnShape shape() const { return AttnShape{H, S, D, mask, window}; }
};

/// Runs f(begin, end, thread) on `threads` threads over contiguous chunks of
/// [0, n): thread t gets one consecutive block (consecutive heads stay on the
/// same thread). The caller is thread 0.
template <typename F> void parallelChunks(int threads, int n, F &&f) {
  threads = std::max(1, std::min(threads, n));
  if (threads == 1) {
    f(0, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  auto chunk = [&](int t) { return int(int64_t(n) * t / threads); };
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] { f(chunk(t), chunk(t + 1), t); });
  f(chunk(0), chunk(1), 0);
  for (std::thread &th : pool)
    th.join();
}

/// The triad bandwidth and the GPT-2 block's decode steps (decode.cpp).
void registerDecode();

/// What one parallel loop of the runtime's pool costs (pool.cpp).
void registerPool();

// --- baselines -------------------------------------------------------------

/// Row-wise softmax of the [rows, S] scores p (leading dimension ld), rows
/// being queries row0.. row0+rows-1: masked entries become 0, each row's
/// visible entries its softmax. Vectorized (fast-math, libmvec expf).
void maskedSoftmaxRows(const AttnShape &s, float *p, int64_t ld, int row0,
                       int rows);

/// Plain float loops: for each head and query, dot products with the visible
/// keys, softmax, weighted sum of values. Single-threaded, scalar.
void naiveAttention(const AttnShape &s, const float *q, const float *k,
                    const float *v, float *out);

#ifdef ATTN_BENCH_HAVE_OPENBLAS
/// Attention composed from OpenBLAS sgemm: per head, S = scale Q_h K_h^T,
/// masked row softmax, O_h = P V_h. Heads in contiguous blocks over `threads`
/// std::threads, each calling single-threaded OpenBLAS. q, k, v, out have row
/// strides ldq, ldk, ldv, ldo (head h owns columns [h*D, (h+1)*D)).
/// `scratch` holds one [S, S] score buffer per thread.
void blasAttention(const AttnShape &s, const float *q, int64_t ldq,
                   const float *k, int64_t ldk, const float *v, int64_t ldv,
                   float *out, int64_t ldo, int threads,
                   std::vector<std::vector<float>> &scratch);
/// C[M, N] = A[M, K] B[K, N] + bias (broadcast over rows), rows split over
/// `threads` single-threaded sgemm calls.
void blasLinear(const float *a, const float *w, const float *bias, float *c,
                int M, int N, int K, int threads);
/// Configures OpenBLAS (one thread) and describes it.
std::string blasSetup();
}
extern "C" char *openblas_get_corename(void);
namespace attnbench {
#endif

#ifdef ATTN_BENCH_HAVE_DNNL
/// Attention composed from oneDNN primitives, built once per shape.
class DnnlAttention {
public:
  DnnlAttention(const AttnShape &s, const float *q, const float *k,
                const float *v, float *out, int threads);
  ~DnnlAttention();
  void run();
  /// The implementation oneDNN chose for every primitive.
  const std::string &implementations() const;
  /// True when some primitive runs a reference (non-JIT) implementation.
  bool usesReference() const;

private:
  struct Impl;
  Impl *impl;
};
std::string dnnlDescription();
#endif

// --- FMA peak ---------------------------------------------------------------

/// Name of the FMA microkernel for this CPU: "avx512" or "avx2".
const char *fmaPeakIsa();
/// Runs the FMA microkernel for `iters` iterations on the calling thread;
/// returns the flops done (2 per lane per FMA).
double fmaPeakRun(int64_t iters);

} // namespace attnbench

#endif // ATTN_BENCH_COMMON_H
