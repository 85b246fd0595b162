//===- ExtremeValuesTest.cpp - the vector exp and large logits ------------===//
//
// Vectorized code computes exp with MLIR's polynomial approximation
// (math-polynomial-approximation: range reduction to [-ln2/2, ln2/2], a
// degree-6 polynomial, 2^k by exponent bits) instead of libm's expf. Its
// error bound, checked here through softmax, whose every weight is an exp
// divided by a sum of exps:
//
//   relative error of each softmax weight <= 1e-6 (8 float ulps: the
//   approximation's few ulps plus the division and the float sum of 64
//   terms; measured 1.8e-7) for logit differences across [-87, 0], the
//   range where exp(x - max) is a normal float.
//
// And the flash kernel's online softmax keeps logits of +-1e4 (far beyond
// what exp can take without the running-max subtraction) finite and right.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <sstream>

using namespace attnc;
using namespace attnc::test;

namespace {

TEST(VectorExpTest, SoftmaxWeightsWithinTheStatedBound) {
  const int64_t rows = 16, cols = 64;
  std::ostringstream os;
  os << "model soft {\n  context = " << rows << "\n  dtype = f32\n"
     << "  input x : [context, " << cols << "]\n"
     << "  y = softmax(x, axis = -1)\n  output y\n}\n";
  std::string error;
  auto compiled = CompiledModel::compile(os.str(), error);
  ASSERT_TRUE(compiled) << error;
  // Row r spreads its logits evenly over [-87 * (r + 1) / rows, 0]: from a
  // gentle softmax to one whose smallest weights are near FLT_MIN.
  std::vector<std::vector<float>> inputs(1, std::vector<float>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      inputs[0][r * cols + c] =
          -87.0f * float(r + 1) / rows * float(c) / float(cols - 1);
  std::vector<float> y = compiled->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    double ref = want[0].data[i];
    if (ref < 1e-37) // below FLT_MIN: denormal in float, no relative bound
      continue;
    worst = std::max(worst, std::fabs(y[i] - ref) / ref);
  }
  EXPECT_LE(worst, 1e-6);
}

/// Attention whose logits reach +-1e4: q and k of magnitude 100 with
/// D = 16 (scale 1/4) give |q . k| / 4 up to 4e4.
TEST(LargeLogitsTest, FlashAttentionStaysFiniteAndCorrect) {
  const char *source = R"(model loud {
  context = 64
  dtype = f32
  input q : [context, 32]
  input k : [context, 32]
  input v : [context, 32]
  y = attention(q, k, v, heads = 2, mask = causal)
  output y
}
)";
  AttnOptimizationOptions options;
  options.tiles = {16, 16};
  std::string error;
  auto compiled = CompiledModel::compile(source, error, options);
  ASSERT_TRUE(compiled) << error;
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(compiled->graph(), 9);
  for (int a = 0; a < 2; ++a)
    for (float &x : inputs[a])
      x *= 100.0f;
  std::vector<float> y = compiled->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
  ErrorStats s = compareToReference(y.data(), want[0]);
  EXPECT_TRUE(s.allFinite);
  double largest = 0;
  for (double w : want[0].data)
    largest = std::max(largest, std::fabs(w));
  // With logits this far apart each softmax is (nearly) one-hot: outputs are
  // rows of v, up to the float rounding of the dominant weight.
  EXPECT_LE(s.maxAbs, 1e-4 * largest);
}

} // namespace
