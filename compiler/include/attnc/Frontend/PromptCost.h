//===- PromptCost.h - which path a decoder's prompt takes -------*- C++ -*-===//
//
// A prompt in a model's first context can go through NAME_prefill (the whole
// model over `context` rows, one call whatever the prompt's length) or
// through NAME_chunk (64 tokens per call, each attending over the cache
// slots filled before it) and steps. Which is cheaper depends on the model:
// the GPT-2 block at 1024 tokens takes 12 chunks from position 0 to cost its
// whole-model call, a sliding-window block at 256 tokens, whose whole-model
// attention skips all but 32 keys per query, 2. The compiler counts both
// and tells the decoder from how many tokens on the whole model is cheaper
// (attn_decode_info's prefill_from).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_PROMPTCOST_H
#define ATTNC_FRONTEND_PROMPTCOST_H

#include "attnc/Frontend/Graph.h"

namespace attnc {

/// The fewest tokens of a prompt in the first context that the decoder
/// sends through the prefill of `model` (a checked model with `decode`),
/// as attn_decode_info's prefill_from: with a chunk, the first length of a
/// prompt from position 0 for which chunks and steps would cost more than
/// one whole-model call (context + 1 if none does); without one, a quarter
/// of the context, where steps and the whole model measured about even.
int64_t prefillFromTokens(const Graph &model);

} // namespace attnc

#endif // ATTNC_FRONTEND_PROMPTCOST_H
