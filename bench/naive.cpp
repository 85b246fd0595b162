// The naive baseline: attention as the textbook loops, in float, one thread.
// Only the visible keys are visited. Built without -ffast-math, so the dot
// products and the sums stay scalar, in order.
#include "common.h"

#include <cmath>
#include <limits>
#include <vector>

void attnbench::naiveAttention(const AttnShape &s, const float *q,
                               const float *k, const float *v, float *out) {
  const int64_t HD = int64_t(s.H) * s.D;
  const float scale = s.scale();
  std::vector<float> p(s.S);
  for (int h = 0; h < s.H; ++h) {
    for (int i = 0; i < s.S; ++i) {
      int lo, hi;
      s.visible(i, lo, hi);
      const float *qi = q + i * HD + h * s.D;
      float mx = -std::numeric_limits<float>::infinity();
      for (int j = lo; j <= hi; ++j) {
        const float *kj = k + j * HD + h * s.D;
        float dot = 0;
        for (int d = 0; d < s.D; ++d)
          dot += qi[d] * kj[d];
        p[j] = dot * scale;
        mx = std::max(mx, p[j]);
      }
      float sum = 0;
      for (int j = lo; j <= hi; ++j) {
        p[j] = std::exp(p[j] - mx);
        sum += p[j];
      }
      float *oi = out + i * HD + h * s.D;
      for (int d = 0; d < s.D; ++d) {
        float acc = 0;
        for (int j = lo; j <= hi; ++j)
          acc += p[j] * v[j * HD + h * s.D + d];
        oi[d] = acc / sum;
      }
    }
  }
}
