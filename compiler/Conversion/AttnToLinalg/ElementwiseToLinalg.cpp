//===- ElementwiseToLinalg.cpp - elementwise attn ops to linalg.generic ---===//
//
// attn.scale, attn.add/sub/mul (with trailing broadcast) and the activations
// attn.gelu, attn.silu and attn.relu. Each becomes one all-parallel
// linalg.generic whose body is the formula in the op's description.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include <cmath>

using namespace mlir;
using namespace attnc::lowering;

namespace {

/// attn.scale: y = x * factor.
struct ScaleToLinalg : OpConversionPattern<attn::ScaleOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::ScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    float factor = op.getFactor().convertToFloat();
    rewriter.replaceOp(
        op, mapElementwise(rewriter, op.getLoc(), adaptor.getInput(),
                           op.getResult().getType(),
                           [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return b.create<arith::MulFOp>(
                                 l, a[0], f32Const(b, l, factor));
                           }));
    return success();
  }
};

/// attn.add / attn.sub / attn.mul: y = lhs (op) rhs over the result shape.
/// An operand whose shape is a proper suffix of the result's is read with a
/// map onto the trailing dimensions, so it repeats along the leading ones:
///   y[d0, ..., dn-1] = lhs[dn-rank(lhs), ...] (op) rhs[dn-rank(rhs), ...]
/// Operand order is kept, so sub is always lhs - rhs.
template <typename AttnOp, typename ArithOp>
struct BinaryToLinalg : OpConversionPattern<AttnOp> {
  using OpConversionPattern<AttnOp>::OpConversionPattern;
  using OpAdaptor = typename AttnOp::Adaptor;

  LogicalResult
  matchAndRewrite(AttnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    GenericBuilder gen(rewriter, loc, type.getRank());
    auto rankOf = [](Value v) {
      return static_cast<unsigned>(cast<RankedTensorType>(v.getType()).getRank());
    };
    rewriter.replaceOp(
        op, gen.generic({lhs, rhs}, emptyF32(rewriter, loc, type.getShape()),
                        {gen.trailing(rankOf(lhs)), gen.trailing(rankOf(rhs)),
                         gen.identity()},
                        gen.iterators(),
                        [](OpBuilder &b, Location l, ValueRange a) {
                          b.create<linalg::YieldOp>(
                              l, ValueRange{b.create<ArithOp>(l, a[0], a[1])});
                        }));
    return success();
  }
};

/// attn.gelu:
///   none: y = x * (1 + erf(x / sqrt(2))) / 2      (x / sqrt(2) as x * 1/sqrt(2))
///   tanh: y = x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2
struct GeluToLinalg : OpConversionPattern<attn::GeluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::GeluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    bool tanhForm = op.getApproximate() == attn::GeluApproximation::tanh;
    auto body = [&](OpBuilder &b, Location l, ValueRange a) -> Value {
      Value x = a[0];
      Value t;
      if (tanhForm) {
        // t = tanh(sqrt(2/pi) * (x + 0.044715 * x^3))
        Value x3 = b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, x, x), x);
        Value inner = b.create<arith::AddFOp>(
            l, x, b.create<arith::MulFOp>(l, f32Const(b, l, 0.044715f), x3));
        float sqrt2OverPi = static_cast<float>(std::sqrt(2.0 / M_PI));
        t = b.create<math::TanhOp>(
            l, b.create<arith::MulFOp>(l, f32Const(b, l, sqrt2OverPi), inner));
      } else {
        // t = erf(x / sqrt(2))
        t = b.create<math::ErfOp>(
            l, b.create<arith::MulFOp>(l, x,
                                       f32Const(b, l, static_cast<float>(M_SQRT1_2))));
      }
      // y = x * (1 + t) / 2
      Value onePlusT = b.create<arith::AddFOp>(l, f32Const(b, l, 1.0f), t);
      Value scaled = b.create<arith::MulFOp>(l, x, onePlusT);
      return b.create<arith::MulFOp>(l, scaled, f32Const(b, l, 0.5f));
    };
    rewriter.replaceOp(op, mapElementwise(rewriter, op.getLoc(),
                                          adaptor.getInput(),
                                          op.getResult().getType(), body));
    return success();
  }
};

/// attn.silu: y = x * sigmoid(x) = x / (1 + exp(-x)). For x -> -inf,
/// exp(-x) overflows to inf and y is -0; for x -> +inf, y = x.
struct SiluToLinalg : OpConversionPattern<attn::SiluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::SiluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    auto body = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, a[0]));
      Value den = b.create<arith::AddFOp>(l, f32Const(b, l, 1.0f), e);
      return b.create<arith::DivFOp>(l, a[0], den);
    };
    rewriter.replaceOp(op, mapElementwise(rewriter, op.getLoc(),
                                          adaptor.getInput(),
                                          op.getResult().getType(), body));
    return success();
  }
};

/// attn.relu: y = max(x, 0), written as x < 0 ? 0 : x so that NaN passes
/// through (as in the reference) and -0 stays -0.
struct ReluToLinalg : OpConversionPattern<attn::ReluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::ReluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    auto body = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      Value zero = f32Const(b, l, 0.0f);
      Value negative =
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, a[0], zero);
      return b.create<arith::SelectOp>(l, negative, zero, a[0]);
    };
    rewriter.replaceOp(op, mapElementwise(rewriter, op.getLoc(),
                                          adaptor.getInput(),
                                          op.getResult().getType(), body));
    return success();
  }
};

} // namespace

void attnc::lowering::populateElementwisePatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ScaleToLinalg, GeluToLinalg, SiluToLinalg, ReluToLinalg>(context);
  patterns.add<BinaryToLinalg<attn::AddOp, arith::AddFOp>,
               BinaryToLinalg<attn::SubOp, arith::SubFOp>,
               BinaryToLinalg<attn::MulOp, arith::MulFOp>>(context);
}
