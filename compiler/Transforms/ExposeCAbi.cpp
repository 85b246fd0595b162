//===- ExposeCAbi.cpp - model functions in destination-passing form -------===//
//
// The kernel ABI is `int model(const float *in..., float *out...)`: callers own
// every buffer. Rewriting the tensor function into that form before
// bufferization lets one-shot bufferization write results straight into the
// caller's output buffers instead of allocating and returning new ones.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/IR/Builders.h"

namespace attnc {
#define GEN_PASS_DEF_EXPOSECABI
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// The operand through which `result` was computed into a tensor.empty,
/// when every op from that empty tensor to `result` writes into its
/// destination (linalg and other destination-passing ops, scf.forall's
/// shared outputs, reshapes). Other ops may read what lies between (a
/// softmax's row max reads the scores the weights then overwrite): where
/// one reads a value after the chain has overwritten it, one-shot
/// bufferization's conflict analysis writes that step out of place, so a
/// copy, never a wrong read, is the worst case.
OpOperand *emptyDestinationOf(Value result) {
  for (Value v = result;;) {
    Operation *def = v.getDefiningOp();
    OpOperand *into = nullptr;
    if (auto forall = dyn_cast_or_null<scf::ForallOp>(def))
      into = forall.getTiedOpOperand(cast<OpResult>(v));
    else if (auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(def))
      into = dps.getTiedOpOperand(cast<OpResult>(v));
    else if (isa_and_nonnull<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(
                 def))
      into = &def->getOpOperand(0);
    if (!into)
      return nullptr;
    v = into->get();
    if (v.getDefiningOp<tensor::EmptyOp>())
      return into;
  }
}

MemRefType memrefFor(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

LogicalResult exposeCAbi(func::FuncOp func) {
  if (func.isExternal())
    return func.emitOpError("marked attn.model must have a body");
  // MLIRGen emits straight-line model bodies; control flow would need every
  // return rewritten and is not part of the language.
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("marked attn.model must have a single block");
  Block &entry = func.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
  if (!ret)
    return func.emitOpError("marked attn.model must end in func.return");
  // Its signature changes; calls from this module would not.
  if (!SymbolTable::symbolKnownUseEmpty(func, func->getParentOp()))
    return func.emitOpError("marked attn.model is an entry point of the "
                            "kernel and cannot be called from the module");
  // A decode step's KV caches are memrefs it updates in place and its
  // position an i64; they stay as they are.
  for (Type t : func.getFunctionType().getInputs()) {
    auto shaped = dyn_cast<ShapedType>(t);
    bool ok = shaped ? (isa<RankedTensorType, MemRefType>(t) &&
                        shaped.hasStaticShape())
                     : t.isInteger(64);
    if (!ok)
      return func.emitOpError("model arguments must be statically shaped "
                              "tensors or memrefs, or i64");
  }
  for (Type t : func.getFunctionType().getResults())
    if (!isa<RankedTensorType>(t) || !cast<RankedTensorType>(t).hasStaticShape())
      return func.emitOpError("model results must be statically shaped tensors");

  OpBuilder b(func.getContext());
  b.setInsertionPointToStart(&entry);
  for (BlockArgument arg : entry.getArguments()) {
    Type tensorType = arg.getType();
    if (!isa<RankedTensorType>(tensorType))
      continue;
    arg.setType(memrefFor(tensorType));
    // restrict: the caller promises the buffers do not alias one another.
    auto toTensor = b.create<bufferization::ToTensorOp>(
        arg.getLoc(), tensorType, arg, /*restrict=*/true, /*writable=*/false);
    arg.replaceAllUsesExcept(toTensor, toTensor);
  }

  SmallVector<Attribute> argAttrs;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    argAttrs.push_back(func.getArgAttrDict(i)
                           ? Attribute(func.getArgAttrDict(i))
                           : b.getDictionaryAttr({}));
  b.setInsertionPoint(ret);
  for (auto [i, result] : llvm::enumerate(ret.getOperands())) {
    BlockArgument out =
        entry.addArgument(memrefFor(result.getType()), ret.getLoc());
    b.create<bufferization::MaterializeInDestinationOp>(
        ret.getLoc(), /*result=*/Type(), result, out, /*restrict=*/true,
        /*writable=*/true);
    // When the result is computed into an empty tensor of its own shape,
    // that tensor becomes the caller's buffer: the kernel writes its output
    // in place instead of into a temporary it then copies (an output-sized
    // allocation per call, page faults included, without the runtime's
    // scratch blocks). eliminate-empty-tensors cannot do this: the
    // destination is a memref.
    OpOperand *empty = emptyDestinationOf(result);
    if (empty && empty->get().getType() == result.getType()) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&entry);
      empty->set(b.create<bufferization::ToTensorOp>(
          ret.getLoc(), result.getType(), out, /*restrict=*/true,
          /*writable=*/true));
    }
    DictionaryAttr attrs = func.getResultAttrDict(i);
    argAttrs.push_back(attrs ? Attribute(attrs) : b.getDictionaryAttr({}));
  }
  Value status = b.create<arith::ConstantIntOp>(ret.getLoc(), 0, 32);
  b.create<func::ReturnOp>(ret.getLoc(), status);
  ret.erase();

  func.setFunctionType(
      b.getFunctionType(entry.getArgumentTypes(), {b.getI32Type()}));
  func.setAllArgAttrs(argAttrs);
  func.removeResAttrsAttr();
  return success();
}

struct ExposeCAbiPass : attnc::impl::ExposeCAbiBase<ExposeCAbiPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr("attn.model") && failed(exposeCAbi(func)))
        return signalPassFailure();
  }
};

} // namespace
