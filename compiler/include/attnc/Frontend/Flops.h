//===- Flops.h - the arithmetic a model's products do -----------*- C++ -*-===//
//
// Only matrix products are counted (linear, matmul and attention's two
// products), at 2 flops per multiply-add: norms, softmax and elementwise work
// grow with tokens x features, not with a product's inner dimension, and are
// left out. attn-run reports GFLOP/s over every query-key pair whatever the
// mask, as attn-bench counts its dense GFLOPs; the decoder's choice between
// the whole model and chunks (PromptCost.h) counts the pairs the kernels
// compute.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_FLOPS_H
#define ATTNC_FRONTEND_FLOPS_H

#include "attnc/Frontend/Graph.h"

#include <cstdint>

namespace attnc {

/// Which of attention's query-key pairs count.
enum class PairCount {
  /// Every pair, whatever the mask.
  Dense,
  /// The pairs the kernels compute: in a whole model those the mask leaves
  /// visible (flash attention skips masked tiles); in a decode step or
  /// chunk, the cache slots that hold tokens and the chunk's tokens.
  Computed,
};

/// Flops of one run of `graph`'s matrix products; `filledSlots`: with
/// PairCount::Computed, the cache slots a decode step or chunk finds
/// filled (at most the context).
double productFlops(const Graph &graph, PairCount pairs = PairCount::Dense,
                    int64_t filledSlots = INT64_MAX);

} // namespace attnc

#endif // ATTNC_FRONTEND_FLOPS_H
