//===- LowerStridedCopies.cpp - strided memref.copy without a runtime -----===//
//
// The memref-to-LLVM lowering calls `memrefCopy` (MLIR's C runner
// utilities) for any copy that is not one contiguous block; attnc's objects
// must link against nothing but libm and, optionally, attnc's runtime. As
// a linalg.copy the same copy becomes loops in the pipeline's
// convert-linalg-to-loops step.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"

#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/Builders.h"

namespace attnc {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIES
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

bool isContiguous(Value buffer) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  return type && memref::isStaticShapeAndContiguousRowMajor(type);
}

struct LowerStridedCopiesPass
    : attnc::impl::LowerStridedCopiesBase<LowerStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> strided;
    getOperation()->walk([&](memref::CopyOp copy) {
      // linalg.copy needs ranked buffers (on unranked ones it verifies,
      // then lowers to no loops at all).
      if (!isa<MemRefType>(copy.getSource().getType()) ||
          !isa<MemRefType>(copy.getTarget().getType()))
        return;
      if (!isContiguous(copy.getSource()) || !isContiguous(copy.getTarget()))
        strided.push_back(copy);
    });
    OpBuilder builder(&getContext());
    for (memref::CopyOp copy : strided) {
      builder.setInsertionPoint(copy);
      builder.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                                     copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
