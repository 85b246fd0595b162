//===- PromptCost.cpp - which path a decoder's prompt takes ---------------===//

#include "attnc/Frontend/PromptCost.h"

#include "attnc/Frontend/DecodeStep.h"
#include "attnc/Frontend/Flops.h"

using namespace attnc;

namespace {

/// How much more a chunk's flop costs than the whole model's: the chunk's
/// products are 64 rows deep and its attention is materialized over the
/// filled cache slots. The GPT-2 block at 1024 tokens, one thread: a chunk
/// over a full cache 7.0 ms for 0.52 GFLOP, the whole model 64 ms for 6.44
/// (4 chunks from position 0, 1.33 GFLOP, took 19.3 ms).
constexpr double kChunkFlopCost = 1.36;

} // namespace

int64_t attnc::prefillFromTokens(const Graph &model) {
  const int64_t context = model.context;
  if (!model.chunk || !model.prefill)
    return (context + 3) / 4;
  const int64_t rows = model.chunk->chunkRows;
  const double whole = productFlops(*model.prefill, PairCount::Computed);
  // A chunk at position p attends over the p slots filled before it.
  auto chunkAt = [&](int64_t position) {
    return kChunkFlopCost *
           productFlops(*model.chunk, PairCount::Computed, position);
  };
  // The decoder's path for n tokens from position 0 without the whole
  // model: a chunk per `rows` tokens while at least half of them are left,
  // then steps, each about 2 / rows of a chunk (a chunk measured as much as
  // 24-40 steps). `before`: the chunks of the tokens before `start`.
  double before = 0;
  for (int64_t start = 0; start < context; start += rows) {
    double chunk = chunkAt(start);
    for (int64_t rest = 1; rest <= rows && start + rest <= context; ++rest) {
      double tail =
          2 * rest >= rows ? chunk : double(rest) * 2.0 / double(rows) * chunk;
      if (before + tail > whole)
        return start + rest;
    }
    before += chunk;
  }
  return context + 1;
}
