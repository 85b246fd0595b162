//===- LoweringUtils.h - shared helpers of convert-attn-to-linalg -*- C++ -*-===//
//
// Private to compiler/Conversion/AttnToLinalg: the linalg.generic builder the
// patterns share, small constant/tensor helpers, and the populate functions
// of the pattern files the pass collects.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CONVERSION_ATTNTOLINALG_LOWERINGUTILS_H
#define ATTNC_CONVERSION_ATTNTOLINALG_LOWERINGUTILS_H

#include "attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/DialectConversion.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>

namespace attnc::lowering {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

/// Builds linalg.generic ops over named iteration dimensions.
class GenericBuilder {
public:
  GenericBuilder(mlir::OpBuilder &b, mlir::Location loc, unsigned numDims)
      : b(b), loc(loc), numDims(numDims) {}

  /// (d0, ..., dn-1) -> (d[dims[0]], d[dims[1]], ...)
  mlir::AffineMap map(llvm::ArrayRef<unsigned> dims) {
    llvm::SmallVector<mlir::AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    return mapOf(exprs);
  }
  mlir::AffineMap mapOf(llvm::ArrayRef<mlir::AffineExpr> exprs) {
    return mlir::AffineMap::get(numDims, 0, exprs, b.getContext());
  }
  /// (d0, ..., dn-1) -> (d0, ..., dn-1)
  mlir::AffineMap identity() {
    return mlir::AffineMap::getMultiDimIdentityMap(numDims, b.getContext());
  }
  /// The last `rank` dimensions: (d0, ..., dn-1) -> (dn-rank, ..., dn-1).
  mlir::AffineMap trailing(unsigned rank) {
    llvm::SmallVector<unsigned> dims;
    for (unsigned d = numDims - rank; d < numDims; ++d)
      dims.push_back(d);
    return map(dims); // (d0, ..., dn-1) -> () for a rank-0 operand
  }
  /// Every dimension but `dim`: the map of a reduction's result.
  mlir::AffineMap allBut(unsigned dim) {
    return identity().dropResult(dim);
  }
  /// All parallel, or parallel but `reductionDim`.
  llvm::SmallVector<mlir::utils::IteratorType>
  iterators(std::optional<unsigned> reductionDim = std::nullopt) {
    llvm::SmallVector<mlir::utils::IteratorType> its(
        numDims, mlir::utils::IteratorType::parallel);
    if (reductionDim)
      its[*reductionDim] = mlir::utils::IteratorType::reduction;
    return its;
  }

  mlir::Value
  generic(mlir::ValueRange inputs, mlir::Value init,
          llvm::ArrayRef<mlir::AffineMap> maps,
          llvm::ArrayRef<mlir::utils::IteratorType> iterators,
          llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                  mlir::ValueRange)>
              body) {
    return b
        .create<mlir::linalg::GenericOp>(loc, init.getType(), inputs, init,
                                         maps, iterators, body)
        .getResult(0);
  }

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
  unsigned numDims;
};

/// Into how many blocks each of `groups` key/value head groups splits its
/// `count` independent pieces (query tiles, query heads) so that the
/// groups' blocks make at least 8 thread-pool tasks: the smallest divisor
/// of `count` that does, or `count` itself; 1 with 8 groups or more.
inline int64_t blocksPerGroup(int64_t groups, int64_t count) {
  if (groups >= 8)
    return 1;
  int64_t blocks = std::min<int64_t>(llvm::divideCeil(8, groups), count);
  while (count % blocks != 0)
    ++blocks;
  return blocks;
}

/// An f32 constant.
inline mlir::Value f32Const(mlir::OpBuilder &b, mlir::Location loc,
                            float value) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}

/// tensor.empty of f32.
inline mlir::Value emptyF32(mlir::OpBuilder &b, mlir::Location loc,
                            llvm::ArrayRef<int64_t> shape) {
  return b.create<mlir::tensor::EmptyOp>(loc, shape, b.getF32Type());
}

/// An f32 tensor filled with `value` (the init of a reduction).
inline mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                          llvm::ArrayRef<int64_t> shape, float value) {
  mlir::Value init = emptyF32(b, loc, shape);
  mlir::Value v = f32Const(b, loc, value);
  return b.create<mlir::linalg::FillOp>(loc, v, init).getResult(0);
}

/// out = body(inputs...) elementwise; every input has the result's shape.
inline mlir::Value
mapElementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
               mlir::RankedTensorType type,
               llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>
                   body) {
  GenericBuilder gen(b, loc, type.getRank());
  llvm::SmallVector<mlir::AffineMap> maps(inputs.size() + 1, gen.identity());
  return gen.generic(inputs, emptyF32(b, loc, type.getShape()), maps,
                     gen.iterators(),
                     [&](mlir::OpBuilder &nb, mlir::Location l,
                         mlir::ValueRange args) {
                       mlir::Value v = body(nb, l, args.drop_back());
                       nb.create<mlir::linalg::YieldOp>(l, v);
                     });
}

/// The body of a contraction generic: yields acc + a * b for block arguments
/// (a, b, acc), the form the contraction micro-kernel recognizes.
inline void yieldMultiplyAccumulate(mlir::OpBuilder &b, mlir::Location l,
                                    mlir::ValueRange a) {
  mlir::Value prod = b.create<mlir::arith::MulFOp>(l, a[0], a[1]);
  b.create<mlir::linalg::YieldOp>(
      l, mlir::ValueRange{b.create<mlir::arith::AddFOp>(l, a[2], prod)});
}

/// exp(x) for x <= 0 (SoftmaxExp.cpp): 0 below ln(FLT_MIN), NaN for NaN,
/// within 1e-6 relative elsewhere; for positive x it is not exp.
mlir::Value expOfNonPositive(mlir::OpBuilder &b, mlir::Location l,
                             mlir::Value x);

/// 2^t for t <= 0 (SoftmaxExp.cpp): 0 below log2(FLT_MIN), NaN for NaN,
/// within 1e-6 relative elsewhere; for positive t it is not 2^t.
mlir::Value exp2OfNonPositive(mlir::OpBuilder &b, mlir::Location l,
                              mlir::Value t);

/// Which exponential a softmax takes of its scores: e^x, or 2^x of scores
/// already multiplied by log2(e) (the flash kernel's).
enum class ExpBase { e, two };

/// exp(a - m) (or 2^(a - m)) for a <= m, or `fallback` where `guard` is
/// -inf.
inline mlir::Value expDifferenceUnlessNegInf(mlir::OpBuilder &b,
                                             mlir::Location l,
                                             mlir::Value guard, mlir::Value a,
                                             mlir::Value m, float fallback,
                                             ExpBase base = ExpBase::e) {
  mlir::Value isNegInf = b.create<mlir::arith::CmpFOp>(
      l, mlir::arith::CmpFPredicate::OEQ, guard, f32Const(b, l, kNegInf));
  mlir::Value difference = b.create<mlir::arith::SubFOp>(l, a, m);
  mlir::Value e = base == ExpBase::two
                      ? exp2OfNonPositive(b, l, difference)
                      : expOfNonPositive(b, l, difference);
  return b.create<mlir::arith::SelectOp>(l, isNegInf,
                                         f32Const(b, l, fallback), e);
}

/// exp(x - m) for a row max m, 0 where x is -inf (a hidden key; when the
/// whole row is hidden m is -inf too and exp(-inf - -inf) would be NaN).
/// Guarding on x rather than on m keeps a NaN score NaN even when the row
/// max, which may drop NaNs (a compare-and-select tree), is -inf.
inline mlir::Value softmaxExp(mlir::OpBuilder &b, mlir::Location l,
                              mlir::Value x, mlir::Value m) {
  return expDifferenceUnlessNegInf(b, l, x, x, m, 0.0f);
}

/// A row max to subtract from the row's scores before exp: m, or 0 where m
/// is -inf (the row has no visible key, or none yet). A hidden key's -inf
/// minus it is then -inf, whose exp (expOfNonPositive) is 0; a NaN score
/// stays NaN. Where m is finite this is m: the weights do not change.
inline mlir::Value finiteRowMax(mlir::OpBuilder &b, mlir::Location l,
                                mlir::Value m) {
  mlir::Value isNegInf = b.create<mlir::arith::CmpFOp>(
      l, mlir::arith::CmpFPredicate::OEQ, m, f32Const(b, l, kNegInf));
  return b.create<mlir::arith::SelectOp>(l, isNegInf, f32Const(b, l, 0.0f),
                                         m);
}

/// The online softmax's rescale factor exp(mOld - mNew) (2^ for
/// ExpBase::two), 1 while the row's max is still -inf (nothing visible yet,
/// so nothing summed to rescale).
inline mlir::Value rescaleFactor(mlir::OpBuilder &b, mlir::Location l,
                                 mlir::Value mOld, mlir::Value mNew,
                                 ExpBase base) {
  return expDifferenceUnlessNegInf(b, l, mNew, mOld, mNew, 1.0f, base);
}

/// Whether key `j` is visible to query `i` (both `index` values):
///   causal: j <= i;  window: j <= i and i - j < window (j > i - window
///   with neither a negative index nor an overflowing sum). Null for
///   MaskKind::none (all visible).
inline mlir::Value keyVisible(mlir::OpBuilder &b, mlir::Location l,
                              mlir::attn::MaskKind mask, int64_t window,
                              mlir::Value i, mlir::Value j) {
  using mlir::arith::CmpIPredicate;
  if (mask == mlir::attn::MaskKind::none)
    return {};
  mlir::Value visible =
      b.create<mlir::arith::CmpIOp>(l, CmpIPredicate::sle, j, i);
  if (mask == mlir::attn::MaskKind::window) {
    // Not j + window > i: the verifier allows any positive window, and the
    // sum overflows near INT64_MAX.
    mlir::Value w = b.create<mlir::arith::ConstantIndexOp>(l, window);
    mlir::Value inWindow = b.create<mlir::arith::CmpIOp>(
        l, CmpIPredicate::slt, b.create<mlir::arith::SubIOp>(l, i, j), w);
    visible = b.create<mlir::arith::AndIOp>(l, visible, inWindow);
  }
  return visible;
}

/// The lowering handles statically shaped tensors only (the language has no
/// dynamic shapes, and the C ABI passes bare pointers); scalar operands, such
/// as a decode step's position, are fine.
inline mlir::LogicalResult
requireStaticShapes(mlir::Operation *op, mlir::ConversionPatternRewriter &rw) {
  auto isStatic = [](mlir::Type t) {
    auto shaped = llvm::dyn_cast<mlir::ShapedType>(t);
    return shaped ? shaped.hasStaticShape() : t.isIntOrIndex();
  };
  if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
      !llvm::all_of(op->getResultTypes(), isStatic))
    return rw.notifyMatchFailure(op, "expected statically shaped tensors");
  return mlir::success();
}

// The pattern files; each adds its OpConversionPatterns.
void populateAttentionPatterns(mlir::RewritePatternSet &patterns);   // AttnToLinalg.cpp
void populateElementwisePatterns(mlir::RewritePatternSet &patterns); // ElementwiseToLinalg.cpp
void populateNormPatterns(mlir::RewritePatternSet &patterns);        // NormsToLinalg.cpp
void populateSoftmaxMaskPatterns(mlir::RewritePatternSet &patterns); // SoftmaxMaskToLinalg.cpp
void populateHeadsPatterns(mlir::RewritePatternSet &patterns);       // HeadsToLinalg.cpp
void populateRopePatterns(mlir::RewritePatternSet &patterns);        // RopeToLinalg.cpp
void populateFlashAttentionPatterns(mlir::RewritePatternSet &patterns); // SdpaToFlash.cpp

} // namespace attnc::lowering

#endif // ATTNC_CONVERSION_ATTNTOLINALG_LOWERINGUTILS_H
