//===- SdpaToFlash.cpp - attn.sdpa as tiled online softmax ----------------===//
//
// Flash attention: for every query head and query tile, walk the key tiles
// the mask leaves visible, keeping a running row max m, a running row sum l
// and an unnormalized accumulator acc:
//
//   s     = (scale * q_tile) k_tile^T  (+ bias, - alibi |i - j|, -inf masked)
//   m'    = max(m, rowmax(s))
//   p     = exp(s - m')
//   alpha = exp(m - m')                 rescales what was summed before
//   l'    = alpha * l + rowsum(p)
//   acc'  = alpha * acc + p v_tile
//   out   = acc / l                     (0 for a row that saw no key)
//
// in base 2: the scores are computed multiplied by log2(e), folded into the
// scale (and into bias and ALiBi slopes), and exp(x) is 2^(x log2(e)),
// whose range reduction is exact and cheaper (SoftmaxExp.cpp).
//
// The scores are kept transposed, [key, query] = k_tile (scale q_tile)^T:
// then the row max and row sum of each query are elementwise across the
// rows of a 16-query vector (no horizontal reductions), both products read
// their operands as the contraction micro-kernel wants them (the query tile
// transposed once per tile, K and V tiles as they are stored). K and V are
// read in place, or, when their rows lie 4 KiB or more apart or a task's
// query tiles read them 16 times or more, from contiguous copies a task
// makes of its group's visible key tiles first (at most
// kMaxPackedHeadBytes).
//
// Only [tile, tile] scores, [tile, head_dim] accumulators, at most a copy
// of one V tile and those copies (O(T * D), bounded) exist at any time, so
// memory is O(tile * D) per task beyond the bounded copies, and key tiles
// entirely hidden by a causal or window mask are never visited; with
// square causal tiles the diagonal key tile's products skip what its mask
// hides, and a causal query tile wider than 64 queries (attnc --tile) runs
// its diagonal block in sub-tiles of 64, so it never computes the whole
// triangle past the diagonal either. The pattern applies to ops that carry
// the `attn.tiles` attribute chosen by attn-choose-tiles; the others keep
// the materialized lowering in AttnToLinalg.cpp.
//
// Tiles need not divide the lengths: the queries, keys and values (and a
// bias) are then copied into zero-padded buffers of whole tiles, O(S * D)
// (or the bias's [S, T]) once per call, by tasks in blocks of a tile's
// rows, and the keys past the last real one are masked wherever a real
// query could see them. The padded queries' outputs are computed and
// dropped.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "attnc/Transforms/CausalProducts.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace attnc::lowering;

namespace {

using utils::IteratorType;
constexpr IteratorType par = IteratorType::parallel;
constexpr IteratorType red = IteratorType::reduction;

/// Query rows of the sub-tiles a causal tile's diagonal block runs in.
constexpr int64_t kDiagonalRows = 64;

/// Most bytes of K and V a task copies into contiguous buffers (both
/// together): a K/V head group of up to 2 MiB (H32 S2048 D128's) is packed,
/// a longer context reads its key tiles in place, so that a task's scratch
/// stays O(tile * D) there (at most 1 MB per thread at S8192 D128, the limit
/// the memory benchmark checks).
constexpr int64_t kMaxPackedHeadBytes = 2 << 20;

/// A task copies its head group's K and V when their rows lie this many
/// bytes apart or more (each row of a key tile then sits on a page of its
/// own) ...
constexpr int64_t kMinPackedRowBytes = 4096;
/// ... or when its query tiles read them this many times or more (a query
/// tile of each of the group's heads reads them once): the aligned, dense
/// copy then pays for itself.
constexpr int64_t kMinReadsToPack = 16;

/// Whether a query tile of Tq rows runs its diagonal block in sub-tiles of
/// kDiagonalRows: causal tiles wider than that whose first query starts a
/// key tile.
bool splitsDiagonal(attn::SdpaOp op, int64_t Tq, int64_t Tk) {
  return op.getMask() == attn::MaskKind::causal && Tq > kDiagonalRows &&
         Tq % kDiagonalRows == 0 && Tq % Tk == 0;
}

Value indexConst(OpBuilder &b, Location l, int64_t v) {
  return b.create<arith::ConstantIndexOp>(l, v);
}

/// `first` OpTy `second` (arith.andi, arith.ori), or `second` alone when
/// there is no `first`: a condition built up from the parts that apply.
template <typename OpTy>
Value combine(OpBuilder &b, Location l, Value first, Value second) {
  return first ? b.create<OpTy>(l, first, second).getResult() : second;
}

/// `part` placed at (row, col) of `into`.
Value place(OpBuilder &b, Location loc, Value part, Value into, int64_t row,
            int64_t col) {
  auto shape = cast<RankedTensorType>(part.getType()).getShape();
  return b.create<tensor::InsertSliceOp>(
      loc, part, into, ValueRange{}, ValueRange{}, ValueRange{},
      b.getDenseI64ArrayAttr({row, col}), b.getDenseI64ArrayAttr(shape),
      b.getDenseI64ArrayAttr({1, 1}));
}

/// A [rows, cols] tensor whose first min(rows, rows of `value`) rows are
/// `value`'s and whose others are 0. Whole blocks of `blockRows` rows are
/// copied by the tasks of an scf.forall, the rest after it. At 1000 tokens
/// and 12 heads of 64 the padded queries, keys, values and output are 12
/// MB of copies; run in tasks instead of on one thread, two threads took
/// 9.10-9.49 ms instead of 9.65-9.89 causal and 17.19-17.49 instead of
/// 17.92-18.35 unmasked (8.58-8.74 and 16.33-16.42 at 1024 tokens).
Value copyRows(OpBuilder &b, Location loc, Value value, int64_t rows,
               int64_t blockRows) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t cols = type.getDimSize(1);
  int64_t copied = std::min(rows, type.getDimSize(0));
  int64_t blocks = copied / blockRows, inBlocks = blocks * blockRows;
  Value result = emptyF32(b, loc, {rows, cols});
  auto rowBlock = [&](Value row0, int64_t count, Value from) {
    return b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({count, cols}, b.getF32Type()), from,
        ValueRange{row0}, ValueRange{}, ValueRange{},
        b.getDenseI64ArrayAttr({ShapedType::kDynamic, 0}),
        b.getDenseI64ArrayAttr({count, cols}), b.getDenseI64ArrayAttr({1, 1}));
  };
  if (blocks > 0) {
    auto loop = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(blocks)},
        ValueRange{result}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value row0 = b.create<arith::MulIOp>(loc, loop.getInductionVars()[0],
                                         indexConst(b, loc, blockRows));
    Value block = rowBlock(row0, blockRows, value);
    b.setInsertionPointToStart(loop.getTerminator().getBody());
    b.create<tensor::ParallelInsertSliceOp>(
        loc, block, loop.getRegionIterArgs()[0], ValueRange{row0},
        ValueRange{}, ValueRange{},
        b.getDenseI64ArrayAttr({ShapedType::kDynamic, 0}),
        b.getDenseI64ArrayAttr({blockRows, cols}),
        b.getDenseI64ArrayAttr({1, 1}));
    result = loop.getResult(0);
  }
  if (copied > inBlocks)
    result = place(b, loc,
                   rowBlock(indexConst(b, loc, inBlocks), copied - inBlocks,
                            value),
                   result, inBlocks, 0);
  if (rows > copied)
    result = place(b, loc, filled(b, loc, {rows - copied, cols}, 0.0f), result,
                   copied, 0);
  return result;
}

/// `value` ([rows, cols]) in the leading corner of a [paddedRows,
/// paddedCols] tensor whose other elements are 0; `value` itself when
/// nothing is added. Only the added rows and columns are filled: a zero
/// fill of the whole, which `value` then overwrites, would write the
/// padded copy twice. Padded with rows only, it is copied in blocks of
/// `blockRows` rows in parallel (copyRows).
Value padWithZeros(OpBuilder &b, Location loc, Value value, int64_t paddedRows,
                   int64_t paddedCols, int64_t blockRows) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  if (rows == paddedRows && cols == paddedCols)
    return value;
  if (cols == paddedCols)
    return copyRows(b, loc, value, paddedRows, blockRows);
  Value padded =
      place(b, loc, value, emptyF32(b, loc, {paddedRows, paddedCols}), 0, 0);
  if (cols < paddedCols)
    padded = place(b, loc, filled(b, loc, {rows, paddedCols - cols}, 0.0f),
                   padded, 0, cols);
  if (rows < paddedRows)
    padded =
        place(b, loc, filled(b, loc, {paddedRows - rows, paddedCols}, 0.0f),
              padded, rows, 0);
  return padded;
}

struct SdpaToFlash : OpConversionPattern<attn::SdpaOp> {
  SdpaToFlash(MLIRContext *ctx)
      : OpConversionPattern<attn::SdpaOp>(ctx, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(attn::SdpaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto tiles = op->getAttrOfType<DenseI64ArrayAttr>("attn.tiles");
    if (!tiles || tiles.size() != 2)
      return rewriter.notifyMatchFailure(op, "no attn.tiles chosen");
    Location loc = op.getLoc();
    auto qType = op.getQuery().getType();
    int64_t S = qType.getDimSize(0), T = op.getKey().getType().getDimSize(0);
    int64_t G = op.getKvHeads(), R = op.getHeads() / G, D = op.getHeadDim();
    int64_t Tq = tiles[0], Tk = tiles[1];
    if (Tq <= 0 || Tk <= 0 || Tq > S || Tk > T)
      return rewriter.notifyMatchFailure(op, "tiles must fit the lengths");
    Type f32 = rewriter.getF32Type();
    OpBuilder &b = rewriter;
    // The lengths in whole tiles. S and T name the real ones below, Sp and
    // Tp the padded buffers' (equal when the tiles divide them).
    int64_t Sp = llvm::divideCeil(S, Tq) * Tq;
    int64_t Tp = llvm::divideCeil(T, Tk) * Tk;
    int64_t W = G * R * D;
    // A real query sees a padded key unless a causal or window mask hides
    // every key after it (then j <= i < S <= T).
    bool maskPaddedKeys =
        Tp != T && (op.getMask() == attn::MaskKind::none || S > T);

    // q: [Sp, H*D] -> [Sp, G, R, D]; k, v: [Tp, G*D] -> [Tp, G, D].
    Value q = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({Sp, G, R, D}, f32),
        padWithZeros(b, loc, adaptor.getQuery(), Sp, W, Tq),
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    SmallVector<ReassociationIndices> kvAssoc = {{0}, {1, 2}};
    auto kvType = RankedTensorType::get({Tp, G, D}, f32);
    Value k = b.create<tensor::ExpandShapeOp>(
        loc, kvType, padWithZeros(b, loc, adaptor.getKey(), Tp, G * D, Tk),
        kvAssoc);
    Value v = b.create<tensor::ExpandShapeOp>(
        loc, kvType, padWithZeros(b, loc, adaptor.getValue(), Tp, G * D, Tk),
        kvAssoc);
    // Scores in base 2: s log2(e), rounded once with the scale. A scale
    // above FLT_MAX / log2(e) (2.36e38) would fold into inf, and a zero
    // query feature times inf is NaN: such an op keeps the materialized
    // lowering, where the scale multiplies the scores themselves.
    constexpr double kLog2e = 1.4426950408889634;
    float scale = static_cast<float>(
        op.getScale().convertToDouble() * kLog2e);
    if (!std::isfinite(scale))
      return rewriter.notifyMatchFailure(op, "scale * log2(e) overflows f32");
    attn::MaskKind mask = op.getMask();
    int64_t window = op.getWindow().value_or(0);
    Value bias = adaptor.getBias(), alibi = adaptor.getAlibi();
    if (bias)
      bias = padWithZeros(b, loc, bias, Sp, Tp, Tq);

    Value c0 = indexConst(b, loc, 0), c1 = indexConst(b, loc, 1);
    // Tasks: head groups are independent (each reads its own K/V and writes
    // its own output columns), and so are blocks of query tiles. With few
    // groups (GQA, MQA) the query tiles are split into P blocks, P the
    // smallest divisor of their count that makes at least 8 tasks (or one
    // tile per block). P used to be a power of 2 dividing the count, so an
    // odd count (13 tiles at 197 tokens) kept one block and a multi-query
    // head ran on one thread.
    // The tasks are one scf.forall, which attn-outline-parallel-loops hands
    // to the runtime's thread pool; task i = (g, c) with g = i / P and
    // c = P - 1 - i % P computes into its [Sp/P, 1, R, D] slice of the
    // output. The pool hands tasks out in order, and with a causal or
    // window mask the later blocks see the most keys: a group's last
    // block first leaves the short ones to fill the gaps, as in
    // longest-first scheduling (H8 S1024 D64 causal, one key/value head,
    // 8 blocks, two threads: 6.7-6.8 ms first to last, 6.1-6.2 last to
    // first; one thread 12.0).
    int64_t numQueryTiles = Sp / Tq;
    int64_t P = blocksPerGroup(G, numQueryTiles);
    int64_t blockTiles = numQueryTiles / P, blockRows = blockTiles * Tq;
    // The output as the caller will see it, [S, H*D], so that
    // attn-expose-c-abi can replace it with the caller's buffer and the
    // tasks write there directly (padded: [Sp, H*D], copied out).
    Value out = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({Sp, G, R, D}, f32),
        emptyF32(b, loc, {Sp, W}),
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    auto gLoop = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(G * P)}, ValueRange{out},
        std::nullopt);
    b.setInsertionPointToStart(gLoop.getBody());
    Value task = gLoop.getInductionVars()[0];
    Value gIv = task, blockRow0 = c0;
    if (P > 1) {
      Value pConst = indexConst(b, loc, P);
      gIv = b.create<arith::DivUIOp>(loc, task, pConst);
      Value block = b.create<arith::SubIOp>(
          loc, indexConst(b, loc, P - 1),
          b.create<arith::RemUIOp>(loc, task, pConst));
      blockRow0 =
          b.create<arith::MulIOp>(loc, block, indexConst(b, loc, blockRows));
    }
    auto groupOutType = RankedTensorType::get({blockRows, 1, R, D}, f32);
    auto groupOffsets = b.getDenseI64ArrayAttr(
        {ShapedType::kDynamic, ShapedType::kDynamic, 0, 0});
    auto groupSizes = b.getDenseI64ArrayAttr({blockRows, 1, R, D});
    auto groupStrides = b.getDenseI64ArrayAttr({1, 1, 1, 1});
    Value groupOut = b.create<tensor::ExtractSliceOp>(
        loc, groupOutType, gLoop.getRegionIterArgs()[0],
        ValueRange{blockRow0, gIv}, ValueRange{}, ValueRange{}, groupOffsets,
        groupSizes, groupStrides);
    // Key tiles [kLo, kHi) that queries [row0, row0 + rows) can see: causal
    // and window masks hide whole key tiles.
    auto visibleKeyTiles = [&](Value row0,
                               int64_t rows) -> std::pair<Value, Value> {
      Value kLo = c0, kHi = indexConst(b, loc, Tp / Tk);
      if (mask != attn::MaskKind::none) {
        // The last query sees keys up to row0 + rows - 1.
        Value lastKeyTile = b.create<arith::DivUIOp>(
            loc,
            b.create<arith::AddIOp>(loc, row0, indexConst(b, loc, rows - 1)),
            indexConst(b, loc, Tk));
        kHi = b.create<arith::MinUIOp>(
            loc, kHi, b.create<arith::AddIOp>(loc, lastKeyTile, c1));
      }
      if (mask == attn::MaskKind::window) {
        // The first query sees keys from row0 - window + 1.
        Value first = b.create<arith::SubIOp>(
            loc, b.create<arith::AddIOp>(loc, row0, c1),
            indexConst(b, loc, window));
        Value firstClamped = b.create<arith::MaxSIOp>(loc, first, c0);
        kLo =
            b.create<arith::DivUIOp>(loc, firstClamped, indexConst(b, loc, Tk));
      }
      return {kLo, kHi};
    };

    auto dyn = ShapedType::kDynamic;
    // Rows [row0, row0 + rows) of the task's head group of K or V, as
    // [rows, D]: one row every G * D floats.
    auto groupRows = [&](Value kv, Value row0, int64_t rows) -> Value {
      Value slice = b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({rows, 1, D}, f32), kv,
          ValueRange{row0, gIv}, ValueRange{}, ValueRange{},
          b.getDenseI64ArrayAttr({dyn, dyn, 0}),
          b.getDenseI64ArrayAttr({rows, 1, D}),
          b.getDenseI64ArrayAttr({1, 1, 1}));
      // An explicit collapse, not a rank-reducing slice: that one is
      // ambiguous when the rows or D are 1 too, and bufferization then
      // dropped the wrong unit dimension.
      return b.create<tensor::CollapseShapeOp>(
          loc, RankedTensorType::get({rows, D}, f32), slice,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    };

    // When a row of K or V is 4 KiB or more from the next (G * D floats),
    // every row of a key tile sits on a page of its own, and every query
    // tile reads the group's key tiles again that way: at H32 S2048 D128
    // rows are 16 KiB apart. Then the task first copies the key tiles its
    // queries can see into contiguous [T, D] buffers, once, and reads those.
    // Measured at H32 S2048 D128, one thread, best of three calls in three
    // alternating rounds: none 362-381 ms against 364-382 ms in place,
    // causal 189-200 against 201-209 ms, window(256) 56-66 against 58-78 ms.
    // Closer rows gain from the copy too once it is read 16 times or more
    // (a query tile of each of the group's R heads reads it once): the copy
    // is contiguous and 64-byte aligned whatever the caller's buffers are,
    // while a buffer from malloc is only 16-byte aligned and then every
    // vector load of a V row read in place spans two cache lines. One
    // thread, min / median over alternating rounds of the best of 7 calls,
    // inputs 16 bytes past a 64-byte boundary: H12 S1024 D64 (rows 3 KiB
    // apart, 16 query tiles) none 17.47 / 17.54 ms against 18.35 / 18.55 in
    // place, causal 8.92 / 9.01 against 9.47 / 9.62; 12 heads in 4 groups
    // (rows 1 KiB apart, 3 heads x 8 query tiles) 16.35 / 16.65 against
    // 17.14 / 17.29. With 64-byte aligned inputs: 16.96 / 17.07 against
    // 17.19 / 17.41, and 16.10 / 16.26 against 16.13 / 16.26. H8 S512 D64
    // (8 query tiles) copied: 3-4 % slower aligned, level to 4 % faster
    // misaligned; it reads in place. One group (multi-query) reads K and V
    // in place: its rows are contiguous, and 16 bytes off measured no slower.
    // K alone read in place (the micro-kernel only broadcasts its elements,
    // so alignment does not matter to it) with V still copied measured
    // level at H12 S1024 D64: 0.99x causal and unmasked, one and two
    // threads: the first read of K from memory costs the same either way.
    int64_t rowBytes = G * D * int64_t(sizeof(float));
    bool packGroup = G > 1 &&
                     (rowBytes >= kMinPackedRowBytes ||
                      R * blockTiles >= kMinReadsToPack) &&
                     2 * Tp * D * int64_t(sizeof(float)) <= kMaxPackedHeadBytes;
    Value packedK, packedV;
    if (packGroup) {
      // The key tiles some query of the task's block sees.
      Value kLo, kHi;
      std::tie(kLo, kHi) = visibleKeyTiles(blockRow0, blockRows);
      // One linalg.copy per key tile into its rows of the buffer (rows of
      // tiles no query sees stay unwritten and unread).
      auto pack = [&](Value kv) -> Value {
        auto loop = b.create<scf::ForOp>(loc, kLo, kHi, c1,
                                         ValueRange{emptyF32(b, loc, {Tp, D})});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value row0 = b.create<arith::MulIOp>(loc, loop.getInductionVar(),
                                             indexConst(b, loc, Tk));
        Value packed = loop.getRegionIterArgs()[0];
        auto offsets = b.getDenseI64ArrayAttr({dyn, 0});
        auto sizes = b.getDenseI64ArrayAttr({Tk, D});
        auto strides = b.getDenseI64ArrayAttr({1, 1});
        auto tileType = RankedTensorType::get({Tk, D}, f32);
        Value rows = b.create<tensor::ExtractSliceOp>(
            loc, tileType, packed, ValueRange{row0}, ValueRange{},
            ValueRange{}, offsets, sizes, strides);
        Value copied = b.create<linalg::CopyOp>(
                            loc, ValueRange{groupRows(kv, row0, Tk)},
                            ValueRange{rows})
                           .getResult(0);
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<tensor::InsertSliceOp>(
                     loc, copied, packed, ValueRange{row0}, ValueRange{},
                     ValueRange{}, offsets, sizes, strides)});
        return loop.getResult(0);
      };
      packedK = pack(k);
      packedV = pack(v);
    }

    auto rLoop = b.create<scf::ForOp>(loc, c0, indexConst(b, loc, R), c1,
                                      ValueRange{groupOut});
    b.setInsertionPointToStart(rLoop.getBody());
    Value rIv = rLoop.getInductionVar();
    auto qLoop = b.create<scf::ForOp>(loc, c0, indexConst(b, loc, blockTiles),
                                      c1, rLoop.getRegionIterArgs());
    b.setInsertionPointToStart(qLoop.getBody());
    Value qt = qLoop.getInductionVar();
    // The tile's first row within the task's block, and within the sequence.
    Value blockRow = b.create<arith::MulIOp>(loc, qt, indexConst(b, loc, Tq));
    Value qRow0 = b.create<arith::AddIOp>(loc, blockRow0, blockRow);

    // `rows` queries from `row0` on, transposed and pre-multiplied by the
    // scale: [D, rows].
    GenericBuilder gen2(b, loc, 2);
    auto transposedQueries = [&](Value row0, int64_t rows) -> Value {
      Value qTile = b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({rows, D}, f32), q,
          ValueRange{row0, gIv, rIv, c0}, ValueRange{}, ValueRange{},
          b.getDenseI64ArrayAttr({ShapedType::kDynamic, ShapedType::kDynamic,
                                  ShapedType::kDynamic, ShapedType::kDynamic}),
          b.getDenseI64ArrayAttr({rows, 1, 1, D}),
          b.getDenseI64ArrayAttr({1, 1, 1, 1}));
      return gen2.generic(
          {qTile}, emptyF32(b, loc, {D, rows}),
          {gen2.map({1, 0}), gen2.identity()}, {par, par},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::MulFOp>(
                       l, a[0], f32Const(nb, l, scale))});
          });
    };
    auto tileType = RankedTensorType::get({Tq, D}, f32);

    // One step of the online softmax of `rows` queries from `row0` on
    // (their scaled, transposed tile qT): key tile kt, from the running
    // state (mOld, lOld, accOld); returns the new state. `diagonal`: kt is
    // the causal diagonal tile (key positions = query positions), whose
    // mask always applies and whose products skip what it hides.
    auto keyStep = [&](Value qT, Value row0, int64_t rows, Value kt,
                       Value mOld, Value lOld, Value accOld,
                       bool diagonal) -> SmallVector<Value> {
      Value kCol0 = b.create<arith::MulIOp>(loc, kt, indexConst(b, loc, Tk));
      // The key tile of K and of V, [Tk, D], from the task's packed
      // buffers or else read in place. K's rows are read one element at a
      // time (the micro-kernel broadcasts them), V's a vector at a time,
      // reused by every query row; in place, when the row width is a
      // multiple of 4 KiB all of V's rows fall into the same few cache sets
      // and evict one another (measured: 2-3x slower products), so that
      // tile is copied to a contiguous block, one load and store per `rows`
      // multiply-adds. At other widths the copy only cost time (4-7 % at H8
      // S512 D64 and H12 S1024 D64).
      auto kvTile = [&](Value kv, Value packed, bool copy) -> Value {
        if (packed)
          return b.create<tensor::ExtractSliceOp>(
              loc, RankedTensorType::get({Tk, D}, f32), packed,
              ValueRange{kCol0}, ValueRange{}, ValueRange{},
              b.getDenseI64ArrayAttr({dyn, 0}),
              b.getDenseI64ArrayAttr({Tk, D}),
              b.getDenseI64ArrayAttr({1, 1}));
        Value tile = groupRows(kv, kCol0, Tk);
        if (!copy)
          return tile;
        return b
            .create<linalg::CopyOp>(loc, ValueRange{tile},
                                    ValueRange{emptyF32(b, loc, {Tk, D})})
            .getResult(0);
      };
      bool rowsAlias = rowBytes % 4096 == 0;
      Value kTile = kvTile(k, packedK, false),
            vTile = kvTile(v, packedV, rowsAlias);

      // sT[j, i] = sum_d k[j, d] qT[d, i], loops (j, i, d): the queries
      // innermost and contiguous. The sums start from -0, the other zero:
      // x + -0 is x for every x, and a fill of +0 of the same shape as the
      // accumulator's would be merged with it by cse, costing a copy of
      // that fill per key tile.
      GenericBuilder gen3(b, loc, 3);
      enum { j3, i3, d3 };
      Value s = gen3.generic(
          {kTile, qT}, filled(b, loc, {Tk, rows}, -0.0f),
          {gen3.map({j3, d3}), gen3.map({d3, i3}), gen3.map({j3, i3})},
          {par, par, red}, yieldMultiplyAccumulate);
      if (diagonal)
        s.getDefiningOp()->setAttr(attnc::kCausalScoresAttr,
                                   b.getUnitAttr());

      // + bias, - alibi |i - j|, -inf where masked (or a padded key);
      // positions are absolute.
      // Applied to the score tile in place, loops (j, i). A tile the mask
      // leaves wholly visible (below the diagonal, inside the window) skips
      // the pass. Applying it instead as the row max and the weights read
      // each score (twice, with no store) measured 3-4 % slower at H12
      // S1024 causal and window(256), one thread, and no faster at H8 and
      // H32: the tile is in L1, and its mask then costs twice.
      SmallVector<Value> inputs;
      SmallVector<AffineMap> maps;
      if (bias) {
        inputs.push_back(b.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get({rows, Tk}, f32), bias,
            ValueRange{row0, kCol0}, ValueRange{}, ValueRange{},
            b.getDenseI64ArrayAttr({dyn, dyn}),
            b.getDenseI64ArrayAttr({rows, Tk}),
            b.getDenseI64ArrayAttr({1, 1})));
        maps.push_back(gen2.map({1, 0}));
      }
      Value slope;
      if (alibi) {
        Value h = b.create<arith::AddIOp>(
            loc, b.create<arith::MulIOp>(loc, gIv, indexConst(b, loc, R)),
            rIv);
        slope = b.create<arith::MulFOp>(
            loc, b.create<tensor::ExtractOp>(loc, alibi, ValueRange{h}),
            f32Const(b, loc, static_cast<float>(kLog2e)));
      }
      maps.push_back(gen2.identity());
      bool needsPositions =
          mask != attn::MaskKind::none || alibi || maskPaddedKeys;
      auto adjustScores = [&](OpBuilder &ob, Location ol) -> Value {
        GenericBuilder g(ob, ol, 2);
        return g.generic(
            inputs, s, maps, {par, par},
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value x = a.back();
              if (bias)
                x = nb.create<math::FmaOp>(
                    l, a[0], f32Const(nb, l, static_cast<float>(kLog2e)), x);
              if (needsPositions) {
                Value i = nb.create<arith::AddIOp>(
                    l, nb.create<linalg::IndexOp>(l, 1), row0);
                Value j = nb.create<arith::AddIOp>(
                    l, nb.create<linalg::IndexOp>(l, 0), kCol0);
                if (alibi) {
                  Value diff = nb.create<arith::SubIOp>(l, i, j);
                  Value absDiff = nb.create<arith::MaxSIOp>(
                      l, diff, nb.create<arith::SubIOp>(l, j, i));
                  Value dist = nb.create<arith::SIToFPOp>(
                      l, nb.getF32Type(),
                      nb.create<arith::IndexCastOp>(l, nb.getI64Type(),
                                                    absDiff));
                  x = nb.create<arith::SubFOp>(
                      l, x, nb.create<arith::MulFOp>(l, slope, dist));
                }
                Value visible = keyVisible(nb, l, mask, window, i, j);
                if (maskPaddedKeys) {
                  Value real = nb.create<arith::CmpIOp>(
                      l, arith::CmpIPredicate::slt, j, indexConst(nb, l, T));
                  visible = combine<arith::AndIOp>(nb, l, visible, real);
                }
                if (visible)
                  x = nb.create<arith::SelectOp>(l, visible, x,
                                                 f32Const(nb, l, kNegInf));
              }
              nb.create<linalg::YieldOp>(l, x);
            });
      };
      Value logits = s;
      if (diagonal || bias || alibi) {
        logits = adjustScores(b, loc);
      } else if (mask != attn::MaskKind::none || maskPaddedKeys) {
        // Some key of the tile is later than its first query (causal), or
        // older than the window of its last query, or padding.
        Value lastKey =
            b.create<arith::AddIOp>(loc, kCol0, indexConst(b, loc, Tk - 1));
        Value hidden;
        if (mask != attn::MaskKind::none)
          hidden = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                           lastKey, row0);
        if (maskPaddedKeys) {
          Value padded = b.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::sge, lastKey, indexConst(b, loc, T));
          hidden = combine<arith::OrIOp>(b, loc, hidden, padded);
        }
        if (mask == attn::MaskKind::window) {
          Value oldest = b.create<arith::SubIOp>(
              loc,
              b.create<arith::AddIOp>(loc, row0,
                                      indexConst(b, loc, rows - 1)),
              indexConst(b, loc, window));
          hidden = b.create<arith::OrIOp>(
              loc, hidden,
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, kCol0,
                                      oldest));
        }
        logits = b.create<scf::IfOp>(
                      loc, hidden,
                      [&](OpBuilder &tb, Location tl) {
                        tb.create<scf::YieldOp>(tl, adjustScores(tb, tl));
                      },
                      [&](OpBuilder &eb, Location el) {
                        eb.create<scf::YieldOp>(el, s);
                      })
                     .getResult(0);
      }

      // Every loop-carried value is updated in place (its old value is the
      // `outs` of the op that produces the new one), so bufferization keeps
      // m, l and acc in one buffer each for the whole key loop.
      //
      // m' = max(m, rowmax(logits)) and alpha = exp(m - m') in one pass over
      // the rows; alpha is 1 while nothing was visible (l and acc are 0).
      // A query's row is a column of the transposed scores: loops (j, i),
      // each reduction elementwise across the rows of a vector of queries.
      auto rowType = RankedTensorType::get({rows}, f32);
      Value tileMax = gen2.generic(
          {logits}, filled(b, loc, {rows}, kNegInf),
          {gen2.identity(), gen2.map({1})}, {red, par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::MaximumFOp>(l, a[0], a[1])});
          });
      GenericBuilder gen1(b, loc, 1);
      //
      // The weights subtract m' with -inf made 0 (m'' below): a hidden
      // key's score -inf then gives -inf, whose exp is 0, even in a row
      // that has seen no key yet, where -inf - -inf would be NaN. That is
      // one compare per query here instead of one per score there.
      auto emptyRow = [&] {
        return b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{rows}, f32);
      };
      auto rowUpdate = b.create<linalg::GenericOp>(
          loc, TypeRange{rowType, rowType, rowType}, ValueRange{tileMax},
          ValueRange{mOld, emptyRow(), emptyRow()},
          SmallVector<AffineMap>(4, gen1.identity()),
          ArrayRef<IteratorType>{par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value mNew = nb.create<arith::MaximumFOp>(l, a[0], a[1]);
            Value alpha = rescaleFactor(nb, l, a[1], mNew, ExpBase::two);
            nb.create<linalg::YieldOp>(
                l, ValueRange{mNew, alpha, finiteRowMax(nb, l, mNew)});
          });
      Value mNew = rowUpdate.getResult(0), alpha = rowUpdate.getResult(1),
            mFinite = rowUpdate.getResult(2);
      // p = 2^(logits - m''), transposed like the scores: loops (j, i).
      // Written over the scores, which nothing reads after: a task then
      // needs one [Tk, rows] tile less (16 KiB at 64 x 64, a third of a
      // 48 KiB L1 data cache).
      // A NaN score stays NaN (so does its row's sum and output).
      Value p = gen2.generic(
          {mFinite}, logits,
          {gen2.map({1}), gen2.identity()}, {par, par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, exp2OfNonPositive(
                       nb, l, nb.create<arith::SubFOp>(l, a[1], a[0])));
          });
      // l' = alpha * l + rowsum(p)
      Value lScaled = gen1.generic(
          {alpha}, lOld, {gen1.identity(), gen1.identity()}, {par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::MulFOp>(l, a[0], a[1])});
          });
      Value lNew = gen2.generic(
          {p}, lScaled, {gen2.identity(), gen2.map({1})}, {red, par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::AddFOp>(l, a[0], a[1])});
          });
      // acc' = alpha * acc + p v, loops (i, j, d): d innermost and
      // contiguous.
      Value accScaled = gen2.generic(
          {alpha}, accOld, {gen2.map({0}), gen2.identity()}, {par, par},
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::MulFOp>(l, a[0], a[1])});
          });
      enum { i3b, j3b, d3b };
      Value accNew = gen3.generic(
          {p, vTile}, accScaled,
          {gen3.map({j3b, i3b}), gen3.map({j3b, d3b}), gen3.map({i3b, d3b})},
          {par, red, par}, yieldMultiplyAccumulate);
      if (diagonal)
        accNew.getDefiningOp()->setAttr(attnc::kCausalWeightsAttr,
                                        b.getUnitAttr());
      return {mNew, lNew, accNew};
    };
    // The same over key tiles [kLo, kHi), from the running state (m0, l0,
    // acc0); returns the loop, whose results are the new state.
    auto keyLoop = [&](Value qT, Value row0, int64_t rows, Value kLo,
                       Value kHi, Value m0, Value l0,
                       Value acc0) -> scf::ForOp {
      auto kLoop = b.create<scf::ForOp>(loc, kLo, kHi, c1,
                                        ValueRange{m0, l0, acc0});
      b.setInsertionPointToStart(kLoop.getBody());
      ValueRange state = kLoop.getRegionIterArgs();
      b.create<scf::YieldOp>(loc, keyStep(qT, row0, rows,
                                          kLoop.getInductionVar(), state[0],
                                          state[1], state[2], false));
      b.setInsertionPointAfter(kLoop);
      return kLoop;
    };

    Value m0 = filled(b, loc, {Tq}, kNegInf);
    Value l0 = filled(b, loc, {Tq}, 0.0f);
    Value acc0 = filled(b, loc, {Tq, D}, 0.0f);
    Value lFinal, accFinal;
    if (splitsDiagonal(op, Tq, Tk)) {
      // The key tiles before the tile's first query are visible to all its
      // rows: they run at the tile's full width. The diagonal block runs
      // in sub-tiles of kDiagonalRows queries, each over the diagonal keys
      // up to its own last query only: what lies past the diagonal then
      // costs as much as with tiles of kDiagonalRows, not a triangle of Tq.
      Value allKeyTiles = indexConst(b, loc, Tp / Tk);
      Value firstDiagonal = b.create<arith::MinUIOp>(
          loc, allKeyTiles,
          b.create<arith::DivUIOp>(loc, qRow0, indexConst(b, loc, Tk)));
      scf::ForOp before = keyLoop(transposedQueries(qRow0, Tq), qRow0, Tq, c0,
                                  firstDiagonal, m0, l0, acc0);
      Value m = before.getResult(0), l = before.getResult(1),
            acc = before.getResult(2);
      // A loop over the sub-tiles, not one copy of the key loop per
      // sub-tile: an 8192-query tile would otherwise unroll into 128 key
      // loops (90 s to compile).
      auto index = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
      Value subRows = indexConst(b, loc, kDiagonalRows);
      auto subLoop = b.create<scf::ForOp>(loc, c0, indexConst(b, loc, Tq),
                                          subRows, ValueRange{m, l, acc});
      b.setInsertionPointToStart(subLoop.getBody());
      {
        Value r0 = subLoop.getInductionVar();
        ValueRange state = subLoop.getRegionIterArgs();
        Value subRow0 = b.create<arith::AddIOp>(loc, qRow0, r0);
        Value lastKeyTile = b.create<arith::DivUIOp>(
            loc,
            b.create<arith::AddIOp>(loc, subRow0,
                                    indexConst(b, loc, kDiagonalRows - 1)),
            indexConst(b, loc, Tk));
        Value kHi = b.create<arith::MinUIOp>(
            loc, allKeyTiles, b.create<arith::AddIOp>(loc, lastKeyTile, c1));
        SmallVector<OpFoldResult> rowOffsets = {r0},
                                  rowSizes = {index(kDiagonalRows)},
                                  rowStrides = {index(1)};
        SmallVector<OpFoldResult> accOffsets = {r0, index(0)},
                                  accSizes = {index(kDiagonalRows), index(D)},
                                  accStrides = {index(1), index(1)};
        auto rowSlice = [&](Value row) -> Value {
          return b.create<tensor::ExtractSliceOp>(loc, row, rowOffsets,
                                                  rowSizes, rowStrides);
        };
        scf::ForOp diagonal = keyLoop(
            transposedQueries(subRow0, kDiagonalRows), subRow0, kDiagonalRows,
            firstDiagonal, kHi, rowSlice(state[0]), rowSlice(state[1]),
            b.create<tensor::ExtractSliceOp>(loc, state[2], accOffsets,
                                             accSizes, accStrides));
        Value mNew = b.create<tensor::InsertSliceOp>(
            loc, diagonal.getResult(0), state[0], rowOffsets, rowSizes,
            rowStrides);
        Value lNew = b.create<tensor::InsertSliceOp>(
            loc, diagonal.getResult(1), state[1], rowOffsets, rowSizes,
            rowStrides);
        Value accNew = b.create<tensor::InsertSliceOp>(
            loc, diagonal.getResult(2), state[2], accOffsets, accSizes,
            accStrides);
        b.create<scf::YieldOp>(loc, ValueRange{mNew, lNew, accNew});
      }
      b.setInsertionPointAfter(subLoop);
      lFinal = subLoop.getResult(1);
      accFinal = subLoop.getResult(2);
    } else {
      Value qT = transposedQueries(qRow0, Tq);
      Value kLo, kHi;
      std::tie(kLo, kHi) = visibleKeyTiles(qRow0, Tq);
      if (mask == attn::MaskKind::causal && Tq == Tk && S == T && !bias &&
          !alibi) {
        // Square causal tiles: the last visible key tile is the query
        // tile's diagonal, and every tile before it is wholly visible. The
        // diagonal runs after the loop, its mask applied unconditionally
        // and its products told what it hides (CausalProducts.h). One
        // thread, best of a round's calls over five alternating rounds: H8
        // S512 D64 1.56-1.68 -> 1.46-1.52 ms, H12 S1024 D64 9.47-9.77 ->
        // 9.32-9.42 ms; H32 S2048 D128 (a diagonal in 16 visited tiles on
        // average, not 4.5 or 8.5) within the noise.
        Value diagonalTile = b.create<arith::SubIOp>(loc, kHi, c1);
        scf::ForOp before =
            keyLoop(qT, qRow0, Tq, kLo, diagonalTile, m0, l0, acc0);
        SmallVector<Value> last =
            keyStep(qT, qRow0, Tq, diagonalTile, before.getResult(0),
                    before.getResult(1), before.getResult(2), true);
        lFinal = last[1];
        accFinal = last[2];
      } else {
        scf::ForOp kLoop = keyLoop(qT, qRow0, Tq, kLo, kHi, m0, l0, acc0);
        lFinal = kLoop.getResult(1);
        accFinal = kLoop.getResult(2);
      }
    }

    // out = acc / l, 0 for rows that saw no key, written straight into the
    // output tile (destination-passing style, so no copy of a strided tile).
    auto outTileOffsets = b.getDenseI64ArrayAttr({dyn, dyn, dyn, dyn});
    auto outTileSizes = b.getDenseI64ArrayAttr({Tq, 1, 1, D});
    auto unitStrides = b.getDenseI64ArrayAttr({1, 1, 1, 1});
    Value outTile = b.create<tensor::ExtractSliceOp>(
        loc, tileType, qLoop.getRegionIterArgs()[0],
        ValueRange{blockRow, c0, rIv, c0}, ValueRange{}, ValueRange{},
        outTileOffsets, outTileSizes, unitStrides);
    // 1 / l per query, 0 for a row that saw no key (its acc is 0 too), then
    // one multiply per output: Tq divisions instead of Tq * D, which cost 1 %
    // of H12 S1024 D64 (one rounding more: 1.5 ulp instead of 0.5).
    GenericBuilder gen1(b, loc, 1);
    Value inverseSum = gen1.generic(
        {lFinal}, emptyF32(b, loc, {Tq}), {gen1.identity(), gen1.identity()},
        {par}, [](OpBuilder &nb, Location l, ValueRange a) {
          Value zero = f32Const(nb, l, 0.0f);
          Value empty = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                 a[0], zero);
          Value inverse =
              nb.create<arith::DivFOp>(l, f32Const(nb, l, 1.0f), a[0]);
          nb.create<linalg::YieldOp>(
              l, ValueRange{nb.create<arith::SelectOp>(l, empty, zero,
                                                       inverse)});
        });
    Value normalized = gen2.generic(
        {accFinal, inverseSum}, outTile,
        {gen2.identity(), gen2.map({0}), gen2.identity()}, {par, par},
        [](OpBuilder &nb, Location l, ValueRange a) {
          nb.create<linalg::YieldOp>(
              l, ValueRange{nb.create<arith::MulFOp>(l, a[0], a[1])});
        });
    Value updated = b.create<tensor::InsertSliceOp>(
        loc, normalized, qLoop.getRegionIterArgs()[0],
        ValueRange{blockRow, c0, rIv, c0}, ValueRange{}, ValueRange{},
        outTileOffsets, outTileSizes, unitStrides);
    b.create<scf::YieldOp>(loc, updated);
    b.setInsertionPointAfter(qLoop);
    b.create<scf::YieldOp>(loc, qLoop.getResults());
    b.setInsertionPointToStart(gLoop.getTerminator().getBody());
    b.create<tensor::ParallelInsertSliceOp>(
        loc, rLoop.getResult(0), gLoop.getRegionIterArgs()[0],
        ValueRange{blockRow0, gIv}, ValueRange{}, ValueRange{}, groupOffsets,
        groupSizes,
        groupStrides);
    b.setInsertionPointAfter(gLoop);

    Value result = b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({Sp, W}, f32), gLoop.getResult(0),
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    if (Sp != S)
      result = copyRows(b, loc, result, S, Tq);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void attnc::lowering::populateFlashAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<SdpaToFlash>(patterns.getContext());
}
