//===- HalidePipelinesTest.cpp - models as several Halide pipelines ------===//
//
// The Halide backend compiles a deep model as pipelines run one after
// another (HalidePipelines.h). Each model here is compiled with a cut
// wherever one is allowed (at least one construct per pipeline) and with
// the default length, and checked against the reference like any kernel
// (tolerances of NumericsTest.cpp): values handed between pipelines,
// outputs read by a later pipeline, inputs read by several, and scores
// with a mask's -inf, which must not be handed on.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include <gtest/gtest.h>

using namespace attnc;
using namespace attnc::test;

namespace {

const char *kLayer = R"(
block layer(x, g, w_qkv, w_o, w_up, w_down) {
  q, k, v = split(linear(rms_norm(x, g), w_qkv), 3)
  a = attention(rope(q, heads = 2), rope(k, heads = 2), v, heads = 2,
                mask = causal)
  h = x + linear(a, w_o)
  y = h + linear(silu(linear(h, w_up)), w_down)
  return y
}
)";

struct SplitModel {
  const char *name;
  const char *source; ///< after kLayer when usesLayer; else a file's path
  bool usesLayer = true;
  bool isFile = false; ///< source names a file under the source tree

  std::string text() const {
    if (isFile)
      return readSourceFile(source);
    return usesLayer ? std::string(kLayer) + source : source;
  }
};

void PrintTo(const SplitModel &model, std::ostream *os) { *os << model.name; }

const SplitModel kModels[] = {
    // Three layers of the same block; the first one's output is also an
    // output of the model (the lit tests' stack).
    {"three_layers", "test/tools/Inputs/layer-stack.attn", false, true},
    // h0 is an output and what the second layer reads; x is read by both
    // layers; a is an output no later pipeline reads.
    {"outputs_between_layers", R"(
model m {
  context = 16
  input x : [context, 16]
  param g0 : [16]
  param wqkv0 : [16, 48]
  param wo0 : [16, 16]
  param wu0 : [16, 32]
  param wd0 : [32, 16]
  param g1 : [16]
  param wqkv1 : [16, 48]
  param wo1 : [16, 16]
  param wu1 : [16, 32]
  param wd1 : [32, 16]
  a = linear(x, wo1)
  h0 = layer(x, g0, wqkv0, wo0, wu0, wd0)
  y = layer(h0, g1, wqkv1, wo1, wu1, wd1) + x
  output a
  output h0
  output y
})"},
    // The masked scores are scaled after the mask, so they are no fused
    // attention: the -inf of hidden keys reaches the softmax through a
    // product that must stay in the mask's pipeline.
    {"masked_scores", R"(
model m {
  context = 16
  input x : [context, 16]
  param w_q : [16, 16]
  param w_k : [16, 16]
  param w_v : [16, 16]
  q = split_heads(linear(x, w_q), heads = 2)
  k = split_heads(linear(x, w_k), heads = 2)
  v = split_heads(linear(x, w_v), heads = 2)
  s = mask(matmul(q, transpose(k)), causal) * 0.25
  p = softmax(s, axis = -1)
  y = merge_heads(matmul(p, v)) + x
  output y
})",
     /*usesLayer=*/false},
};

class HalidePipelinesTest : public testing::TestWithParam<SplitModel> {
protected:
  void SetUp() override {
    if (!halideBackendBuilt())
      GTEST_SKIP() << "this build has no Halide backend";
  }
};

TEST_P(HalidePipelinesTest, EveryCutMatchesReference) {
  HalideOptions halide;
  halide.minOpsPerPipeline = 1;
  expectMatchesReference(GetParam().text(), 1e-5, 1e-4, {1, 2}, {},
                         Backend::Halide, halide);
}

TEST_P(HalidePipelinesTest, DefaultLengthMatchesReference) {
  expectMatchesReference(GetParam().text(), 1e-5, 1e-4, {1}, {},
                         Backend::Halide);
}

INSTANTIATE_TEST_SUITE_P(Halide, HalidePipelinesTest,
                         testing::ValuesIn(kModels),
                         [](const testing::TestParamInfo<SplitModel> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
