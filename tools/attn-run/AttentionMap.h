//===- AttentionMap.h - draw softmax weights as a heatmap -------*- C++ -*-===//
//
// attn-run --attention-map writes the weights one attention call returned
// (attnc --emit-attention-probs) as a picture a person can read: one panel
// per head, key index across, query index down, darker for more weight, with
// token indices on both axes. The .csv form lists every weight for tools.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TOOLS_ATTN_RUN_ATTENTIONMAP_H
#define ATTNC_TOOLS_ATTN_RUN_ATTENTIONMAP_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace attnc {

/// Softmax weights of one attention call, [heads, queries, keys], row-major.
struct AttentionWeights {
  const float *data;
  int64_t heads, queries, keys;
};

/// Writes a PNG heatmap: heads side by side (four to a row), each panel
/// scaled to its own largest weight, which its title gives.
llvm::Error writeAttentionMapPng(const AttentionWeights &weights,
                                 llvm::StringRef path);

/// Writes `head,query,key,weight`, one line per weight, with that header.
llvm::Error writeAttentionMapCsv(const AttentionWeights &weights,
                                 llvm::StringRef path);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTN_RUN_ATTENTIONMAP_H
