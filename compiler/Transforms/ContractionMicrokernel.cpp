//===- ContractionMicrokernel.cpp - register-blocked matrix products ------===//
//
// Every C[m, n] += A[m, k] * B[k, n] on buffers (linalg.matmul, and the
// generics of attention: K Q^T, P V with P stored transposed) becomes the
// classic outer-product micro-kernel. A may be stored transposed, as
// A^T[k, m]: only single elements of A are read.
//
//   for n0 in 0..N step V*W          (W = 16 lanes, a zmm register;
//                                     V = 2 vectors per row when N allows)
//     for m0 in 0..M step R          (R = 8 rows)
//       acc[r][v] = C[m0 + r, n0 + v*W : ...]       kept in registers
//                   (or a fill's value, C scaled per row, or a bias: the
//                   fill, scaling or broadcast of C right before,
//                   ContractionFusion.h)
//       for k in 0..K
//         b[v] = B[k, n0 + v*W : ...]                V vector loads
//         acc[r][v] = fma(broadcast(A[m0 + r, k]), b[v], acc[r][v])
//       C[m0 + r, n0 + v*W : ...] = acc[r][v]
//                   (or D[...] = f(acc[r][v], ...): the elementwise op
//                   reading C right after, ContractionFusion.h)
//
// n0 is outermost so the K x W panel of B stays in cache while every row
// block of A streams past it. A wide B is copied into a dense panel per
// column block (its rows lie far apart otherwise), or, when its values are
// compiled into the object, read from panels laid out ahead of time. A
// single row of A over a wide B that is not laid out so streams bands of
// B's rows into partial sums instead (emitRowStreamingProduct). The
// generic linalg vectorizer does not reach this form on MLIR 19 (it
// broadcasts B across the row dimension and the contraction lowering then
// goes element by element), hence this pass.
// Contractions of other shapes keep their linalg form (scalar loops).
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/CausalProducts.h"
#include "attnc/Transforms/ContractionFusion.h"
#include "attnc/Transforms/DynamicExtents.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attnc {
#define GEN_PASS_DEF_CONTRACTIONMICROKERNEL
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

constexpr int64_t kMaxRows = 8;
/// Row blocks that must share a panel of B for packing it to pay: the copy
/// reads the panel once, as one row block does.
constexpr int64_t kMinRowBlocksToPack = 4;

/// The operands of C[m, n] += A[m, k] * B[k, n], in that layout, except
/// that A is A^T[k, m] when `transposedA`.
struct MatmulShape {
  Value a, b, c;
  int64_t m, n, k; ///< n or k may be ShapedType::kDynamic
  bool transposedA = false;
  /// What every dynamic size is a multiple of (attn.extent_multiple).
  int64_t multiple = 0;

  bool isDynamic() const {
    return ShapedType::isDynamic(n) || ShapedType::isDynamic(k);
  }
  /// The largest number known to divide n.
  int64_t nDivisor() const { return ShapedType::isDynamic(n) ? multiple : n; }
  /// n and k as index values: constants, or read from C and B.
  Value nValue(OpBuilder &b, Location loc) const {
    return ShapedType::isDynamic(n)
               ? b.createOrFold<memref::DimOp>(loc, c, 1)
               : b.create<arith::ConstantIndexOp>(loc, n).getResult();
  }
  Value kValue(OpBuilder &b, Location loc) const {
    return ShapedType::isDynamic(k)
               ? b.createOrFold<memref::DimOp>(loc, this->b, 0)
               : b.create<arith::ConstantIndexOp>(loc, k).getResult();
  }
};

bool isDim(AffineExpr e, unsigned pos) {
  auto d = dyn_cast<AffineDimExpr>(e);
  return d && d.getPosition() == pos;
}

/// Whether `map` is exactly (d_first, d_second).
bool mapsTo(AffineMap map, unsigned first, unsigned second) {
  return map.getNumResults() == 2 && isDim(map.getResult(0), first) &&
         isDim(map.getResult(1), second);
}

/// On buffers, the product this pass rewrites; on tensors (for
/// attn-vectorize's choices), the product it would rewrite if its buffers
/// have unit inner strides.
std::optional<MatmulShape> matchMatmul(linalg::LinalgOp op) {
  if (!(op.hasPureBufferSemantics() || op.hasPureTensorSemantics()) ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || !dims->batch.empty() || dims->m.size() != 1 ||
      dims->n.size() != 1 || dims->k.size() != 1)
    return std::nullopt;
  unsigned m = dims->m[0], n = dims->n[0], k = dims->k[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MatmulShape shape;
  // Which input is B[k, n]; the other is A, as [m, k] or [k, m].
  unsigned bIndex;
  if (mapsTo(maps[1], k, n))
    bIndex = 1;
  else if (mapsTo(maps[0], k, n))
    bIndex = 0;
  else
    return std::nullopt;
  AffineMap aMap = maps[1 - bIndex];
  if (mapsTo(aMap, k, m))
    shape.transposedA = true;
  else if (!mapsTo(aMap, m, k))
    return std::nullopt;
  shape.a = op.getDpsInputOperand(1 - bIndex)->get();
  shape.b = op.getDpsInputOperand(bIndex)->get();
  if (!mapsTo(maps[2], m, n))
    return std::nullopt;
  shape.c = op.getDpsInitOperand(0)->get();
  // isaContractionOpInterface checked that the body is acc + a * b.
  if (!llvm::all_of(ValueRange{shape.a, shape.b, shape.c}, [](Value v) {
        auto t = dyn_cast<ShapedType>(v.getType());
        return t && t.hasRank() && t.getElementType().isF32();
      }))
    return std::nullopt;
  if (!attnc::hasContiguousRows(shape.b) || !attnc::hasContiguousRows(shape.c))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  shape.m = ranges[m];
  shape.n = ranges[n];
  shape.k = ranges[k];
  // A dynamic n or k only with the multiple it comes in (DynamicExtents.h);
  // rows always static.
  if (ShapedType::isDynamic(shape.m))
    return std::nullopt;
  if (shape.isDynamic()) {
    auto multiple = op->getAttrOfType<IntegerAttr>(attnc::kExtentMultipleAttr);
    if (!multiple || multiple.getInt() <= 0 || multiple.getInt() % 8 != 0)
      return std::nullopt;
    shape.multiple = multiple.getInt();
  }
  return shape;
}

/// The widest vector (16 or 8 lanes) dividing n; 0 if neither does.
int64_t vectorWidth(int64_t n) {
  for (int64_t w : {16, 8})
    if (n % w == 0)
      return w;
  return 0;
}

int64_t rowsDividing(int64_t m) {
  int64_t r = kMaxRows;
  while (r > 1 && m % r != 0)
    --r;
  return r;
}

/// Vectors per row of the register block: two (32 columns, 16 accumulators)
/// halve the loads of A per FMA and leave enough independent FMAs to cover
/// their latency; one when the columns do not allow two.
///
/// A single row (a decode step's matrix-vector product) has registers to
/// spare: up to 16 vectors (256 columns) per row make each pass over B read
/// 1 KB of every row at a time instead of 128 bytes, which the memory system
/// streams far better; such products are bound by reading B. A B wider than
/// that block is read by whole rows instead (emitRowStreamingProduct).
int64_t vectorsPerRow(int64_t n, int64_t width, int64_t rows) {
  if (rows == 1)
    for (int64_t v : {16, 8, 4})
      if (n % (v * width) == 0)
        return v;
  return n % (2 * width) == 0 ? 2 : 1;
}

/// A product's register block: `rows` rows by `perRow` vectors of `width`
/// lanes. Its column blocks are panels of B `perRow * width` columns wide.
struct RegisterBlock {
  int64_t width, rows, perRow;
  int64_t panelWidth() const { return perRow * width; }
};

std::optional<RegisterBlock> registerBlockFor(const MatmulShape &s) {
  int64_t width = vectorWidth(s.nDivisor());
  if (width == 0)
    return std::nullopt;
  int64_t rows = rowsDividing(s.m);
  return RegisterBlock{width, rows, vectorsPerRow(s.nDivisor(), width, rows)};
}

/// How a product's register blocks start: from C, from a value C was just
/// filled with, from C with each row scaled by scale[row], or from a
/// vector copied into every row of C.
struct BlockStart {
  Operation *folded = nullptr; ///< the fill, scaling or copy, erased after
  Value fillValue;             ///< f32
  Value rowScale;              ///< memref of one f32 per row of C
  Value rowStart;              ///< memref of one f32 per column of C
};

/// The fill, row scaling or row broadcast of C right before `op`
/// (attn-vectorize leaves those to this pass): nothing runs between them,
/// so the product can start from their result without it being stored and
/// loaded back.
BlockStart blockStart(linalg::LinalgOp op, Value c) {
  BlockStart start;
  Operation *prev = op->getPrevNode();
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(prev)) {
    if (fill.getOutputs()[0] == c) {
      start.folded = fill;
      start.fillValue = fill.getInputs()[0];
    }
    return start;
  }
  auto init = dyn_cast_or_null<linalg::LinalgOp>(prev);
  if (!init || !init.hasPureBufferSemantics() ||
      init.getDpsInitOperand(0)->get() != c)
    return start;
  if (attnc::isRowScaling(init) &&
      isa<MemRefType>(init.getDpsInputOperand(0)->get().getType())) {
    start.folded = init;
    start.rowScale = init.getDpsInputOperand(0)->get();
  } else if (attnc::isRowBroadcast(init)) {
    start.folded = init;
    start.rowStart = init.getDpsInputOperand(0)->get();
  }
  return start;
}

/// The buffer `v` is a view of (through subviews, casts, reshapes).
Value underlyingBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `op` neither reads nor writes memory (it may allocate).
bool touchesNoMemory(Operation *op) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::all_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate>(e.getEffect());
  });
}

/// The elementwise generic that finishes the product `op` on its register
/// blocks (ContractionFusion.h), if any: the next op that touches memory,
/// reading C, where C is a temporary nothing else reads or C is the
/// generic's own output. Its output must not share memory with A or B (the
/// product's other tasks still read them while one task stores), nor its
/// other inputs with C.
linalg::GenericOp productEpilogue(linalg::LinalgOp op, const MatmulShape &s,
                                  Operation *start) {
  Operation *next = op->getNextNode();
  while (next && touchesNoMemory(next))
    next = next->getNextNode();
  auto generic = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!generic || !generic.hasPureBufferSemantics() ||
      !attnc::isProductEpilogue(generic, s.c))
    return {};
  Value out = generic.getDpsInitOperand(0)->get();
  if (out != s.c) {
    if (!s.c.getDefiningOp<memref::AllocOp>() ||
        !llvm::all_of(s.c.getUsers(), [&](Operation *user) {
          return user == op || user == start || user == generic;
        }))
      return {};
  }
  Value outBuffer = underlyingBuffer(out), cBuffer = underlyingBuffer(s.c);
  if (outBuffer == underlyingBuffer(s.a) ||
      outBuffer == underlyingBuffer(s.b))
    return {};
  for (Value input : generic.getDpsInputs())
    if (input != s.c && isa<MemRefType>(input.getType()) &&
        underlyingBuffer(input) == cBuffer)
      return {};
  return generic;
}

/// What a product on a causal diagonal tile may skip (CausalProducts.h).
struct CausalSkip {
  bool laterRows = false;  ///< rows m > n of C (attn.causal_scores)
  bool laterTerms = false; ///< terms k > m (attn.causal_weights)
};

/// `prepacked`: B arrives laid out as [N / panel width, K, panel width]
/// (attn.packed_panels).
/// `epilogue`: the generic that takes the blocks before they are stored
/// (productEpilogue); its vector math ops are added to `mathOps`.
void emitMicrokernel(RewriterBase &rewriter, Location loc,
                     const MatmulShape &s, const RegisterBlock &block,
                     bool parallel, bool prepacked, const BlockStart &start,
                     CausalSkip causal, linalg::GenericOp epilogue,
                     SmallVectorImpl<Operation *> &mathOps) {
  OpBuilder &b = rewriter;
  const int64_t width = block.width, rows = block.rows,
                perRow = block.perRow;
  auto vecType = VectorType::get({width}, b.getF32Type());
  auto idx = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  Value c0 = idx(0), c1 = idx(1);
  Value nSize = s.nValue(b, loc);
  // Column blocks are independent: at the top level of a function they
  // form an scf.forall for the thread pool (attn-outline-parallel-loops).
  // The pool's task count is fixed when the function is compiled: for a
  // dynamic n, the columns of the buffer C is a subview of bound it, and
  // the tasks past n do nothing (a decode step's scores with one key/value
  // head, whose loop over heads folds away). With no such bound, a loop.
  Value n0;
  std::optional<int64_t> nBound;
  if (!ShapedType::isDynamic(s.n)) {
    nBound = s.n;
  } else {
    Value whole = s.c;
    while (auto subview = whole.getDefiningOp<memref::SubViewOp>())
      whole = subview.getSource();
    if (auto type = dyn_cast<MemRefType>(whole.getType());
        type && type.hasStaticShape())
      nBound = type.getShape().back();
  }
  if (parallel && nBound) {
    auto nLoop = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(*nBound)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(width * perRow)}, ValueRange{},
        std::nullopt);
    b.setInsertionPointToStart(nLoop.getBody());
    n0 = nLoop.getInductionVars()[0];
    if (*nBound != s.n) {
      auto inside = b.create<scf::IfOp>(
          loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, n0,
                                       nSize));
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
  } else {
    auto nLoop = b.create<scf::ForOp>(loc, c0, nSize, idx(width * perRow));
    b.setInsertionPointToStart(nLoop.getBody());
    n0 = nLoop.getInductionVar();
  }
  SmallVector<Value> colIndex = {n0};
  for (int64_t v = 1; v < perRow; ++v)
    colIndex.push_back(
        b.create<arith::AddIOp>(loc, colIndex[0], idx(v * width)));

  // The K x (perRow * width) panel of B that every row block reads, copied
  // once per column block into a dense buffer when B is wider than the
  // panel and enough row blocks reuse it. In place, its rows lie a whole
  // row of B apart: a linear's weight of 2304 columns puts them 9 KB apart,
  // which maps the panel onto 4 of L1's 64 sets and a sixteenth of L2's
  // (a 1024 x 768 x 2304 linear: 152 GFLOP/s in place, 165 packed).
  Value panel = s.b;
  SmallVector<Value> panelCol = colIndex;
  int64_t panelWidth = block.panelWidth();
  bool pack = !prepacked && parallel && !s.isDynamic() &&
              s.n > panelWidth && s.m / rows >= kMinRowBlocksToPack;
  if (prepacked) { // the panel starting at column n0 starts at n0 * K
    auto panelType = MemRefType::get(
        {s.k, panelWidth}, b.getF32Type(),
        StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                               {panelWidth, 1}));
    Value offset = b.create<arith::MulIOp>(loc, n0, idx(s.k));
    panel = b.create<memref::ReinterpretCastOp>(
        loc, panelType, s.b, OpFoldResult(offset),
        ArrayRef<OpFoldResult>{b.getIndexAttr(s.k),
                               b.getIndexAttr(panelWidth)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(panelWidth), b.getIndexAttr(1)});
    for (int64_t v = 0; v < perRow; ++v)
      panelCol[v] = idx(v * width);
  } else if (pack) { // freed by buffer-deallocation-pipeline, which runs later
    auto packedType = MemRefType::get({s.k, panelWidth}, b.getF32Type());
    Value packed = b.create<memref::AllocOp>(loc, packedType,
                                             b.getI64IntegerAttr(64));
    auto copyLoop = b.create<scf::ForOp>(loc, c0, idx(s.k), c1);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(copyLoop.getBody());
      Value k = copyLoop.getInductionVar();
      for (int64_t v = 0; v < perRow; ++v) {
        Value row = b.create<vector::LoadOp>(loc, vecType, s.b,
                                             ValueRange{k, colIndex[v]});
        b.create<vector::StoreOp>(loc, row, packed,
                                  ValueRange{k, idx(v * width)});
      }
    }
    panel = packed;
    for (int64_t v = 0; v < perRow; ++v)
      panelCol[v] = idx(v * width);
  }
  // A bias starts every row block of the column block alike.
  SmallVector<Value> rowStart;
  if (start.rowStart)
    for (int64_t v = 0; v < perRow; ++v)
      rowStart.push_back(b.create<vector::LoadOp>(loc, vecType,
                                                  start.rowStart, colIndex[v]));
  // Row blocks past the column block's last column hold only rows m > n.
  Value mEnd = idx(s.m);
  if (causal.laterRows)
    mEnd = b.create<arith::MinUIOp>(
        loc, mEnd, b.create<arith::AddIOp>(loc, n0, idx(panelWidth)));
  auto mLoop = b.create<scf::ForOp>(loc, c0, mEnd, idx(rows));
  b.setInsertionPointToStart(mLoop.getBody());
  Value m0 = mLoop.getInductionVar();

  // acc[r * perRow + v] holds C[m0 + r, colIndex[v] : colIndex[v] + width].
  SmallVector<Value> rowIndex, acc;
  Value filled = start.fillValue ? b.create<vector::BroadcastOp>(
                                       loc, vecType, start.fillValue)
                                 : Value();
  for (int64_t r = 0; r < rows; ++r) {
    rowIndex.push_back(r == 0 ? m0 : b.create<arith::AddIOp>(loc, m0, idx(r)));
    Value scale;
    if (start.rowScale)
      scale = b.create<vector::BroadcastOp>(
          loc, vecType,
          b.create<memref::LoadOp>(loc, start.rowScale, rowIndex[r]));
    for (int64_t v = 0; v < perRow; ++v) {
      if (filled) {
        acc.push_back(filled);
        continue;
      }
      if (start.rowStart) {
        acc.push_back(rowStart[v]);
        continue;
      }
      Value block = b.create<vector::LoadOp>(
          loc, vecType, s.c, ValueRange{rowIndex[r], colIndex[v]});
      acc.push_back(scale ? b.create<arith::MulFOp>(loc, scale, block)
                          : block);
    }
  }
  // Terms past the row block's last row are 0.
  Value kEnd = s.kValue(b, loc);
  if (causal.laterTerms)
    kEnd = b.create<arith::MinUIOp>(
        loc, kEnd, b.create<arith::AddIOp>(loc, m0, idx(rows)));
  auto kLoop = b.create<scf::ForOp>(loc, c0, kEnd, c1, acc);
  b.setInsertionPointToStart(kLoop.getBody());
  {
    Value k = kLoop.getInductionVar();
    SmallVector<Value> bRow;
    for (int64_t v = 0; v < perRow; ++v)
      bRow.push_back(b.create<vector::LoadOp>(loc, vecType, panel,
                                              ValueRange{k, panelCol[v]}));
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      SmallVector<Value, 2> aIndex = {rowIndex[r], k};
      if (s.transposedA)
        std::swap(aIndex[0], aIndex[1]);
      Value a = b.create<memref::LoadOp>(loc, s.a, aIndex);
      Value aBroadcast = b.create<vector::BroadcastOp>(loc, vecType, a);
      for (int64_t v = 0; v < perRow; ++v)
        next.push_back(b.create<vector::FMAOp>(
            loc, aBroadcast, bRow[v],
            kLoop.getRegionIterArgs()[r * perRow + v]));
    }
    b.create<scf::YieldOp>(loc, next);
  }
  b.setInsertionPointAfter(kLoop);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < perRow; ++v) {
      Value result = kLoop.getResult(r * perRow + v);
      if (epilogue)
        attnc::emitProductEpilogue(b, loc, epilogue, s.c, result, rowIndex[r],
                                   colIndex[v], mathOps);
      else
        b.create<vector::StoreOp>(loc, result, s.c,
                                  ValueRange{rowIndex[r], colIndex[v]});
    }
}

/// Rows of B a single-row product streams per band (a task at the top
/// level): 64 rows of a 768 x 2304 weight are 576 KB, 12 tasks.
constexpr int64_t kRowsPerBand = 64;

/// A single-row product C[1, N] = start + A[1, K] B[K, N] whose B is wider
/// than a register block's panel (a decode step's linear, or one head's
/// scores over the key cache). It is bound by reading B, and column blocks
/// would read B as a 1 KB piece of every row, a row apart, which this
/// machine's memory streams at about half the rate of B read from start to
/// end (a 768 x 2304 weight after a 192 MB sweep: 10-12 GB/s against
/// 21-24). So each band of whole rows is read in order into partial sums of
/// its own, [N] (L1-resident: the adds cost no memory traffic), and one
/// pass then adds the bands' sums to the block start and stores them,
/// through the epilogue if there is one. An embedded weight is read the same way, not
/// laid out in panels for it (argumentsToPrepack).
void emitRowStreamingProduct(RewriterBase &rewriter, Location loc,
                             const MatmulShape &s, int64_t width,
                             bool parallel, const BlockStart &start,
                             linalg::GenericOp epilogue,
                             SmallVectorImpl<Operation *> &mathOps) {
  OpBuilder &b = rewriter;
  auto vecType = VectorType::get({width}, b.getF32Type());
  auto idx = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  const int64_t bands = llvm::divideCeil(s.k, kRowsPerBand);
  const int64_t bandRows = llvm::divideCeil(s.k, bands);
  // Vectors per step of the pass over a row: independent adds in flight.
  const int64_t unroll = s.nDivisor() % (4 * width) == 0 ? 4 : 1;
  Value c0 = idx(0), c1 = idx(1), step = idx(unroll * width);
  Value nSize = s.nValue(b, loc);
  Value zero = b.create<arith::ConstantOp>(loc, vecType,
                                           b.getZeroAttr(vecType));
  // Freed by buffer-deallocation-pipeline, which runs later. A dynamic n
  // (a decode step's visible slots) sizes it at run time.
  SmallVector<Value> dynamicSizes;
  if (ShapedType::isDynamic(s.n))
    dynamicSizes.push_back(nSize);
  Value sums = b.create<memref::AllocOp>(
      loc, MemRefType::get({bands, s.n}, b.getF32Type()), dynamicSizes,
      b.getI64IntegerAttr(64));

  // Bands are independent: at the top level of a function, tasks for the
  // thread pool (attn-outline-parallel-loops); inside a task, a loop.
  Operation *bandLoop;
  Value band;
  if (parallel) {
    auto forall = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(bands)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, ValueRange{}, std::nullopt);
    bandLoop = forall;
    band = forall.getInductionVars()[0];
  } else {
    auto loop = b.create<scf::ForOp>(loc, c0, idx(bands), c1);
    bandLoop = loop;
    band = loop.getInductionVar();
  }
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&bandLoop->getRegion(0).front());
    auto zeroLoop = b.create<scf::ForOp>(loc, c0, nSize, idx(width));
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(zeroLoop.getBody());
      b.create<vector::StoreOp>(loc, zero, sums,
                                ValueRange{band, zeroLoop.getInductionVar()});
    }
    Value k0 = b.create<arith::MulIOp>(loc, band, idx(bandRows));
    Value k1 = b.create<arith::MinUIOp>(
        loc, idx(s.k), b.create<arith::AddIOp>(loc, k0, idx(bandRows)));
    auto rowLoop = b.create<scf::ForOp>(loc, k0, k1, c1);
    b.setInsertionPointToStart(rowLoop.getBody());
    Value k = rowLoop.getInductionVar();
    SmallVector<Value, 2> aIndex = {c0, k};
    if (s.transposedA)
      std::swap(aIndex[0], aIndex[1]);
    Value a = b.create<vector::BroadcastOp>(
        loc, vecType, b.create<memref::LoadOp>(loc, s.a, aIndex));
    auto colLoop = b.create<scf::ForOp>(loc, c0, nSize, step);
    b.setInsertionPointToStart(colLoop.getBody());
    for (int64_t u = 0; u < unroll; ++u) {
      Value col = u == 0 ? colLoop.getInductionVar()
                         : b.create<arith::AddIOp>(
                               loc, colLoop.getInductionVar(), idx(u * width));
      Value sum = b.create<vector::LoadOp>(loc, vecType, sums,
                                           ValueRange{band, col});
      Value row = b.create<vector::LoadOp>(loc, vecType, s.b,
                                           ValueRange{k, col});
      b.create<vector::StoreOp>(loc, b.create<vector::FMAOp>(loc, a, row, sum),
                                sums, ValueRange{band, col});
    }
  }

  // The bands' sums, in band order, onto the block start.
  auto colLoop = b.create<scf::ForOp>(loc, c0, nSize, idx(width));
  b.setInsertionPointToStart(colLoop.getBody());
  Value col = colLoop.getInductionVar();
  Value init;
  if (start.fillValue)
    init = b.create<vector::BroadcastOp>(loc, vecType, start.fillValue);
  else if (start.rowStart)
    init = b.create<vector::LoadOp>(loc, vecType, start.rowStart, col);
  else
    init = b.create<vector::LoadOp>(loc, vecType, s.c, ValueRange{c0, col});
  if (start.rowScale)
    init = b.create<arith::MulFOp>(
        loc,
        b.create<vector::BroadcastOp>(
            loc, vecType, b.create<memref::LoadOp>(loc, start.rowScale, c0)),
        init);
  auto sumLoop = b.create<scf::ForOp>(loc, c0, idx(bands), c1, init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(sumLoop.getBody());
    Value part = b.create<vector::LoadOp>(
        loc, vecType, sums, ValueRange{sumLoop.getInductionVar(), col});
    b.create<scf::YieldOp>(
        loc, ValueRange{b.create<arith::AddFOp>(
                 loc, sumLoop.getRegionIterArgs()[0], part)});
  }
  Value result = sumLoop.getResult(0);
  if (epilogue)
    attnc::emitProductEpilogue(b, loc, epilogue, s.c, result, c0, col,
                               mathOps);
  else
    b.create<vector::StoreOp>(loc, result, s.c, ValueRange{c0, col});
}

/// An elementwise generic on buffers in the form of an epilogue of
/// `product` (ContractionFusion.h) that no micro-kernel took (attn-vectorize
/// left it for one, which then found its output sharing memory with A or B,
/// say): a loop nest of its own over the rows and `width`-lane columns of
/// `product`, loading each vector of it, as attn-vectorize would have made
/// it, instead of convert-linalg-to-loops' scalar loops.
void emitStandaloneEpilogue(RewriterBase &rewriter, linalg::GenericOp generic,
                            Value product, int64_t width,
                            SmallVectorImpl<Operation *> &mathOps) {
  OpBuilder &b = rewriter;
  Location loc = generic.getLoc();
  auto type = cast<MemRefType>(product.getType());
  auto idx = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  rewriter.setInsertionPoint(generic);
  auto rowLoop =
      b.create<scf::ForOp>(loc, idx(0), idx(type.getDimSize(0)), idx(1));
  b.setInsertionPointToStart(rowLoop.getBody());
  auto colLoop =
      b.create<scf::ForOp>(loc, idx(0), idx(type.getDimSize(1)), idx(width));
  b.setInsertionPointToStart(colLoop.getBody());
  Value row = rowLoop.getInductionVar(), col = colLoop.getInductionVar();
  Value block = b.create<vector::LoadOp>(
      loc, VectorType::get({width}, b.getF32Type()), product,
      ValueRange{row, col});
  attnc::emitProductEpilogue(b, loc, generic, product, block, row, col,
                             mathOps);
  rewriter.eraseOp(generic);
}

struct Match {
  Operation *op;
  MatmulShape shape;
  RegisterBlock block;
};

/// Whether `m` is a single row over a B wider than its panel (or of a
/// width known only at run time, which may be): emitRowStreamingProduct's.
bool streamsRows(const Match &m) {
  return m.shape.m == 1 && !ShapedType::isDynamic(m.shape.k) &&
         (ShapedType::isDynamic(m.shape.n) ||
          m.shape.n > m.block.panelWidth()) &&
         !m.op->hasAttr(attnc::kCausalScoresAttr) &&
         !m.op->hasAttr(attnc::kCausalWeightsAttr);
}

/// The arguments of `func` marked attn.embedded whose every reader is one
/// of `matches` reading it as its whole B, all with the same panel width,
/// narrower than B. Those can be packed ahead of time: the copy a product
/// would make per call is then made once, by whoever lays out the values.
/// Not for a reader that streams rows: it reads B from start to end already,
/// and so reads an embedded weight just as one passed at run time, in the
/// same order, with the same sums.
llvm::SmallDenseSet<Value> argumentsToPrepack(func::FuncOp func,
                                              ArrayRef<Match> matches) {
  llvm::SmallDenseSet<Value> result;
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!func.getArgAttr(arg.getArgNumber(), "attn.embedded") || !type ||
        type.getRank() != 2 || !type.getLayout().isIdentity() ||
        arg.use_empty())
      continue;
    std::optional<int64_t> panelWidth;
    bool allProducts = llvm::all_of(arg.getUsers(), [&](Operation *user) {
      const Match *m = llvm::find_if(matches, [&](const Match &m) {
        return m.op == user;
      });
      if (m == matches.end() || m->shape.isDynamic() || m->shape.b != arg ||
          m->shape.a == arg || m->shape.c == arg || streamsRows(*m) ||
          (panelWidth && *panelWidth != m->block.panelWidth()))
        return false;
      panelWidth = m->block.panelWidth();
      return true;
    });
    if (allProducts && *panelWidth < type.getDimSize(1)) {
      func.setArgAttr(arg.getArgNumber(), "attn.packed_panels",
                      Builder(func).getI64IntegerAttr(*panelWidth));
      result.insert(arg);
    }
  }
  return result;
}

struct ContractionMicrokernelPass
    : attnc::impl::ContractionMicrokernelBase<ContractionMicrokernelPass> {
  void runOnOperation() override {
    SmallVector<Match> matches;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (std::optional<MatmulShape> shape = matchMatmul(op))
        if (std::optional<RegisterBlock> block = registerBlockFor(*shape))
          matches.push_back({op, *shape, *block});
    });
    llvm::SmallDenseSet<Value> prepacked =
        argumentsToPrepack(getOperation(), matches);
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> mathOps;
    for (Match &m : matches) {
      // The micro-kernel reads and writes every element of C once, so a
      // fill, row scaling or row broadcast of C right before becomes its
      // blocks' start, and an elementwise op after (on a linear, at the
      // top level) its blocks' end.
      auto product = cast<linalg::LinalgOp>(m.op);
      BlockStart start = blockStart(product, m.shape.c);
      bool topLevel = isa<FunctionOpInterface>(m.op->getParentOp());
      linalg::GenericOp epilogue =
          topLevel ? productEpilogue(product, m.shape, start.folded)
                   : linalg::GenericOp();
      // At the epilogue, whose inputs may be defined after the product.
      rewriter.setInsertionPoint(epilogue ? epilogue.getOperation() : m.op);
      CausalSkip causal;
      causal.laterRows = m.op->hasAttr(attnc::kCausalScoresAttr);
      causal.laterTerms =
          m.op->hasAttr(attnc::kCausalWeightsAttr) && m.shape.transposedA;
      if (streamsRows(m))
        emitRowStreamingProduct(rewriter, m.op->getLoc(), m.shape,
                                m.block.width, topLevel, start, epilogue,
                                mathOps);
      else
        emitMicrokernel(rewriter, m.op->getLoc(), m.shape, m.block, topLevel,
                        prepacked.contains(m.shape.b), start, causal,
                        epilogue, mathOps);
      rewriter.eraseOp(m.op);
      if (start.folded)
        rewriter.eraseOp(start.folded);
      if (epilogue)
        rewriter.eraseOp(epilogue);
    }
    // Epilogues no product took: their own vector loops.
    SmallVector<std::pair<linalg::GenericOp, Value>> leftovers;
    for (auto generic : getOperation().getBody().getOps<linalg::GenericOp>()) {
      if (!generic.hasPureBufferSemantics())
        continue;
      for (Value input : generic.getDpsInputs())
        if (isa<MemRefType>(input.getType()) &&
            attnc::isProductEpilogue(generic, input)) {
          leftovers.push_back({generic, input});
          break;
        }
    }
    for (auto [generic, product] : leftovers) {
      auto type = cast<MemRefType>(product.getType());
      if (int64_t width = vectorWidth(type.getDimSize(1));
          width != 0 && attnc::hasContiguousRows(product))
        emitStandaloneEpilogue(rewriter, generic, product, width, mathOps);
    }
    // An epilogue's tanh, erf and exp as attn-vectorize approximates them
    // elsewhere, not as one libm call per lane.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingAndNewOps;
    if (failed(applyOpPatternsAndFold(mathOps, std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace

bool attnc::becomesMicrokernel(linalg::LinalgOp op) {
  std::optional<MatmulShape> shape = matchMatmul(op);
  return shape && registerBlockFor(*shape);
}
