//===- Flops.h - the arithmetic a model's products do -----------*- C++ -*-===//
//
// attn-run reports GFLOP/s. Only matrix products are counted (linear, matmul
// and attention's two products), at 2 flops per multiply-add and with every
// query-key pair counted whatever the mask, as attn-bench counts its dense
// GFLOPs: norms, softmax and elementwise work grow with tokens x features,
// not with a product's inner dimension, and are left out.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TOOLS_ATTN_RUN_FLOPS_H
#define ATTNC_TOOLS_ATTN_RUN_FLOPS_H

#include "attnc/Frontend/Graph.h"

namespace attnc {

/// Flops of one run of `graph`'s matrix products.
double countProductFlops(const Graph &graph);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTN_RUN_FLOPS_H
