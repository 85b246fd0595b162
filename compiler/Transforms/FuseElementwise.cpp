//===- FuseElementwise.cpp - chains of elementwise ops as one loop nest ---===//
//
// The model's own elementwise statements (`x * w + x`, gelu, residual sums)
// lower to one linalg.generic each; left so, each is a pass over memory and
// a temporary of its own, and one-shot bufferization's analysis grows with
// their number (400 chained statements: 3.6 s of a 5 s MLIR pipeline).
// Fusing a producer into its only consumer, as upstream's elementwise
// fusion does, makes a chain one loop nest. Only top-level ops whose loops
// are all parallel and whose operands are read in loop order (a suffix
// broadcast at most) take part: the ops inside attention's loop nests and
// the contractions keep the forms attn-vectorize and the micro-kernel
// expect.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attnc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// Whether `map` reads its operand in the order of the loops, with leading
/// loops possibly dropped (a broadcast over the outer dimensions, the only
/// one the language has): (d0, d1) -> (d0, d1) or (d1), not (d1, d0).
bool readsInLoopOrder(AffineMap map) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return false;
  int64_t previous = -1;
  for (AffineExpr result : map.getResults()) {
    int64_t dim = cast<AffineDimExpr>(result).getPosition();
    if (dim <= previous)
      return false;
    previous = dim;
  }
  return true;
}

/// A generic of the model's body (not inside a loop nest some lowering
/// built) with only parallel loops, reading every operand in loop order.
bool isFusibleElementwise(linalg::GenericOp op) {
  return isa<func::FuncOp>(op->getParentOp()) &&
         op.getNumReductionLoops() == 0 && op.getNumLoops() > 0 &&
         llvm::all_of(op.getIndexingMapsArray(), readsInLoopOrder);
}

/// Fuses into an elementwise consumer an elementwise producer whose result
/// only it reads, once, so that the result no longer exists.
struct FuseOnlyConsumer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    if (!isFusibleElementwise(consumer))
      return failure();
    for (OpOperand *operand : consumer.getDpsInputOperands()) {
      auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
      // One use, not one user: a consumer reading the producer through
      // two operands would get its body twice, and a chain of them
      // (a = b * w + b) twice as many copies per statement. The operand
      // deduplication added below merges such operands first.
      if (!producer || producer->getNumResults() != 1 ||
          !producer->getResult(0).hasOneUse() ||
          !isFusibleElementwise(producer) ||
          !linalg::areElementwiseOpsFusable(operand))
        continue;
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, operand);
      if (failed(fused))
        continue;
      for (auto [original, replacement] : fused->replacements)
        rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
          return use.get().getDefiningOp() != producer;
        });
      rewriter.eraseOp(consumer);
      // Erased now, not left to the driver: until it is gone, the value
      // the fused op reads through it counts a use too many to fuse.
      if (producer->use_empty())
        rewriter.eraseOp(producer);
      return success();
    }
    return failure();
  }
};

struct FuseElementwisePass
    : attnc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseOnlyConsumer>(&getContext());
    // Fusing leaves operands read twice (x in x * w + x) and inputs the body
    // no longer uses; these patterns merge and drop them, which lets the
    // value read twice fuse in turn.
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    // Only the function body's generics (and the fused ones that replace
    // them) are rewritten: attention's loop nests keep their exact form.
    SmallVector<Operation *> topLevel;
    for (Operation &op : getOperation().getBody().getOps())
      if (isa<linalg::GenericOp>(op))
        topLevel.push_back(&op);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingAndNewOps;
    // Not converging would leave valid, less fused IR: nothing to fail for.
    (void)applyOpPatternsAndFold(topLevel, std::move(patterns), config);
  }
};

} // namespace
