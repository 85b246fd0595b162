//===- DecodeTest.cpp - token-by-token decoding against the full model ----===//
//
// A model with `decode` is fed 3 x context tokens one at a time through the
// runtime's decoder (attn_decoder_step), on each backend. Each output row
// is checked
//  - for the first `context` tokens, against the full compiled model run on
//    the same sequence: the two must agree within 1e-5 relative (L2 over
//    the rows), since they compute the same attention with different loop
//    orders; and
//  - for all tokens, including those after the KV cache ring has wrapped
//    twice, against the reference interpreter's decode step (double
//    precision, keeping every past row and picking the visible ones rather
//    than using a ring): L2 error <= 1e-5 and max error <= 1e-4 relative,
//    the tolerances of NumericsTest.cpp for the same reductions.
// The same sequence is fed again as prompts through attn_decoder_prefill
// (the whole model at once, NAME_prefill, from position 0 or after earlier
// tokens) and then a token at a time, and checked against the reference
// the same way.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "attnc/Frontend/DecodeStep.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

using namespace attnc;
using namespace attnc::test;

namespace {

constexpr int64_t kContext = 16;

// Each model has `decode`, a token input x : [context, 32] and output y.
const NamedModel kCases[] = {
    {"causal_block", R"(model causal_block {
  context = 16
  decode
  input x : [context, 32]
  param w_qkv : [32, 96]
  param b_qkv : [96]
  param w_o : [32, 32]
  q, k, v = split(linear(x, w_qkv, b_qkv), 3)
  y = x + linear(attention(q, k, v, heads = 4, mask = causal), w_o)
  output y
})"},
    // A window shorter than the context, grouped-query heads and ALiBi.
    {"window_gqa_alibi", R"(model window_gqa_alibi {
  context = 16
  decode
  input x : [context, 32]
  param w_q : [32, 32]
  param w_kv : [32, 16]
  param w_v : [32, 16]
  param slopes : [4]
  y = attention(linear(x, w_q), linear(x, w_kv), linear(x, w_v), heads = 4,
                kv_heads = 2, mask = window(5), alibi = slopes)
  output y
})"},
    // One key/value head for 16 query heads, with ALiBi: the chunk's
    // tasks take blocks of two query heads, each with its own slopes.
    {"multi_query_alibi", R"(model multi_query_alibi {
  context = 16
  decode
  input x : [context, 32]
  param w_q : [32, 64]
  param w_k : [32, 4]
  param w_v : [32, 4]
  param slopes : [16]
  param w_o : [64, 32]
  a = attention(linear(x, w_q), linear(x, w_k), linear(x, w_v), heads = 16,
                kv_heads = 1, mask = causal, alibi = slopes)
  y = x + linear(a, w_o)
  output y
})"},
    // Llama style: RMS norm, rotary embeddings at the token's position, a
    // gated MLP, two layers with a cache each.
    {"llama_two_layers", R"(block layer(x, g, wq, wk, wv, wo) {
  h = rms_norm(x, g)
  q = rope(linear(h, wq), heads = 4)
  k = rope(linear(h, wk), heads = 4)
  a = attention(q, k, linear(h, wv), heads = 4, mask = causal)
  y = x + linear(silu(a), wo)
  return y
}
model llama_two_layers {
  context = 16
  decode
  input x : [context, 32]
  param g1 : [32]
  param wq1 : [32, 32]
  param wk1 : [32, 32]
  param wv1 : [32, 32]
  param wo1 : [32, 32]
  param g2 : [32]
  param wq2 : [32, 32]
  param wk2 : [32, 32]
  param wv2 : [32, 32]
  param wo2 : [32, 32]
  h = layer(x, g1, wq1, wk1, wv1, wo1)
  y = layer(h, g2, wq2, wk2, wv2, wo2)
  output y
})"},
};

/// How a case is compiled: its backend and, for Halide, the shortest
/// pipeline (HalidePipelines.h; 0 for the default).
struct DecodeBuild {
  Backend backend;
  unsigned halidePipelineOps;
  const char *name;
};

/// Each backend as it compiles by default, and Halide with a pipeline cut
/// wherever one may be: the caches, position and new keys of a layer then
/// go to a pipeline of their own.
std::vector<DecodeBuild> decodeBuilds() {
  std::vector<DecodeBuild> builds;
  for (Backend backend : testedBackends())
    builds.push_back({backend, 0,
                      backend == Backend::Halide ? "halide" : "mlir"});
  if (halideBackendBuilt())
    builds.push_back({Backend::Halide, 1, "halide_every_cut"});
  return builds;
}

class DecodeTest
    : public testing::TestWithParam<std::tuple<NamedModel, DecodeBuild>> {
protected:
  const NamedModel &testCase() const { return std::get<0>(GetParam()); }
  std::unique_ptr<CompiledModel> compile(std::string &error) const {
    const DecodeBuild &build = std::get<1>(GetParam());
    HalideOptions halide;
    if (build.halidePipelineOps)
      halide.minOpsPerPipeline = build.halidePipelineOps;
    return CompiledModel::compile(testCase().source, error, {},
                                  /*attentionProbs=*/false, build.backend,
                                  /*prepare=*/nullptr, halide);
  }
};

std::vector<float> randomRows(int64_t rows, int64_t width, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> data(rows * width);
  for (float &x : data)
    x = unit(rng);
  return data;
}

/// The step's arguments in its order: `in` for its token input, `out` for
/// its output, and the rest from `full` (the full model's arguments, in
/// its order).
std::vector<void *> stepArguments(const Graph &step,
                                  std::vector<std::vector<float>> &full,
                                  float *in, float *out) {
  std::vector<void *> args;
  size_t next = 0;
  for (const KernelArg &arg : step.args) {
    if (arg.role == ArgRole::Output)
      args.push_back(out);
    else if (arg.perToken)
      args.push_back(in), ++next;
    else
      args.push_back(full[next++].data());
  }
  return args;
}

/// ATTNC_PREFILL=steps while it lives, unset again however a test ends:
/// later tests run in the same process.
struct StepsOnly {
  StepsOnly() { setenv("ATTNC_PREFILL", "steps", 1); }
  ~StepsOnly() { unsetenv("ATTNC_PREFILL"); }
};

/// Relative L2 and max errors of `got` against `want`.
std::pair<double, double> errors(const std::vector<float> &got,
                                 const std::vector<double> &want) {
  double d2 = 0, w2 = 0, maxDiff = 0, maxWant = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double d = double(got[i]) - want[i];
    d2 += d * d;
    w2 += want[i] * want[i];
    maxDiff = std::max(maxDiff, std::fabs(d));
    maxWant = std::max(maxWant, std::fabs(want[i]));
  }
  return {std::sqrt(d2 / w2), maxDiff / maxWant};
}

/// Feeds the rows of `x` (the step's one token input) one at a time through
/// `decoder` into `decoded` (its one output, a row per token), with the
/// step's params from `arguments` (the full model's, in its order), and the
/// reference's decode step over the same arguments into `reference`.
void decodeAgainstReference(attn_decoder *decoder, const Graph &step,
                            const std::vector<std::vector<float>> &arguments,
                            const std::vector<float> &x,
                            std::vector<float> &decoded,
                            std::vector<double> &reference) {
  const int64_t inWidth = step.args.front().shape[1];
  const int64_t outWidth = step.args.back().shape[1];
  const int64_t tokens = static_cast<int64_t>(x.size()) / inWidth;
  DecodeHistory history;
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<void *> args;
    std::vector<RefTensor> refArgs;
    size_t next = 0;
    for (const KernelArg &arg : step.args) {
      if (arg.role == ArgRole::Output) {
        args.push_back(decoded.data() + t * outWidth);
        continue;
      }
      const float *data =
          arg.perToken ? x.data() + t * inWidth : arguments[next].data();
      args.push_back(const_cast<float *>(data));
      refArgs.push_back({arg.shape, std::vector<double>(
                                        data, data + numElements(arg.shape))});
      ++next;
    }
    ASSERT_EQ(attn_decoder_step(decoder, args.data(), args.size()), ATTN_OK)
        << attn_last_error();
    std::vector<RefTensor> want = interpretDecodeStep(step, refArgs, history);
    std::copy(want[0].data.begin(), want[0].data.end(),
              reference.begin() + t * outWidth);
  }
}

TEST_P(DecodeTest, MatchesFullModelAndReferencePastTheWrap) {
  std::string error;
  auto compiled = compile(error);
  ASSERT_TRUE(compiled) << error;
  const Graph &graph = compiled->graph();
  ASSERT_TRUE(graph.decodeStep);
  const Graph &step = *graph.decodeStep;

  attn_decoder *decoder = nullptr;
  ASSERT_EQ(attn_decoder_open(compiled->model(), &decoder), ATTN_OK)
      << attn_last_error();
  const attn_decode_info *info = attn_decoder_info(decoder);
  ASSERT_EQ(info->context, kContext);
  ASSERT_EQ(size_t(info->num_layers), step.kvCacheWidths.size());

  // Params from the full model's seeded arguments; x is replaced by a
  // sequence three contexts long.
  std::vector<std::vector<float>> full = makeRandomArguments(graph, 5);
  const int64_t tokens = 3 * kContext, width = 32;
  std::vector<float> x = randomRows(tokens, width, 11);
  std::copy(x.begin(), x.begin() + kContext * width, full[0].begin());

  std::vector<float> decoded(tokens * width);
  std::vector<double> reference(tokens * width);
  ASSERT_NO_FATAL_FAILURE(decodeAgainstReference(decoder, step, full, x,
                                                 decoded, reference));
  EXPECT_EQ(attn_decoder_position(decoder), tokens);

  auto [l2, maxRel] = errors(decoded, reference);
  EXPECT_LE(l2, 1e-5) << "decode vs reference, all " << tokens << " tokens";
  EXPECT_LE(maxRel, 1e-4);

  // The full model on the first context of the sequence.
  std::vector<std::vector<float>> y = compiled->run(full, error);
  ASSERT_TRUE(error.empty()) << error;
  std::vector<double> fullY(y[0].begin(), y[0].end());
  std::vector<float> firstContext(decoded.begin(),
                                  decoded.begin() + kContext * width);
  auto [l2Full, maxFull] = errors(firstContext, fullY);
  std::printf("%s: %lld tokens vs reference: L2 %.2e, max %.2e; first %lld "
              "vs the full model: L2 %.2e, max %.2e\n",
              testCase().name, (long long)tokens, l2, maxRel,
              (long long)kContext, l2Full, maxFull);
  EXPECT_LE(l2Full, 1e-5) << "decode vs the full model, first context";
  EXPECT_LE(maxFull, 1e-4);

  // A prompt through attn_decoder_prefill. One of at least a quarter of the
  // context, from position 0, runs its first `context` tokens through the
  // whole model (NAME_prefill) in one call, which also fills the caches:
  // its outputs, and those of the tokens stepped after it past two wraps
  // of the ring, match the reference as the steps did. A shorter prompt
  // (here padded to the context inside the call), the same; and a prompt
  // after earlier tokens of the first context, whose rows the call runs
  // again in front of it. ATTNC_PREFILL=
  // steps, or a prompt under a quarter of the context, runs a step per
  // token: bit for bit what attn_decoder_step gave.
  // The output is set per prompt.
  std::vector<void *> args = stepArguments(step, full, x.data(), nullptr);
  // Prompts one after the other from position 0, then a step per token.
  auto feed = [&](std::vector<int64_t> prompts, std::vector<float> &out) {
    attn_decoder_reset(decoder);
    EXPECT_EQ(attn_decoder_position(decoder), 0);
    out.assign(tokens * width, 0.0f);
    std::vector<void *> row = args;
    int64_t fed = 0;
    for (int64_t prompt : prompts) {
      row.front() = x.data() + fed * width;
      row.back() = out.data() + fed * width;
      ASSERT_EQ(attn_decoder_prefill(decoder, row.data(), row.size(), prompt),
                ATTN_OK)
          << attn_last_error();
      fed += prompt;
      EXPECT_EQ(attn_decoder_position(decoder), fed);
    }
    for (int64_t t = fed; t < tokens; ++t) {
      row.front() = x.data() + t * width;
      row.back() = out.data() + t * width;
      ASSERT_EQ(attn_decoder_step(decoder, row.data(), row.size()), ATTN_OK)
          << attn_last_error();
    }
  };
  // Whole prompts from position 0; then after earlier tokens, which the
  // prefill runs again in front of the prompt: after 3 steps, 9 tokens;
  // after a prompt of 6 (whole), 13 tokens (10 whole, 3 steps). Past the
  // first context chunks (16 rows here) take prompts of 8 tokens or more:
  // 20 tokens after 16 as a chunk of 16 and 4 steps (past the ring's wrap),
  // then 12 as one chunk.
  const std::vector<std::vector<int64_t>> wholePrompts = {
      {kContext + 3}, {kContext},    {kContext / 2},
      {1, 1, 1, 9},   {6, 13},       {kContext, kContext + 4, kContext - 4}};
  for (const std::vector<int64_t> &prompts : wholePrompts) {
    std::vector<float> out;
    ASSERT_NO_FATAL_FAILURE(feed(prompts, out));
    auto [l2Prompt, maxPrompt] = errors(out, reference);
    std::string which;
    for (int64_t prompt : prompts)
      which += (which.empty() ? "" : ", ") + std::to_string(prompt);
    std::printf("%s: prompts of %s through the prefill and chunks, then "
                "steps, vs "
                "reference: L2 %.2e, max %.2e\n",
                testCase().name, which.c_str(), l2Prompt, maxPrompt);
    EXPECT_LE(l2Prompt, 1e-5) << "prompts of " << which;
    EXPECT_LE(maxPrompt, 1e-4) << "prompts of " << which;
  }
  auto expectStepsBitForBit = [&](int64_t prompt) {
    std::vector<float> out;
    ASSERT_NO_FATAL_FAILURE(feed({prompt}, out));
    for (int64_t i = 0; i < tokens * width; ++i)
      ASSERT_EQ(out[i], decoded[i]) << "prompt of " << prompt << ", element "
                                    << i;
  };
  expectStepsBitForBit(kContext / 4 - 1);
  {
    StepsOnly stepsOnly;
    expectStepsBitForBit(kContext + 3);
  }
  attn_decoder_free(decoder);
}

// NAME_prefill itself, over a whole context: the full model's outputs, and
// in the caches what NAME_decode stores when fed the same tokens one at a
// time (to rounding: the keys and values come from other linear kernels).
// Every slot is written: the caches start as NaN.
TEST_P(DecodeTest, PrefillFillsTheCachesAsTheStepsDo) {
  std::string error;
  auto compiled = compile(error);
  ASSERT_TRUE(compiled) << error;
  const Graph &graph = compiled->graph();
  ASSERT_TRUE(graph.prefill);
  const Graph &step = *graph.decodeStep;
  void *library =
      dlopen(compiled->libraryPath().c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(library, nullptr) << dlerror();
  auto prefill = reinterpret_cast<attn_prefill_fn>(
      dlsym(library, (graph.name + "_prefill_argv").c_str()));
  auto decode = reinterpret_cast<attn_decode_fn>(
      dlsym(library, (graph.name + "_decode_argv").c_str()));
  dlclose(library); // still open through the model
  ASSERT_NE(prefill, nullptr);
  ASSERT_NE(decode, nullptr);

  std::vector<std::vector<float>> full = makeRandomArguments(graph, 7);
  std::vector<std::vector<float>> y = compiled->run(full, error);
  ASSERT_TRUE(error.empty()) << error;

  const attn_decode_info *info = attn_model_decode_info(compiled->model());
  auto makeCaches = [&](std::vector<std::vector<float>> &caches) {
    std::vector<float *> pointers;
    for (int32_t l = 0; l < info->num_layers; ++l)
      for (int kv = 0; kv < 2; ++kv)
        caches.emplace_back(kContext * info->cache_widths[l], NAN);
    for (std::vector<float> &cache : caches)
      pointers.push_back(cache.data());
    return pointers;
  };
  std::vector<std::vector<float>> prefilled, stepped;
  std::vector<float *> prefilledCaches = makeCaches(prefilled);
  std::vector<float *> steppedCaches = makeCaches(stepped);

  std::vector<float> out(y[0].size());
  std::vector<void *> args;
  for (std::vector<float> &arg : full)
    args.push_back(arg.data());
  args.push_back(out.data());
  ASSERT_EQ(prefill(args.data(), prefilledCaches.data()), 0);
  auto [l2Out, maxOut] =
      errors(out, std::vector<double>(y[0].begin(), y[0].end()));
  EXPECT_LE(l2Out, 1e-6) << "NAME_prefill vs NAME";
  EXPECT_LE(maxOut, 1e-5) << "NAME_prefill vs NAME";

  const int64_t inWidth = step.args.front().shape[1];
  const int64_t outWidth = step.args.back().shape[1];
  std::vector<float> row(outWidth);
  for (int64_t t = 0; t < kContext; ++t) {
    std::vector<void *> stepArgs = args;
    stepArgs.front() = full[0].data() + t * inWidth;
    stepArgs.back() = row.data();
    ASSERT_EQ(decode(stepArgs.data(), steppedCaches.data(), t), 0);
  }
  for (size_t c = 0; c < prefilled.size(); ++c) {
    for (float v : prefilled[c])
      ASSERT_TRUE(std::isfinite(v)) << "cache " << c << ": a slot unwritten";
    auto [l2, maxRel] = errors(prefilled[c], std::vector<double>(
                                                 stepped[c].begin(),
                                                 stepped[c].end()));
    EXPECT_LE(l2, 1e-6) << "cache " << c;
    EXPECT_LE(maxRel, 1e-5) << "cache " << c;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, DecodeTest,
    testing::Combine(testing::ValuesIn(kCases),
                     testing::ValuesIn(decodeBuilds())),
    [](const testing::TestParamInfo<std::tuple<NamedModel, DecodeBuild>>
           &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::get<1>(info.param).name;
    });

// NAME_decode on caches whose every float is NaN (the ABI asks no
// initialization of them) gives, bit for bit, what the decoder's zeroed
// caches give: a slot the token does not see is never read into its result.
TEST_P(DecodeTest, CachesNeedNoInitialization) {
  std::string error;
  auto compiled = compile(error);
  ASSERT_TRUE(compiled) << error;
  const Graph &step = *compiled->graph().decodeStep;
  void *library = dlopen(compiled->libraryPath().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_TRUE(library) << dlerror();
  using StepFn = int (*)(void **, float **, int64_t);
  auto rawStep = reinterpret_cast<StepFn>(
      dlsym(library, (step.name + "_argv").c_str()));
  ASSERT_TRUE(rawStep) << dlerror();

  attn_decoder *decoder = nullptr;
  ASSERT_EQ(attn_decoder_open(compiled->model(), &decoder), ATTN_OK)
      << attn_last_error();
  std::vector<std::vector<float>> caches;
  std::vector<float *> cachePointers;
  for (int64_t width : step.kvCacheWidths)
    for (int kv = 0; kv < 2; ++kv)
      caches.emplace_back(kContext * width,
                          std::numeric_limits<float>::quiet_NaN());
  for (std::vector<float> &cache : caches)
    cachePointers.push_back(cache.data());

  std::vector<std::vector<float>> full =
      makeRandomArguments(compiled->graph(), 5);
  const int64_t width = 32;
  std::vector<float> x = randomRows(kContext, width, 11);
  for (int64_t t = 0; t < 5; ++t) {
    std::vector<float> fromDecoder(width), fromRaw(width);
    std::vector<void *> args =
        stepArguments(step, full, x.data() + t * width, fromDecoder.data());
    ASSERT_EQ(attn_decoder_step(decoder, args.data(), args.size()), ATTN_OK)
        << attn_last_error();
    args.back() = fromRaw.data();
    ASSERT_EQ(rawStep(args.data(), cachePointers.data(), t), 0);
    for (int64_t i = 0; i < width; ++i)
      ASSERT_EQ(std::memcmp(&fromRaw[i], &fromDecoder[i], sizeof(float)), 0)
          << "token " << t << ", element " << i << ": " << fromRaw[i]
          << " on NaN caches, " << fromDecoder[i] << " on zeroed ones";
  }
  attn_decoder_free(decoder);
  dlclose(library);
}

/// NAME_chunk against the step it stands for: from caches the steps filled
/// up to position p, a chunk of n tokens gives their rows' outputs and
/// leaves in the caches what n steps would (to rounding: other products),
/// whatever its rows past n hold (NaN here) and whatever the caches' unused
/// slots hold (NaN). Chunks from position 0, short ones, and one whose
/// tokens wrap the ring.
TEST_P(DecodeTest, ChunkDoesWhatItsStepsDo) {
  std::string error;
  auto compiled = compile(error);
  ASSERT_TRUE(compiled) << error;
  const Graph &step = *compiled->graph().decodeStep;
  const attn_decode_info *info = attn_model_decode_info(compiled->model());
  void *library = dlopen(compiled->libraryPath().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_TRUE(library) << dlerror();
  auto rawStep = reinterpret_cast<attn_decode_fn>(
      dlsym(library, (step.name + "_argv").c_str()));
  auto rawChunk = reinterpret_cast<attn_chunk_fn>(
      dlsym(library, (compiled->graph().name + "_chunk_argv").c_str()));
  ASSERT_TRUE(rawStep) << dlerror();
  ASSERT_TRUE(rawChunk) << dlerror();
  const int64_t rows = info->chunk_rows;
  ASSERT_EQ(rows, chunkRowsFor(kContext));

  std::vector<std::vector<float>> full =
      makeRandomArguments(compiled->graph(), 5);
  const int64_t width = 32;
  const int64_t tokens = kContext + 7 + rows; // the last case's last token
  std::vector<float> x = randomRows(tokens, width, 13);
  auto argsFor = [&](float *in, float *out) {
    return stepArguments(step, full, in, out);
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Case { int64_t position, count; };
  for (Case c : {Case{0, rows}, Case{0, 5}, Case{5, 3}, Case{kContext - 4, 10},
                 Case{kContext + 7, rows}}) {
    SCOPED_TRACE("a chunk of " + std::to_string(c.count) + " at position " +
                 std::to_string(c.position));
    // Caches the steps fill up to the chunk's position; the steps' copy
    // then goes on a step per token.
    std::vector<std::vector<float>> stepped, chunked;
    for (int64_t cacheWidth : step.kvCacheWidths)
      for (int kv = 0; kv < 2; ++kv)
        stepped.emplace_back(kContext * cacheWidth, nan);
    auto pointers = [](std::vector<std::vector<float>> &caches) {
      std::vector<float *> p;
      for (std::vector<float> &cache : caches)
        p.push_back(cache.data());
      return p;
    };
    std::vector<float> steppedOut(c.count * width);
    std::vector<float> discard(width);
    for (int64_t t = 0; t < c.position; ++t)
      ASSERT_EQ(rawStep(argsFor(x.data() + t * width, discard.data()).data(),
                        pointers(stepped).data(), t),
                0);
    chunked = stepped;
    for (int64_t n = 0; n < c.count; ++n)
      ASSERT_EQ(rawStep(argsFor(x.data() + (c.position + n) * width,
                                steppedOut.data() + n * width)
                            .data(),
                        pointers(stepped).data(), c.position + n),
                0);
    // The chunk's rows: the tokens, then NaN.
    std::vector<float> in(rows * width, nan), out(rows * width, nan);
    std::copy(x.begin() + c.position * width,
              x.begin() + (c.position + c.count) * width, in.begin());
    ASSERT_EQ(rawChunk(argsFor(in.data(), out.data()).data(),
                       pointers(chunked).data(), c.position, c.count),
              0);
    out.resize(c.count * width);
    auto [l2, maxRel] = errors(out, std::vector<double>(steppedOut.begin(),
                                                        steppedOut.end()));
    EXPECT_LE(l2, 1e-5) << "outputs";
    EXPECT_LE(maxRel, 1e-4) << "outputs";
    // Every slot: NaN in both (never written) or the same to rounding.
    for (size_t cache = 0; cache < stepped.size(); ++cache)
      for (size_t i = 0; i < stepped[cache].size(); ++i) {
        float a = stepped[cache][i], b = chunked[cache][i];
        if (std::isnan(a)) {
          ASSERT_TRUE(std::isnan(b)) << "cache " << cache << ", float " << i
                                     << ": written by the chunk only";
          continue;
        }
        ASSERT_NEAR(b, a, 1e-5f * std::max(1.0f, std::fabs(a)))
            << "cache " << cache << ", float " << i;
      }
  }
  dlclose(library);
}

/// The largest |q . k| / sqrt(128) over the causal pairs of the first 288
/// of `tokens` rows of `x` ([tokens, 256]) under the long-context model's
/// QKV linear (`w` [256, 768], `b` [768]; q and k columns 0-255 and
/// 256-511, two heads of 128), in double.
double largestCausalLogit(const std::vector<float> &x,
                          const std::vector<float> &w,
                          const std::vector<float> &b, int64_t tokens) {
  const int64_t rows = std::min<int64_t>(tokens, 288), width = 256, D = 128;
  std::vector<double> qk(rows * 2 * width);
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t c = 0; c < 2 * width; ++c) {
      double sum = b[c];
      for (int64_t i = 0; i < width; ++i)
        sum += double(x[t * width + i]) * w[i * 3 * width + c];
      qk[t * 2 * width + c] = sum;
    }
  double largest = 0;
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t u = 0; u <= t; ++u) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += qk[t * 2 * width + h * D + d] *
                 qk[u * 2 * width + width + h * D + d];
        largest = std::max(largest, std::fabs(dot) / std::sqrt(double(D)));
      }
  return largest;
}

/// A context wider than one register block of the scores and heads of 128
/// features: each head's scores stream its key rows in two bands of 64, the
/// QKV linear streams four bands of its weight as tasks
/// (emitRowStreamingProduct). Token by token past the ring's wrap, against
/// the reference's decode step, then the same tokens as prompts.
class LongContextDecodeTest : public PerBackendTest {
protected:
  /// The model below under `mask`: `tokens` random rows decoded a step at
  /// a time into `decoded` and by the reference's decode step into
  /// `reference`, then fed again from position 0 through
  /// attn_decoder_prefill in `prompts` (which add up to `tokens`) into
  /// `prompted`.
  void decodeThenPrompt(const char *mask, int64_t tokens,
                        std::initializer_list<int64_t> prompts,
                        unsigned seed, std::vector<float> &decoded,
                        std::vector<float> &prompted,
                        std::vector<double> &reference,
                        float inputScale = 1.0f,
                        double *largestLogit = nullptr) {
    const std::string source = std::string(R"(model long_context {
  context = 288
  decode
  input x : [context, 256]
  param w_qkv : [256, 768]
  param b_qkv : [768]
  q, k, v = split(linear(x, w_qkv, b_qkv), 3)
  y = attention(q, k, v, heads = 2, mask = )") + mask + R"()
  output y
})";
    std::string error;
    auto compiled = CompiledModel::compile(
        source.c_str(), error, {}, /*attentionProbs=*/false, GetParam());
    ASSERT_TRUE(compiled) << error;
    attn_decoder *decoder = nullptr;
    ASSERT_EQ(attn_decoder_open(compiled->model(), &decoder), ATTN_OK)
        << attn_last_error();
    std::vector<std::vector<float>> params =
        makeRandomArguments(compiled->graph(), seed);
    const int64_t width = 256;
    std::vector<float> x = randomRows(tokens, width, seed + 6);
    for (float &e : x)
      e *= inputScale;
    if (largestLogit)
      *largestLogit = largestCausalLogit(x, params[1], params[2], tokens);
    decoded.assign(tokens * width, 0.0f);
    reference.assign(tokens * width, 0.0);
    ASSERT_NO_FATAL_FAILURE(
        decodeAgainstReference(decoder, *compiled->graph().decodeStep,
                               params, x, decoded, reference));
    attn_decoder_reset(decoder);
    prompted.assign(tokens * width, 0.0f);
    int64_t fed = 0;
    for (int64_t prompt : prompts) {
      void *args[] = {x.data() + fed * width, params[1].data(),
                      params[2].data(), prompted.data() + fed * width};
      ASSERT_EQ(attn_decoder_prefill(decoder, args, 4, prompt), ATTN_OK)
          << attn_last_error();
      fed += prompt;
    }
    ASSERT_EQ(fed, tokens);
    attn_decoder_free(decoder);
  }
};

/// Logits near 1e4 through steps, the whole model and chunks (prompts of
/// 100, 200 and 100 tokens, the last past the first context: chunks of 64
/// and 36): inputs scaled by 128 (exactly) make |q . k| / sqrt(128) reach
/// the value printed. Each softmax is then nearly one-hot and an output row
/// nearly a row of v. A logit of 1e4 summed in float from q and k rounded
/// in float is off by a few 1e-3, so where two keys nearly tie their
/// weights can move by a few 0.1 %: the outputs must be finite and within
/// 2e-3 of the largest output of the double reference (2.0-2.7e-4
/// measured on both backends). A masked key let through, or a visible one
/// dropped, moves a row by the size of v's rows.
TEST_P(LongContextDecodeTest, LargeLogitsStayFiniteAndCorrect) {
  std::vector<float> decoded, prompted;
  std::vector<double> reference;
  double largest = 0;
  ASSERT_NO_FATAL_FAILURE(decodeThenPrompt("causal", 400, {100, 200, 100}, 7,
                                           decoded, prompted, reference,
                                           128.0f, &largest));
  double largestOutput = 0;
  for (double r : reference)
    largestOutput = std::max(largestOutput, std::fabs(r));
  auto worst = [&](const std::vector<float> &got) {
    double w = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (!std::isfinite(got[i]))
        return std::numeric_limits<double>::infinity();
      w = std::max(w, std::fabs(got[i] - reference[i]));
    }
    return w / largestOutput;
  };
  double decodedError = worst(decoded), promptedError = worst(prompted);
  std::printf("largest logit %.3g; worst error over the largest output: "
              "steps %.2e, prompts %.2e\n",
              largest, decodedError, promptedError);
  EXPECT_GE(largest, 5e3) << "the logits should be large";
  EXPECT_LE(decodedError, 2e-3) << "steps";
  EXPECT_LE(promptedError, 2e-3) << "prompts";
}

/// Causal, 300 tokens, then prompts of 40, 100 and 160: with the MLIR
/// backend (chunks of 64 rows) the first is a chunk in the first context
/// (under a quarter of it for the whole model), the second runs the whole
/// model over the chunk's kept rows again, the third the whole model up to
/// the context and then 12 steps.
TEST_P(LongContextDecodeTest, MatchesReferencePastTheWrap) {
  std::vector<float> decoded, prompted;
  std::vector<double> reference;
  ASSERT_NO_FATAL_FAILURE(decodeThenPrompt("causal", 300, {40, 100, 160}, 5,
                                           decoded, prompted, reference));
  auto [l2, maxRel] = errors(decoded, reference);
  EXPECT_LE(l2, 1e-5) << "decode vs reference";
  EXPECT_LE(maxRel, 1e-4);
  auto [l2Prompt, maxPrompt] = errors(prompted, reference);
  EXPECT_LE(l2Prompt, 1e-5) << "prompts vs reference";
  EXPECT_LE(maxPrompt, 1e-4) << "prompts vs reference";
}

/// Under window(40): past the first context a step sees 40 of the 288
/// slots, which the MLIR backend's products read alone (two or three
/// blocks of 32 slots of each cache; the key cache's while they are at
/// most a quarter of the ring), unless they wrap past slot 0, and a
/// chunk's 64 tokens see 39 slots before them, which its products read
/// alone (two or three blocks of 32, around the ring) into a tile of three
/// blocks. 400 tokens take the ring once around and 112 steps more, then
/// go again as prompts of 100, 200 and 100, the last past the first
/// context: a chunk of 64 tokens and one of 36 on the MLIR backend.
TEST_P(LongContextDecodeTest, WindowMatchesReferencePastTheWrap) {
  std::vector<float> decoded, prompted;
  std::vector<double> reference;
  ASSERT_NO_FATAL_FAILURE(decodeThenPrompt("window(40)", 400,
                                           {100, 200, 100}, 6, decoded,
                                           prompted, reference));
  auto [l2, maxRel] = errors(decoded, reference);
  EXPECT_LE(l2, 1e-5) << "decode vs reference";
  EXPECT_LE(maxRel, 1e-4);
  const size_t pastContext = 300 * 256;
  auto [l2Last, maxLast] = errors(
      std::vector<float>(prompted.begin() + pastContext, prompted.end()),
      std::vector<double>(reference.begin() + pastContext, reference.end()));
  EXPECT_LE(l2Last, 1e-5) << "the prompt past the first context";
  EXPECT_LE(maxLast, 1e-4) << "the prompt past the first context";
  auto [l2Prompt, maxPrompt] = errors(prompted, reference);
  EXPECT_LE(l2Prompt, 1e-5) << "prompts vs reference";
  EXPECT_LE(maxPrompt, 1e-4) << "prompts vs reference";
}

ATTNC_INSTANTIATE_PER_BACKEND(LongContextDecodeTest);

/// Floats in pages of their own (mmap), whose pages can be made unreadable:
/// a step that reads there dies of SIGSEGV.
class GuardedFloats {
public:
  explicit GuardedFloats(size_t count) : bytes_(count * sizeof(float)) {
    void *p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<float *>(p);
  }
  ~GuardedFloats() {
    if (data_)
      munmap(data_, bytes_);
  }
  GuardedFloats(const GuardedFloats &) = delete;
  GuardedFloats &operator=(const GuardedFloats &) = delete;

  float *data() const { return data_; }
  /// Floats [first, first + count) unreadable (or readable again); both
  /// ends must fall on pages' ends.
  bool protect(size_t first, size_t count, bool readable) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t offset = first * sizeof(float), length = count * sizeof(float);
    if (offset % page != 0 || length % page != 0)
      return false;
    return mprotect(reinterpret_cast<char *>(data_) + offset, length,
                    readable ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
  }

private:
  size_t bytes_;
  float *data_ = nullptr;
};

/// The entry point of a step (count 1) or of a chunk, over argv arguments.
using CacheEntry = std::function<int(void **args, float **caches,
                                     int64_t position, int64_t count)>;

/// Calls `entry` over `rows` token rows at each (position, count) of
/// `calls` on caches of 4096 slots, 64 features and 2 heads of 32 whose
/// slots 1024-3071 are unreadable, and on plain copies of them: the
/// outputs and the caches after each call must be the same bit for bit. A
/// key-cache row (one feature of every slot, 16 KiB) is four pages of 1024
/// slots and a value head's block (4096 rows of 32 features) four pages'
/// worth per 1024 slots, so those slots can be made unreadable in both.
void expectSameOnGuardedCaches(
    const CompiledModel &compiled, const Graph &entryGraph,
    const CacheEntry &entry, int64_t rows,
    std::initializer_list<std::pair<int64_t, int64_t>> calls) {
  const int64_t slots = 4096, width = 64, headDim = 32, heads = 2;
  const size_t cacheFloats = slots * width;
  GuardedFloats keys(cacheFloats), values(cacheFloats);
  ASSERT_TRUE(keys.data() && values.data());
  std::vector<float> random = randomRows(slots, width, 17);
  std::vector<float> plainKeys = random, plainValues(random.rbegin(),
                                                     random.rend());
  // Slots [1024, 3072) of every key-cache row and of every value head.
  auto hide = [&](bool hidden) {
    for (int64_t feature = 0; feature < width; ++feature)
      if (!keys.protect(feature * slots + 1024, 2048, !hidden))
        return false;
    for (int64_t head = 0; head < heads; ++head)
      if (!values.protect((head * slots + 1024) * headDim, 2048 * headDim,
                          !hidden))
        return false;
    return true;
  };

  std::vector<std::vector<float>> full =
      makeRandomArguments(compiled.graph(), 8);
  std::vector<float> x = randomRows(rows, width, 19);
  std::vector<float> guardedOut(rows * width), plainOut(rows * width);
  for (auto [position, count] : calls) {
    SCOPED_TRACE("position " + std::to_string(position) + ", " +
                 std::to_string(count) + " tokens");
    std::copy(plainKeys.begin(), plainKeys.end(), keys.data());
    std::copy(plainValues.begin(), plainValues.end(), values.data());
    std::vector<float> stepKeys = plainKeys, stepValues = plainValues;
    std::vector<void *> guardedArgs =
        stepArguments(entryGraph, full, x.data(), guardedOut.data());
    std::vector<void *> plainArgs =
        stepArguments(entryGraph, full, x.data(), plainOut.data());
    float *guardedCaches[] = {keys.data(), values.data()};
    float *plainCaches[] = {stepKeys.data(), stepValues.data()};
    ASSERT_TRUE(hide(true)) << std::strerror(errno);
    int status = entry(guardedArgs.data(), guardedCaches, position, count);
    ASSERT_TRUE(hide(false)) << std::strerror(errno);
    ASSERT_EQ(status, 0);
    ASSERT_EQ(entry(plainArgs.data(), plainCaches, position, count), 0);
    guardedOut.resize(count * width);
    plainOut.resize(count * width);
    EXPECT_EQ(guardedOut, plainOut);
    guardedOut.resize(rows * width);
    plainOut.resize(rows * width);
    EXPECT_TRUE(std::equal(stepKeys.begin(), stepKeys.end(), keys.data()));
    EXPECT_TRUE(std::equal(stepValues.begin(), stepValues.end(), values.data()));
  }
}

/// Steps and chunks read no slot of the caches that their tokens do not
/// see: under window(64) on a ring of 4096 slots, calls whose tokens see
/// slots outside 1024-3071 (expectSameOnGuardedCaches) run, and give bit for
/// bit what they give on readable caches. Until each read only the slots
/// its tokens see, both backends' steps read every slot of the key cache.
class DecodeSlotsTest : public PerBackendTest {
protected:
  /// Compiles the model of the guarded-cache tests and opens its library.
  void openVisibleSlots() {
    const char *source = R"(model visible_slots {
  context = 4096
  decode
  input x : [context, 64]
  param w_qkv : [64, 192]
  q, k, v = split(linear(x, w_qkv), 3)
  y = attention(q, k, v, heads = 2, mask = window(64))
  output y
})";
    std::string error;
    compiled = CompiledModel::compile(source, error, {},
                                      /*attentionProbs=*/false, GetParam());
    ASSERT_TRUE(compiled) << error;
    library = dlopen(compiled->libraryPath().c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(library) << dlerror();
  }
  void TearDown() override {
    if (library)
      dlclose(library);
  }
  void *symbol(const std::string &name) { return dlsym(library, name.c_str()); }

  std::unique_ptr<CompiledModel> compiled;
  void *library = nullptr;
};

/// Steps in the first context, past it, and across the ring's wrap (slots
/// 4043-4095 and 0-10).
TEST_P(DecodeSlotsTest, StepReadsOnlyTheSlotsItSees) {
  ASSERT_NO_FATAL_FAILURE(openVisibleSlots());
  const Graph &step = *compiled->graph().decodeStep;
  auto rawStep =
      reinterpret_cast<attn_decode_fn>(symbol(step.name + "_argv"));
  ASSERT_TRUE(rawStep) << dlerror();
  expectSameOnGuardedCaches(
      *compiled, step,
      [&](void **args, float **caches, int64_t position, int64_t) {
        return rawStep(args, caches, position);
      },
      1, {{500, 1}, {1023, 1}, {4096 + 3500, 1}, {2 * 4096 + 10, 1}});
}

/// Chunks of 64 rows (whole, and a part) in the first context, past it,
/// and one whose tokens and the slots they see wrap the ring (it stores
/// slots 4070-4095 and 0-13, and reads 4007-4069).
TEST_P(DecodeSlotsTest, ChunkReadsOnlyTheSlotsItSees) {
  ASSERT_NO_FATAL_FAILURE(openVisibleSlots());
  const Graph &chunk = *compiled->graph().chunk;
  auto rawChunk =
      reinterpret_cast<attn_chunk_fn>(symbol(chunk.name + "_argv"));
  ASSERT_TRUE(rawChunk) << dlerror();
  expectSameOnGuardedCaches(*compiled, chunk, rawChunk, chunk.chunkRows,
                            {{500, 64}, {900, 30}, {4096 + 3437, 64},
                             {2 * 4096 + 4070, 40}});
}

/// Under a window much shorter than the ring, window(16) of 288 slots in
/// blocks of 32, the MLIR backend's step lays the visible blocks side by
/// side in a score tile of 64 columns instead of 288 and runs the softmax
/// over those, mapping each column back to its slot (ALiBi's distances are
/// its ages), with grouped-query heads. 700 steps take the ring twice
/// around and more, against the reference's decode step.
TEST_P(DecodeSlotsTest, NarrowWindowMatchesReference) {
  const char *source = R"(model narrow_window {
  context = 288
  decode
  input x : [context, 64]
  param w_q : [64, 64]
  param w_kv : [64, 32]
  param w_v : [64, 32]
  param slopes : [4]
  y = attention(linear(x, w_q), linear(x, w_kv), linear(x, w_v), heads = 4,
                kv_heads = 2, mask = window(16), alibi = slopes)
  output y
})";
  std::string error;
  auto compiled = CompiledModel::compile(
      source, error, {}, /*attentionProbs=*/false, GetParam());
  ASSERT_TRUE(compiled) << error;
  attn_decoder *decoder = nullptr;
  ASSERT_EQ(attn_decoder_open(compiled->model(), &decoder), ATTN_OK)
      << attn_last_error();
  std::vector<std::vector<float>> arguments =
      makeRandomArguments(compiled->graph(), 9);
  const int64_t tokens = 700, width = 64;
  std::vector<float> x = randomRows(tokens, width, 21);
  std::vector<float> decoded(tokens * width);
  std::vector<double> reference(tokens * width);
  ASSERT_NO_FATAL_FAILURE(decodeAgainstReference(
      decoder, *compiled->graph().decodeStep, arguments, x, decoded,
      reference));
  attn_decoder_free(decoder);
  auto [l2, maxRel] = errors(decoded, reference);
  EXPECT_LE(l2, 1e-5);
  EXPECT_LE(maxRel, 1e-4);
}

ATTNC_INSTANTIATE_PER_BACKEND(DecodeSlotsTest);

TEST(DecodeErrorsTest, CreateChecksItsArguments) {
  attn_decoder *decoder = nullptr;
  EXPECT_EQ(attn_decoder_create(nullptr, nullptr, &decoder),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: info, step and out must not be null");
  // A step built for another kernel ABI.
  int64_t widths[] = {8};
  attn_decode_info future{99, 0, "future", 4, nullptr, 1, 0, widths};
  auto step = [](void **, float **, int64_t) { return 0; };
  EXPECT_EQ(attn_decoder_create(&future, step, &decoder),
            ATTN_ERROR_ABI_MISMATCH);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: the decode step of 'future' has kernel "
               "ABI version 99; this runtime reads version 2");
  EXPECT_EQ(decoder, nullptr);
  // Tables no compiled model has: each is refused before any cache is sized
  // from it.
  int64_t zeroWidth[] = {0};
  attn_decode_info narrow{ATTN_KERNEL_ABI_VERSION, 0, "narrow", 4, nullptr,
                          1,                       0, zeroWidth};
  EXPECT_EQ(attn_decoder_create(&narrow, step, &decoder),
            ATTN_ERROR_INVALID_METADATA);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: the decode step of 'narrow': layer 0 has "
               "cache width 0; widths go from 1 and all caches must stay "
               "under 2^62 bytes");
  int64_t hugeWidth[] = {int64_t(1) << 60};
  attn_decode_info huge{ATTN_KERNEL_ABI_VERSION, 0, "huge", 1024, nullptr,
                        1,                       0, hugeWidth};
  EXPECT_EQ(attn_decoder_create(&huge, step, &decoder),
            ATTN_ERROR_INVALID_METADATA);
  attn_decode_info noWidths{ATTN_KERNEL_ABI_VERSION, 0, "none", 4, nullptr,
                            2,                       0, nullptr};
  EXPECT_EQ(attn_decoder_create(&noWidths, step, &decoder),
            ATTN_ERROR_INVALID_METADATA);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: the decode step of 'none' declares 2 "
               "layers but no cache widths; the runtime accepts 0 to 4096");
  attn_decode_info longChunks{ATTN_KERNEL_ABI_VERSION, 0, "long", 8, nullptr,
                              1,                       9, widths};
  EXPECT_EQ(attn_decoder_create(&longChunks, step, &decoder),
            ATTN_ERROR_INVALID_METADATA);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: the decode step of 'long' declares "
               "chunks of 9 rows; 0 (none) to its context of 8");
  attn_decode_info pastContext{ATTN_KERNEL_ABI_VERSION, 0, "past", 8, nullptr,
                               1, 0, widths, 10};
  EXPECT_EQ(attn_decoder_create(&pastContext, step, &decoder),
            ATTN_ERROR_INVALID_METADATA);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_create: the decode step of 'past' sends prompts "
               "of 10 tokens on through its whole model; 0 (a quarter of the "
               "context) to 9 (never)");
  EXPECT_EQ(decoder, nullptr);
}

// Which path attn_decoder_prefill takes, seen through stand-ins for a
// step and a prefill over (x, param w, y): the step writes y = x + 100 *
// position, the prefill y = 10 * x over every row, and each records what it
// was given.
struct StandIns {
  static inline int stepCalls, prefillCalls, prefillStatus;
  static inline std::vector<float> prefillSaw;
  static int step(void **args, float **, int64_t position) {
    ++stepCalls;
    const float *x = static_cast<const float *>(args[0]);
    float *y = static_cast<float *>(args[2]);
    for (int i = 0; i < 2; ++i)
      y[i] = x[i] + 100.0f * position;
    return 0;
  }
  static int prefill(void **args, float **) {
    ++prefillCalls;
    const float *x = static_cast<const float *>(args[0]);
    float *y = static_cast<float *>(args[2]);
    prefillSaw.assign(x, x + 16);
    for (int i = 0; i < 16; ++i)
      y[i] = 10.0f * x[i];
    return prefillStatus;
  }
  static void reset() { stepCalls = prefillCalls = prefillStatus = 0; }
};

/// Two-float token rows, context 8, a param the stand-ins ignore.
struct StandInDecoder {
  static constexpr int64_t row[] = {1, 2};
  static constexpr int64_t widths[] = {2};
  static constexpr int64_t wShape[] = {2};
  static constexpr attn_arg_info args[] = {
      {"x", ATTN_ARG_INPUT, ATTN_DTYPE_F32, 2, ATTN_ARG_FLAG_PER_TOKEN, row},
      {"w", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 1, 0, wShape},
      {"y", ATTN_ARG_OUTPUT, ATTN_DTYPE_F32, 2, ATTN_ARG_FLAG_PER_TOKEN, row}};
  attn_decode_info info{ATTN_KERNEL_ABI_VERSION, 3, "standin", 8, args, 1, 0,
                        widths};
  attn_decoder *d = nullptr;
  std::vector<float> x, y, w{0, 0}, otherW{0, 0};
  StandInDecoder() : x(24), y(24) {
    for (int i = 0; i < 24; ++i)
      x[i] = float(i + 1);
  }
  ~StandInDecoder() { attn_decoder_free(d); }
  /// Feeds rows `from` to `from + tokens - 1` of x, into the same rows of y
  /// (the rest of y -1).
  attn_status prefill(int64_t from, int64_t tokens, float *param = nullptr) {
    std::fill(y.begin(), y.end(), -1.0f);
    void *a[] = {x.data() + 2 * from, param ? param : w.data(),
                 y.data() + 2 * from};
    return attn_decoder_prefill(d, a, 3, tokens);
  }
};

TEST(DecoderPrefillTest, WholePromptsRunOnceThroughThePrefill) {
  StandInDecoder s;
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK)
      << attn_last_error();
  EXPECT_EQ(attn_decoder_set_prefill(s.d, nullptr),
            ATTN_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(attn_decoder_set_prefill(s.d, StandIns::prefill), ATTN_OK);
  const std::vector<float> &x = s.x, &y = s.y;

  // 5 of 8 tokens: one call over rows padded with zeros; 5 rows back.
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 5), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);
  EXPECT_EQ(StandIns::stepCalls, 0);
  EXPECT_EQ(attn_decoder_position(s.d), 5);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(StandIns::prefillSaw[i], i < 10 ? x[i] : 0.0f) << i;
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(y[i], i < 10 ? 10.0f * x[i] : -1.0f) << i;

  // 12 tokens: the first 8 in one call, then 4 steps at positions 8-11.
  attn_decoder_reset(s.d);
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 12), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);
  EXPECT_EQ(StandIns::stepCalls, 4);
  EXPECT_EQ(attn_decoder_position(s.d), 12);
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], i < 16 ? 10.0f * x[i] : x[i] + 100.0f * (i / 2)) << i;
}

TEST(DecoderPrefillTest, LaterPromptsRunTheEarlierTokensAgain) {
  StandInDecoder s;
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK)
      << attn_last_error();
  ASSERT_EQ(attn_decoder_set_prefill(s.d, StandIns::prefill), ATTN_OK);
  const std::vector<float> &x = s.x, &y = s.y;

  // A step, then 4 tokens through the whole model behind the first row
  // again (rows 1-4 of x at positions 1-4); the call's other rows zero,
  // whatever an earlier call left there; rows 1-4 of its outputs back.
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 6), ATTN_OK);
  attn_decoder_reset(s.d);
  ASSERT_EQ(s.prefill(0, 1), ATTN_OK);
  ASSERT_EQ(s.prefill(1, 4), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::stepCalls, 1);
  EXPECT_EQ(StandIns::prefillCalls, 2);
  EXPECT_EQ(attn_decoder_position(s.d), 5);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(StandIns::prefillSaw[i], i < 10 ? x[i] : 0.0f) << i;
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], i >= 2 && i < 10 ? 10.0f * x[i] : -1.0f) << i;

  // A step at position 5; then, at position 6, 3 tokens: 2 fit in the
  // first context (a quarter of it) and run with the 6 before them; the
  // third is a step at position 8.
  StandIns::reset();
  ASSERT_EQ(s.prefill(5, 1), ATTN_OK);
  ASSERT_EQ(s.prefill(6, 3), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);
  EXPECT_EQ(StandIns::stepCalls, 2);
  EXPECT_EQ(attn_decoder_position(s.d), 9);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(StandIns::prefillSaw[i], x[i]) << i;
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], i < 12   ? -1.0f
                    : i < 16 ? 10.0f * x[i]
                    : i < 18 ? x[i] + 100.0f * 8
                             : -1.0f)
        << i;

  // Past the first context every token is a step.
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 8), ATTN_OK);
  EXPECT_EQ(StandIns::prefillCalls, 0);
  EXPECT_EQ(StandIns::stepCalls, 8);
}

TEST(DecoderPrefillTest, StepsWhenTheEarlierTokensCannotRunAgain) {
  StandInDecoder s;
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK)
      << attn_last_error();
  StandIns::reset();
  // Tokens fed before the prefill was set were not kept; a reset starts
  // over.
  ASSERT_EQ(s.prefill(0, 1), ATTN_OK);
  ASSERT_EQ(attn_decoder_set_prefill(s.d, StandIns::prefill), ATTN_OK);
  ASSERT_EQ(s.prefill(1, 5), ATTN_OK);
  EXPECT_EQ(StandIns::prefillCalls, 0);
  attn_decoder_reset(s.d);
  ASSERT_EQ(s.prefill(0, 1), ATTN_OK);
  ASSERT_EQ(s.prefill(1, 5), ATTN_OK);
  EXPECT_EQ(StandIns::prefillCalls, 1);

  // A param other than the earlier tokens': their keys and values would
  // change; so for every later prompt until a reset, even with the first
  // param back.
  attn_decoder_reset(s.d);
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 1), ATTN_OK);
  ASSERT_EQ(s.prefill(1, 2, s.otherW.data()), ATTN_OK);
  ASSERT_EQ(s.prefill(3, 4), ATTN_OK);
  EXPECT_EQ(StandIns::prefillCalls, 0);
  EXPECT_EQ(StandIns::stepCalls, 7);

  // Under a quarter of the context; ATTNC_PREFILL=steps.
  attn_decoder_reset(s.d);
  StandIns::reset();
  ASSERT_EQ(s.prefill(0, 1), ATTN_OK);
  ASSERT_EQ(s.prefill(1, 1), ATTN_OK);
  {
    StepsOnly stepsOnly;
    ASSERT_EQ(s.prefill(2, 4), ATTN_OK);
    attn_decoder_reset(s.d);
    ASSERT_EQ(s.prefill(0, 8), ATTN_OK);
  }
  EXPECT_EQ(StandIns::prefillCalls, 0);
  EXPECT_EQ(StandIns::stepCalls, 1 + 1 + 4 + 8);

  // A failing prefill is named and feeds nothing.
  attn_decoder_reset(s.d);
  StandIns::reset();
  StandIns::prefillStatus = 3;
  EXPECT_EQ(s.prefill(0, 6), ATTN_ERROR_KERNEL_FAILED);
  EXPECT_STREQ(attn_last_error(),
               "the prefill of 'standin' (6 tokens) returned 3");
  EXPECT_EQ(attn_decoder_position(s.d), 0);
}

/// A stand-in chunk over the same rows: y = x + 1000 * (its position), for
/// the rows below `count`; it records what it was given.
struct StandInChunk {
  static inline int calls, status;
  static inline std::vector<int64_t> positions, counts;
  static inline std::vector<float> saw; // the last call's x rows
  static int chunk(void **args, float **, int64_t position, int64_t count) {
    ++calls;
    positions.push_back(position);
    counts.push_back(count);
    const float *x = static_cast<const float *>(args[0]);
    float *y = static_cast<float *>(args[2]);
    saw.assign(x, x + 8); // 4 rows of 2
    for (int64_t r = 0; r < count; ++r)
      for (int i = 0; i < 2; ++i)
        y[2 * r + i] = x[2 * r + i] + 1000.0f * float(position + r);
    return status;
  }
  static void reset() {
    calls = status = 0;
    positions.clear();
    counts.clear();
  }
};

/// Opens `s`'s decoder over the stand-in step and prefill, chunks of
/// `chunkRows`, `prefillFrom` in its info and, if `chunked`, the stand-in
/// chunk set.
void openStandIn(StandInDecoder &s, int32_t chunkRows, int64_t prefillFrom,
                 bool chunked) {
  s.info.chunk_rows = chunkRows;
  s.info.prefill_from = prefillFrom;
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK)
      << attn_last_error();
  ASSERT_EQ(attn_decoder_set_prefill(s.d, StandIns::prefill), ATTN_OK);
  if (chunked) {
    ASSERT_EQ(attn_decoder_set_chunk(s.d, StandInChunk::chunk), ATTN_OK);
  }
}

TEST(DecoderPrefillTest, ChunksTakeWhatTheWholeModelCannot) {
  StandInDecoder s;
  // A step whose info says it has no chunk refuses one.
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK);
  EXPECT_EQ(attn_decoder_set_chunk(s.d, StandInChunk::chunk),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_set_chunk: the decode step of 'standin' has no "
               "chunk (its info's chunk_rows is 0)");
  attn_decoder_free(s.d);
  s.d = nullptr;
  s.info.chunk_rows = 4;
  ASSERT_EQ(attn_decoder_create(&s.info, StandIns::step, &s.d), ATTN_OK);
  EXPECT_EQ(attn_decoder_set_chunk(s.d, nullptr), ATTN_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(attn_decoder_set_chunk(s.d, StandInChunk::chunk), ATTN_OK);
  const std::vector<float> &x = s.x, &y = s.y;

  // Without a prefill, 11 tokens from position 0: chunks of 4, 4 and 3
  // (3 of 4 rows: the call's fourth row is zero, its output not copied).
  // (Chunks in the first context take what a whole-model call cannot.)
  StandIns::reset();
  StandInChunk::reset();
  ASSERT_EQ(s.prefill(0, 11), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::stepCalls, 0);
  EXPECT_EQ(StandInChunk::positions, (std::vector<int64_t>{0, 4, 8}));
  EXPECT_EQ(StandInChunk::counts, (std::vector<int64_t>{4, 4, 3}));
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(StandInChunk::saw[i], i < 6 ? x[16 + i] : 0.0f) << i;
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], i < 22 ? x[i] + 1000.0f * (i / 2) : -1.0f) << i;
  EXPECT_EQ(attn_decoder_position(s.d), 11);

  // With a prefill, a prompt of 10 from position 0: 8 through the whole
  // model, the 2 past the first context in a chunk (half its 4 rows or
  // more); then 1 token, a step.
  attn_decoder_reset(s.d);
  ASSERT_EQ(attn_decoder_set_prefill(s.d, StandIns::prefill), ATTN_OK);
  StandIns::reset();
  StandInChunk::reset();
  ASSERT_EQ(s.prefill(0, 10), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);
  EXPECT_EQ(StandInChunk::positions, (std::vector<int64_t>{8}));
  EXPECT_EQ(StandInChunk::counts, (std::vector<int64_t>{2}));
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[i], i < 16   ? 10.0f * x[i]
                    : i < 20 ? x[i] + 1000.0f * (i / 2)
                             : -1.0f)
        << i;
  ASSERT_EQ(s.prefill(10, 1), ATTN_OK);
  EXPECT_EQ(StandInChunk::counts, (std::vector<int64_t>{2}));
  EXPECT_EQ(StandIns::stepCalls, 1);

  // ATTNC_PREFILL=steps: steps only.
  {
    StepsOnly stepsOnly;
    StandInChunk::reset();
    ASSERT_EQ(s.prefill(9, 2), ATTN_OK);
    EXPECT_EQ(StandInChunk::calls, 0);
    EXPECT_EQ(StandIns::stepCalls, 3);
  }

  // A failing chunk is named with its position and tokens; the position
  // stays where it was.
  StandInChunk::reset();
  StandInChunk::status = 3;
  EXPECT_EQ(s.prefill(0, 4), ATTN_ERROR_KERNEL_FAILED);
  EXPECT_NE(std::strstr(attn_last_error(),
                        "the chunk of 'standin' at position 13 (4 tokens)"),
            nullptr)
      << attn_last_error();
  EXPECT_EQ(attn_decoder_position(s.d), 13);
  StandInChunk::status = 0;
}

TEST(DecoderPrefillTest, PrefillFromSetsTheShortestWholePrompt) {
  // With a chunk, the info's prefill_from (attnc's count of both paths'
  // products) in place of a quarter of the context.
  StandInDecoder s;
  ASSERT_NO_FATAL_FAILURE(openStandIn(s, 4, 6, /*chunked=*/true));
  // 5 tokens: a chunk of 4, then a step.
  StandIns::reset();
  StandInChunk::reset();
  ASSERT_EQ(s.prefill(0, 5), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 0);
  EXPECT_EQ(StandInChunk::positions, (std::vector<int64_t>{0}));
  EXPECT_EQ(StandIns::stepCalls, 1);
  // 6 tokens: the whole model.
  attn_decoder_reset(s.d);
  StandIns::reset();
  StandInChunk::reset();
  ASSERT_EQ(s.prefill(0, 6), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);
  EXPECT_TRUE(StandInChunk::positions.empty());
  EXPECT_EQ(StandIns::stepCalls, 0);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(s.y[i], 10.0f * s.x[i]) << i;

  // Without the chunk a prompt of a quarter of the context (2 tokens)
  // takes the whole model: prefill_from counted on the chunk.
  StandInDecoder unchunked;
  ASSERT_NO_FATAL_FAILURE(openStandIn(unchunked, 4, 6, /*chunked=*/false));
  StandIns::reset();
  ASSERT_EQ(unchunked.prefill(0, 2), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 1);

  // context + 1: never, not even for the whole first context.
  StandInDecoder never;
  ASSERT_NO_FATAL_FAILURE(openStandIn(never, 4, 9, /*chunked=*/true));
  StandIns::reset();
  StandInChunk::reset();
  ASSERT_EQ(never.prefill(0, 8), ATTN_OK) << attn_last_error();
  EXPECT_EQ(StandIns::prefillCalls, 0);
  EXPECT_EQ(StandInChunk::positions, (std::vector<int64_t>{0, 4}));
}

TEST(DecodeErrorsTest, EachFailureIsNamed) {
  std::string error;
  auto plain = CompiledModel::compile(R"(model plain {
  context = 4
  input x : [context, 8]
  y = attention(x, x, x, heads = 2, mask = causal)
  output y
})",
                                      error);
  ASSERT_TRUE(plain) << error;
  attn_decoder *decoder = nullptr;
  EXPECT_EQ(attn_decoder_open(plain->model(), &decoder), ATTN_ERROR_NOT_FOUND);
  EXPECT_EQ(decoder, nullptr);
  EXPECT_STREQ(attn_last_error(),
               "model 'plain' has no decode step; add `decode` to the model to "
               "compile plain_decode");

  auto model = CompiledModel::compile(kCases[0].source, error);
  ASSERT_TRUE(model) << error;
  ASSERT_EQ(attn_decoder_open(model->model(), &decoder), ATTN_OK);
  std::vector<float> buffer(32 * 96);
  std::vector<void *> args(5, buffer.data());
  EXPECT_EQ(attn_decoder_step(decoder, args.data(), 4),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "attn_decoder_step: the decode step of "
                                  "'causal_block' takes 5 arguments, got 4");
  args[2] = nullptr;
  EXPECT_EQ(attn_decoder_step(decoder, args.data(), 5),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "attn_decoder_step: argument 'b_qkv' (#2) of "
                                  "the decode step of 'causal_block' is null");
  args[2] = buffer.data();
  EXPECT_EQ(attn_decoder_prefill(decoder, args.data(), 5, 0),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_prefill: tokens must be at least 1, got 0");
  // The output over the token input; and, in a prefill of 3 tokens, over
  // the third row of a token input sized for one.
  std::vector<float> x(32 * 3), y(32 * 3), wqkv(32 * 96), bqkv(96), wo(32 * 32);
  void *overlapping[] = {x.data(), wqkv.data(), bqkv.data(), wo.data(),
                         x.data()};
  EXPECT_EQ(attn_decoder_step(decoder, overlapping, 5),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_decoder_step: output 'y' (#4) of the decode step of "
               "'causal_block' overlaps argument 'x' (#0); outputs need "
               "buffers of their own");
  void *prefill[] = {x.data(), wqkv.data(), bqkv.data(), wo.data(),
                     x.data() + 64};
  EXPECT_EQ(attn_decoder_prefill(decoder, prefill, 5, 3),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attn_last_error()).find("output 'y' (#4)"),
            std::string::npos)
      << attn_last_error();
  void *fine[] = {x.data(), wqkv.data(), bqkv.data(), wo.data(), y.data()};
  EXPECT_EQ(attn_decoder_prefill(decoder, fine, 5, 3), ATTN_OK)
      << attn_last_error();
  EXPECT_EQ(attn_decoder_position(decoder), 3) << "failed calls feed nothing";
  attn_decoder_free(decoder);
}

} // namespace
