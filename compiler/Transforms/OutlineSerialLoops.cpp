//===- OutlineSerialLoops.cpp - top-level loops as functions of their own -===//
//
// Each scf.for directly in a model function's body becomes
//
//   func.func private @F_serial_N(captures...) -> (results...)
//       attributes {attn.serial_loop}
//   %r = func.call @F_serial_N(captures...)
//
// so that attn-merge-identical-tasks can keep one function for the same
// loop of every layer: LLVM then optimizes and compiles it once, where the
// layers' top-level code used to be compiled once per layer (and once more
// in each of a model's entry points). The function is internal to the
// object and never inlined: LLVM's inliner finds most of these loops cheap
// and would copy each back into every layer, which made a 32-layer
// decoder's entry points 100-200 KB of code each. A call per loop of a
// row or more costs nothing measurable.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/Outlining.h"
#include "attnc/Transforms/ParallelTasks.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace attnc {
#define GEN_PASS_DEF_OUTLINESERIALLOOPS
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// A loop whose results a function can return as plain values.
bool yieldsValues(scf::ForOp loop) {
  return llvm::all_of(loop.getResultTypes(), [](Type t) {
    return t.isIntOrIndexOrFloat() || isa<VectorType>(t);
  });
}

LogicalResult outline(scf::ForOp loop, func::FuncOp func, unsigned index,
                      SymbolTable &symbols) {
  constexpr StringLiteral pass = "attn-outline-serial-loops";
  Location loc = loop.getLoc();
  MLIRContext *ctx = loop.getContext();
  // The bounds and initial values are operands, not uses in the region.
  FailureOr<attnc::LoopCaptures> captures = attnc::collectCaptures(
      loop, loop.getRegion(), pass, loop->getOperands());
  if (failed(captures))
    return failure();
  IRMapping mapping;
  OpBuilder moduleBuilder(func);
  std::string name = attnc::freeSymbolName(
      symbols, (func.getName() + "_serial_" + Twine(index)).str());
  auto outlined = moduleBuilder.create<func::FuncOp>(
      loc, name,
      FunctionType::get(ctx, captures->types, loop.getResultTypes()));
  outlined.setPrivate();
  outlined->setAttr(attnc::kSerialLoopAttr, UnitAttr::get(ctx));
  // Read by func-to-llvm: the linkage, and the inherent attribute of
  // llvm.func that the translation turns into `noinline`.
  outlined->setAttr("llvm.linkage",
                    LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  outlined->setAttr("no_inline", UnitAttr::get(ctx));
  symbols.insert(outlined);

  Block *entry = outlined.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  attnc::mapCaptures(b, entry, *captures, mapping);
  Operation *clone = b.clone(*loop, mapping);
  b.create<func::ReturnOp>(loc, clone->getResults());

  OpBuilder call(loop);
  SmallVector<Value> args = attnc::captureArguments(call, loc, *captures);
  auto callOp = call.create<func::CallOp>(loc, outlined, args);
  loop->replaceAllUsesWith(callOp.getResults());
  loop.erase();
  return success();
}

struct OutlineSerialLoopsPass
    : attnc::impl::OutlineSerialLoopsBase<OutlineSerialLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> models;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("attn.model") && !func.isDeclaration())
        models.push_back(func);
    for (func::FuncOp func : models) {
      SmallVector<scf::ForOp> loops;
      for (Operation &op : func.getBody().getOps())
        if (auto loop = dyn_cast<scf::ForOp>(op); loop && yieldsValues(loop))
          loops.push_back(loop);
      unsigned index = 0;
      for (scf::ForOp loop : loops)
        if (failed(outline(loop, func, index++, symbols)))
          return signalPassFailure();
    }
  }
};

} // namespace
