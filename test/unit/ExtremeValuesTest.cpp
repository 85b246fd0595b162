//===- ExtremeValuesTest.cpp - the vector exp and large logits ------------===//
//
// Softmax computes exp(x - max) with a polynomial approximation for
// non-positive arguments (AttnToLinalg/SoftmaxExp.cpp, and the same in the
// Halide backend's Algorithm.cpp: range reduction to [-ln2/2, ln2/2], a
// degree-5 polynomial, 2^k by exponent bits) instead of libm's expf. Its
// error bound, checked here on both backends through softmax, whose every
// weight is an exp divided by a sum of exps:
//
//   relative error of each softmax weight <= 1e-6 (8 float ulps: the
//   approximation's few ulps plus the division and the float sum of 64
//   terms; measured 3.9e-7 on the MLIR backend, whose range reduction
//   rounds ln2 to float, 2.5e-7 on Halide's) for logit differences across
//   [-87, 0], the range where exp(x - max) is a normal float.
//
// The flash kernel's own exponential (base 2, of scores scaled by log2(e))
// within 1e-6 plus 1.2e-7 per halving of the weight, through attention
// weights read out directly (FlashWeightsTest).
//
// And the flash kernel's online softmax (and the Halide backend's
// attention) keeps logits of +-1e4 and +-1e30 (far beyond what exp can take
// without the max subtraction) finite and right; on both backends, NaN and
// Inf in inputs reach exactly the outputs IEEE arithmetic carries them to
// in the double reference, and no others.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

using namespace attnc;
using namespace attnc::test;

namespace {

/// Tiles of 16 queries by 16 keys, whatever the heuristic would pick, so the
/// small models below span several tiles, diagonal and partly masked ones
/// included (the MLIR backend's tiles; the Halide backend picks its own).
std::unique_ptr<CompiledModel>
compileWith16Tiles(const char *source, std::string &error,
                   Backend backend = Backend::MLIR) {
  AttnOptimizationOptions options;
  options.tiles = {16, 16};
  return CompiledModel::compile(source, error, options, false, backend);
}

using VectorExpTest = PerBackendTest;

TEST_P(VectorExpTest, SoftmaxWeightsWithinTheStatedBound) {
  const int64_t rows = 16, cols = 64;
  std::ostringstream os;
  os << "model soft {\n  context = " << rows << "\n  dtype = f32\n"
     << "  input x : [context, " << cols << "]\n"
     << "  y = softmax(x, axis = -1)\n  output y\n}\n";
  std::string error;
  auto compiled =
      CompiledModel::compile(os.str(), error, {}, false, GetParam());
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
  std::printf("worst relative error of a softmax weight: %.2e\n", worst);
  EXPECT_LE(worst, 1e-6);
}

ATTNC_INSTANTIATE_PER_BACKEND(VectorExpTest);

using FlashWeightsTest = PerBackendTest;

/// The bound inside attention, whose kernel has an exponential of its own:
/// the MLIR flash kernel takes 2^x of scores it computes multiplied by
/// log2(e) (that constant folded into the scale it multiplies the queries
/// by), with its online rescaling by 2^(m - m'). Rounding the scaled query
/// to float changes each logit x by up to 2^-24 |x| in relative terms,
/// which the weight exp(x - max) feels in proportion to its distance from
/// the row max: within 2^-23 log2(1 / w) on top of the exp's 1e-6 (at most
/// 1.2e-7 per halving of the weight; 1.6e-5 at FLT_MIN, 3.4e-6 at 1e-6).
/// The base-e kernels of the materialized softmax and of the Halide
/// backend have that term only when the scale itself is inexact (at
/// head_dim 128, say), not at head_dim 64 as here.
///
/// With v the identity, output row i is query i's weights. One head of 64
/// features; q_i . k_j / 8 = -11 (i + 1) (63 - j) / 512, exact in float (so
/// that only the kernel's own rounding shows), down to -86.6: every row's
/// largest logit is its last key's, each of the 16-key tiles raises the
/// running max, and the weights of the last rows reach down to FLT_MIN.
TEST_P(FlashWeightsTest, AttentionWeightsWithinTheStatedBound) {
  const int64_t S = 64;
  const char *source = R"(model weights {
  context = 64
  dtype = f32
  input q : [context, 64]
  input k : [context, 64]
  input v : [context, 64]
  y = attention(q, k, v, heads = 1, mask = none)
  output y
}
)";
  std::string error;
  auto compiled = compileWith16Tiles(source, error, GetParam());
  ASSERT_TRUE(compiled) << error;
  std::vector<std::vector<float>> inputs(3, std::vector<float>(S * S, 0.0f));
  for (int64_t i = 0; i < S; ++i) {
    inputs[0][i * S] = 11.0f * float(i + 1);
    inputs[1][i * S] = -float(S - 1 - i) / float(S);
    inputs[2][i * S + i] = 1.0f;
  }
  std::vector<float> y = compiled->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
  // The worst error, and the worst of it in units of the bound.
  double worst = 0, worstOfBound = 0, smallest = 1;
  for (size_t e = 0; e < y.size(); ++e) {
    double ref = want[0].data[e];
    if (ref < 1e-37) // below FLT_MIN: denormal in float, no relative bound
      continue;
    smallest = std::min(smallest, ref);
    double relative = std::fabs(y[e] - ref) / ref;
    double bound = 1e-6 + std::ldexp(std::log2(1.0 / ref), -23);
    worst = std::max(worst, relative);
    worstOfBound = std::max(worstOfBound, relative / bound);
  }
  std::printf("worst relative error of an attention weight: %.2e, %.2f of "
              "its bound (smallest weight checked %.1e)\n",
              worst, worstOfBound, smallest);
  EXPECT_LT(smallest, 1e-30) << "the logits should span exp's range";
  EXPECT_LE(worstOfBound, 1.0);
}

ATTNC_INSTANTIATE_PER_BACKEND(FlashWeightsTest);

using LargeLogitsTest = PerBackendTest;

/// Attention whose logits reach +-1e4: q and k of magnitude 100 with
/// D = 16 (scale 1/4) give |q . k| / 4 up to 4e4.
TEST_P(LargeLogitsTest, FlashAttentionStaysFiniteAndCorrect) {
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
  std::string error;
  auto compiled = compileWith16Tiles(source, error, GetParam());
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

/// Logits of magnitude up to 1e30, both signs, through attention and a
/// standalone softmax: q and k of magnitude 1e15 (D = 16, scale 1/4).
TEST_P(LargeLogitsTest, LogitsOf1e30StayFiniteAndCorrect) {
  const char *source = R"(model loudest {
  context = 48
  dtype = f32
  input q : [context, 32]
  input k : [context, 32]
  input v : [context, 32]
  input x : [context, 32]
  y = attention(q, k, v, heads = 2, mask = window(20))
  z = softmax(x, axis = -1)
  output y, z
}
)";
  std::string error;
  auto compiled = compileWith16Tiles(source, error, GetParam());
  ASSERT_TRUE(compiled) << error;
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(compiled->graph(), 11);
  for (int a : {0, 1})
    for (float &e : inputs[a])
      e *= 1e15f;
  for (float &e : inputs[3])
    e *= 1e30f;
  std::vector<std::vector<float>> got = compiled->run(inputs, error);
  ASSERT_TRUE(error.empty()) << error;
  std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
  for (int o : {0, 1}) {
    ErrorStats s = compareToReference(got[o].data(), want[o]);
    EXPECT_TRUE(s.allFinite) << "output " << o;
    // One-hot softmaxes: rows of v (or of the identity), up to rounding.
    EXPECT_LE(s.maxRel, 1e-4) << "output " << o;
  }
}

ATTNC_INSTANTIATE_PER_BACKEND(LargeLogitsTest);

/// Where the reference (double, IEEE) has NaN, the kernel has NaN; where it
/// is +-Inf, the same Inf; where it is finite, the kernel agrees with it,
/// except that rows [firstLooseRow, lastLooseRow) of the heads in bit mask
/// `looseHeads` may be NaN instead: see the value cases below.
void expectSameNonFinitesAsReference(const std::vector<float> &got,
                                     const RefTensor &want, const char *what,
                                     int64_t width, int64_t headDim,
                                     unsigned looseHeads, int64_t firstLooseRow,
                                     int64_t lastLooseRow) {
  ASSERT_EQ(got.size(), want.data.size());
  size_t nonFinite = 0, mismatches = 0, looseNaNs = 0;
  double largest = 0;
  for (double w : want.data)
    if (std::isfinite(w))
      largest = std::max(largest, std::fabs(w));
  for (size_t e = 0; e < got.size(); ++e) {
    int64_t row = int64_t(e) / width, head = int64_t(e) % width / headDim;
    bool loose = (looseHeads >> head & 1) && row >= firstLooseRow &&
                 row < lastLooseRow;
    double w = want.data[e];
    nonFinite += !std::isfinite(w);
    if (std::isnan(w)) {
      mismatches += !std::isnan(got[e]);
    } else if (loose && std::isnan(got[e])) {
      ++looseNaNs;
    } else if (std::isinf(w)) {
      mismatches += got[e] != float(w);
    } else {
      mismatches += !(std::fabs(got[e] - w) <= 1e-4 * largest);
    }
  }
  EXPECT_GT(nonFinite, 0u) << what << ": the test should reach some outputs";
  EXPECT_LT(nonFinite + looseNaNs, got.size())
      << what << ": and leave others alone";
  EXPECT_EQ(mismatches, 0u) << what;
}

/// NaN and Inf in one element of each input in turn, under a causal mask:
/// a bad query spoils its own row of its own head, a bad key or value the
/// rows of the queries that see it, and every other output stays right.
/// The same for a softmax of its own: a NaN or +Inf spoils its row.
///
/// One documented exception: a NaN or Inf in the *value* of token j also
/// reaches the queries before j in j's query tile (MLIR backend, here tiles
/// of 16) or group of value-chunk rows (Halide backend, 32 rows at 8
/// features a head), on the diagonal: here rows 32-36 for token 37 on both
/// backends. The kernel multiplies their weights for j, exactly 0 since the
/// mask hides j, by the value, and IEEE makes 0 * NaN and 0 * Inf NaN; the
/// reference leaves hidden keys out, as the language defines masks. Tiles
/// the mask hides wholly are never visited, so rows 0-31 stay finite.
using NonFiniteInputsTest = PerBackendTest;

TEST_P(NonFiniteInputsTest, PropagateOnlyWhereTheReferenceDoes) {
  const char *source = R"(model nonfinite {
  context = 48
  dtype = f32
  input x : [context, 16]
  param w : [16, 48]
  q, k, v = split(linear(x, w), 3)
  y = attention(q, k, v, heads = 2, mask = causal)
  output y
}
)";
  const char *qkvSource = R"(model nonfinite_qkv {
  context = 48
  dtype = f32
  input q : [context, 16]
  input k : [context, 16]
  input v : [context, 16]
  y = attention(q, k, v, heads = 2, mask = causal)
  output y
}
)";
  const char *softmaxSource = R"(model nonfinite_softmax {
  context = 48
  dtype = f32
  input s : [context, 16]
  y = softmax(s, axis = -1)
  output y
}
)";
  std::string error;
  auto block = compileWith16Tiles(source, error, GetParam());
  ASSERT_TRUE(block) << error;
  auto qkv = compileWith16Tiles(qkvSource, error, GetParam());
  ASSERT_TRUE(qkv) << error;
  auto softmax = compileWith16Tiles(softmaxSource, error, GetParam());
  ASSERT_TRUE(softmax) << error;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const CompiledModel *model;
    int input;       // which argument
    int64_t element; // which element of it
    float value;
    const char *what;
    unsigned looseHeads; // see above: bit h for head h
  };
  // Token 37 sits in the middle of the third 16-row tile.
  const Case cases[] = {
      {qkv.get(), 0, 37 * 16 + 3, nan, "NaN in a query (head 0)", 0},
      {qkv.get(), 1, 37 * 16 + 9, nan, "NaN in a key (head 1)", 0},
      {qkv.get(), 1, 37 * 16 + 1, inf, "+Inf in a key (head 0)", 0},
      {qkv.get(), 2, 37 * 16 + 2, nan, "NaN in a value (head 0)", 1},
      {qkv.get(), 2, 37 * 16 + 9, -inf, "-Inf in a value (head 1)", 2},
      // Token 37's query, key and value, both heads.
      {block.get(), 0, 37 * 16 + 5, inf, "+Inf in a token's embedding", 3},
      // Column 20 feeds every token's key in head 0.
      {block.get(), 1, 7 * 48 + 20, nan, "NaN in a weight (a key column)", 0},
      {softmax.get(), 0, 37 * 16 + 3, nan, "NaN in a softmax's row", 0},
      {softmax.get(), 0, 40 * 16 + 5, inf, "+Inf in a softmax's row", 0},
  };
  for (const Case &c : cases) {
    std::vector<std::vector<float>> inputs =
        makeRandomArguments(c.model->graph(), 5);
    inputs[c.input][c.element] = c.value;
    std::vector<std::vector<float>> got = c.model->run(inputs, error);
    ASSERT_TRUE(error.empty()) << error;
    std::vector<RefTensor> want = referenceOutputs(c.model->graph(), inputs);
    expectSameNonFinitesAsReference(got[0], want[0], c.what, 16, 8,
                                    c.looseHeads, 32, 37);
  }
}

ATTNC_INSTANTIATE_PER_BACKEND(NonFiniteInputsTest);

} // namespace
