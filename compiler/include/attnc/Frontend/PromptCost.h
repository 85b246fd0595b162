//===- PromptCost.h - which path a decoder's prompt takes -------*- C++ -*-===//
//
// A prompt in a model's first context can go through NAME_prefill (the whole
// model over `context` rows, one call whatever the prompt's length) or
// through NAME_chunk (64 tokens per call, each attending over every cache
// slot) and steps. Which is cheaper depends on the model: the GPT-2 block at
// 1024 tokens takes 10 chunks to cost its whole-model call, a sliding-
// window block at 256 tokens, whose whole-model attention skips all but 32
// keys per query, under 2. The compiler counts both and tells the decoder
// from how many tokens on the whole model is cheaper (attn_decode_info's
// prefill_from).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_PROMPTCOST_H
#define ATTNC_FRONTEND_PROMPTCOST_H

#include "attnc/Frontend/Graph.h"

namespace attnc {

/// The floating-point operations of `graph`'s products, a multiply-add
/// counting 2: linears and matmuls, and attention's two products over the
/// query-key pairs it computes (those its mask leaves visible in a whole
/// model, every cache slot and chunk token in a decode step or chunk).
/// Elementwise work, norms and the softmax are left out.
double productFlops(const Graph &graph);

/// The fewest tokens of a prompt in the first context that the decoder
/// sends through the prefill of `model` (a checked model with `decode`),
/// as attn_decode_info's prefill_from: with a chunk, the first prompt
/// length for which chunks and steps would cost more than one whole-model
/// call (context + 1 if none does); without one, a quarter of the context,
/// where steps and the whole model measured about even.
int64_t prefillFromTokens(const Graph &model);

} // namespace attnc

#endif // ATTNC_FRONTEND_PROMPTCOST_H
