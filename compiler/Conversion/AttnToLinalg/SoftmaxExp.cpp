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
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;

Value attnc::lowering::expOfNonPositive(OpBuilder &b, Location l, Value x) {
  auto f32 = [&](float v) { return f32Const(b, l, v); };
  auto fma = [&](Value a, Value c, Value d) {
    return b.create<math::FmaOp>(l, a, c, d).getResult();
  };
  // n = round(x / ln2): adding 1.5 * 2^23 rounds x / ln2 to an integer (to
  // nearest even) and leaves it in the sum's low mantissa bits.
  Value magic = f32(12582912.0f);
  Value shifted = fma(x, f32(1.44269504088896341f), magic);
  Value n = b.create<arith::SubFOp>(l, shifted, magic);
  Value r = fma(n, f32(-0.693147182f), x);
  // exp(r) by a degree-5 polynomial with a constant term of 1 (so exp(0),
  // every row's largest weight, is exactly 1), Horner form.
  Value p = f32(8.2903150469e-3f);
  for (float c : {4.1897930205e-2f, 1.6667635739e-1f, 4.9999150634e-1f,
                  9.9999970198e-1f, 1.0f})
    p = fma(p, r, f32(c));
  // 2^n as a float: (n + 127) << 23. The sum's bits are those of 1.5 * 2^23
  // plus n, and the former's low 9 bits are zero, so they shift out: the
  // bits of 2^n are (bits(sum) + 127) << 23, for the n >= -126 kept below.
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
  Value e = b.create<arith::MulFOp>(l, p, scale);
  // Below ln(FLT_MIN) (n < -126): 0. A NaN compares false and stays NaN
  // (its polynomial is NaN).
  Value underflows = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x,
                                             f32(-87.33654475f));
  return b.create<arith::SelectOp>(l, underflows, f32(0.0f), e);
}
