//===- NormsToLinalg.cpp - attn.layer_norm and attn.rms_norm to linalg ----===//
//
// Both normalize every row of x [N, E] over its E features. Per-row
// statistics are row reductions into [N] tensors; the last step is one
// elementwise linalg.generic over [N, E] that reads them back by row and the
// [E] parameters by column.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace attnc::lowering;

namespace {

enum { rowDim, colDim };

/// rows[n] = sum_c f(x[n, c], rowValues[n]...): a reduction over the columns
/// of `x` into zeros; `rowValues` are [N] tensors read at row n.
Value rowSum(OpBuilder &b, Location loc, Value x, ValueRange rowValues,
             function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  auto type = cast<RankedTensorType>(x.getType());
  GenericBuilder gen(b, loc, 2);
  SmallVector<Value> inputs = {x};
  llvm::append_range(inputs, rowValues);
  SmallVector<AffineMap> maps = {gen.identity()};
  maps.append(rowValues.size() + 1, gen.map({rowDim}));
  return gen.generic(inputs, filled(b, loc, {type.getDimSize(0)}, 0.0f), maps,
                     gen.iterators(colDim),
                     [&](OpBuilder &nb, Location l, ValueRange a) {
                       Value t = term(nb, l, a.drop_back());
                       nb.create<linalg::YieldOp>(
                           l, ValueRange{nb.create<arith::AddFOp>(l, t, a.back())});
                     });
}

/// out[n] = f(in[n]) over [N] tensors.
Value perRow(OpBuilder &b, Location loc, Value in,
             function_ref<Value(OpBuilder &, Location, Value)> f) {
  auto type = cast<RankedTensorType>(in.getType());
  return mapElementwise(b, loc, in, type,
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          return f(nb, l, a[0]);
                        });
}

/// inv[n] = 1 / sqrt(sumSq[n] / E + eps)   (math.rsqrt)
Value inverseRms(OpBuilder &b, Location loc, Value sumSq, int64_t E,
                 float eps) {
  return perRow(b, loc, sumSq, [&](OpBuilder &nb, Location l, Value s) -> Value {
    Value meanSq = nb.create<arith::DivFOp>(l, s, f32Const(nb, l, float(E)));
    return nb.create<math::RsqrtOp>(
        l, nb.create<arith::AddFOp>(l, meanSq, f32Const(nb, l, eps)));
  });
}

/// attn.layer_norm over the last dimension, with the biased variance, its
/// sums over the deviations from the row's first feature s[n] = x[n, 0]:
///   d[n]    = (sum_c (x[n, c] - s[n])) / E             (mean[n] - s[n])
///   var[n]  = (sum_c ((x[n, c] - s[n]) - d[n])^2) / E   (two passes)
///   inv[n]  = 1 / sqrt(var[n] + eps)
///   y[n, c] = ((x[n, c] - s[n]) - d[n]) * inv[n] * gamma[c] + beta[c]
struct LayerNormToLinalg : OpConversionPattern<attn::LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    int64_t E = type.getDimSize(1);
    float eps = op.getEps().convertToFloat();
    Value x = adaptor.getInput();

    // Shifted by the row's first feature: features near 1000 otherwise lose
    // their mean in the rounding of a running sum near 769000 (ulp 0.06;
    // 1e-3 of the output at E = 769), and even a mean rounded to float
    // (ulp 6e-5 at 1000) is off by 1e-4 of a unit deviation. x - s is
    // exact for features within a factor 2 of s, and the deviations and
    // their mean d sum at their own scale.
    int64_t N = type.getDimSize(0);
    SmallVector<OpFoldResult> firstColumn = {rewriter.getIndexAttr(0),
                                             rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> columnSizes = {rewriter.getIndexAttr(N),
                                             rewriter.getIndexAttr(1)};
    SmallVector<OpFoldResult> unitStrides = {rewriter.getIndexAttr(1),
                                             rewriter.getIndexAttr(1)};
    Value shift = rewriter.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({N}, rewriter.getF32Type()), x, firstColumn,
        columnSizes, unitStrides);
    Value shiftedSum =
        rowSum(rewriter, loc, x, {shift},
               [](OpBuilder &b, Location l, ValueRange a) -> Value {
                 return b.create<arith::SubFOp>(l, a[0], a[1]);
               });
    Value meanOffset = perRow(rewriter, loc, shiftedSum,
                              [&](OpBuilder &b, Location l, Value s) -> Value {
                                return b.create<arith::DivFOp>(
                                    l, s, f32Const(b, l, float(E)));
                              });
    // (x - s) - d, from x, s and d.
    auto deviation = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      return b.create<arith::SubFOp>(
          l, b.create<arith::SubFOp>(l, a[0], a[1]), a[2]);
    };
    Value sqDev = rowSum(rewriter, loc, x, {shift, meanOffset},
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value dev = deviation(b, l, a);
                           return b.create<arith::MulFOp>(l, dev, dev);
                         });
    Value inv = inverseRms(rewriter, loc, sqDev, E, eps);

    GenericBuilder gen(rewriter, loc, 2);
    AffineMap all = gen.identity(), row = gen.map({rowDim}),
              col = gen.map({colDim});
    Value out = gen.generic(
        {x, shift, meanOffset, inv, adaptor.getGamma(), adaptor.getBeta()},
        emptyF32(rewriter, loc, type.getShape()),
        {all, row, row, row, col, col, all}, gen.iterators(),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value normed =
              b.create<arith::MulFOp>(l, deviation(b, l, a.take_front(3)), a[3]);
          Value y = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, normed, a[4]), a[5]);
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// attn.rms_norm over the last dimension:
///   inv[n]  = 1 / sqrt((sum_c x[n, c]^2) / E + eps)
///   y[n, c] = x[n, c] * inv[n] * gamma[c]
struct RmsNormToLinalg : OpConversionPattern<attn::RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    int64_t E = type.getDimSize(1);
    Value x = adaptor.getInput();

    Value sumSq = rowSum(rewriter, loc, x, {},
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return b.create<arith::MulFOp>(l, a[0], a[0]);
                         });
    Value inv = inverseRms(rewriter, loc, sumSq, E, op.getEps().convertToFloat());

    GenericBuilder gen(rewriter, loc, 2);
    Value out = gen.generic(
        {x, inv, adaptor.getGamma()}, emptyF32(rewriter, loc, type.getShape()),
        {gen.identity(), gen.map({rowDim}), gen.map({colDim}), gen.identity()},
        gen.iterators(), [](OpBuilder &b, Location l, ValueRange a) {
          Value y = b.create<arith::MulFOp>(
              l, b.create<arith::MulFOp>(l, a[0], a[1]), a[2]);
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void attnc::lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<LayerNormToLinalg, RmsNormToLinalg>(patterns.getContext());
}
