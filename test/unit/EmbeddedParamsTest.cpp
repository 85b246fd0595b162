//===- EmbeddedParamsTest.cpp - params compiled in give the same results --===//
//
// A model compiled with its params embedded (attnc --embed-weights) must
// compute exactly what it computes with the same values passed at run
// time, on each backend, for the full model and for its decode step. The
// MLIR backend lays the embedded weights of wide products out in panels
// ahead of time (attn.packed_panels) instead of copying them per call; the
// arithmetic is the same, in the same order, so the outputs must agree bit
// for bit, not merely within a tolerance. (The values passed at run time
// are themselves checked against the reference by NumericsTest and
// DecodeTest.)
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "attnc/Codegen/EmbeddedWeights.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace attnc;
using namespace attnc::test;

namespace {

// Products wider than a panel of 32 columns, whose weights are packed ahead
// of time, next to ones that are not (w_o of 32 columns, a bias, a norm's
// gain), with a decode step.
const NamedModel kCases[] = {
    {"gpt_block", R"(model gpt_block {
  context = 32
  decode
  input x : [context, 64]
  param g : [64]
  param w_qkv : [64, 192]
  param b_qkv : [192]
  param w_o : [64, 64]
  param w_up : [64, 256]
  param w_down : [256, 64]
  h = rms_norm(x, g)
  q, k, v = split(linear(h, w_qkv, b_qkv), 3)
  a = x + linear(attention(q, k, v, heads = 4, mask = causal), w_o)
  y = a + linear(gelu(linear(a, w_up)), w_down)
  output y
})"},
    // The same weight read by two products.
    {"shared_weight", R"(model shared_weight {
  context = 64
  input x : [context, 32]
  param w : [32, 96]
  param w_back : [96, 32]
  y = linear(linear(x, w), w_back)
  z = linear(linear(y, w), w_back)
  output z
})"},
};

using EmbeddedParamsTest = BackendTest<NamedModel>;

/// Compiles the case with every param embedded with `values` (one per
/// input and param in ABI order, as makeRandomArguments gives).
std::unique_ptr<CompiledModel>
compileEmbedded(const char *source, Backend backend,
                const std::vector<std::vector<float>> &values,
                std::string &error) {
  return CompiledModel::compile(
      source, error, {}, /*attentionProbs=*/false, backend, [&](Graph &graph) {
        size_t next = 0;
        for (KernelArg &arg : graph.args) {
          if (arg.role == ArgRole::Output)
            continue;
          const std::vector<float> &data = values[next++];
          if (arg.role == ArgRole::Param)
            embedParam(graph, arg, data);
        }
      });
}

void expectBitwiseEqual(const std::vector<float> &got,
                        const std::vector<float> &want, const char *what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
        << what << ", element " << i << ": " << got[i] << " vs " << want[i];
}

TEST_P(EmbeddedParamsTest, SameOutputsAsParamsPassedAtRunTime) {
  std::string error;
  auto passed = CompiledModel::compile(testCase().source, error, {},
                                       /*attentionProbs=*/false, backend());
  ASSERT_TRUE(passed) << error;
  const Graph &graph = passed->graph();
  std::vector<std::vector<float>> values = makeRandomArguments(graph, 7);
  auto embedded = compileEmbedded(testCase().source, backend(), values, error);
  ASSERT_TRUE(embedded) << error;
  ASSERT_LT(embedded->graph().abiArgs().size(), graph.abiArgs().size());

  std::vector<std::vector<float>> inputsOnly;
  for (size_t a = 0, next = 0; a < graph.args.size(); ++a) {
    if (graph.args[a].role == ArgRole::Output)
      continue;
    if (graph.args[a].role == ArgRole::Input)
      inputsOnly.push_back(values[next]);
    ++next;
  }
  std::vector<std::vector<float>> want = passed->run(values, error);
  ASSERT_TRUE(error.empty()) << error;
  std::vector<std::vector<float>> got = embedded->run(inputsOnly, error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o)
    ASSERT_NO_FATAL_FAILURE(
        expectBitwiseEqual(got[o], want[o], "full model output"));

  if (!graph.decodeStep)
    return;
  // Twice the context, token by token: the ring of the caches wraps.
  attn_decoder *withParams = nullptr, *withoutParams = nullptr;
  ASSERT_EQ(attn_decoder_open(passed->model(), &withParams), ATTN_OK)
      << attn_last_error();
  ASSERT_EQ(attn_decoder_open(embedded->model(), &withoutParams), ATTN_OK)
      << attn_last_error();
  const Graph &step = *graph.decodeStep;
  const int64_t width = graph.args[0].shape[1];
  // The step's arguments with `tokens` rows for its token input and the
  // outputs in `want` and `got`: every param for the decoder that takes
  // them, none for the one with them embedded.
  std::vector<void *> argsWant, argsGot;
  auto stepArguments = [&](const float *tokens, float *want, float *got) {
    argsWant.clear();
    argsGot.clear();
    size_t next = 0;
    for (const KernelArg &arg : step.args) {
      if (arg.role == ArgRole::Output) {
        argsWant.push_back(want);
        argsGot.push_back(got);
        continue;
      }
      void *data = arg.perToken ? const_cast<float *>(tokens)
                                : values[next].data();
      ++next;
      argsWant.push_back(data);
      if (arg.role != ArgRole::Param)
        argsGot.push_back(data);
    }
  };
  std::vector<float> tokenWant(width), tokenGot(width);
  for (int64_t t = 0; t < 2 * graph.context; ++t) {
    stepArguments(values[0].data() + (t % graph.context) * width,
                  tokenWant.data(), tokenGot.data());
    ASSERT_EQ(attn_decoder_step(withParams, argsWant.data(), argsWant.size()),
              ATTN_OK)
        << attn_last_error();
    ASSERT_EQ(attn_decoder_step(withoutParams, argsGot.data(), argsGot.size()),
              ATTN_OK)
        << attn_last_error();
    ASSERT_NO_FATAL_FAILURE(
        expectBitwiseEqual(tokenGot, tokenWant, "decode step output"));
  }
  // A whole context as a prompt: through NAME_prefill, whose embedded
  // params are bound like the step's.
  attn_decoder_reset(withParams);
  attn_decoder_reset(withoutParams);
  std::vector<float> promptWant(graph.context * width),
      promptGot(graph.context * width);
  stepArguments(values[0].data(), promptWant.data(), promptGot.data());
  ASSERT_EQ(attn_decoder_prefill(withParams, argsWant.data(), argsWant.size(),
                                 graph.context),
            ATTN_OK)
      << attn_last_error();
  ASSERT_EQ(attn_decoder_prefill(withoutParams, argsGot.data(), argsGot.size(),
                                 graph.context),
            ATTN_OK)
      << attn_last_error();
  ASSERT_NO_FATAL_FAILURE(
      expectBitwiseEqual(promptGot, promptWant, "prefill output"));
  attn_decoder_free(withParams);
  attn_decoder_free(withoutParams);
}

INSTANTIATE_TEST_SUITE_P(
    Models, EmbeddedParamsTest,
    testing::Combine(testing::ValuesIn(kCases),
                     testing::ValuesIn(testedBackends())),
    namedModelWithBackend());

} // namespace
