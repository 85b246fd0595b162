// The masked row softmax the composed baselines use between their two
// matrix products. Built with -ffast-math (bench/CMakeLists.txt) so that
// GCC vectorizes the max/sum reductions and calls glibc's vector expf
// (libmvec), as a tuned library's softmax would be; masked entries are never
// read, so no infinities are involved.
#include "common.h"

#include <cmath>

void attnbench::maskedSoftmaxRows(const AttnShape &s, float *p, int64_t ld,
                                  int row0, int rows) {
  for (int r = 0; r < rows; ++r) {
    float *row = p + r * ld;
    int lo, hi;
    s.visible(row0 + r, lo, hi);
    float mx = row[lo];
    for (int j = lo; j <= hi; ++j)
      mx = row[j] > mx ? row[j] : mx;
    float sum = 0;
    for (int j = lo; j <= hi; ++j) {
      float e = expf(row[j] - mx);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (int j = lo; j <= hi; ++j)
      row[j] *= inv;
    for (int j = 0; j < lo; ++j)
      row[j] = 0;
    for (int j = hi + 1; j < s.S; ++j)
      row[j] = 0;
  }
}
