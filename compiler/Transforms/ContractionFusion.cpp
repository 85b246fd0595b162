//===- ContractionFusion.cpp - ops a micro-kernel takes in ----------------===//
//
// The shapes of op that attn-contraction-microkernel folds into a product's
// register blocks, and the vector form of an elementwise epilogue
// (ContractionFusion.h).
//
//===----------------------------------------------------------------------===//

#include "attnc/Transforms/ContractionFusion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace {

/// How an epilogue reads one input at loop position (i, j).
enum class Access { Matrix, Columns, Rows, Element, Unsupported };

Access accessOf(AffineMap map) {
  if (map.getNumDims() != 2 || map.getNumSymbols() != 0)
    return Access::Unsupported;
  if (map.getNumResults() == 0)
    return Access::Element;
  if (map.isIdentity())
    return Access::Matrix;
  if (map.getNumResults() == 1)
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResult(0)))
      return dim.getPosition() == 1 ? Access::Columns : Access::Rows;
  return Access::Unsupported;
}

bool isStaticF32(Value v) {
  auto type = dyn_cast<ShapedType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

bool isScalarIntOrFloat(Type t) { return t.isIntOrFloat(); }

/// The body's ops, one vector op each: elementwise arith and math ops on
/// scalars, constants included.
bool hasElementwiseBody(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  for (Operation &op : body.without_terminator()) {
    if (op.getNumRegions() != 0 ||
        !isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return false;
    if (!op.hasTrait<OpTrait::Elementwise>() && !isa<arith::ConstantOp>(op))
      return false;
    for (Value v : op.getOperands())
      if (!isScalarIntOrFloat(v.getType()))
        return false;
    for (Type t : op.getResultTypes())
      if (!isScalarIntOrFloat(t))
        return false;
  }
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return yield.getNumOperands() == 1 &&
         yield.getOperand(0).getType().isF32();
}

} // namespace

bool attnc::hasContiguousRows(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type)
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(getStridesAndOffset(type, strides, offset)) &&
         strides.back() == 1;
}

bool attnc::isRowScaling(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getNumLoops() != 2 ||
      generic.getNumParallelLoops() != 2)
    return false;
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  MLIRContext *ctx = generic.getContext();
  if (maps[0] != AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx) ||
      !maps[1].isIdentity())
    return false;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(body.front());
  auto yield = dyn_cast<linalg::YieldOp>(body.back());
  if (!mul || !yield || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != mul.getResult() || !mul.getType().isF32())
    return false;
  Value in = body.getArgument(0), out = body.getArgument(1);
  return (mul.getLhs() == in && mul.getRhs() == out) ||
         (mul.getLhs() == out && mul.getRhs() == in);
}

bool attnc::isRowBroadcast(linalg::LinalgOp op) {
  auto broadcast = dyn_cast<linalg::BroadcastOp>(op.getOperation());
  if (!broadcast)
    return false;
  Value in = broadcast.getInput(), out = broadcast.getInit();
  return isStaticF32(in) && isStaticF32(out) &&
         cast<ShapedType>(in.getType()).getRank() == 1 &&
         cast<ShapedType>(out.getType()).getRank() == 2 &&
         broadcast.getDimensions() == ArrayRef<int64_t>{0} &&
         attnc::hasContiguousRows(in);
}

bool attnc::isProductEpilogue(linalg::GenericOp generic, Value product) {
  if (generic.getNumLoops() != 2 || generic.getNumParallelLoops() != 2 ||
      generic.getNumDpsInits() != 1)
    return false;
  OpOperand *init = generic.getDpsInitOperand(0);
  if (!generic.getMatchingIndexingMap(init).isIdentity() ||
      !isStaticF32(init->get()) || !attnc::hasContiguousRows(init->get()))
    return false;
  bool readsProduct = false;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    Value v = input->get();
    Access access = accessOf(generic.getMatchingIndexingMap(input));
    if (v == product) {
      if (access != Access::Matrix || !isStaticF32(v))
        return false;
      readsProduct = true;
      continue;
    }
    if (!isa<ShapedType>(v.getType())) { // a scalar operand
      if (access != Access::Element || !isScalarIntOrFloat(v.getType()))
        return false;
      continue;
    }
    if (access == Access::Unsupported || !isStaticF32(v))
      return false;
    if ((access == Access::Matrix || access == Access::Columns) &&
        !attnc::hasContiguousRows(v))
      return false;
  }
  return readsProduct && hasElementwiseBody(generic);
}

void attnc::emitProductEpilogue(OpBuilder &b, Location loc,
                                linalg::GenericOp epilogue, Value product,
                                Value acc, Value row, Value col,
                                SmallVectorImpl<Operation *> &mathOps) {
  int64_t width = cast<VectorType>(acc.getType()).getNumElements();
  auto vectorOf = [&](Type scalar) { return VectorType::get({width}, scalar); };
  auto splat = [&](Value scalar) -> Value {
    return b.create<vector::BroadcastOp>(loc, vectorOf(scalar.getType()),
                                         scalar);
  };
  Block &body = epilogue.getRegion().front();
  Value out = epilogue.getDpsInitOperand(0)->get();
  IRMapping vectors;
  for (OpOperand &operand : epilogue->getOpOperands()) {
    BlockArgument arg = body.getArgument(operand.getOperandNumber());
    if (arg.use_empty())
      continue;
    Value v = operand.get();
    if (v == product) {
      vectors.map(arg, acc);
      continue;
    }
    if (!isa<ShapedType>(v.getType())) {
      vectors.map(arg, splat(v));
      continue;
    }
    auto type = vectorOf(cast<ShapedType>(v.getType()).getElementType());
    switch (accessOf(epilogue.getMatchingIndexingMap(&operand))) {
    case Access::Matrix:
      vectors.map(arg, b.create<vector::LoadOp>(loc, type, v,
                                                ValueRange{row, col}));
      break;
    case Access::Columns:
      vectors.map(arg, b.create<vector::LoadOp>(loc, type, v, col));
      break;
    case Access::Rows:
      vectors.map(arg, splat(b.create<memref::LoadOp>(loc, v, row)));
      break;
    case Access::Element:
      vectors.map(arg, splat(b.create<memref::LoadOp>(loc, v)));
      break;
    case Access::Unsupported:
      llvm_unreachable("isProductEpilogue admits no such input");
    }
  }
  // Values from outside the body are scalars, the same in every lane.
  auto vectorFor = [&](Value scalar) -> Value {
    if (Value v = vectors.lookupOrNull(scalar))
      return v;
    Value v = splat(scalar);
    vectors.map(scalar, v);
    return v;
  };
  for (Operation &op : body.without_terminator()) {
    if (isa<arith::ConstantOp>(op)) {
      vectors.map(op.getResult(0), splat(b.clone(op)->getResult(0)));
      continue;
    }
    SmallVector<Value> operands = llvm::map_to_vector(
        op.getOperands(), [&](Value v) { return vectorFor(v); });
    SmallVector<Type> types = llvm::map_to_vector(
        op.getResultTypes(), [&](Type t) -> Type { return vectorOf(t); });
    Operation *vectorOp =
        b.create(loc, op.getName().getIdentifier(), operands, types,
                 op.getAttrs());
    if (isa<math::MathDialect>(vectorOp->getDialect()))
      mathOps.push_back(vectorOp);
    vectors.map(op.getResults(), vectorOp->getResults());
  }
  Value result = vectorFor(body.getTerminator()->getOperand(0));
  b.create<vector::StoreOp>(loc, result, out, ValueRange{row, col});
}
