//===- OutlineParallelLoops.cpp - scf.forall bodies as thread-pool tasks --===//
//
// Each outermost scf.forall on buffers (one dimension, constant bounds)
// becomes
//
//   func.func private @F_parallel_N(captures..., %i: index)   the body
//   func.func private @__attnc_launch.F_parallel_N(captures..., %count)
//   func.call @__attnc_launch.F_parallel_N(captures..., %count)
//
// The launcher is only declared here; after translation to LLVM IR,
// defineParallelLaunchers (Codegen/ParallelLaunch.cpp) gives it a body that
// packs the captures into a context and calls the runtime's
// attnc_parallel_for, or runs the iterations in order when no runtime is
// linked. Captured buffers cross the call as identity-layout memrefs or as
// their base buffer plus offset (a strided view is rebuilt inside), so
// every signature lowers to plain pointers and integers under the bare
// pointer calling convention. Constants are cloned into the body.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"
#include "attnc/Transforms/Outlining.h"
#include "attnc/Transforms/ParallelTasks.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace attnc {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPS
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

LogicalResult outline(scf::ForallOp loop, unsigned index,
                      SymbolTable &symbols) {
  constexpr StringLiteral pass = "attn-outline-parallel-loops";
  if (loop.getRank() != 1 || loop.getNumResults() != 0)
    return loop.emitError(pass) << ": expects a one-dimensional scf.forall "
                                   "on buffers";
  int64_t lb = loop.getStaticLowerBound()[0];
  int64_t ub = loop.getStaticUpperBound()[0];
  int64_t step = loop.getStaticStep()[0];
  if (ShapedType::isDynamic(lb) || ShapedType::isDynamic(ub) ||
      ShapedType::isDynamic(step) || step <= 0)
    return loop.emitError(pass) << ": bounds must be constants";
  int64_t count = ub > lb ? (ub - lb + step - 1) / step : 0;

  // The task and its launcher become functions next to the loop's own, in
  // the symbol table `symbols` is for.
  auto func = loop->getParentOfType<func::FuncOp>();
  if (!func || func->getParentOp() != symbols.getOp())
    return loop.emitError(pass) << ": expects the loop in a func.func at "
                                   "the top level of the module";
  Location loc = loop.getLoc();
  MLIRContext *ctx = loop.getContext();
  FailureOr<attnc::LoopCaptures> captures =
      attnc::collectCaptures(loop, loop.getRegion(), pass);
  if (failed(captures))
    return failure();

  // Signatures: the body takes the captures then the iteration number; the
  // launcher the captures then the iteration count.
  SmallVector<Type> bodyInputs(captures->types);
  bodyInputs.push_back(IndexType::get(ctx));

  OpBuilder moduleBuilder(func);
  // attnc finds a launcher's task by its name (ParallelLaunch.cpp): both
  // names must be free, not renamed on insertion.
  std::string bodyName = attnc::freeSymbolName(
      symbols, (func.getName() + "_parallel_" + Twine(index)).str(),
      {attnc::kLaunchPrefix});
  auto body = moduleBuilder.create<func::FuncOp>(
      loc, bodyName, FunctionType::get(ctx, bodyInputs, {}));
  body.setPrivate();
  auto launcher = moduleBuilder.create<func::FuncOp>(
      loc, (attnc::kLaunchPrefix + bodyName).str(),
      FunctionType::get(ctx, bodyInputs, {}));
  launcher.setPrivate();
  symbols.insert(body);
  symbols.insert(launcher);

  // The body: rebuild the captures, the induction variable, then the loop's
  // operations.
  Block *entry = body.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  unsigned arg = attnc::mapCaptures(b, entry, *captures, mapping);
  Value i = entry->getArgument(arg);
  Value iv = b.create<arith::AddIOp>(
      loc, b.create<arith::ConstantIndexOp>(loc, lb),
      b.create<arith::MulIOp>(loc, i,
                              b.create<arith::ConstantIndexOp>(loc, step)));
  mapping.map(loop.getInductionVars()[0], iv);
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  b.create<func::ReturnOp>(loc);

  // The call site.
  OpBuilder call(loop);
  SmallVector<Value> args = attnc::captureArguments(call, loc, *captures);
  args.push_back(call.create<arith::ConstantIndexOp>(loc, count));
  call.create<func::CallOp>(loc, launcher, args);
  loop.erase();
  return success();
}

struct OutlineParallelLoopsPass
    : attnc::impl::OutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<scf::ForallOp> loops;
    module.walk([&](scf::ForallOp loop) {
      // Loops nested in a parallel loop run inside its tasks.
      if (!loop->getParentOfType<scf::ForallOp>())
        loops.push_back(loop);
    });
    unsigned index = 0;
    for (scf::ForallOp loop : loops)
      if (failed(outline(loop, index++, symbols)))
        return signalPassFailure();
  }
};

} // namespace
