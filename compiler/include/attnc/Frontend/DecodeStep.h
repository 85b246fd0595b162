//===- DecodeStep.h - a model run one token at a time -----------*- C++ -*-===//
//
// A model with `decode` also compiles NAME_decode: one new token in, that
// token's outputs out, with every attention reading the keys and values of
// earlier tokens from a KV cache of `context` rows instead of recomputing
// them. Each call stores the new token's keys and values at row
// position % context of its cache (a ring: once full, the oldest token
// leaves) and attends over the cached tokens its mask lets it see: the last
// `context` tokens for `causal`, the last N for `window(N)`. Fed the tokens
// of a sequence one by one, it gives the full model's outputs for the first
// `context` tokens, and continues with a sliding window after that.
//
// Every operation but attention works on each token alone, so the step is
// the model's graph with one row per token value. What cannot be decoded that
// way is an error here, at its source line: `mask = none` (a token would see
// later tokens), an additive mask tensor, attention written out by hand
// (matmul/softmax over tokens), and params indexed by position.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_DECODESTEP_H
#define ATTNC_FRONTEND_DECODESTEP_H

#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Graph.h"

#include <optional>

namespace attnc {

/// The decode step of `model` (a checked graph), named NAME_decode; errors
/// are reported through `diag`, with `decodeLoc` (the `decode` item) for
/// those without an operation of their own.
std::optional<Graph> buildDecodeStep(const Graph &model,
                                     DiagnosticReporter &diag,
                                     llvm::SMLoc decodeLoc);

/// NAME_prefill, for a decoder fed a prompt from position 0: `model` with,
/// for each attention layer in program order, two more outputs written into
/// the caches of `step` (cacheIndex): its keys transposed ([width,
/// context], a column per token) and its values by key/value head
/// ([kv_heads, context, head_dim]). With the masks a decode step allows, a
/// token's outputs, keys and values depend on no later token, so a prompt of
/// n < context tokens is the first n rows of a call on any padding.
Graph buildPrefill(const Graph &model, const Graph &step);

/// NAME_chunk: the decode step over chunkRowsFor(context) tokens at once,
/// for a prompt the prefill cannot take (past the first context, or too
/// short for a whole-context call): its linears then read each weight once
/// per chunk instead of once per token. It takes the step's arguments with
/// that many rows in each token input and output, and after the position a
/// count: the rows from there on are not tokens (their outputs mean
/// nothing, their keys and values are neither seen nor stored). Sets
/// `step.chunkRows`, which NAME_decode_info reports.
Graph buildChunk(const Graph &model, Graph &step, DiagnosticReporter &diag,
                 llvm::SMLoc decodeLoc);

/// The most rows of a chunk, and those of a model's: 64, or the context if
/// shorter. 64 rows make each weight's read a 64th of a step's per token
/// (on the GPT-2 block a 64-token chunk costs 1.6 times those tokens' share
/// of a whole-context prefill, and a 24th of a step per token with the
/// weights in cache), while a partly filled chunk still costs its 64 rows.
constexpr int64_t kMaxChunkRows = 64;
int64_t chunkRowsFor(int64_t context);

} // namespace attnc

#endif // ATTNC_FRONTEND_DECODESTEP_H
