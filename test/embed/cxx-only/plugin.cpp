// The plugin's one entry: runs the tiny model on constant inputs.
#include "tiny.h"

#include <vector>

extern "C" int run_tiny_plugin(float *checksum) {
  std::vector<float> x(TINY_X_ELEMENTS, 0.5f), w(TINY_W_ELEMENTS, 0.25f),
      y(TINY_Y_ELEMENTS);
  int rc = tiny(x.data(), w.data(), y.data());
  *checksum = 0;
  for (float v : y)
    *checksum += v;
  return rc;
}
