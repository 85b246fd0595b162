//===- FrontendTest.cpp - what Sema makes of a model ----------------------===//
//
// lit covers every diagnostic a user sees; these check the checked graph
// that every backend and the reference consume.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "attnc/Frontend/Flops.h"
#include "attnc/Frontend/PromptCost.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnc;
using namespace attnc::test;

namespace {

TEST(FrontendTest, GraphOfTheGpt2Block) {
  llvm::SourceMgr sm;
  std::string diags;
  auto g = checkText(R"(model b {
    context = 8
    input x : [context, 32]
    param w : [32, 96]
    param b : [96]
    qkv = linear(x, w, b)
    q, k, v = split(qkv, 3)
    a = attention(q, k, v, heads = 2, mask = causal)
    output a
  })", sm, diags);
  ASSERT_TRUE(g) << diags;
  EXPECT_EQ(g->name, "b");
  EXPECT_EQ(g->context, 8);
  ASSERT_EQ(g->args.size(), 4u);
  EXPECT_EQ(g->args[0].shape, (Shape{8, 32}));
  EXPECT_EQ(g->args[3].role, ArgRole::Output);
  EXPECT_EQ(g->args[3].shape, (Shape{8, 32}));
  ASSERT_EQ(g->ops.size(), 3u);
  EXPECT_EQ(g->ops[1].kind, GraphOp::Kind::Split);
  EXPECT_EQ(g->ops[1].results.size(), 3u);
  const GraphOp &att = g->ops[2];
  EXPECT_EQ(att.kind, GraphOp::Kind::Attention);
  EXPECT_EQ(att.heads, 2);
  EXPECT_EQ(att.kvHeads, 2); // defaults to heads
  EXPECT_EQ(att.mask, MaskKind::Causal);
  EXPECT_DOUBLE_EQ(att.scale, 1.0 / std::sqrt(16.0)); // 1/sqrt(head_dim)
  EXPECT_TRUE(diags.empty()) << diags;
}

/// 4 tokens, one head of 2 features, then a 2 x 3 linear.
std::optional<Graph> smallAttention(const std::string &mask, bool decode) {
  llvm::SourceMgr sm;
  std::string diags;
  std::string text = std::string("model f {\n  context = 4\n") +
                     (decode ? "  decode\n" : "") +
                     "  input x : [context, 2]\n  param w : [2, 3]\n"
                     "  y = attention(x, x, x, heads = 1, mask = " +
                     mask + ")\n  z = linear(y, w)\n  output z\n}\n";
  std::optional<Graph> g = checkText(text, sm, diags);
  EXPECT_TRUE(g) << diags;
  return g;
}

/// Products counted densely (attn-run's GFLOP/s) or over the query-key
/// pairs the kernels compute (the decoder's choice of path), by hand.
TEST(FrontendTest, ProductFlopsCountDenseOrComputedPairs) {
  auto flops = [](const char *mask, PairCount pairs) {
    std::optional<Graph> g = smallAttention(mask, false);
    return g ? productFlops(*g, pairs) : -1.0;
  };
  // linear 2 * 4 * 2 * 3 = 48; attention 2 * 2 products * 2 features per
  // pair: 16 pairs dense, 1 + 2 + 3 + 4 = 10 causal, 1 + 2 + 2 + 2 = 7 under
  // window(2).
  EXPECT_EQ(flops("causal", PairCount::Dense), 48 + 8 * 16);
  EXPECT_EQ(flops("causal", PairCount::Computed), 48 + 8 * 10);
  EXPECT_EQ(flops("window(2)", PairCount::Computed), 48 + 8 * 7);
  EXPECT_EQ(flops("none", PairCount::Computed), 48 + 8 * 16);

  // The chunk (4 rows: the context) attends over the filled cache slots
  // and its own 4 tokens, each token 4 flops per feature and key; the
  // step (1 row) over every slot and itself.
  std::optional<Graph> model = smallAttention("causal", true);
  ASSERT_TRUE(model && model->chunk && model->decodeStep);
  EXPECT_EQ(productFlops(*model->chunk, PairCount::Computed, 0),
            48 + 4 * 2 * 4 * 4);
  EXPECT_EQ(productFlops(*model->chunk, PairCount::Computed, 3),
            48 + 4 * 2 * 4 * 7);
  EXPECT_EQ(productFlops(*model->chunk, PairCount::Dense, 0),
            48 + 4 * 2 * 4 * 8);
  EXPECT_EQ(productFlops(*model->decodeStep), 12 + 4 * 2 * 1 * 5);
  // The whole model (128 flops) costs less than a chunk from position 0
  // weighed 1.36 times (1.36 * 176): one token takes a step (a quarter
  // of that chunk, 60), two take the chunk (half its rows), dearer.
  EXPECT_EQ(model->decodeStep->prefillFrom, 2);
  EXPECT_EQ(prefillFromTokens(*model), 2);
}

TEST(FrontendTest, UnusedParamIsAWarningNotAnError) {
  llvm::SourceMgr sm;
  std::string diags;
  auto g = checkText(R"(model m {
    context = 4
    input x : [4, 4]
    param unused : [4]
    param w : [4, 4]
    y = linear(x, w)
    output y
  })", sm, diags);
  ASSERT_TRUE(g) << diags;
  EXPECT_NE(diags.find("test.attn:4:11: warning: 'unused' is declared but never used"),
            std::string::npos)
      << diags;
  // It stays in the ABI so callers' argument lists do not shift.
  EXPECT_EQ(g->args.size(), 4u);
}

TEST(FrontendTest, FirstErrorStopsWithLineAndColumn) {
  llvm::SourceMgr sm;
  std::string diags;
  auto g = checkText("model m {\n  context = 4\n  input x : [4, 8]\n"
                     "  y = attention(x, x, x, heads = 3)\n  output y\n}\n",
                     sm, diags);
  EXPECT_FALSE(g);
  EXPECT_NE(diags.find("test.attn:4:34: error: heads = 3 does not divide the "
                       "query width 8"),
            std::string::npos)
      << diags;
}

} // namespace
