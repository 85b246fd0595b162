//===- LanguageTest.cpp - every construct of the language, compiled -------===//
//
// Each construct alone, then whole blocks, compiled to machine code and run
// against the reference interpreter; then the claim the language makes about
// attention written by hand: it becomes the same fused attn.sdpa as
// attention(...) and computes the same numbers. Tolerances as explained in
// NumericsTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "attnc/Codegen/Pipeline.h"
#include "attnc/Compiler.h"
#include "attnc/MLIRGen.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <regex>

using namespace attnc;
using namespace attnc::test;

namespace {

using Construct = ModelBody;

std::string wrap(const Construct &c) {
  return std::string("model m {\n  context = 12\n") + c.body + "\n}\n";
}

class ConstructTest : public BackendTest<Construct> {};

TEST_P(ConstructTest, MatchesReference) {
  expectMatchesReference(wrap(testCase()), 1e-5, 1e-4, {1, 2}, {}, backend());
}

INSTANTIATE_TEST_SUITE_P(
    Language, ConstructTest,
    testing::Combine(testing::Values(
        Construct{"linear_bias", R"(
  input x : [12, 8]
  param w : [8, 6]
  param b : [6]
  y = linear(x, w, b)
  output y)"},
        Construct{"split_three_ways", R"(
  input x : [12, 9]
  a, b, c = split(x, 3)
  y = a + b - c
  output y)"},
        Construct{"matmul", R"(
  input a : [12, 8]
  input b : [8, 5]
  y = matmul(a, b)
  output y)"},
        Construct{"batched_matmul_transpose", R"(
  input a : [3, 12, 4]
  input b : [3, 12, 4]
  y = matmul(a, transpose(b))
  output y)"},
        Construct{"transpose_2d", R"(
  input a : [12, 5]
  y = transpose(a)
  output y)"},
        Construct{"scale_and_divide", R"(
  input a : [12, 5]
  y = 2 * a / 8 * 0.5
  output y)"},
        Construct{"softmax_last_axis", R"(
  input s : [12, 7]
  y = softmax(s, axis = -1)
  output y)"},
        Construct{"softmax_first_axis", R"(
  input s : [2, 12, 7]
  y = softmax(s, axis = 0)
  output y)"},
        Construct{"softmax_middle_axis", R"(
  input s : [2, 12, 7]
  y = softmax(s, axis = 1)
  output y)"},
        Construct{"mask_causal_softmax", R"(
  input s : [3, 12, 12]
  y = softmax(mask(s, causal))
  output y)"},
        Construct{"mask_window_softmax", R"(
  input s : [12, 12]
  y = softmax(mask(s, window(3)))
  output y)"},
        Construct{"split_and_merge_heads", R"(
  input x : [12, 16]
  h = split_heads(x, heads = 4)
  y = merge_heads(h * 3)
  output h, y)"},
        Construct{"rope_half", R"(
  input x : [12, 16]
  y = rope(x, heads = 2)
  output y)"},
        Construct{"rope_interleaved_base", R"(
  input x : [12, 16]
  y = rope(x, heads = 4, base = 500, style = interleaved)
  output y)"},
        Construct{"rope_per_head_tensor", R"(
  input x : [2, 12, 8]
  y = rope(x)
  output y)"},
        Construct{"layer_norm", R"(
  input x : [12, 10]
  param g : [10]
  param b : [10]
  y = layer_norm(x, g, b, eps = 1e-5)
  output y)"},
        Construct{"rms_norm", R"(
  input x : [12, 10]
  param g : [10]
  y = rms_norm(x, g)
  output y)"},
        Construct{"residual_add_and_broadcast", R"(
  input x : [12, 10]
  input r : [12, 10]
  param b : [10]
  y = x + r + b
  z = b - x
  output y, z)"},
        Construct{"elementwise_mul", R"(
  input a : [12, 10]
  input b : [12, 10]
  y = mul(a, b) * a
  output y)"},
        Construct{"gelu_erf", R"(
  input x : [12, 10]
  y = gelu(x * 3)
  output y)"},
        Construct{"gelu_tanh", R"(
  input x : [12, 10]
  y = gelu(x * 3, approximate = tanh)
  output y)"},
        Construct{"silu_relu", R"(
  input x : [12, 10]
  y = silu(x * 3) + relu(x)
  output y)"},
        Construct{"attention_additive_mask", R"(
  input q : [12, 16]
  input k : [12, 16]
  input v : [12, 16]
  input m : [12, 12]
  y = attention(q, k, v, heads = 2, mask = m)
  output y)"},
        Construct{"attention_alibi_causal", R"(
  input q : [12, 16]
  input k : [12, 16]
  input v : [12, 16]
  param slopes : [4]
  y = attention(q, k, v, heads = 4, mask = causal, alibi = slopes)
  output y)"},
        Construct{"attention_gqa_window_scale", R"(
  input q : [12, 32]
  input k : [12, 8]
  input v : [12, 8]
  y = attention(q, k, v, heads = 8, kv_heads = 2, mask = window(4), scale = 0.3)
  output y)"},
        Construct{"attention_cross_lengths", R"(
  input q : [12, 16]
  input k : [5, 16]
  input v : [5, 16]
  y = attention(q, k, v, heads = 2)
  output y)"},
        Construct{"handwritten_single_head", R"(
  input q : [12, 8]
  input k : [12, 8]
  input v : [12, 8]
  y = matmul(softmax(mask(matmul(q, transpose(k)) * 0.35, causal)), v)
  output y)"}),
        testing::ValuesIn(testedBackends())),
    modelBodyWithBackend());

/// Scores masked by mask() (-inf at hidden keys) and then added to, scaled
/// or subtracted from before their softmax: that arithmetic meets -inf,
/// which Halide's no-Inf float flags once let LLVM fold away (hidden keys
/// got weight, or NaN). Contexts that are and are not multiples of the
/// vector width, since the folds showed only at some.
class MaskedScoreArithmeticTest : public BackendTest<Construct> {};

TEST_P(MaskedScoreArithmeticTest, MatchesReference) {
  for (int context : {5, 9, 16, 17}) {
    SCOPED_TRACE("context " + std::to_string(context));
    expectMatchesReference(std::string("model m {\n  context = ") +
                               std::to_string(context) + "\n  input s : [2, "
                               "context, context]\n" + testCase().body +
                               "\n}\n",
                           1e-5, 1e-4, {1}, {}, backend());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Language, MaskedScoreArithmeticTest,
    testing::Combine(testing::Values(
        Construct{"plus_row_bias", R"(
  input m : [context]
  y = softmax(mask(s, causal) + m, axis = -1)
  output y)"},
        Construct{"plus_head_bias", R"(
  input m : [2, context, context]
  y = softmax(mask(s, causal) + m, axis = -1)
  output y)"},
        Construct{"bias_plus", R"(
  input m : [context, context]
  y = softmax(m + mask(s, window(3)), axis = -1)
  output y)"},
        Construct{"minus_scores", R"(
  y = softmax(mask(s, window(2)) - s, axis = -1)
  output y)"},
        Construct{"scaled_then_biased", R"(
  input m : [context]
  y = softmax(mask(s, causal) * 0.5 + m, axis = -1)
  output y)"},
        Construct{"mask_of_mask_transposed", R"(
  input m : [context]
  t = transpose(transpose(mask(mask(s, window(3)), causal)))
  y = softmax(t + m, axis = -1)
  output y)"},
        Construct{"masked_then_relu", R"(
  y = relu(mask(s, causal)) + s
  output y)"},
        Construct{"weights_times_values", R"(
  input v : [2, context, 8]
  input m : [context]
  y = matmul(softmax(mask(s, causal) + m, axis = -1), v)
  output y)"}),
        testing::ValuesIn(testedBackends())),
    modelBodyWithBackend());

class ExampleTest : public BackendTest<const char *> {};

TEST_P(ExampleTest, MatchesReference) {
  expectMatchesReference(readSourceFile(std::string("examples/") + testCase()),
                         1e-5, 1e-4, {1, 2}, {}, backend());
}

INSTANTIATE_TEST_SUITE_P(
    Blocks, ExampleTest,
    testing::Combine(testing::Values("gpt2_block.attn", "gpt2_layer.attn",
                                     "llama_block.attn",
                                     "sliding_window_block.attn",
                                     "decoder_stack.attn",
                                     "handwritten_attention.attn"),
                     testing::ValuesIn(testedBackends())),
    nameWithBackend<const char *>(
        [](const testing::TestParamInfo<const char *> &info) {
          std::string name = info.param;
          return name.substr(0, name.find('.'));
        }));

/// The attn dialect after the attn-level passes, as `attnc --emit=attn`
/// prints it.
std::string optimizedAttn(const std::string &source) {
  llvm::SourceMgr sm;
  std::string diags;
  std::optional<Graph> graph = checkText(source, sm, diags);
  EXPECT_TRUE(graph) << diags;
  if (!graph)
    return "";
  auto context = createCompilerContext();
  auto module = generateAttnModule(*context, *graph, sm);
  EXPECT_TRUE(module);
  EXPECT_TRUE(succeeded(runPipeline(*module, [](mlir::OpPassManager &pm) { buildAttnOptimizationPipeline(pm); })));
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

/// The attn.sdpa line with SSA names dropped, to compare two modules.
std::string sdpaSignature(const std::string &attn) {
  std::smatch m;
  std::regex sdpa("attn\\.sdpa [^\\n]*? (heads = [^\\n]*)");
  if (!std::regex_search(attn, m, sdpa))
    return "";
  return m[1];
}

const char *kFused = R"(model m {
  context = 32
  input x : [32, 64]
  param w_q : [64, 64]
  param w_k : [64, 64]
  param w_v : [64, 64]
  q = linear(x, w_q)
  k = linear(x, w_k)
  v = linear(x, w_v)
  y = attention(q, k, v, heads = 4, mask = causal)
  output y
})";

const char *kHandWritten = R"(model m {
  context = 32
  input x : [32, 64]
  param w_q : [64, 64]
  param w_k : [64, 64]
  param w_v : [64, 64]
  q = split_heads(linear(x, w_q), heads = 4)
  k = split_heads(linear(x, w_k), heads = 4)
  v = split_heads(linear(x, w_v), heads = 4)
  s = matmul(q, transpose(k)) / sqrt(16)
  p = softmax(mask(s, causal), axis = -1)
  y = merge_heads(matmul(p, v))
  output y
})";

TEST(HandWrittenAttentionTest, FusesIntoTheSameSdpaAsAttention) {
  std::string fused = optimizedAttn(kFused), hand = optimizedAttn(kHandWritten);
  EXPECT_NE(sdpaSignature(fused), "") << fused;
  EXPECT_EQ(sdpaSignature(hand), sdpaSignature(fused)) << hand;
  for (const char *leftover : {"attn.softmax", "attn.matmul", "attn.mask",
                               "attn.split_heads", "attn.merge_heads"})
    EXPECT_EQ(hand.find(leftover), std::string::npos) << leftover << "\n" << hand;
}

/// Both backends receive the graph after fusion, so the hand-written chain
/// runs the very kernel `attention` does.
using HandWrittenAttentionNumericsTest = PerBackendTest;

TEST_P(HandWrittenAttentionNumericsTest, ComputesTheSameAsAttention) {
  std::string error;
  auto fused = CompiledModel::compile(kFused, error, {}, false, GetParam());
  ASSERT_TRUE(fused) << error;
  auto hand = CompiledModel::compile(kHandWritten, error, {}, false, GetParam());
  ASSERT_TRUE(hand) << error;
  std::vector<std::vector<float>> inputs = makeRandomArguments(fused->graph(), 5);
  auto a = fused->run(inputs, error)[0];
  auto b = hand->run(inputs, error)[0];
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(a[i], b[i]) << "element " << i;
}

/// Chains that only look like attention are left alone and still right.
TEST_P(HandWrittenAttentionNumericsTest, LookAlikesAreNotFusedAndStayCorrect) {
  const char *lookAlikes[] = {
      // softmax over the query axis
      R"(model m {
  context = 8
  input q : [2, 8, 4]
  input k : [2, 8, 4]
  input v : [2, 8, 4]
  y = merge_heads(matmul(softmax(matmul(q, transpose(k)) * 0.5, axis = 1), v))
  output y
})",
      // the scale applied after the softmax
      R"(model m {
  context = 8
  input q : [2, 8, 4]
  input k : [2, 8, 4]
  input v : [2, 8, 4]
  y = merge_heads(matmul(softmax(matmul(q, transpose(k))) * 0.5, v))
  output y
})",
      // a multiplicative mask
      R"(model m {
  context = 8
  input q : [2, 8, 4]
  input k : [2, 8, 4]
  input v : [2, 8, 4]
  input m : [8, 8]
  y = merge_heads(matmul(softmax(mul(matmul(q, transpose(k)), m)), v))
  output y
})"};
  for (const char *source : lookAlikes) {
    std::string attn = optimizedAttn(source);
    EXPECT_EQ(attn.find("attn.sdpa"), std::string::npos) << attn;
    expectMatchesReference(source, 1e-5, 1e-4, {1, 2}, {}, GetParam());
  }
}

ATTNC_INSTANTIATE_PER_BACKEND(HandWrittenAttentionNumericsTest);

/// Every ```attn block of docs/language.md is a whole model that compiles
/// and matches the reference, so the documentation cannot rot.
using DocumentationTest = PerBackendTest;

TEST_P(DocumentationTest, EveryExampleCompilesAndMatchesTheReference) {
  std::string doc = readSourceFile("docs/language.md");
  std::regex fence("```attn\\n([\\s\\S]*?)```");
  int examples = 0;
  for (std::sregex_iterator it(doc.begin(), doc.end(), fence), end; it != end;
       ++it) {
    ++examples;
    SCOPED_TRACE("example " + std::to_string(examples));
    expectMatchesReference((*it)[1].str(), 1e-5, 1e-4, {1}, {}, GetParam());
  }
  EXPECT_GE(examples, 10) << "docs/language.md should show every construct";
}

INSTANTIATE_TEST_SUITE_P(Docs, DocumentationTest,
                         testing::ValuesIn(testedBackends()),
                         backendTestName);

} // namespace
