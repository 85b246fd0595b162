//===- SoftmaxExp.cpp - exp of the softmax's non-positive arguments -------===//
//
// The softmax only ever exponentiates x - max <= 0, where exp lies in
// (0, 1]: no overflow to handle, and below -87.34 the result is under
// FLT_MIN, where 0 is as good as the denormal (every weight is divided by a
// row sum of at least 1). math.exp's general approximation spends about 30
// vector instructions per vector on the whole float range; this one about
// 15. It was 11 % of a 12-head attention's time.
//
// Reduction x = n ln2 + r, |r| <= ln2 / 2, by one fused multiply-add with
// ln2 rounded to float: r is then off by n (ln2 - float(ln2)), at most
// 126 * 1.9e-9 = 2.4e-7 (relative, in exp(r)) at the underflow end and
// under 4e-8 for the weights a softmax is made of (x > -14, n >= -20).
// Splitting ln2 in two (Cody-Waite) removes that error for one more FMA,
// one of the nine on the FMA ports per vector. n is rounded by the
// 1.5 * 2^23 trick (no conversion to integer: its bits are already in the
// sum); exp(r) by a polynomial of degree 5 in Horner form, its
// coefficients fitted for least maximum relative error on the reduced
// range (9.1e-8 in exact arithmetic, 1.5e-7 evaluated in float; Cephes'
// expf polynomial, of degree 7, reaches 6e-8 for two more FMAs); 2^n built
// in the exponent bits. Bound tested by VectorExpTest and LargeLogitsTest:
// 1e-6 relative per softmax weight.
//
// The flash kernel's scores come multiplied by log2(e), folded into the
// scale it multiplies the queries by (as FlashAttention-2 does), so it
// takes 2^t instead: n = round(t) and f = t - n are exact, and the
// reduction needs no FMA: 6 ops per vector on the FMA ports instead of 8
// (the exp pass went from 7.1 to 5.6 % of H12 S1024 D64's perf samples).
// The price is that the scaled queries are rounded with log2(e) in them,
// which moves every logit by up to 2^-24 of itself: 1.2e-7 relative per
// halving of a weight, on top of the exp's own error (FlashWeightsTest).
// Weights small enough to feel it hardly move an output.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using attnc::lowering::f32Const;

namespace {

/// p * 2^n, where `shifted` is n + 1.5 * 2^23 (n an integer-valued float,
/// n >= -126, left in the sum's low mantissa bits by the rounding trick):
/// 2^n is built in the exponent bits, no conversion to integer.
Value timesPowerOfTwo(OpBuilder &b, Location l, Value p, Value shifted) {
  // The sum's bits are those of 1.5 * 2^23 plus n, and the former's low 9
  // bits are zero, so they shift out: the bits of 2^n are
  // (bits(sum) + 127) << 23.
  Type i32 = b.getI32Type();
  auto i32Const = [&](int32_t v) {
    return b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(v));
  };
  Value bits = b.create<arith::ShLIOp>(
      l,
      b.create<arith::AddIOp>(l, b.create<arith::BitcastOp>(l, i32, shifted),
                              i32Const(127)),
      i32Const(23));
  Value scale = b.create<arith::BitcastOp>(l, b.getF32Type(), bits);
  return b.create<arith::MulFOp>(l, p, scale);
}

/// 0 where x < limit (the result would be below FLT_MIN), else e. A NaN
/// compares false and stays NaN (its polynomial is NaN).
Value zeroBelow(OpBuilder &b, Location l, Value x, float limit, Value e) {
  Value underflows = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x,
                                             f32Const(b, l, limit));
  return b.create<arith::SelectOp>(l, underflows, f32Const(b, l, 0.0f), e);
}

/// 1 + r (c[n-1] + r (c[n-2] + ... + r c[0])) in Horner form: `c` holds
/// the coefficients from the highest degree down, the constant term being
/// 1 (so that the largest weight of every row, at r = 0, is exactly 1).
Value hornerFromOne(OpBuilder &b, Location l, Value r, ArrayRef<float> c) {
  Value p = f32Const(b, l, c.front());
  for (float coefficient : c.drop_front())
    p = b.create<math::FmaOp>(l, p, r, f32Const(b, l, coefficient));
  return b.create<math::FmaOp>(l, p, r, f32Const(b, l, 1.0f));
}

constexpr float kRoundingMagic = 12582912.0f; // 1.5 * 2^23

} // namespace

Value attnc::lowering::expOfNonPositive(OpBuilder &b, Location l, Value x) {
  auto f32 = [&](float v) { return f32Const(b, l, v); };
  // n = round(x / ln2): adding 1.5 * 2^23 rounds x / ln2 to an integer (to
  // nearest even) and leaves it in the sum's low mantissa bits.
  Value magic = f32(kRoundingMagic);
  Value shifted = b.create<math::FmaOp>(l, x, f32(1.44269504088896341f), magic);
  Value n = b.create<arith::SubFOp>(l, shifted, magic);
  Value r = b.create<math::FmaOp>(l, n, f32(-0.693147182f), x);
  Value p = hornerFromOne(b, l, r,
                          {8.2903150469e-3f, 4.1897930205e-2f,
                           1.6667635739e-1f, 4.9999150634e-1f,
                           9.9999970198e-1f});
  // Below ln(FLT_MIN) (n < -126): 0.
  return zeroBelow(b, l, x, -87.33654475f, timesPowerOfTwo(b, l, p, shifted));
}

Value attnc::lowering::exp2OfNonPositive(OpBuilder &b, Location l, Value t) {
  // n = round(t) by the same trick, and f = t - n exactly (Sterbenz: t and
  // n are within a factor of 2 of each other, or n is 0), |f| <= 1/2.
  Value magic = f32Const(b, l, kRoundingMagic);
  Value shifted = b.create<arith::AddFOp>(l, t, magic);
  Value n = b.create<arith::SubFOp>(l, shifted, magic);
  Value f = b.create<arith::SubFOp>(l, t, n);
  // 2^f = exp(f ln2): the polynomial above with its coefficients times
  // powers of ln2, refitted for least maximum relative error on
  // [-1/2, 1/2] (9.2e-8 in exact arithmetic, 1.7e-7 evaluated in float).
  Value p = hornerFromOne(b, l, f,
                          {1.3264708687e-3f, 9.6715111285e-3f,
                           5.5507339537e-2f, 2.4022242427e-1f,
                           6.9314700365e-1f});
  // Below log2(FLT_MIN) (n < -126): 0.
  return zeroBelow(b, l, t, -126.0f, timesPowerOfTwo(b, l, p, shifted));
}
