// Attention composed from OpenBLAS: per head, one sgemm for the scores, the
// masked row softmax, one sgemm for P V. Parallelism is over heads with
// std::threads, each calling OpenBLAS single-threaded (OpenBLAS's own pool
// next to another pool was measured 2-7x slower on this machine).
#include "common.h"

#include <cblas.h>

#include <string>

std::string attnbench::blasSetup() {
  openblas_set_num_threads(1);
  std::string text = "OpenBLAS ";
  text += openblas_get_config();
  text += ", core ";
  text += openblas_get_corename();
  return text;
}

void attnbench::blasAttention(const AttnShape &s, const float *q, int64_t ldq,
                              const float *k, int64_t ldk, const float *v,
                              int64_t ldv, float *out, int64_t ldo,
                              int threads,
                              std::vector<std::vector<float>> &scratch) {
  const int S = s.S, D = s.D;
  const float scale = s.scale();
  if (int(scratch.size()) < threads)
    scratch.resize(threads);
  for (int t = 0; t < threads; ++t)
    if (scratch[t].size() < size_t(S) * S)
      scratch[t].resize(size_t(S) * S);
  parallelChunks(threads, s.H, [&](int h0, int h1, int t) {
    float *p = scratch[t].data();
    for (int h = h0; h < h1; ++h) {
      // P = scale * Q_h K_h^T, [S, S]; every pair, masked ones included.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, S, S, D, scale,
                  q + h * D, ldq, k + h * D, ldk, 0.0f, p, S);
      maskedSoftmaxRows(s, p, S, 0, S);
      // O_h = P V_h, written straight into the head's columns of out.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, D, S, 1.0f, p,
                  S, v + h * D, ldv, 0.0f, out + h * D, ldo);
    }
  });
}

void attnbench::blasLinear(const float *a, const float *w, const float *bias,
                           float *c, int M, int N, int K, int threads) {
  parallelChunks(threads, M, [&](int r0, int r1, int) {
    for (int r = r0; r < r1; ++r)
      std::copy(bias, bias + N, c + int64_t(r) * N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, N, K, 1.0f,
                a + int64_t(r0) * K, K, w, N, 1.0f, c + int64_t(r0) * N, N);
  });
}
