//===- SoftmaxMaskToLinalg.cpp - attn.mask and attn.softmax to linalg -----===//
//
// The score-side ops of attention written out by hand: attn.mask hides keys
// with -inf, attn.softmax normalizes along one axis. They match what
// attn.sdpa does internally (AttnToLinalg.cpp), including the rule that a
// slice with every element -inf becomes zeros instead of NaN.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace attnc::lowering;

namespace {

/// attn.mask: y[..., i, j] = x[..., i, j] where key j is visible to query i,
/// -inf where it is hidden (causal: j > i; window: also j <= i - window).
/// i and j are linalg.index of the last two dimensions. `none` hides
/// nothing: the input is forwarded.
struct MaskToLinalg : OpConversionPattern<attn::MaskOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::MaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    attn::MaskKind kind = op.getKind();
    if (kind == attn::MaskKind::none) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    auto type = op.getResult().getType();
    int64_t rank = type.getRank(), window = op.getWindow().value_or(0);
    Value out = mapElementwise(
        rewriter, op.getLoc(), adaptor.getInput(), type,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value i = b.create<linalg::IndexOp>(l, rank - 2);
          Value j = b.create<linalg::IndexOp>(l, rank - 1);
          Value visible = keyVisible(b, l, kind, window, i, j);
          return b.create<arith::SelectOp>(l, visible, a[0],
                                           f32Const(b, l, kNegInf));
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// attn.softmax along `axis` (a), numerically stable:
///   m[rest]    = max_a x                      (init -inf)
///   e[...]     = exp(x - m), or 0 if m = -inf (an all -inf slice)
///   sum[rest]  = sum_a e                      (init 0)
///   y[...]     = e / sum, or 0 if sum = 0     (only when m = -inf)
/// `rest` is every dimension but the axis; the reductions write tensors of
/// that shape, read back with the axis dropped from the indexing map.
struct SoftmaxToLinalg : OpConversionPattern<attn::SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    unsigned axis = op.getAxis();
    SmallVector<int64_t> restShape(type.getShape());
    restShape.erase(restShape.begin() + axis);

    GenericBuilder gen(rewriter, loc, type.getRank());
    AffineMap all = gen.identity(), rest = gen.allBut(axis);
    auto reduce = gen.iterators(axis), parallel = gen.iterators();
    Value x = adaptor.getInput();

    // m = max_a x
    Value rowMax = gen.generic(
        {x}, filled(rewriter, loc, restShape, kNegInf), {all, rest}, reduce,
        [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::MaximumFOp>(l, a[0], a[1])});
        });

    // e = exp(x - m), 0 where m = -inf (exp(-inf - -inf) would be NaN).
    Value weights = gen.generic(
        {x, rowMax}, emptyF32(rewriter, loc, type.getShape()),
        {all, rest, all}, parallel,
        [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(l, softmaxExp(b, l, a[0], a[1]));
        });

    // sum = sum_a e
    Value rowSum = gen.generic(
        {weights}, filled(rewriter, loc, restShape, 0.0f), {all, rest}, reduce,
        [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::AddFOp>(l, a[0], a[1])});
        });

    // y = e / sum, 0 for an all -inf slice (sum = 0).
    Value out = gen.generic(
        {weights, rowSum}, emptyF32(rewriter, loc, type.getShape()),
        {all, rest, all}, parallel,
        [](OpBuilder &b, Location l, ValueRange a) {
          Value zero = f32Const(b, l, 0.0f);
          Value empty = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                a[1], zero);
          Value q = b.create<arith::DivFOp>(l, a[0], a[1]);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, empty, zero, q)});
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void attnc::lowering::populateSoftmaxMaskPatterns(RewritePatternSet &patterns) {
  patterns.add<MaskToLinalg, SoftmaxToLinalg>(patterns.getContext());
}
