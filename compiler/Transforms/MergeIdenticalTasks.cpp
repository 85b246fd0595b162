//===- MergeIdenticalTasks.cpp - one task per distinct body ---------------===//
//
// A stack's layers are expanded in place, so the same loops are outlined
// once per layer. Everything after outlining (the lowering to LLVM, LLVM's
// optimizer and code generation) costs in proportion to the code, so
// keeping one of each set of equal tasks makes a 12-layer model compile
// about as fast as one layer's tasks plus the layers' top-level code.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/ParallelTasks.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"

namespace attnc {
#define GEN_PASS_DEF_MERGEIDENTICALTASKS
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// A cheap key that equal functions share: the signature and the sequence
/// of operation names and attributes, in order.
llvm::hash_code shapeOf(func::FuncOp task) {
  llvm::hash_code hash = hash_value(task.getFunctionType());
  task.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(hash, op->getName(), op->getRawDictionaryAttrs(),
                              op->getNumRegions(), op->getNumOperands());
  });
  return hash;
}

/// Whether two functions do the same: signatures, attributes and bodies
/// equal, locations aside.
bool equivalent(func::FuncOp a, func::FuncOp b) {
  return a.getFunctionType() == b.getFunctionType() &&
         a.getArgAttrsAttr() == b.getArgAttrsAttr() &&
         a.getResAttrsAttr() == b.getResAttrsAttr() &&
         a->getDiscardableAttrDictionary() ==
             b->getDiscardableAttrDictionary() &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
}

struct MergeIdenticalTasksPass
    : attnc::impl::MergeIdenticalTasksBase<MergeIdenticalTasksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Each task with its launcher (a declaration named after the task, which
    // the calls name), and each serial loop's function (which they name).
    struct Mergeable {
      func::FuncOp body;
      func::FuncOp called;
    };
    SmallVector<Mergeable> functions;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func->hasAttr(attnc::kSerialLoopAttr) && !func.isDeclaration() &&
          func.isPrivate()) {
        functions.push_back({func, func});
        continue;
      }
      if (!func.isDeclaration() ||
          !func.getName().starts_with(attnc::kLaunchPrefix))
        continue;
      auto task = symbols.lookup<func::FuncOp>(
          func.getName().drop_front(attnc::kLaunchPrefix.size()));
      if (task && !task.isDeclaration() && task.isPrivate() &&
          task.getFunctionType() == func.getFunctionType())
        functions.push_back({task, func});
    }

    // The function each call goes to instead.
    DenseMap<StringAttr, FlatSymbolRefAttr> replacement;
    DenseMap<llvm::hash_code, SmallVector<Mergeable>> kept;
    SmallVector<func::FuncOp> erased;
    for (Mergeable f : functions) {
      SmallVector<Mergeable> &candidates = kept[shapeOf(f.body)];
      auto same = llvm::find_if(candidates, [&](Mergeable &other) {
        return (other.body == other.called) == (f.body == f.called) &&
               equivalent(other.body, f.body);
      });
      if (same == candidates.end()) {
        candidates.push_back(f);
        continue;
      }
      replacement[f.called.getSymNameAttr()] =
          FlatSymbolRefAttr::get(same->called.getSymNameAttr());
      erased.push_back(f.body);
      if (f.called != f.body)
        erased.push_back(f.called);
    }
    if (replacement.empty())
      return;

    // Tasks and serial loops are outlined from a model's functions only, so
    // the calls are there, never in a task.
    module.walk([&](func::CallOp call) {
      auto it = replacement.find(call.getCalleeAttr().getAttr());
      if (it != replacement.end())
        call.setCalleeAttr(it->second);
    });
    for (func::FuncOp op : erased)
      op.erase();
  }
};

} // namespace
