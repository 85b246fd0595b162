// Runs test/tools/Inputs/tiny.attn's kernel from C++ on DIR/x.bin and
// DIR/w.bin (attn-run --write-inputs) and writes DIR/y.bin, for attn-run
// --check-outputs to compare with its reference.
#include "tiny.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

bool transfer(const std::string &path, std::vector<float> &data,
              bool writing) {
  std::fstream file(path, std::ios::binary |
                              (writing ? std::ios::out : std::ios::in));
  auto bytes = std::streamsize(data.size() * sizeof(float));
  if (writing)
    file.write(reinterpret_cast<const char *>(data.data()), bytes);
  else
    file.read(reinterpret_cast<char *>(data.data()), bytes);
  if (!file) {
    std::fprintf(stderr, "cxx_app: cannot %s %zu floats of '%s'\n",
                 writing ? "write" : "read", data.size(), path.c_str());
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  std::vector<float> x(TINY_X_ELEMENTS), w(TINY_W_ELEMENTS),
      y(TINY_Y_ELEMENTS);
  if (!transfer(dir + "/x.bin", x, false) ||
      !transfer(dir + "/w.bin", w, false))
    return 1;
  if (int rc = tiny(x.data(), w.data(), y.data())) {
    std::fprintf(stderr, "cxx_app: tiny returned %d\n", rc);
    return 1;
  }
  return transfer(dir + "/y.bin", y, true) ? 0 : 1;
}
