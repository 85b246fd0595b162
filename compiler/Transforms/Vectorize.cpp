//===- Vectorize.cpp - register tiles for every linalg op -----------------===//
//
// Tiles each statically shaped linalg op on tensors to the size of a few
// vector registers and vectorizes the tile, then lowers the vector ops to
// the forms LLVM turns into AVX-512 code:
//
//   row reductions (softmax max/sum, norms): a whole row (up to 256
//     elements, else pieces of up to 256), reduced as a tree of vector
//     ops and then horizontally.
//   2-D transposes (flash attention's query tile): 16 x 16 blocks,
//     transposed in registers by shuffles.
//   everything else (elementwise, broadcasts, masks): 16 lanes along the
//     output's innermost dimension; a short reduction across rows (flash
//     attention's transposed scores) whole, its rows combined elementwise.
//
// Contractions (matmul, QK^T, PV), the fills, row scalings and bias
// broadcasts that only initialize them, and the elementwise ops that finish
// a linear (ContractionFusion.h), are left to attn-contraction-microkernel,
// which runs on buffers.
//
// Max reductions become compare-and-select trees (vmaxps); exp, tanh and
// erf become polynomial approximations on vectors instead of
// one libm call per lane. Ops that cannot be vectorized keep their scalar
// loops (convert-linalg-to-loops), so this pass only ever changes speed.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/ContractionFusion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attnc {
#define GEN_PASS_DEF_VECTORIZE
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// Lanes of one f32 vector register (zmm); wider vectors are split by LLVM.
constexpr int64_t kLanes = 16;
/// Rows up to this length are reduced as one vector (LLVM splits it into
/// registers and reduces them as a tree).
constexpr int64_t kMaxWholeRow = 256;

/// The largest power of two <= limit that divides n (1 if n is odd).
int64_t divisorUpTo(int64_t n, int64_t limit) {
  int64_t t = limit;
  while (t > 1 && n % t != 0)
    t /= 2;
  return t;
}

/// The loop dimension an operand's innermost (contiguous) index uses, if it
/// is a plain dimension.
std::optional<unsigned> innermostLoopDim(linalg::LinalgOp op,
                                         OpOperand &operand) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  if (map.getNumResults() == 0)
    return std::nullopt;
  if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()))
    return dim.getPosition();
  return std::nullopt;
}

/// A linalg.fill, a scaling of each row of a matrix (flash attention's
/// rescaled accumulator: out[i, j] = s[i] * out[i, j]), or a vector
/// broadcast into every row (a linear's bias), whose result is the init of
/// a contraction and nothing else: attn-contraction-microkernel folds those
/// into the registers it starts from.
bool initializesOnlyContraction(linalg::LinalgOp op) {
  bool rowBroadcast = attnc::isRowBroadcast(op);
  if (!(isa<linalg::FillOp>(op) || attnc::isRowScaling(op) || rowBroadcast) ||
      op->getNumResults() != 1 || !op->getResult(0).hasOneUse())
    return false;
  OpOperand &use = *op->getResult(0).getUses().begin();
  auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
  return user && linalg::isaContractionOpInterface(user) &&
         user.isDpsInit(&use) &&
         (!rowBroadcast || attnc::becomesMicrokernel(user));
}

/// Whether `op` becomes, on buffers, something that neither reads nor
/// writes memory: a tensor.empty (an allocation) or an op on no tensors
/// without memory effects (a constant, index arithmetic).
bool bufferizesToNoAccess(Operation *op) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  auto isTensor = [](Type t) { return isa<TensorType>(t); };
  return isMemoryEffectFree(op) &&
         llvm::none_of(op->getOperandTypes(), isTensor) &&
         llvm::none_of(op->getResultTypes(), isTensor);
}

/// The product whose register blocks `op` is applied to by
/// attn-contraction-microkernel before they are stored (ContractionFusion.h),
/// if any: `op` is an elementwise generic reading the result of a
/// top-level product that nothing else reads, and nothing that touches
/// memory runs between the two.
linalg::LinalgOp productFinishedBy(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return {};
  for (Value input : generic.getDpsInputs()) {
    auto product = input.getDefiningOp<linalg::LinalgOp>();
    if (!product || !input.hasOneUse() ||
        product->getBlock() != generic->getBlock() ||
        !isa<FunctionOpInterface>(product->getParentOp()) ||
        !linalg::isaContractionOpInterface(product) ||
        !attnc::becomesMicrokernel(product) ||
        !attnc::isProductEpilogue(generic, input))
      continue;
    Operation *between = product->getNextNode();
    while (between != generic && bufferizesToNoAccess(between))
      between = between->getNextNode();
    if (between == generic)
      return product;
  }
  return {};
}

/// Gives a top-level product its own start and buffer, so that
/// attn-contraction-microkernel can fold them: a fill or bias broadcast
/// that starts several products (CSE merges equal ones) is cloned right
/// before this one (the last one's moves there), and the tensor.empty it
/// starts from becomes, for this use alone, a bufferization.alloc_tensor,
/// which CSE does not merge. Shared, the start would be stored once and
/// copied for each product, and bufferization may put later values in the
/// product's buffer, where the micro-kernel cannot tell that only the
/// epilogue reads the product.
void giveOwnStartAndBuffer(RewriterBase &rewriter, linalg::LinalgOp product) {
  OpOperand *init = product.getDpsInitOperand(0);
  auto start = init->get().getDefiningOp<linalg::LinalgOp>();
  if (start && (isa<linalg::FillOp>(start) || attnc::isRowBroadcast(start))) {
    if (!start->hasOneUse()) {
      rewriter.setInsertionPoint(product);
      Operation *own = rewriter.clone(*start);
      rewriter.modifyOpInPlace(product, [&] { init->set(own->getResult(0)); });
      start = cast<linalg::LinalgOp>(own);
    } else if (start->getNextNode() != product) {
      rewriter.moveOpBefore(start, product);
    }
    init = start.getDpsInitOperand(0);
  }
  auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
  if (!empty || empty->hasOneUse())
    return;
  rewriter.setInsertionPoint(init->getOwner());
  Value own = rewriter.create<bufferization::AllocTensorOp>(
      empty.getLoc(), empty.getType(), ValueRange{});
  rewriter.modifyOpInPlace(init->getOwner(), [&] { init->set(own); });
}

/// An elementwise op on one 2-D operand read transposed: in[j, i] -> out[i,
/// j] (and whatever the body does to each element). Not a broadcast of a
/// row or column, whose operand's innermost index also differs from the
/// output's.
bool isTranspose2D(linalg::LinalgOp op) {
  if (op.getNumLoops() != 2 || op.getNumParallelLoops() != 2 ||
      op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1)
    return false;
  AffineMap in = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  return in.isPermutation() && out.isPermutation() && in != out;
}

struct TilePlan {
  SmallVector<int64_t> sizes;       ///< 0: not tiled (the whole range)
  SmallVector<int64_t> interchange; ///< parallel loops, then reductions
};

/// Register tiles for `op`, or nothing when it is not worth vectorizing.
std::optional<TilePlan> planTiles(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned n = ranges.size();
  SmallVector<int64_t> tiles(n, 1);
  auto isReduction = [&](unsigned d) {
    return iterators[d] == utils::IteratorType::reduction;
  };

  std::optional<unsigned> outDim =
      op.getNumDpsInits() ? innermostLoopDim(op, *op.getDpsInitOperand(0))
                          : std::nullopt;
  std::optional<unsigned> inDim =
      op.getNumDpsInputs() ? innermostLoopDim(op, *op.getDpsInputOperand(0))
                           : std::nullopt;
  // Contractions are attn-contraction-microkernel's, after bufferization,
  // and so are the start that only initializes one (the micro-kernel then
  // starts its registers at it instead of storing it and loading it back)
  // and the elementwise op that finishes one (applied to the registers
  // before they are stored).
  if (linalg::isaContractionOpInterface(op) ||
      initializesOnlyContraction(op) || productFinishedBy(op))
    return std::nullopt;
  unsigned vectorDim;
  if (isTranspose2D(op) && ranges[0] % kLanes == 0 &&
      ranges[1] % kLanes == 0) {
    // A transpose (flash attention's query tile, [rows, D] to [D, rows]):
    // blocks of 16 x 16, each read as 16 vectors and transposed in
    // registers by shuffles (vector.transpose as shuffle_16x16), where
    // vectors along the output would gather 16 strided elements apiece
    // (measured at H32 S2048 D128: 4-6 % of a non-causal kernel's time,
    // 10 % of a causal one's at 256-query tiles).
    vectorDim = *outDim;
    tiles[*outDim] = kLanes;
    tiles[*inDim] = kLanes;
  } else if (inDim && isReduction(*inDim)) {
    // A reduction along the rows' contiguous dimension: a row at a time,
    // whole (one horizontal reduction) unless it is long, and then in
    // pieces of up to kMaxWholeRow, each reduced as a tree before one
    // horizontal step. (Pieces of 16 lanes each took a horizontal
    // reduction, a chain of four dependent shuffles and a scalar op per
    // vector: a decode step's softmax over a ring of 4096 slots spent 15 %
    // of the step in its row max and sum.)
    vectorDim = *inDim;
    tiles[vectorDim] = ranges[vectorDim] <= kMaxWholeRow
                           ? ranges[vectorDim]
                           : divisorUpTo(ranges[vectorDim], kMaxWholeRow);
  } else if (outDim) {
    vectorDim = *outDim;
    tiles[vectorDim] = divisorUpTo(ranges[vectorDim], kLanes);
    // A reduction across rows of vectors (the transposed scores of flash
    // attention): short reductions are taken whole, so one vector op
    // combines the rows elementwise (MultiReductionAcrossRows) instead of
    // a loop carrying the result through memory.
    for (unsigned d = 0; d < n; ++d)
      if (isReduction(d) && ranges[d] <= kMaxWholeRow)
        tiles[d] = ranges[d];
  } else {
    return std::nullopt;
  }
  if (tiles[vectorDim] < 4)
    return std::nullopt; // too narrow to pay for itself

  TilePlan plan;
  for (unsigned d = 0; d < n; ++d)
    plan.sizes.push_back(tiles[d] == ranges[d] ? 0 : tiles[d]);
  for (unsigned d = 0; d < n; ++d)
    if (!isReduction(d))
      plan.interchange.push_back(d);
  for (unsigned d = 0; d < n; ++d)
    if (isReduction(d))
      plan.interchange.push_back(d);
  return plan;
}

/// max(a, b) as x86's vmaxps computes it: a > b ? a : b.
Value selectMax(OpBuilder &b, Location loc, Value x, Value y) {
  Value greater =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, y);
  return b.create<arith::SelectOp>(loc, greater, x, y);
}

/// A max reduction of f32 lanes (softmax's row max) as a tree of
/// compare-and-select: halves of the row first, then halves within one
/// register by shuffles. LLVM lowers `vector.reduce.fmaximum`, which must
/// order -0 below +0 and propagate NaN, to six or more instructions per
/// step, and that made the flash-attention row max 12 % of the kernel's time;
/// a compare-and-select is one vmaxps. A NaN score may be dropped from the
/// max, but it still reaches the output: exp(NaN - max) is NaN and so is the
/// row's sum.
struct MaxReductionAsSelectTree : OpRewritePattern<vector::ReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::ReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != vector::CombiningKind::MAXIMUMF &&
        op.getKind() != vector::CombiningKind::MAXNUMF)
      return failure();
    VectorType type = op.getSourceVectorType();
    int64_t n = type.getNumElements();
    if (type.getRank() != 1 || type.isScalable() ||
        !type.getElementType().isF32() || n < 2 || !llvm::isPowerOf2_64(n))
      return failure();
    Location loc = op.getLoc();
    Value row = op.getVector();
    for (; n > kLanes; n /= 2) {
      auto half = [&](int64_t offset) {
        return rewriter.create<vector::ExtractStridedSliceOp>(
            loc, row, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{n / 2},
            ArrayRef<int64_t>{1});
      };
      row = selectMax(rewriter, loc, half(0), half(n / 2));
    }
    // Lane i of the first `live` lanes meets lane i + live/2.
    int64_t width = n;
    for (int64_t live = width; live > 1; live /= 2) {
      SmallVector<int64_t> upperHalf;
      for (int64_t i = 0; i < width; ++i)
        upperHalf.push_back(i < live / 2 ? i + live / 2 : i);
      Value moved =
          rewriter.create<vector::ShuffleOp>(loc, row, row, upperHalf);
      row = selectMax(rewriter, loc, row, moved);
    }
    Value result = rewriter.create<vector::ExtractOp>(loc, row, 0);
    if (Value acc = op.getAcc())
      result = selectMax(rewriter, loc, result, acc);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A reduction over the leading dimension of a 2-D vector (rows of a
/// column-wise reduction): the rows combined elementwise, as a tree, so no
/// lane crosses a register. The generic lowering would transpose the vector
/// first and reduce every column horizontally.
struct MultiReductionAcrossRows
    : OpRewritePattern<vector::MultiDimReductionOp> {
  MultiReductionAcrossRows(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    VectorType type = op.getSourceVectorType();
    if (type.getRank() != 2 || type.isScalable() ||
        !type.getElementType().isF32() ||
        !op.isReducedDim(0) || op.isReducedDim(1))
      return failure();
    Location loc = op.getLoc();
    vector::CombiningKind kind = op.getKind();
    auto combine = [&](Value x, Value y) -> Value {
      if (kind == vector::CombiningKind::MAXIMUMF ||
          kind == vector::CombiningKind::MAXNUMF)
        return selectMax(rewriter, loc, x, y);
      return vector::makeArithReduction(rewriter, loc, kind, x, y);
    };
    SmallVector<Value> rows;
    for (int64_t r = 0; r < type.getDimSize(0); ++r)
      rows.push_back(rewriter.create<vector::ExtractOp>(loc, op.getSource(),
                                                        ArrayRef<int64_t>{r}));
    while (rows.size() > 1) {
      SmallVector<Value> next;
      for (size_t r = 0; r + 1 < rows.size(); r += 2)
        next.push_back(combine(rows[r], rows[r + 1]));
      if (rows.size() % 2)
        next.push_back(rows.back());
      rows = std::move(next);
    }
    rewriter.replaceOp(op, combine(rows.front(), op.getAcc()));
    return success();
  }
};

/// Tiles `op` by `plan` and vectorizes the tile; leaves `op` alone on
/// failure.
void tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                      const TilePlan &plan) {
  if (failed(linalg::vectorizeOpPrecondition(op)))
    return;
  Operation *tile = op;
  if (llvm::any_of(plan.sizes, [](int64_t s) { return s != 0; })) {
    scf::SCFTilingOptions options;
    options.setTileSizes(
        getAsIndexOpFoldResult(rewriter.getContext(), plan.sizes));
    options.setInterchange(plan.interchange);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return;
    rewriter.replaceOp(op, tiled->replacements);
    tile = tiled->tiledOps.front();
  }
  rewriter.setInsertionPoint(tile);
  // On failure the tiled op stays: scalar loops inside the tile loops.
  (void)linalg::vectorize(rewriter, tile);
}

struct VectorizePass : attnc::impl::VectorizeBase<VectorizePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    SmallVector<linalg::LinalgOp> products;
    for (auto op : func.getBody().getOps<linalg::LinalgOp>())
      if (op.hasPureTensorSemantics() &&
          linalg::isaContractionOpInterface(op) &&
          attnc::becomesMicrokernel(op))
        products.push_back(op);
    for (linalg::LinalgOp product : products)
      giveOwnStartAndBuffer(rewriter, product);
    SmallVector<linalg::LinalgOp> candidates;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics())
        candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates)
      if (std::optional<TilePlan> plan = planTiles(op))
        tileAndVectorize(rewriter, op, *plan);

    // Vector ops into the forms LLVM's x86 backend handles well.
    RewritePatternSet patterns(ctx);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns,
        vector::VectorTransformsOptions().setVectorTransposeLowering(
            vector::VectorTransposeLowering::Shuffle16x16));
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    vector::BroadcastOp::getCanonicalizationPatterns(patterns, ctx);
    populateMathPolynomialApproximationPatterns(patterns);
    patterns.add<MaxReductionAsSelectTree, MultiReductionAcrossRows>(ctx);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
