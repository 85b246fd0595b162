// The FMA peak microkernel: 12 independent FMA chains (enough to cover a 4-5
// cycle FMA latency on two pipes), on 512-bit registers when the CPU has
// AVX-512F, else on 256-bit AVX2/FMA registers. 2 flops per lane per FMA.
#include "common.h"

#include <immintrin.h>

namespace {

__attribute__((target("avx512f"))) float peakAvx512(int64_t iters) {
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f),
         c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f),
         c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f),
         c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f),
         c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f),
         c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f);
  for (int64_t i = 0; i < iters; ++i) {
    c0 = _mm512_fmadd_ps(c0, a, b);
    c1 = _mm512_fmadd_ps(c1, a, b);
    c2 = _mm512_fmadd_ps(c2, a, b);
    c3 = _mm512_fmadd_ps(c3, a, b);
    c4 = _mm512_fmadd_ps(c4, a, b);
    c5 = _mm512_fmadd_ps(c5, a, b);
    c6 = _mm512_fmadd_ps(c6, a, b);
    c7 = _mm512_fmadd_ps(c7, a, b);
    c8 = _mm512_fmadd_ps(c8, a, b);
    c9 = _mm512_fmadd_ps(c9, a, b);
    c10 = _mm512_fmadd_ps(c10, a, b);
    c11 = _mm512_fmadd_ps(c11, a, b);
  }
  __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
      _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9),
                                     _mm512_add_ps(c10, c11)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0;
  for (float x : lanes)
    total += x;
  return total;
}

__attribute__((target("avx2,fma"))) float peakAvx2(int64_t iters) {
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  __m256 c[12];
  for (int j = 0; j < 12; ++j)
    c[j] = _mm256_set1_ps(0.1f * j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j)
      c[j] = _mm256_fmadd_ps(c[j], a, b);
  }
  __m256 s = c[0];
  for (int j = 1; j < 12; ++j)
    s = _mm256_add_ps(s, c[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float total = 0;
  for (float x : lanes)
    total += x;
  return total;
}

bool haveAvx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

volatile float sink;

} // namespace

const char *attnbench::fmaPeakIsa() { return haveAvx512() ? "avx512" : "avx2"; }

double attnbench::fmaPeakRun(int64_t iters) {
  if (haveAvx512()) {
    sink = peakAvx512(iters);
    return double(iters) * 12 * 16 * 2;
  }
  sink = peakAvx2(iters);
  return double(iters) * 12 * 8 * 2;
}
