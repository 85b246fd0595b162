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

/// A cheap key that equal tasks share: the signature and the sequence of
/// operation names and attributes, in order.
llvm::hash_code shapeOf(func::FuncOp task) {
  llvm::hash_code hash = hash_value(task.getFunctionType());
  task.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(hash, op->getName(), op->getRawDictionaryAttrs(),
                              op->getNumRegions(), op->getNumOperands());
  });
  return hash;
}

struct MergeIdenticalTasksPass
    : attnc::impl::MergeIdenticalTasksBase<MergeIdenticalTasksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Each task and its launcher: the launcher is a declaration named after
    // the task.
    SmallVector<std::pair<func::FuncOp, func::FuncOp>> tasks;
    for (auto launcher : module.getOps<func::FuncOp>()) {
      if (!launcher.isDeclaration() ||
          !launcher.getName().starts_with(attnc::kLaunchPrefix))
        continue;
      auto task = symbols.lookup<func::FuncOp>(
          launcher.getName().drop_front(attnc::kLaunchPrefix.size()));
      if (task && !task.isDeclaration() && task.isPrivate() &&
          task.getFunctionType() == launcher.getFunctionType())
        tasks.push_back({task, launcher});
    }

    // The launcher each launcher's calls go to instead.
    DenseMap<StringAttr, FlatSymbolRefAttr> replacement;
    DenseMap<llvm::hash_code, SmallVector<func::FuncOp>> kept;
    SmallVector<func::FuncOp> erased;
    for (auto [task, launcher] : tasks) {
      SmallVector<func::FuncOp> &candidates = kept[shapeOf(task)];
      auto same = llvm::find_if(candidates, [&](func::FuncOp other) {
        return other.getFunctionType() == task.getFunctionType() &&
               other.getArgAttrsAttr() == task.getArgAttrsAttr() &&
               other.getResAttrsAttr() == task.getResAttrsAttr() &&
               other->getDiscardableAttrDictionary() ==
                   task->getDiscardableAttrDictionary() &&
               OperationEquivalence::isRegionEquivalentTo(
                   &other.getBody(), &task.getBody(),
                   OperationEquivalence::IgnoreLocations);
      });
      if (same == candidates.end()) {
        candidates.push_back(task);
        continue;
      }
      replacement[launcher.getSymNameAttr()] = FlatSymbolRefAttr::get(
          &getContext(), (Twine(attnc::kLaunchPrefix) + same->getName()).str());
      erased.push_back(task);
      erased.push_back(launcher);
    }
    if (replacement.empty())
      return;

    // Tasks are outlined from the outermost loops only, so launchers are
    // called from the model's functions, never from a task.
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
