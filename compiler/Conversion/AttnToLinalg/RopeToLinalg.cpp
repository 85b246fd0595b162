//===- RopeToLinalg.cpp - attn.rope to linalg -----------------------------===//
//
// Rotary position embedding. The input is [S, W] with W = heads * D (heads
// are D-wide column blocks) or [H, S, D]; in both the position of an element
// is its index s along dimension -2. Pair p (0 <= p < D/2) of every head
// turns by
//   theta[s, p] = s * base^(-2p / D)
// and the pair (x1, x2) becomes (x1 cos - x2 sin, x1 sin + x2 cos). `half`
// pairs features (p, p + D/2), `interleaved` pairs (2p, 2p + 1).
//
// Lowering:
//  1. one linalg.generic with two results builds cos[S, D/2] and sin[S, D/2]
//     (positions start at the optional `position` operand, else 0).
//     The angle and its cosine and sine are computed in f64 and rounded to
//     f32 once: s * base^(-2p/D) reaches thousands of radians for long
//     contexts, where an f32 angle would be off by ~1e-4.
//  2. the last dimension is expanded, W -> [W/D, 2, D/2] for `half` or
//     [W/D, D/2, 2] for `interleaved`, so that a pair is the two elements
//     e = 0, 1 of the size-2 dimension at the same p;
//  3. one elementwise linalg.generic over the expanded shape reads x at
//     (.., e, ..) and its partner at (.., 1 - e, ..) (an affine map, no
//     gather), and computes
//       y = x * cos[s, p] + (e == 0 ? -partner : partner) * sin[s, p];
//  4. the result is collapsed back to the input shape.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace attnc::lowering;

namespace {

/// cos[s, p], sin[s, p] of theta = (offset + s) * base^(-2p / D), computed in
/// f64; `offset` (an i64, a decode step's position) may be null for 0.
std::pair<Value, Value> rotationTables(OpBuilder &b, Location loc, int64_t S,
                                       int64_t D, double base, Value offset) {
  auto tableType = RankedTensorType::get({S, D / 2}, b.getF32Type());
  GenericBuilder gen(b, loc, 2);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{tableType, tableType}, ValueRange{},
      ValueRange{emptyF32(b, loc, tableType.getShape()),
                 emptyF32(b, loc, tableType.getShape())},
      ArrayRef<AffineMap>{gen.identity(), gen.identity()}, gen.iterators(),
      [&](OpBuilder &nb, Location l, ValueRange) {
        Type f64 = nb.getF64Type();
        auto indexToF64 = [&](unsigned dim) -> Value {
          Value i = nb.create<arith::IndexCastOp>(
              l, nb.getI64Type(), nb.create<linalg::IndexOp>(l, dim));
          return nb.create<arith::SIToFPOp>(l, f64, i);
        };
        auto f64Const = [&](double v) -> Value {
          return nb.create<arith::ConstantOp>(l, nb.getF64FloatAttr(v));
        };
        Value pos = indexToF64(0), pair = indexToF64(1);
        if (offset)
          pos = nb.create<arith::AddFOp>(
              l, pos, nb.create<arith::SIToFPOp>(l, f64, offset));
        // exponent = -2p / D; invFreq = base^exponent; theta = s * invFreq
        Value minusTwoP = nb.create<arith::MulFOp>(l, pair, f64Const(-2.0));
        Value exponent = nb.create<arith::DivFOp>(
            l, minusTwoP, f64Const(static_cast<double>(D)));
        Value invFreq = nb.create<math::PowFOp>(l, f64Const(base), exponent);
        Value theta = nb.create<arith::MulFOp>(l, pos, invFreq);
        Value c = nb.create<arith::TruncFOp>(l, nb.getF32Type(),
                                             nb.create<math::CosOp>(l, theta));
        Value s = nb.create<arith::TruncFOp>(l, nb.getF32Type(),
                                             nb.create<math::SinOp>(l, theta));
        nb.create<linalg::YieldOp>(l, ValueRange{c, s});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

/// attn.rope: see the file comment for the formula and the steps.
struct RopeToLinalg : OpConversionPattern<attn::RopeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    unsigned rank = type.getRank();
    int64_t S = type.getDimSize(rank - 2), W = type.getDimSize(rank - 1);
    int64_t D = op.getHeadDim(), P = D / 2;
    bool half = op.getStyle() == attn::RopeStyle::half;

    auto [cosTable, sinTable] =
        rotationTables(rewriter, loc, S, D, op.getBase().convertToDouble(),
                       adaptor.getPosition());

    // [..., S, W] -> [..., S, W/D, 2, P] (half) or [..., S, W/D, P, 2].
    SmallVector<int64_t> shape(type.getShape().drop_back());
    shape.push_back(W / D);
    if (half)
      shape.append({2, P});
    else
      shape.append({P, 2});
    SmallVector<ReassociationIndices> assoc;
    for (unsigned d = 0; d + 1 < rank; ++d)
      assoc.push_back({static_cast<int64_t>(d)});
    assoc.push_back({rank - 1, rank, rank + 1});
    auto expandedType = RankedTensorType::get(shape, type.getElementType());
    Value x = rewriter.create<tensor::ExpandShapeOp>(loc, expandedType,
                                                     adaptor.getInput(), assoc);

    // Iteration dims: the expanded shape; e selects the pair element.
    unsigned n = rank + 2, posDim = rank - 2;
    unsigned eDim = half ? rank : rank + 1, pDim = half ? rank + 1 : rank;
    GenericBuilder gen(rewriter, loc, n);
    SmallVector<AffineExpr> partnerExprs(gen.identity().getResults());
    partnerExprs[eDim] = 1 - rewriter.getAffineDimExpr(eDim);
    AffineMap table = gen.map({posDim, pDim});
    Value rotated = gen.generic(
        {x, x, cosTable, sinTable}, emptyF32(rewriter, loc, shape),
        {gen.identity(), gen.mapOf(partnerExprs), table, table, gen.identity()},
        gen.iterators(), [&](OpBuilder &b, Location l, ValueRange a) {
          // first of the pair (e = 0): x1 cos - x2 sin;
          // second (e = 1):            x2 cos + x1 sin.
          Value e = b.create<linalg::IndexOp>(l, eDim);
          Value first = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::eq, e,
              b.create<arith::ConstantIndexOp>(l, 0));
          Value partner = b.create<arith::SelectOp>(
              l, first, b.create<arith::NegFOp>(l, a[1]), a[1]);
          Value xCos = b.create<arith::MulFOp>(l, a[0], a[2]);
          Value partnerSin = b.create<arith::MulFOp>(l, partner, a[3]);
          Value y = b.create<arith::AddFOp>(l, xCos, partnerSin);
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, type, rotated,
                                                         assoc);
    return success();
  }
};

} // namespace

void attnc::lowering::populateRopePatterns(RewritePatternSet &patterns) {
  patterns.add<RopeToLinalg>(patterns.getContext());
}
