//===- FrontendTest.cpp - what Sema makes of a model ----------------------===//
//
// lit covers every diagnostic a user sees; these check the checked graph
// that every backend and the reference consume.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

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
