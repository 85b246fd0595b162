//===- LowerNonPositiveExp2.cpp - expand the softmax's marked 2^t ---------===//
//
// The flash lowering writes its weights' and rescale factors' 2^t as a
// math.exp2 marked attn.nonpositive (NonPositiveExp.h): which instructions
// compute it best depends on the target, which only the end of the
// pipeline knows, and on the vector shape, which only attn-vectorize
// decides. This pass runs after both and expands each marked op, scalar or
// vector, by buildExp2OfNonPositive. Unmarked math.exp2 ops stay (their
// argument may be positive).
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/NonPositiveExp.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

namespace attnc {
#define GEN_PASS_DEF_LOWERNONPOSITIVEEXP2
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

struct LowerNonPositiveExp2Pass
    : attnc::impl::LowerNonPositiveExp2Base<LowerNonPositiveExp2Pass> {
  using LowerNonPositiveExp2Base::LowerNonPositiveExp2Base;

  void runOnOperation() override {
    SmallVector<math::Exp2Op> marked;
    getOperation()->walk([&](math::Exp2Op op) {
      if (op->hasAttr(attnc::kNonPositiveExp2Attr) &&
          getElementTypeOrSelf(op.getType()).isF32())
        marked.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (math::Exp2Op op : marked) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, attnc::buildExp2OfNonPositive(
                                 rewriter, op.getLoc(), op.getOperand(),
                                 avx512));
    }
  }
};

} // namespace
