//===- NonPositiveExp.h - exp and 2^x of softmax arguments ------*- C++ -*-===//
//
// A softmax only exponentiates x - max <= 0. Its exponentials are built
// here, for such arguments only: exp(x) as a polynomial right away (the
// materialized softmax), 2^t (the flash kernel's, of scores scaled by
// log2(e)) first as a marked math.exp2, which attn-lower-nonpositive-exp2
// expands once the ops are vectors and the target is known
// (NonPositiveExp.cpp says how and how accurately).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_NONPOSITIVEEXP_H
#define ATTNC_TRANSFORMS_NONPOSITIVEEXP_H

#include "mlir/IR/Builders.h"

namespace attnc {

/// On math.exp2: its argument is never positive, and it may be computed as
/// buildExp2OfNonPositive does.
inline constexpr const char kNonPositiveExp2Attr[] = "attn.nonpositive";

/// exp(x) for f32 x <= 0, scalar or vector: 0 below ln(FLT_MIN), NaN for
/// NaN, within 1e-6 relative elsewhere; for positive x it is not exp.
mlir::Value buildExpOfNonPositive(mlir::OpBuilder &b, mlir::Location l,
                                  mlir::Value x);

/// math.exp2(t) marked with kNonPositiveExp2Attr: 2^t for t <= 0.
mlir::Value createNonPositiveExp2(mlir::OpBuilder &b, mlir::Location l,
                                  mlir::Value t);

/// 2^t for f32 t <= 0, scalar or vector: NaN for NaN, within 1e-6 relative
/// where 2^t is a normal float; below that 0, or with `avx512` on a vector
/// of 16 lanes (vreduceps and vscalefps) the denormal 2^t then 0.
mlir::Value buildExp2OfNonPositive(mlir::OpBuilder &b, mlir::Location l,
                                   mlir::Value t, bool avx512);

} // namespace attnc

#endif // ATTNC_TRANSFORMS_NONPOSITIVEEXP_H
