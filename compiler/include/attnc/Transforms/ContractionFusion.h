//===- ContractionFusion.h - ops a micro-kernel takes in -------*- C++ -*-===//
//
// attn-contraction-microkernel holds each register block of a product C +=
// A B from its first multiply-add to its store. Ops next to the product
// that touch every element of C once are done on that block instead of in
// a pass of their own over C:
//
//   before the product: a fill of C (linalg.fill), a scaling of each row of
//     C (flash attention's rescaled accumulator), or a vector copied into
//     every row of C (a linear's bias): the block starts at that value;
//   after the product: an elementwise linalg.generic reading C (a linear's
//     activation, a residual sum): its body is applied to the block, which
//     is stored into the generic's output instead of into C.
//
// attn-vectorize, which runs before bufferization, leaves those ops to the
// micro-kernel, so both passes recognize them with the functions below.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_CONTRACTIONFUSION_H
#define ATTNC_TRANSFORMS_CONTRACTIONFUSION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace attnc {

/// Whether vectors can be loaded from or stored to v's rows: a tensor's
/// always (its layout is decided later, and the micro-kernel checks it
/// again on buffers), a buffer's when its innermost stride is 1.
bool hasContiguousRows(mlir::Value v);

/// out[i, j] = in[i] * out[i, j] (or out * in): a linalg.generic scaling
/// each row of its init by one element of its input.
bool isRowScaling(mlir::linalg::LinalgOp op);

/// out[i, j] = in[j]: a linalg.broadcast of a vector into every row of a
/// matrix of f32 (a linear's bias).
bool isRowBroadcast(mlir::linalg::LinalgOp op);

/// Whether attn-contraction-microkernel makes `op` a micro-kernel, as far as
/// its types tell: on tensors, before the layout of buffers is known, this
/// may hold for a product whose buffers later turn out strided.
bool becomesMicrokernel(mlir::linalg::LinalgOp op);

/// Whether `generic` can run on the register blocks of the product whose
/// result (a tensor) or output buffer is `product`: two parallel loops; an
/// f32 output written in loop order; `product` read in loop order; every
/// other input read in loop order, along the rows' columns ((i, j) -> (j)),
/// one per row ((i, j) -> (i)) or as one element; a body of elementwise
/// arith and math ops. Buffers read by vectors need unit inner strides.
bool isProductEpilogue(mlir::linalg::GenericOp generic, mlir::Value product);

/// Emits `epilogue`'s body on one register block `acc` (`width` lanes) of
/// its product `product`, at row `row` and columns `col` .. `col + width`,
/// and stores the result into the epilogue's output. Math ops it emits on
/// vectors are appended to `mathOps` (for their polynomial approximations).
void emitProductEpilogue(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::linalg::GenericOp epilogue, mlir::Value product,
                         mlir::Value acc, mlir::Value row, mlir::Value col,
                         llvm::SmallVectorImpl<mlir::Operation *> &mathOps);

} // namespace attnc

#endif // ATTNC_TRANSFORMS_CONTRACTIONFUSION_H
