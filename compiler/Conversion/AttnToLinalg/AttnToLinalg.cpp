//===- AttnToLinalg.cpp - attn operations to linalg on tensors ------------===//
//
// The pass convert-attn-to-linalg and the lowering of the two fused ops,
// attn.linear and attn.sdpa. The other attn ops lower in the pattern files
// beside this one (see LoweringUtils.h); all of them produce linalg on
// tensors (linalg.generic and named ops, tensor.expand_shape /
// collapse_shape, arith, math).
//
// The straightforward lowering: every intermediate of attention is a whole
// tensor. The score tensor is [kv_heads, group, queries, keys], so this path
// needs O(S^2) memory; it is the correctness baseline that faster lowerings
// of attn.sdpa are measured against.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "attnc/Passes.h"
#include "attnc/Transforms/DynamicExtents.h"

#include "attn/AttnOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/DialectConversion.h"

namespace attnc {
#define GEN_PASS_DEF_CONVERTATTNTOLINALG
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc::lowering;

namespace {

/// y = broadcast(b) + x @ w, or x @ w accumulated into zeros without a bias.
struct LinearToMatmul : OpConversionPattern<attn::LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getResult().getType();
    Value init = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                  type.getElementType());
    Value acc;
    if (Value bias = adaptor.getBias()) {
      acc = rewriter
                .create<linalg::BroadcastOp>(loc, bias, init,
                                             ArrayRef<int64_t>{0})
                .getResult()[0];
    } else {
      Value zero = rewriter.create<arith::ConstantOp>(
          loc, rewriter.getF32FloatAttr(0.0f));
      acc = rewriter.create<linalg::FillOp>(loc, zero, init).getResult(0);
    }
    rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
        op, ValueRange{adaptor.getInput(), adaptor.getWeight()}, ValueRange{acc});
    return success();
  }
};

/// The sizes of one attention: S queries, T keys, G key/value heads of R
/// query heads each, head dimension D.
struct AttentionSizes {
  int64_t S, T, G, R, D;
};

/// Which keys query i sees and how far key j is from it (for ALiBi), built
/// inside a generic from the query and key indices.
struct KeyRule {
  /// Whether some keys are hidden; if not, `visible` is not called.
  bool hidesKeys;
  /// An i1: whether query i sees key j.
  std::function<Value(OpBuilder &, Location, Value i, Value j)> visible;
  /// An f32 distance >= 0.
  std::function<Value(OpBuilder &, Location, Value i, Value j)> distance;
};

/// Keys at positions j of a sequence whose queries are at positions i:
/// the mask decides, and the distance is |i - j|.
static KeyRule positionalKeys(attn::MaskKind mask, int64_t window) {
  return {mask != attn::MaskKind::none,
          [=](OpBuilder &b, Location l, Value i, Value j) {
            return keyVisible(b, l, mask, window, i, j);
          },
          [](OpBuilder &b, Location l, Value i, Value j) -> Value {
            // exact below 2^24 tokens
            Value diff = b.create<arith::IndexCastOp>(
                l, b.getI64Type(), b.create<arith::SubIOp>(l, i, j));
            return b.create<math::AbsFOp>(
                l, b.create<arith::SIToFPOp>(l, b.getF32Type(), diff));
          }};
}

/// exp(logits - rowMax) as [G, R, S, T] and its row sums [G, R, S], where
/// logits = scale * QK^T + bias - alibi * distance(i, j), -inf where `keys`
/// hides a key. The part of attention that attn.sdpa, attn.attention_probs
/// and attn.decode_attention share. Heads are split as [kv_heads (g),
/// group (r)] so that query head h = g * group + r reads key/value head g
/// with projected-permutation maps.
static std::pair<Value, Value>
softmaxNumerators(OpBuilder &rewriter, Location loc, Value scores, float scale,
                  Value bias, Value alibi, const AttentionSizes &n,
                  const KeyRule &keys);

static std::pair<Value, Value>
unnormalizedWeights(OpBuilder &rewriter, Location loc, float scale,
                    Value query, Value key, Value bias, Value alibi,
                    const AttentionSizes &n, const KeyRule &keys) {
  auto [S, T, G, R, D] = n;
  Type f32 = rewriter.getF32Type();
  using utils::IteratorType;
  const IteratorType par = IteratorType::parallel, red = IteratorType::reduction;

  // q: [S, H*D] -> [S, G, R, D]; k: [T, G*D] -> [T, G, D].
  Value q = rewriter.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({S, G, R, D}, f32), query,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  Value k = rewriter.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({T, G, D}, f32), key,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});

  // scores[g, r, i, j] = sum_d q[i, g, r, d] * k[j, g, d], into an [H, S,
  // T] tensor seen as [G, R, S, T]: attention_probs returns it, and
  // attn-expose-c-abi can then make it the caller's buffer.
  enum { g, r, i, j, d };
  GenericBuilder gen5(rewriter, loc, 5);
  Value zero = f32Const(rewriter, loc, 0.0f);
  Value scoresInit = rewriter.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({G, R, S, T}, f32),
      rewriter
          .create<linalg::FillOp>(loc, zero,
                                  emptyF32(rewriter, loc, {G * R, S, T}))
          .getResult(0),
      ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
  Value scores = gen5.generic(
      {q, k}, scoresInit,
      {gen5.map({i, g, r, d}), gen5.map({j, g, d}), gen5.map({g, r, i, j})},
      {par, par, par, par, red}, yieldMultiplyAccumulate);
  return softmaxNumerators(rewriter, loc, scores, scale, bias, alibi, n, keys);
}

/// From scores [G, R, S, T] (q . k): exp(logits - rowMax) and its row sums,
/// as unnormalizedWeights says.
static std::pair<Value, Value>
softmaxNumerators(OpBuilder &rewriter, Location loc, Value scores, float scale,
                  Value bias, Value alibi, const AttentionSizes &n,
                  const KeyRule &keys) {
  int64_t S = n.S, G = n.G, R = n.R; // the head dimension is gone
  using utils::IteratorType;
  const IteratorType par = IteratorType::parallel, red = IteratorType::reduction;
  enum { g, r, i, j };

  // logits[g, r, i, j] = scale * scores + bias[i, j] - alibi[g*R + r] * |i - j|,
  // or -inf where the mask hides key j from query i. bias and alibi are
  // optional; query head h = g * R + r reads slope alibi[h].
  //
  // Each [G, R, S, T] step below writes over the one before (its `outs`),
  // so that bufferization keeps a single [H, S, T] buffer, the one
  // attention_probs returns: with a buffer per step, two heads of 4096
  // tokens took 402.7 MB of temporaries besides the output, now 4.3 MB.
  GenericBuilder gen4(rewriter, loc, 4);
  AffineMap all4 = gen4.map({g, r, i, j});
  AffineMap rows4 = gen4.map({g, r, i});
  SmallVector<Value> logitInputs;
  SmallVector<AffineMap> logitMaps;
  if (bias) {
    logitInputs.push_back(bias);
    logitMaps.push_back(gen4.map({i, j}));
  }
  if (alibi) {
    logitInputs.push_back(alibi);
    logitMaps.push_back(gen4.mapOf(rewriter.getAffineDimExpr(g) * R +
                                   rewriter.getAffineDimExpr(r)));
  }
  logitMaps.push_back(all4);
  Value logits = gen4.generic(
      logitInputs, scores, logitMaps,
      {par, par, par, par}, [&](OpBuilder &b, Location l, ValueRange a) {
        Value scaled = b.create<arith::MulFOp>(
            l, a.back(),
            b.create<arith::ConstantOp>(l, b.getF32FloatAttr(scale)));
        unsigned next = 0;
        if (bias)
          scaled = b.create<arith::AddFOp>(l, scaled, a[next++]);
        Value qi, kj;
        if (keys.hidesKeys || alibi) {
          qi = b.create<linalg::IndexOp>(l, i);
          kj = b.create<linalg::IndexOp>(l, j);
        }
        if (alibi) {
          Value penalty =
              b.create<arith::MulFOp>(l, a[next++], keys.distance(b, l, qi, kj));
          scaled = b.create<arith::SubFOp>(l, scaled, penalty);
        }
        if (Value visible = keys.hidesKeys ? keys.visible(b, l, qi, kj) : Value()) {
          Value negInf = b.create<arith::ConstantOp>(
              l, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
          scaled = b.create<arith::SelectOp>(l, visible, scaled, negInf);
        }
        b.create<linalg::YieldOp>(l, scaled);
      });

  // rowMax[g, r, i] = max_j logits
  Value rowMax = gen4.generic(
      {logits},
      filled(rewriter, loc, {G, R, S}, -std::numeric_limits<float>::infinity()),
      {all4, rows4}, {par, par, par, red},
      [](OpBuilder &b, Location l, ValueRange a) {
        b.create<linalg::YieldOp>(
            l, ValueRange{b.create<arith::MaximumFOp>(l, a[0], a[1])});
      });

  // weights = exp(logits - rowMax); a row with no visible key is all zero
  // (its max is -inf, and exp(-inf - -inf) would be NaN).
  Value weights = gen4.generic(
      {rowMax}, logits, {rows4, all4}, {par, par, par, par},
      [](OpBuilder &b, Location l, ValueRange a) {
        b.create<linalg::YieldOp>(l, softmaxExp(b, l, a[1], a[0]));
      });

  // rowSum[g, r, i] = sum_j weights
  Value rowSum = gen4.generic(
      {weights}, filled(rewriter, loc, {G, R, S}, 0.0f), {all4, rows4},
      {par, par, par, red}, [](OpBuilder &b, Location l, ValueRange a) {
        b.create<linalg::YieldOp>(
            l, ValueRange{b.create<arith::AddFOp>(l, a[0], a[1])});
      });
  return {weights, rowSum};
}

/// a / b, or 0 where b is 0: normalizes rows that may have no visible key.
static Value divideOrZero(OpBuilder &b, Location l, Value a, Value bValue) {
  Value zero = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(0.0f));
  Value empty =
      b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, bValue, zero);
  Value q = b.create<arith::DivFOp>(l, a, bValue);
  return b.create<arith::SelectOp>(l, empty, zero, q);
}

/// sum_j weights[g, r, i, j] * v[j, g, d] / rowSum[g, r, i] as [S, H*D]
/// (0 for rows with no visible key): the second half of attention.
static Value weightedValues(OpBuilder &rewriter, Location loc, Value weights,
                            Value rowSum, Value value, const AttentionSizes &n) {
  auto [S, T, G, R, D] = n;
  Type f32 = rewriter.getF32Type();
  using utils::IteratorType;
  const IteratorType par = IteratorType::parallel, red = IteratorType::reduction;
  Value v = rewriter.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({T, G, D}, f32), value,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  enum { g, r, i, j, d };
  GenericBuilder gen5(rewriter, loc, 5);

  // unnormalized[i, g, r, d] = sum_j weights[g, r, i, j] * v[j, g, d]
  Value unnormalized = gen5.generic(
      {weights, v}, filled(rewriter, loc, {S, G, R, D}, 0.0f),
      {gen5.map({g, r, i, j}), gen5.map({j, g, d}), gen5.map({i, g, r, d})},
      // iteration order (g, r, i, j, d) with j the reduction
      {par, par, par, red, par}, yieldMultiplyAccumulate);

  // out = unnormalized / rowSum, 0 for rows with no visible key.
  enum { oi, og, orr, od };
  GenericBuilder genOut(rewriter, loc, 4);
  Value out = genOut.generic(
      {unnormalized, rowSum},
      rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{S, G, R, D}, f32),
      {genOut.map({oi, og, orr, od}), genOut.map({og, orr, oi}),
       genOut.map({oi, og, orr, od})},
      {par, par, par, par}, [](OpBuilder &b, Location l, ValueRange a) {
        b.create<linalg::YieldOp>(l, divideOrZero(b, l, a[0], a[1]));
      });
  return rewriter.create<tensor::CollapseShapeOp>(
      loc, RankedTensorType::get({S, G * R * D}, f32), out,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
}

/// attn.sdpa as QK^T, mask, softmax and PV over materialized scores.
struct SdpaToLinalg : OpConversionPattern<attn::SdpaOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::SdpaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t S = op.getQuery().getType().getDimSize(0);
    int64_t T = op.getKey().getType().getDimSize(0);
    int64_t G = op.getKvHeads(), R = op.getHeads() / G, D = op.getHeadDim();
    AttentionSizes sizes{S, T, G, R, D};
    auto [weights, rowSum] = unnormalizedWeights(
        rewriter, loc, op.getScale().convertToFloat(), adaptor.getQuery(),
        adaptor.getKey(), adaptor.getBias(), adaptor.getAlibi(), sizes,
        positionalKeys(op.getMask(), op.getWindow().value_or(0)));
    rewriter.replaceOp(op, weightedValues(rewriter, loc, weights, rowSum,
                                          adaptor.getValue(), sizes));
    return success();
  }
};

/// attn.attention_probs: the normalized softmax weights, [H, S, T].
struct AttentionProbsToLinalg : OpConversionPattern<attn::AttentionProbsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::AttentionProbsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t S = op.getQuery().getType().getDimSize(0);
    int64_t T = op.getKey().getType().getDimSize(0);
    int64_t G = op.getKvHeads(), R = op.getHeads() / G;
    int64_t D = op.getQuery().getType().getDimSize(1) / op.getHeads();
    auto [weights, rowSum] = unnormalizedWeights(
        rewriter, loc, op.getScale().convertToFloat(), adaptor.getQuery(),
        adaptor.getKey(), adaptor.getBias(), adaptor.getAlibi(),
        {S, T, G, R, D},
        positionalKeys(op.getMask(), op.getWindow().value_or(0)));
    enum { g, r, i, j };
    GenericBuilder gen4(rewriter, loc, 4);
    const auto par = utils::IteratorType::parallel;
    // Normalized in place, like the steps before (softmaxNumerators).
    Value probs = gen4.generic(
        {rowSum}, weights, {gen4.map({g, r, i}), gen4.map({g, r, i, j})},
        {par, par, par, par}, [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(l, divideOrZero(b, l, a[1], a[0]));
        });
    // Query head h = g * R + r, so [G, R] collapse to [H] in order.
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getResult().getType(), probs,
        ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
    return success();
  }
};

/// Ring slots of a decode step's caches in two pieces, [first, first +
/// count) each (the second empty unless the slots wrap past slot 0), every
/// bound a multiple of `multiple` (DynamicExtents.h).
struct SlotRanges {
  struct Piece {
    Value first, count;
  };
  std::array<Piece, 2> pieces;
  int64_t multiple;
};

/// Which of a product's dimensions runs over SlotRanges: the columns of
/// the scores (N, of the key cache) or the terms of the weighted sum (K,
/// the value cache's rows).
enum class SlotsAlong { Columns, Terms };

/// One matrix product per key/value head g: out[g] = a_g x b_g, with a_g
/// and b_g slice g of `lhs` ([G, M, K]) and `rhs` ([G, K, N]). The heads
/// are tasks for the thread pool: a step is bound by reading the caches,
/// and one thread alone reads them at about half the rate two do. With
/// `slots`, only their pieces of N or K take part, a product each: the
/// columns of out[g] outside them are left unset, and terms outside them
/// are not added. `sideBySide`: the pieces' columns of out (Columns) or
/// terms of lhs (Terms) lie one after the other from 0, in a compact
/// tile, rather than at their slots.
static Value productPerHead(OpBuilder &b, Location loc, Value lhs, Value rhs,
                            int64_t G, int64_t M, int64_t K, int64_t N,
                            std::optional<SlotRanges> slots = std::nullopt,
                            SlotsAlong along = SlotsAlong::Columns,
                            bool sideBySide = false) {
  Type f32 = b.getF32Type();
  auto loop = b.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{b.getIndexAttr(G)},
      ValueRange{emptyF32(b, loc, {G, M, N})}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  OpFoldResult g = loop.getInductionVars()[0];
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult rows = b.getIndexAttr(M), kAll = b.getIndexAttr(K),
               nAll = b.getIndexAttr(N);
  // Head g's [rowCount, cols] of a [G, rows, cols] tensor.
  auto slice = [&](Value t, OpFoldResult row, OpFoldResult rowCount,
                   OpFoldResult col, OpFoldResult cols) -> Value {
    auto extent = [](OpFoldResult size) {
      return getConstantIntValue(size).value_or(ShapedType::kDynamic);
    };
    return b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({extent(rowCount), extent(cols)}, f32), t,
        ArrayRef<OpFoldResult>{g, row, col},
        ArrayRef<OpFoldResult>{one, rowCount, cols},
        ArrayRef<OpFoldResult>{one, one, one});
  };
  auto zeros = [&](Value t) {
    return b.create<linalg::FillOp>(loc, f32Const(b, loc, 0.0f), t)
        .getResult(0);
  };
  auto matmul = [&](Value a, Value bBlock, Value c) -> Value {
    auto product =
        b.create<linalg::MatmulOp>(loc, ValueRange{a, bBlock}, ValueRange{c});
    if (slots)
      product->setAttr(attnc::kExtentMultipleAttr,
                       b.getI64IntegerAttr(slots->multiple));
    return product.getResult(0);
  };
  // The pieces of the dimension `along` runs over (all of it without
  // `slots`): their first slot, their length, and where they lie in the
  // compact tile (at their slot unless `sideBySide`).
  SmallVector<std::tuple<OpFoldResult, OpFoldResult, OpFoldResult>> pieces;
  if (slots) {
    auto [recent, older] = slots->pieces;
    pieces.push_back(
        {recent.first, recent.count, sideBySide ? zero : recent.first});
    pieces.push_back({older.first, older.count,
                      sideBySide ? recent.count : older.first});
  } else {
    OpFoldResult all = along == SlotsAlong::Terms ? kAll : nAll;
    pieces.push_back({zero, all, zero});
  }
  Value out = loop.getRegionIterArgs()[0];
  // Results and the columns of out[g] they go to.
  SmallVector<std::tuple<Value, OpFoldResult, OpFoldResult>> results;
  if (along == SlotsAlong::Columns) {
    Value a = slice(lhs, zero, rows, zero, kAll);
    for (auto [first, count, placed] : pieces)
      results.push_back({matmul(a, slice(rhs, zero, kAll, first, count),
                                zeros(slice(out, zero, rows, placed, count))),
                         placed, count});
  } else {
    Value sum = zeros(slice(out, zero, rows, zero, nAll));
    for (auto [first, count, placed] : pieces)
      sum = matmul(slice(lhs, zero, rows, placed, count),
                   slice(rhs, first, count, zero, nAll), sum);
    results.push_back({sum, zero, nAll});
  }
  b.setInsertionPointToStart(loop.getTerminator().getBody());
  for (auto [result, first, count] : results)
    b.create<tensor::ParallelInsertSliceOp>(
        loc, result, out, ArrayRef<OpFoldResult>{g, zero, first},
        ArrayRef<OpFoldResult>{one, rows, count},
        ArrayRef<OpFoldResult>{one, one, one});
  return loop.getResult(0);
}

/// attn.decode_attention. The token's key becomes column slot = position
/// mod C of the key cache ([width, C]) and its value row slot of each
/// head's block of the value cache ([G, C, D]); then, per key/value head g
/// (thread-pool tasks), the scores are the product q_g [R, D] x K_g [D, C]
/// and the output P_g [R, C] x V_g [C, D]: two plain matrix products over
/// contiguous blocks of the caches, which attn-contraction-microkernel
/// turns into vector FMAs. (With the values as [C, width] rows, V_g was a
/// 256-byte piece of every row: read at 13-14 GB/s where whole blocks read
/// at 21-24.) Between them, the
/// softmax of the materialized path with the ring's ages as the mask: row j
/// holds the token age(j) = (slot - j) mod C steps old, visible while
/// age(j) < min(span, position + 1) (span: the window, or C). Both
/// products read only the slots the token can see, rounded out to blocks
/// (visibleSlots, keySlots); under a window much shorter than the ring the
/// scores hold just those slots, side by side, so the softmax skips the
/// others too. Position 0 zeroes the value cache's other
/// rows first: the caches come uninitialized, and a zero weight times a
/// NaN row is NaN.
struct DecodeAttentionToLinalg : OpConversionPattern<attn::DecodeAttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  /// The slots a step's token sees, [slot + 1 - limit, slot] around the
  /// ring of C, rounded out to blocks of 64, 32 or 16 slots (the largest
  /// that divides C; none: nullopt, and the products read every slot): one
  /// piece, or two when the range wraps past slot 0 ([0, slot] and the
  /// older ones up to C - 1; one piece of the whole ring if the rounding
  /// makes them meet). Early in the context, and under window(N) with N
  /// below C, the products then read only part of the caches. The other
  /// slots' scores stay unset, which the softmax's mask selects away; the
  /// rounding's extra slots are masked too, and their values are tokens or
  /// the zeros position 0 writes, never uninitialized memory. (Every step
  /// read both caches whole: on the GPT-2 block, 6.3 MB of its 15.7
  /// whatever the position. Taking the whole ring whenever the range
  /// wrapped made the first N - 1 steps past each turn of the ring as dear
  /// as a causal model's: a window(256) block with a ring of 4096, from
  /// memory, 1.32 ms per step against 0.31 ms away from the wrap.)
  static std::optional<SlotRanges> visibleSlots(OpBuilder &b, Location loc,
                                                Value slot, Value limit,
                                                int64_t C) {
    int64_t multiple = 0;
    for (int64_t size : {64, 32, 16})
      if (C % size == 0) {
        multiple = size;
        break;
      }
    if (multiple == 0)
      return std::nullopt;
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    Value block = index(multiple);
    auto roundDown = [&](Value v) -> Value {
      return b.create<arith::MulIOp>(
          loc, b.create<arith::DivUIOp>(loc, v, block), block);
    };
    Value end = b.create<arith::AddIOp>(loc, slot, index(1));
    // end < limit: the range wraps past slot 0.
    Value wraps =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, end, limit);
    Value last = roundDown(b.create<arith::AddIOp>(loc, end, index(multiple - 1)));
    Value first = b.create<arith::SelectOp>(
        loc, wraps, index(0),
        roundDown(b.create<arith::SubIOp>(
            loc, end, b.create<arith::MinUIOp>(loc, end, limit))));
    // The older piece, from end + C - limit to C (empty when not wrapping).
    Value older = roundDown(b.create<arith::SelectOp>(
        loc, wraps,
        b.create<arith::SubIOp>(
            loc, b.create<arith::AddIOp>(loc, end, index(C)), limit),
        index(C)));
    Value meet =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt, last, older);
    last = b.create<arith::SelectOp>(loc, meet, index(C), last);
    older = b.create<arith::SelectOp>(loc, meet, index(C), older);
    return SlotRanges{
        {SlotRanges::Piece{first, b.create<arith::SubIOp>(loc, last, first)},
         SlotRanges::Piece{older,
                           b.create<arith::SubIOp>(loc, index(C), older)}},
        multiple};
  }

  /// The slots the scores read of the key cache ([width, C]: a slot is a
  /// column, so a range is a piece of every row): `slots` while they are at
  /// most a quarter of the ring, else all of it. Pieces of more measured
  /// slower than whole rows: a step of the GPT-2 block at 640-768 of 1024
  /// tokens (pieces of 2.8-3.3 KB of 4 KB rows) took 1.04-1.15x the time of
  /// one reading whole rows, with or without software prefetches of the
  /// next row's piece; at 64 tokens 0.73-0.78x, at 256 0.83-0.89x. The
  /// value cache keeps `slots` always, ranges of whole rows of a head's
  /// block.
  static std::optional<SlotRanges>
  keySlots(OpBuilder &b, Location loc, std::optional<SlotRanges> slots,
           int64_t C) {
    if (!slots)
      return std::nullopt;
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    auto [recent, older] = slots->pieces;
    Value few = b.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::ule,
        b.create<arith::AddIOp>(loc, recent.count, older.count),
        index(C / 4));
    auto orElse = [&](Value part, int64_t whole) -> Value {
      return b.create<arith::SelectOp>(loc, few, part, index(whole));
    };
    return SlotRanges{{SlotRanges::Piece{orElse(recent.first, 0),
                                         orElse(recent.count, C)},
                       SlotRanges::Piece{orElse(older.first, C),
                                         orElse(older.count, 0)}},
                      slots->multiple};
  }

  LogicalResult
  matchAndRewrite(attn::DecodeAttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getQuery().getType().getDimSize(0) != 1 || op.getCount())
      return rewriteChunk(op, adaptor, rewriter);
    Location loc = op.getLoc();
    auto keyCacheType = cast<MemRefType>(op.getKeyCache().getType());
    int64_t width = keyCacheType.getDimSize(0), C = keyCacheType.getDimSize(1);
    int64_t G = op.getKvHeads(), R = op.getHeads() / G;
    int64_t D = op.getQuery().getType().getDimSize(1) / op.getHeads();
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    auto constI64 = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIntOp>(loc, v, i64);
    };
    auto toIndex = [&](Value v) -> Value {
      return rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(), v);
    };
    Value position = adaptor.getPosition();
    Value slot =
        toIndex(rewriter.create<arith::RemUIOp>(loc, position, constI64(C)));
    int64_t span = op.getMask() == attn::MaskKind::window ? *op.getWindow() : C;
    Value seen = rewriter.create<arith::AddIOp>(loc, position, constI64(1));
    Value limit =
        toIndex(rewriter.create<arith::MinUIOp>(loc, seen, constI64(span)));

    // The writes come first and the caches are read as tensors after them,
    // so the tensors see the new token; nothing reads the caches before.
    auto attrs = [&](ArrayRef<int64_t> v) {
      return rewriter.getDenseI64ArrayAttr(v);
    };
    // The key as column slot of the key cache and the value as row slot of
    // each head's block of the value cache, element by element: a strided
    // memref.copy would become a call into MLIR's C runner utilities, which
    // kernels must not need; 2 x `width` scalar stores cost nothing next to
    // reading the caches.
    Value keyCache = adaptor.getKeyCache();
    Value valueCache = adaptor.getValueCache();
    {
      Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      Value end = rewriter.create<arith::ConstantIndexOp>(loc, width);
      Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      Value headDim = rewriter.create<arith::ConstantIndexOp>(loc, D);
      Value key = adaptor.getKey(), value = adaptor.getValue();
      rewriter.create<scf::ForOp>(
          loc, zero, end, one, ValueRange{},
          [&](OpBuilder &b, Location l, Value i, ValueRange) {
            Value k = b.create<tensor::ExtractOp>(l, key, ValueRange{zero, i});
            b.create<memref::StoreOp>(l, k, keyCache, ValueRange{i, slot});
            Value v =
                b.create<tensor::ExtractOp>(l, value, ValueRange{zero, i});
            Value g = b.create<arith::DivUIOp>(l, i, headDim);
            Value d = b.create<arith::RemUIOp>(l, i, headDim);
            b.create<memref::StoreOp>(l, v, valueCache, ValueRange{g, slot, d});
            b.create<scf::YieldOp>(l);
          });
    }
    // The first token (position 0) also zeroes the value cache's other
    // rows. The product P_g x V_g below runs over every row, and a weight of
    // 0 times a row never written (NaN, say) would not be 0; once zeroed,
    // every row holds a zero or a value some step wrote. (The key cache
    // needs nothing: unseen scores are selected away, never multiplied.)
    if (C > 1) {
      Value first = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, position, constI64(0));
      auto ifFirst = rewriter.create<scf::IfOp>(loc, first);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      Value rest = rewriter.create<memref::SubViewOp>(
          loc, MemRefType::get({G, C - 1, D}, f32,
                               StridedLayoutAttr::get(getContext(), D,
                                                      {C * D, D, 1})),
          valueCache, ValueRange{}, ValueRange{}, ValueRange{},
          attrs({0, 1, 0}), attrs({G, C - 1, D}), attrs({1, 1, 1}));
      rewriter.create<linalg::FillOp>(
          loc, ValueRange{f32Const(rewriter, loc, 0.0f)}, ValueRange{rest});
    }
    auto asTensor = [&](Value cache, ArrayRef<int64_t> shape) -> Value {
      return rewriter.create<bufferization::ToTensorOp>(
          loc, RankedTensorType::get(shape, f32), cache, /*restrict=*/true,
          /*writable=*/false);
    };
    Value keys = asTensor(keyCache, {width, C});
    Value values = asTensor(valueCache, {G, C, D});

    // q [1, H*D] -> [G, R, D]: query head h = g * R + r.
    Value q = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({G, R, D}, f32),
        rewriter.create<tensor::CollapseShapeOp>(
            loc, RankedTensorType::get({G * R * D}, f32), adaptor.getQuery(),
            ArrayRef<ReassociationIndices>{{0, 1}}),
        ArrayRef<ReassociationIndices>{{0, 1, 2}});

    // scores[g, r, j] = q_g[r, :] . K[g*D : (g+1)*D, j]
    Value keyHeads = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({G, D, C}, f32), keys,
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    std::optional<SlotRanges> slots =
        visibleSlots(rewriter, loc, slot, limit, C);
    // Under a window much shorter than the ring, the scores are a compact
    // tile of Tc columns, the visible pieces side by side (any range of
    // `span` slots rounded out to blocks fits), and the softmax runs over
    // those instead of all C: on a ring of 4096 under window(256), 320
    // columns. Up to a quarter of the ring, where the key cache's pieces
    // are read anyway (keySlots).
    int64_t Tc = C;
    if (slots) {
      int64_t block = slots->multiple;
      int64_t tile = (llvm::divideCeil(span, block) + 1) * block;
      if (tile <= C / 4)
        Tc = tile;
    }
    bool compact = Tc < C;
    Value scores = productPerHead(
        rewriter, loc, q, keyHeads, G, R, D, Tc,
        compact ? slots : keySlots(rewriter, loc, slots, C),
        SlotsAlong::Columns, compact);
    // The ring slot of score column j: j itself, or in the compact tile
    // the recent piece's, then the older piece's (columns past both are
    // unset and hidden).
    Value recentFirst, recentCount, olderFirst, columns;
    if (compact) {
      auto [recent, older] = slots->pieces;
      recentFirst = recent.first, recentCount = recent.count;
      olderFirst = older.first;
      columns = rewriter.create<arith::AddIOp>(loc, recent.count, older.count);
    }
    auto slotOf = [=](OpBuilder &b, Location l, Value j) -> Value {
      if (!compact)
        return j;
      Value inRecent =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, j, recentCount);
      return b.create<arith::SelectOp>(
          l, inRecent, b.create<arith::AddIOp>(l, recentFirst, j),
          b.create<arith::AddIOp>(
              l, olderFirst, b.create<arith::SubIOp>(l, j, recentCount)));
    };
    KeyRule ring{
        /*hidesKeys=*/true,
        [=](OpBuilder &b, Location l, Value, Value j) -> Value {
          Value seen = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::ult, age(b, l, slot, slotOf(b, l, j), C),
              limit);
          if (!compact)
            return seen;
          Value inTile =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, j, columns);
          return b.create<arith::AndIOp>(l, inTile, seen);
        },
        [=](OpBuilder &b, Location l, Value, Value j) -> Value {
          Value a = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), age(b, l, slot, slotOf(b, l, j), C));
          return b.create<arith::UIToFPOp>(l, b.getF32Type(), a);
        }};
    AttentionSizes sizes{1, Tc, G, R, D};
    Value scores4 = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({G, R, 1, Tc}, f32), scores,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    auto [weights, rowSum] =
        softmaxNumerators(rewriter, loc, scores4, op.getScale().convertToFloat(),
                          Value(), adaptor.getAlibi(), sizes, ring);

    // unnormalized[g, r, d] = P_g[r, :] . V[g, :, d]
    Value weights3 = rewriter.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({G, R, Tc}, f32), weights,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Value unnormalized =
        productPerHead(rewriter, loc, weights3, values, G, R, C, D, slots,
                       SlotsAlong::Terms, compact);

    // out = unnormalized / rowSum (a row that sees the token itself is never
    // empty, but the guard costs nothing).
    Value sums = rewriter.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({G, R}, f32), rowSum,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    GenericBuilder gen3(rewriter, loc, 3);
    const auto par = utils::IteratorType::parallel;
    Value out = gen3.generic(
        {unnormalized, sums}, emptyF32(rewriter, loc, {G, R, D}),
        {gen3.identity(), gen3.map({0, 1}), gen3.identity()}, {par, par, par},
        [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(l, divideOrZero(b, l, a[0], a[1]));
        });
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, op.getResult().getType(),
        rewriter.create<tensor::CollapseShapeOp>(
            loc, RankedTensorType::get({G * R * D}, f32), out,
            ArrayRef<ReassociationIndices>{{0, 1, 2}}),
        ArrayRef<ReassociationIndices>{{0, 1}});
    return success();
  }

  /// A chunk of N tokens at positions p .. p + N - 1, the first `count`
  /// real. Its tokens' keys and values cannot go into the ring before the
  /// scores as a step's do: a later token's would overwrite the slot of a
  /// token an earlier one still sees. So every query of the chunk attends
  /// over the cache's columns (the tokens before p; only the blocks of
  /// them its mask lets some token see) and then the chunk's N keys, each
  /// key/value head (or block of its query heads) a task with products for
  /// its scores and for its sum (the cache's part, the chunk's part); the
  /// tokens are stored afterwards. Cache slot j holds the token
  /// ((p - 1 - j) mod C) + 1 steps older than p, chunk key c the token p + c.
  LogicalResult rewriteChunk(attn::DecodeAttentionOp op, OpAdaptor adaptor,
                             ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto keyCacheType = cast<MemRefType>(op.getKeyCache().getType());
    int64_t width = keyCacheType.getDimSize(0), C = keyCacheType.getDimSize(1);
    int64_t N = op.getQuery().getType().getDimSize(0);
    int64_t G = op.getKvHeads(), R = op.getHeads() / G;
    int64_t D = op.getQuery().getType().getDimSize(1) / op.getHeads();
    int64_t T = C + N; // the score tile's columns; fewer under a window
    Type f32 = b.getF32Type(), i64 = b.getI64Type();
    auto constI64 = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIntOp>(loc, v, i64);
    };
    auto toIndex = [&](Value v) -> Value {
      return b.create<arith::IndexCastOp>(loc, b.getIndexType(), v);
    };
    auto attrs = [&](ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); };
    Value position = adaptor.getPosition();
    // The real rows, clamped to [0, N].
    Value count = adaptor.getCount() ? adaptor.getCount() : constI64(N);
    count = b.create<arith::MinSIOp>(
        loc, b.create<arith::MaxSIOp>(loc, count, constI64(0)), constI64(N));
    Value countIndex = toIndex(count);
    Value positionIndex = toIndex(position);
    int64_t span = op.getMask() == attn::MaskKind::window ? *op.getWindow() : C;
    // The slot of the token before the chunk: (p + C - 1) mod C.
    Value lastSlot = toIndex(b.create<arith::RemUIOp>(
        loc, b.create<arith::AddIOp>(loc, position, constI64(C - 1)),
        constI64(C)));

    // At position 0 no slot holds a token: the value cache is zeroed, as the
    // step does, since the products multiply every row (by 0 where hidden).
    Value valueCache = adaptor.getValueCache(), keyCache = adaptor.getKeyCache();
    {
      Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                            position, constI64(0));
      auto ifFirst = b.create<scf::IfOp>(loc, first);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      b.create<linalg::FillOp>(loc, ValueRange{f32Const(b, loc, 0.0f)},
                               ValueRange{valueCache});
    }
    auto asTensor = [&](Value cache, ArrayRef<int64_t> shape) -> Value {
      return b.create<bufferization::ToTensorOp>(
          loc, RankedTensorType::get(shape, f32), cache, /*restrict=*/true,
          /*writable=*/false);
    };
    using utils::IteratorType;
    const IteratorType par = IteratorType::parallel;
    GenericBuilder gen3(b, loc, 3), gen4(b, loc, 4);

    // The chunk's keys as columns, [G, D, N].
    Value chunkKeys = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({N, G, D}, f32), adaptor.getKey(),
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    enum { n3, g3, d3 };
    Value chunkKeysT = gen3.generic(
        {chunkKeys}, emptyF32(b, loc, {G, D, N}),
        {gen3.identity(), gen3.map({g3, d3, n3})}, {par, par, par},
        [](OpBuilder &nb, Location l, ValueRange a) {
          nb.create<linalg::YieldOp>(l, a[0]);
        });
    Value cacheKeys = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({G, D, C}, f32),
        asTensor(keyCache, {width, C}),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    // The chunk's values [G, N, D], 0 past `count` (those rows are not
    // tokens, and their weights' zeros times a NaN there would not be 0).
    Value chunkValues = gen3.generic(
        {b.create<tensor::ExpandShapeOp>(
            loc, RankedTensorType::get({N, G, D}, f32), adaptor.getValue(),
            ArrayRef<ReassociationIndices>{{0}, {1, 2}})},
        emptyF32(b, loc, {G, N, D}),
        {gen3.identity(), gen3.map({g3, n3, d3})}, {par, par, par},
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value real = nb.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::ult, nb.create<linalg::IndexOp>(l, n3),
              countIndex);
          nb.create<linalg::YieldOp>(
              l, ValueRange{nb.create<arith::SelectOp>(
                     l, real, a[0], f32Const(nb, l, 0.0f))});
        });
    Value cacheValues = asTensor(valueCache, {G, C, D});

    // Queries [G, R * N, D]: query head h = g * R + r, token n.
    enum { n4, g4, r4, d4 };
    Value q = gen4.generic(
        {b.create<tensor::ExpandShapeOp>(
            loc, RankedTensorType::get({N, G, R, D}, f32), adaptor.getQuery(),
            ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}})},
        emptyF32(b, loc, {G, R, N, D}),
        {gen4.identity(), gen4.map({g4, r4, n4, d4})}, {par, par, par, par},
        [](OpBuilder &nb, Location l, ValueRange a) {
          nb.create<linalg::YieldOp>(l, a[0]);
        });
    q = b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({G, R * N, D}, f32), q,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});

    // The cache slots some row of the chunk sees are the last
    // seen = min(span - 1, p) tokens before p (row n sees those fewer than
    // span - n steps older than itself, and none before position 0),
    // ending at lastSlot. The products over the cache visit the blocks of
    // Bk slots that hold them, from the oldest's around the ring: until
    // the ring is full a prefix of it, under window(N) about N / Bk + 1
    // blocks wherever they are; every block once when the range comes
    // within a block of the whole ring. The other blocks' scores stay
    // unset, which the softmax's mask replaces with -inf (a select), and
    // their weights, 0, multiply nothing. The chunks of a prompt in the
    // first context attended over every slot (on the GPT-2 block at 1024
    // tokens, 1088 keys per query whatever the position), and past it so
    // did a window's.
    int64_t Bk = C;
    for (int64_t size : {64, 32, 16, 8})
      if (C % size == 0) {
        Bk = size;
        break;
      }
    const int64_t ringBlocks = C / Bk;
    auto indexConst = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    const int64_t seenMost = std::min(span - 1, C - 1);
    Value seen =
        toIndex(b.create<arith::MinUIOp>(loc, position, constI64(seenMost)));
    // The oldest seen slot, (lastSlot + 1 - seen) mod C.
    Value oldest = b.create<arith::RemUIOp>(
        loc,
        b.create<arith::SubIOp>(
            loc, b.create<arith::AddIOp>(loc, lastSlot, indexConst(C + 1)),
            seen),
        indexConst(C));
    Value oldestBlock =
        b.create<arith::DivUIOp>(loc, oldest, indexConst(Bk));
    Value lastBlock = b.create<arith::DivUIOp>(loc, lastSlot, indexConst(Bk));
    Value around = b.create<arith::AddIOp>(
        loc,
        b.create<arith::RemUIOp>(
            loc,
            b.create<arith::SubIOp>(
                loc,
                b.create<arith::AddIOp>(loc, lastBlock,
                                        indexConst(ringBlocks)),
                oldestBlock),
            indexConst(ringBlocks)),
        indexConst(1));
    Value whole = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt,
                                          seen, indexConst(C - Bk));
    Value none = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                         seen, indexConst(0));
    Value seenBlocks = b.create<arith::SelectOp>(
        loc, none, indexConst(0),
        b.create<arith::SelectOp>(loc, whole, indexConst(ringBlocks),
                                  around));
    Value firstBlock =
        b.create<arith::SelectOp>(loc, whole, indexConst(0), oldestBlock);
    // Under window(N) with N well below C, the score tile holds only as
    // many blocks as N - 1 slots can touch, the seen blocks side by side
    // from column 0, then the chunk's N columns: the softmax, which runs
    // over every column of the tile, no longer goes over C + N of them
    // (512 tokens after a full ring of 4096 under window(256), one thread:
    // 27.7 ms with the products alone skipping blocks, 17.9 ms with the
    // smaller tile too). Tile column j < Tc (block i = j / Bk)
    // stands for ring slot ((firstBlock + i) mod C / Bk) * Bk + j mod Bk.
    // The tile's blocks from seenBlocks on are left unset; the slots they
    // stand for are in no seen block, so the ages mask them.
    const int64_t tileBlocks =
        seenMost > C - Bk
            ? ringBlocks
            : std::min<int64_t>(ringBlocks,
                                llvm::divideCeil(seenMost, Bk) + 1);
    const bool compact = tileBlocks < ringBlocks;
    const int64_t Tc = tileBlocks * Bk;
    T = Tc + N;
    // Token n's age of key j, as an index (n - c for chunk key c = j - Tc,
    // negative for a later token of the chunk), and whether it sees it.
    // The slot a cache column j stands for is lastSlot - slot steps older
    // than p - 1, plus C when that is negative: a select, not a remainder,
    // which would be a division per score.
    auto slotOf = [=](OpBuilder &nb, Location l, Value j) -> Value {
      if (!compact)
        return j;
      auto constant = [&](int64_t v) -> Value {
        return nb.create<arith::ConstantIndexOp>(l, v);
      };
      Value i = nb.create<arith::DivUIOp>(l, j, constant(Bk));
      Value ring = nb.create<arith::AddIOp>(l, firstBlock, i);
      // firstBlock + i < 2 C / Bk: a select, not a remainder.
      ring = nb.create<arith::SelectOp>(
          l,
          nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, ring,
                                   constant(ringBlocks)),
          nb.create<arith::SubIOp>(l, ring, constant(ringBlocks)), ring);
      // + j - i * Bk, j's place in its block.
      return nb.create<arith::AddIOp>(
          l, nb.create<arith::MulIOp>(l, ring, constant(Bk)),
          nb.create<arith::SubIOp>(
              l, j, nb.create<arith::MulIOp>(l, i, constant(Bk))));
    };
    auto ageOf = [=](OpBuilder &nb, Location l, Value n, Value j) -> Value {
      Value cC = nb.create<arith::ConstantIndexOp>(l, C);
      Value cTc = nb.create<arith::ConstantIndexOp>(l, Tc);
      Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
      Value inCache = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult,
                                               j, cTc);
      Value back = nb.create<arith::SubIOp>(l, lastSlot, slotOf(nb, l, j));
      Value wrapped = nb.create<arith::SelectOp>(
          l,
          nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, back, zero),
          nb.create<arith::AddIOp>(l, back, cC), back);
      Value cacheAge = nb.create<arith::AddIOp>(
          l, nb.create<arith::AddIOp>(l, n, wrapped),
          nb.create<arith::ConstantIndexOp>(l, 1));
      Value chunkAge = nb.create<arith::SubIOp>(
          l, n, nb.create<arith::SubIOp>(l, j, cTc));
      return nb.create<arith::SelectOp>(l, inCache, cacheAge, chunkAge);
    };
    KeyRule visibleKeys{
        /*hidesKeys=*/true,
        [=](OpBuilder &nb, Location l, Value n, Value j) -> Value {
          // 0 <= age < min(span, p + n + 1): the token itself, or earlier
          // within the mask, and no earlier than the first token.
          Value a = ageOf(nb, l, n, j);
          Value seen = nb.create<arith::AddIOp>(
              l, nb.create<arith::AddIOp>(l, positionIndex, n),
              nb.create<arith::ConstantIndexOp>(l, 1));
          Value limit = nb.create<arith::MinUIOp>(
              l, seen, nb.create<arith::ConstantIndexOp>(l, span));
          Value notLater = nb.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::sge, a,
              nb.create<arith::ConstantIndexOp>(l, 0));
          Value recent =
              nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, a, limit);
          return nb.create<arith::AndIOp>(l, notLater, recent);
        },
        [=](OpBuilder &nb, Location l, Value n, Value j) -> Value {
          Value a = nb.create<arith::IndexCastOp>(l, nb.getI64Type(),
                                                  ageOf(nb, l, n, j));
          return nb.create<arith::SIToFPOp>(l, nb.getF32Type(), a);
        }};
    // One task per key/value head g and block of Rb = R / P of its query
    // heads: their scores over the cache's keys and the chunk's ([Rb * N,
    // T]), their softmax, and the weighted sum of the cache's values
    // and the chunk's, each a product into its part of the scores or onto
    // the sum, so that neither cache is copied. With fewer than 8 key/value
    // heads a group's query heads are split into P blocks, P the smallest
    // divisor of R that makes 8 tasks (or R): a block's task reads the
    // group's caches again, over Rb * N >= N rows of products. With one
    // task per group, a multi-query model's chunk ran its attention on one
    // thread (H8 with one key/value head, 512 queries x 1088 keys per
    // chunk: 8 chunks after a full 1024-token context took 13.9-19.3 ms on
    // two threads against 24.5 on one).
    auto index = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
    auto part = [&](Value t, ArrayRef<OpFoldResult> offsets,
                    ArrayRef<int64_t> sizes) -> Value {
      SmallVector<OpFoldResult> sizeFolds, strides;
      for (int64_t size : sizes) {
        sizeFolds.push_back(index(size));
        strides.push_back(index(1));
      }
      return b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get(sizes, f32), t, offsets, sizeFolds,
          strides);
    };
    auto headOf = [&](Value t, Value g, int64_t rows, int64_t cols) -> Value {
      Value slice = b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({1, rows, cols}, f32), t, ValueRange{g},
          ValueRange{}, ValueRange{}, attrs({ShapedType::kDynamic, 0, 0}),
          attrs({1, rows, cols}), attrs({1, 1, 1}));
      return b.create<tensor::CollapseShapeOp>(
          loc, RankedTensorType::get({rows, cols}, f32), slice,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    };
    auto matmulInto = [&](Value lhs, Value rhs, Value acc) -> Value {
      return b.create<linalg::MatmulOp>(loc, ValueRange{lhs, rhs},
                                        ValueRange{acc})
          .getResult(0);
    };
    const int64_t P = blocksPerGroup(G, R);
    const int64_t Rb = R / P, M = Rb * N;
    // The tasks' results as [G * P, M, D]: the group's blocks in order are
    // its [R * N, D] rows.
    auto heads = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{index(G * P)},
        ValueRange{emptyF32(b, loc, {G * P, M, D})}, std::nullopt);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(heads.getBody());
      Value task = heads.getInductionVars()[0];
      Value g = task, block = b.create<arith::ConstantIndexOp>(loc, 0);
      if (P > 1) {
        Value pConst = b.create<arith::ConstantIndexOp>(loc, P);
        g = b.create<arith::DivUIOp>(loc, task, pConst);
        block = b.create<arith::RemUIOp>(loc, task, pConst);
      }
      // The block's rows of the group's queries [R * N, D].
      Value qSlice = b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({1, M, D}, f32), q,
          ValueRange{g, b.create<arith::MulIOp>(
                            loc, block,
                            b.create<arith::ConstantIndexOp>(loc, M))},
          ValueRange{}, ValueRange{},
          attrs({ShapedType::kDynamic, ShapedType::kDynamic, 0}),
          attrs({1, M, D}), attrs({1, 1, 1}));
      Value qg = b.create<tensor::CollapseShapeOp>(
          loc, RankedTensorType::get({M, D}, f32), qSlice,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
      Value scores = emptyF32(b, loc, {M, T});
      Value zero = f32Const(b, loc, 0.0f);
      auto zeros = [&](Value t) {
        return b.create<linalg::FillOp>(loc, zero, t).getResult(0);
      };
      // Columns [column, column + cols) of `t` (rows whole).
      auto columns = [&](Value t, int64_t rows, Value column,
                         int64_t cols) -> Value {
        return b.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get({rows, cols}, f32), t,
            ValueRange{column}, ValueRange{}, ValueRange{},
            attrs({0, ShapedType::kDynamic}), attrs({rows, cols}),
            attrs({1, 1}));
      };
      Value c0 = b.create<arith::ConstantIndexOp>(loc, 0);
      Value c1 = b.create<arith::ConstantIndexOp>(loc, 1);
      Value blockSize = b.create<arith::ConstantIndexOp>(loc, Bk);
      // `body` over the seen blocks of the cache, given each block's
      // first slot, its first column in the score tile and the value
      // carried from block to block.
      auto overSeenBlocks =
          [&](Value init,
              function_ref<Value(Value slot, Value column, Value acc)> body)
          -> Value {
        auto loop =
            b.create<scf::ForOp>(loc, c0, seenBlocks, c1, ValueRange{init});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value i = loop.getInductionVar();
        Value slot = b.create<arith::MulIOp>(
            loc,
            b.create<arith::RemUIOp>(
                loc, b.create<arith::AddIOp>(loc, firstBlock, i),
                b.create<arith::ConstantIndexOp>(loc, ringBlocks)),
            blockSize);
        Value column =
            compact ? b.create<arith::MulIOp>(loc, i, blockSize) : slot;
        b.create<scf::YieldOp>(
            loc, body(slot, column, loop.getRegionIterArgs()[0]));
        return loop.getResult(0);
      };
      Value keysG = headOf(cacheKeys, g, D, C);
      scores = overSeenBlocks(scores, [&](Value slot, Value column,
                                          Value acc) {
        Value product = matmulInto(qg, columns(keysG, D, slot, Bk),
                                   zeros(columns(acc, M, column, Bk)));
        return b.create<tensor::InsertSliceOp>(
            loc, product, acc, ValueRange{column}, ValueRange{},
            ValueRange{}, attrs({0, ShapedType::kDynamic}), attrs({M, Bk}),
            attrs({1, 1}));
      });
      Value fromChunk = matmulInto(qg, headOf(chunkKeysT, g, D, N),
                                   zeros(part(scores, {index(0), index(Tc)},
                                              {M, N})));
      scores = b.create<tensor::InsertSliceOp>(
          loc, fromChunk, scores, ValueRange{}, ValueRange{}, ValueRange{},
          attrs({0, Tc}), attrs({M, N}), attrs({1, 1}));
      // The block's Rb slopes (heads g * R + block * Rb on), which
      // softmaxNumerators reads as head r of one group.
      Value alibi = adaptor.getAlibi();
      if (alibi)
        alibi = b.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get({Rb}, f32), alibi,
            ValueRange{b.create<arith::MulIOp>(
                loc, task, b.create<arith::ConstantIndexOp>(loc, Rb))},
            ValueRange{}, ValueRange{}, attrs({ShapedType::kDynamic}),
            attrs({Rb}), attrs({1}));
      Value scores4 = b.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get({1, Rb, N, T}, f32), scores,
          ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      auto [weights, rowSum] = softmaxNumerators(
          rewriter, loc, scores4, op.getScale().convertToFloat(), Value(),
          alibi, AttentionSizes{N, T, 1, Rb, D}, visibleKeys);
      Value weights2 = b.create<tensor::CollapseShapeOp>(
          loc, RankedTensorType::get({M, T}, f32), weights,
          ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      Value valuesG = headOf(cacheValues, g, C, D);
      Value sum = overSeenBlocks(
          zeros(emptyF32(b, loc, {M, D})),
          [&](Value slot, Value column, Value acc) {
            Value rows = b.create<tensor::ExtractSliceOp>(
                loc, RankedTensorType::get({Bk, D}, f32), valuesG,
                ValueRange{slot}, ValueRange{}, ValueRange{},
                attrs({ShapedType::kDynamic, 0}), attrs({Bk, D}),
                attrs({1, 1}));
            return matmulInto(columns(weights2, M, column, Bk), rows, acc);
          });
      sum = matmulInto(part(weights2, {index(0), index(Tc)}, {M, N}),
                       headOf(chunkValues, g, N, D), sum);
      // Every token sees itself, so its row sum is at least 1 (the guard
      // is for the rows past `count`, whose outputs mean nothing).
      Value sums = b.create<tensor::CollapseShapeOp>(
          loc, RankedTensorType::get({M}, f32), rowSum,
          ArrayRef<ReassociationIndices>{{0, 1, 2}});
      GenericBuilder gen2(b, loc, 2);
      Value normalized = gen2.generic(
          {sum, sums}, emptyF32(b, loc, {M, D}),
          {gen2.identity(), gen2.map({0}), gen2.identity()}, {par, par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(l, divideOrZero(nb, l, a[0], a[1]));
          });
      Value result = b.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get({1, M, D}, f32), normalized,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
      b.setInsertionPointToStart(heads.getTerminator().getBody());
      b.create<tensor::ParallelInsertSliceOp>(
          loc, result, heads.getRegionIterArgs()[0], ValueRange{task},
          ValueRange{}, ValueRange{}, attrs({ShapedType::kDynamic, 0, 0}),
          attrs({1, M, D}), attrs({1, 1, 1}));
    }
    // out[n, g, r, d], from the tasks' [G * P, Rb * N, D] = [G, R, N, D].
    Value byHead = b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({G, R, N, D}, f32),
        b.create<tensor::ExpandShapeOp>(
            loc, RankedTensorType::get({G, P, Rb, N, D}, f32),
            heads.getResult(0),
            ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}, {4}}),
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
    Value out = gen4.generic(
        {byHead}, emptyF32(b, loc, {N, G, R, D}),
        {gen4.map({g4, r4, n4, d4}), gen4.identity()}, {par, par, par, par},
        [](OpBuilder &nb, Location l, ValueRange a) {
          nb.create<linalg::YieldOp>(l, a[0]);
        });

    // Then the tokens' keys and values go to their slots, (p + n) mod C, in
    // order (a chunk longer than the context keeps each slot's last token).
    {
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      Value one = b.create<arith::ConstantIndexOp>(loc, 1);
      Value end = b.create<arith::ConstantIndexOp>(loc, width);
      Value headDim = b.create<arith::ConstantIndexOp>(loc, D);
      Value cC = b.create<arith::ConstantIndexOp>(loc, C);
      Value key = adaptor.getKey(), value = adaptor.getValue();
      b.create<scf::ForOp>(
          loc, zero, countIndex, one, ValueRange{},
          [&](OpBuilder &ob, Location l, Value n, ValueRange) {
            Value slot = ob.create<arith::RemUIOp>(
                l, ob.create<arith::AddIOp>(l, positionIndex, n), cC);
            ob.create<scf::ForOp>(
                l, zero, end, one, ValueRange{},
                [&](OpBuilder &ib, Location il, Value i, ValueRange) {
                  Value k = ib.create<tensor::ExtractOp>(il, key,
                                                         ValueRange{n, i});
                  ib.create<memref::StoreOp>(il, k, keyCache,
                                             ValueRange{i, slot});
                  Value v = ib.create<tensor::ExtractOp>(il, value,
                                                         ValueRange{n, i});
                  Value g = ib.create<arith::DivUIOp>(il, i, headDim);
                  Value d = ib.create<arith::RemUIOp>(il, i, headDim);
                  ib.create<memref::StoreOp>(il, v, valueCache,
                                             ValueRange{g, slot, d});
                  ib.create<scf::YieldOp>(il);
                });
            ob.create<scf::YieldOp>(l);
          });
    }
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getResult().getType(), out,
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    return success();
  }

  /// (slot - j) mod C, for 0 <= slot, j < C.
  static Value age(OpBuilder &b, Location l, Value slot, Value j, int64_t C) {
    Value c = b.create<arith::ConstantIndexOp>(l, C);
    Value ahead = b.create<arith::AddIOp>(l, b.create<arith::SubIOp>(l, slot, j), c);
    return b.create<arith::RemUIOp>(l, ahead, c);
  }
};

struct ConvertAttnToLinalgPass
    : attnc::impl::ConvertAttnToLinalgBase<ConvertAttnToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<attn::AttnDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateAttentionPatterns(patterns);
    populateFlashAttentionPatterns(patterns);
    populateHeadsPatterns(patterns);
    populateSoftmaxMaskPatterns(patterns);
    populateElementwisePatterns(patterns);
    populateNormPatterns(patterns);
    populateRopePatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void attnc::lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearToMatmul, SdpaToLinalg, AttentionProbsToLinalg,
               DecodeAttentionToLinalg>(patterns.getContext());
}
