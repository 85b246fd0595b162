//===- NumericsTest.cpp - compiled kernels against the reference ----------===//
//
// Every case compiles a model to machine code, runs it on seeded random data
// and compares each output with the double-precision reference interpreter.
//
// Tolerances: inputs are uniform in [-1, 1] and weights scaled by
// 1/sqrt(fan-in), so every value is of unit scale. The longest float32
// reduction in these models is a K <= 256 term dot product, whose rounding
// error is bounded by K * u * sum|terms| (u = 2^-24 = 6e-8), i.e. at most
// 1.5e-5 relative, and behaves like sqrt(K) * u = 1e-6 in practice; exp and
// the softmax division add a few ulps. So the L2 error over an output must
// stay below 1e-5 of its L2 norm, and the largest elementwise error below
// 1e-4 of the output's largest magnitude. Both are 10x above what the
// straightforward lowering measures, and 100x below what a wrong mask, head
// split or scale produces.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

using namespace attnc;
using namespace attnc::test;

namespace {

struct BlockCase {
  int64_t context;  ///< tokens (S)
  int64_t width;    ///< model width (E)
  int64_t heads;    ///< query heads (H)
  int64_t kvHeads;  ///< key/value heads (G)
  std::string mask; ///< none, causal or window(N)
  bool fusedQkv;    ///< one [E, 3E] weight and split, or three projections
  bool bias;
};

std::string caseName(const BlockCase &c) {
  std::string mask = c.mask;
  for (char &ch : mask)
    if (!isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  std::ostringstream os;
  os << "S" << c.context << "_E" << c.width << "_H" << c.heads << "_G"
     << c.kvHeads << "_" << mask << (c.fusedQkv ? "_fused" : "_separate")
     << (c.bias ? "_bias" : "");
  std::string s = os.str();
  while (!s.empty() && s.back() == '_')
    s.pop_back();
  return s;
}

std::string paramName(const testing::TestParamInfo<BlockCase> &info) {
  return caseName(info.param);
}

/// gtest prints parameters in test listings; show the case, not its bytes.
void PrintTo(const BlockCase &c, std::ostream *os) { *os << caseName(c); }

/// An attention block in the .attn language: QKV projection(s), attention,
/// output projection.
std::string blockSource(const BlockCase &c) {
  int64_t headDim = c.width / c.heads, kvWidth = c.kvHeads * headDim;
  std::ostringstream os;
  os << "model attention_block {\n  context = " << c.context << "\n  dtype = f32\n";
  os << "  input x : [context, " << c.width << "]\n";
  std::string b = c.bias ? ", b_" : "";
  if (c.fusedQkv) {
    os << "  param w_qkv : [" << c.width << ", " << 3 * c.width << "]\n";
    if (c.bias)
      os << "  param b_qkv : [" << 3 * c.width << "]\n";
  } else {
    os << "  param w_q : [" << c.width << ", " << c.width << "]\n";
    os << "  param w_k : [" << c.width << ", " << kvWidth << "]\n";
    os << "  param w_v : [" << c.width << ", " << kvWidth << "]\n";
    if (c.bias)
      os << "  param b_q : [" << c.width << "]\n  param b_k : [" << kvWidth
         << "]\n  param b_v : [" << kvWidth << "]\n";
  }
  os << "  param w_o : [" << c.width << ", " << c.width << "]\n";
  if (c.bias)
    os << "  param b_o : [" << c.width << "]\n";
  if (c.fusedQkv) {
    os << "  qkv = linear(x, w_qkv" << (c.bias ? ", b_qkv" : "") << ")\n";
    os << "  q, k, v = split(qkv, 3)\n";
  } else {
    for (const char *n : {"q", "k", "v"})
      os << "  " << n << " = linear(x, w_" << n << (c.bias ? b + n : "")
         << ")\n";
  }
  os << "  a = attention(q, k, v, heads = " << c.heads;
  if (c.kvHeads != c.heads)
    os << ", kv_heads = " << c.kvHeads;
  os << ", mask = " << c.mask << ")\n";
  os << "  y = linear(a, w_o" << (c.bias ? ", b_o" : "") << ")\n";
  os << "  output y\n}\n";
  return os.str();
}

class AttentionBlockTest : public BackendTest<BlockCase> {};

TEST_P(AttentionBlockTest, MatchesReference) {
  expectMatchesReference(blockSource(testCase()), 1e-5, 1e-4, {1, 2}, {},
                         backend());
}

/// The softmax weights returned with --emit-attention-probs: each within
/// 1e-5 absolute of the reference (they lie in [0, 1], and the same score
/// and exp rounding as the outputs applies), each visible row summing to 1
/// within 1e-5, and every key the mask hides exactly 0.
TEST_P(AttentionBlockTest, AttentionProbsMatchReference) {
  const BlockCase &c = testCase();
  std::string error;
  auto compiled = CompiledModel::compile(blockSource(c), error, {},
                                         /*attentionProbs=*/true, backend());
  ASSERT_TRUE(compiled) << error;
  const Graph &graph = compiled->graph();
  std::vector<std::vector<float>> inputs = makeRandomArguments(graph, 3);
  std::vector<RefTensor> want = referenceOutputs(graph, inputs);
  std::vector<std::vector<float>> got = compiled->run(inputs, error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(got.size(), 2u); // y, then attention0_probs
  const std::vector<float> &probs = got[1];
  ASSERT_EQ(probs.size(), size_t(c.heads * c.context * c.context));
  GraphOp maskOp;
  maskOp.mask = c.mask == "none"     ? MaskKind::None
                : c.mask == "causal" ? MaskKind::Causal
                                     : MaskKind::Window;
  if (maskOp.mask == MaskKind::Window)
    maskOp.window = std::stoll(c.mask.substr(7));
  double maxError = 0, maxRowError = 0;
  for (int64_t h = 0; h < c.heads; ++h)
    for (int64_t i = 0; i < c.context; ++i) {
      double rowSum = 0;
      for (int64_t j = 0; j < c.context; ++j) {
        size_t at = (h * c.context + i) * c.context + j;
        bool visible = maskOp.mask == MaskKind::None ||
                       (j <= i && (maskOp.mask == MaskKind::Causal ||
                                   j > i - maskOp.window));
        if (!visible) {
          ASSERT_EQ(probs[at], 0.0f) << "head " << h << " query " << i
                                     << " sees hidden key " << j;
        }
        maxError = std::max(maxError, std::fabs(probs[at] - want[1].data[at]));
        rowSum += probs[at];
      }
      maxRowError = std::max(maxRowError, std::fabs(rowSum - 1.0));
    }
  EXPECT_LE(maxError, 1e-5);
  EXPECT_LE(maxRowError, 1e-5);
  // The block's own output is unchanged by asking for the weights.
  ErrorStats y = compareToReference(got[0].data(), want[0]);
  EXPECT_LE(y.l2Rel, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Blocks, AttentionBlockTest,
    testing::Combine(testing::Values(
        // one head, no mask: plain softmax attention
        BlockCase{16, 32, 1, 1, "none", true, true},
        // the bundled example's shape: GPT-2 style, causal, fused QKV
        BlockCase{128, 256, 4, 4, "causal", true, true},
        // sizes that are not powers of two, no biases
        BlockCase{33, 48, 3, 3, "causal", false, false},
        // grouped-query attention: 8 query heads share 2 key/value heads
        BlockCase{64, 64, 8, 2, "causal", false, true},
        // multi-query attention: one key/value head
        BlockCase{64, 64, 4, 1, "none", false, false},
        // sliding window of the last 8 tokens
        BlockCase{40, 64, 4, 4, "window(8)", true, true},
        // window(1): each token sees only itself, so attention copies v
        BlockCase{7, 16, 2, 2, "window(1)", true, false},
        // window as wide as the context behaves like causal
        BlockCase{24, 32, 2, 2, "window(24)", false, true},
        // wide heads, long context, no mask
        BlockCase{96, 128, 2, 2, "none", true, false}),
        testing::ValuesIn(testedBackends())),
    nameWithBackend<BlockCase>(paramName));

/// The window must actually hide old tokens: window(2) and causal differ on
/// the same data, and window(context) equals causal.
using AttentionMaskTest = PerBackendTest;

TEST_P(AttentionMaskTest, WindowDiffersFromCausalUntilItCoversTheContext) {
  auto build = [this](const std::string &mask) {
    BlockCase c{12, 16, 2, 2, mask, true, true};
    std::string error;
    auto m = CompiledModel::compile(blockSource(c), error, {}, false,
                                    GetParam());
    EXPECT_TRUE(m) << error;
    return m;
  };
  auto causal = build("causal"), narrow = build("window(2)"),
       full = build("window(12)");
  ASSERT_TRUE(causal && narrow && full);
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(causal->graph(), 7);
  std::string error;
  auto yc = causal->run(inputs, error)[0];
  auto yn = narrow->run(inputs, error)[0];
  auto yf = full->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  double maxNarrowDiff = 0, maxFullDiff = 0;
  for (size_t i = 0; i < yc.size(); ++i) {
    maxNarrowDiff = std::max(maxNarrowDiff, double(std::fabs(yc[i] - yn[i])));
    maxFullDiff = std::max(maxFullDiff, double(std::fabs(yc[i] - yf[i])));
  }
  EXPECT_GT(maxNarrowDiff, 1e-3);
  EXPECT_EQ(maxFullDiff, 0.0);
}

ATTNC_INSTANTIATE_PER_BACKEND(AttentionMaskTest);

} // namespace
