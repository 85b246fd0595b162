//===- ContractionInit.h - ops a micro-kernel folds into its start -*- C++ -*-===//
//
// attn-contraction-microkernel starts a product's register blocks from C's
// contents; when C was just filled (linalg.fill) or had each row scaled
// (flash attention's accumulator, rescaled by exp(old max - new max)), it
// starts them from that value instead and the op goes. attn-vectorize
// leaves those ops alone when a contraction is their only reader.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_CONTRACTIONINIT_H
#define ATTNC_TRANSFORMS_CONTRACTIONINIT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace attnc {

/// out[i, j] = in[i] * out[i, j] (or out * in): a linalg.generic scaling
/// each row of its init by one element of its input.
bool isRowScaling(mlir::linalg::LinalgOp op);

} // namespace attnc

#endif // ATTNC_TRANSFORMS_CONTRACTIONINIT_H
