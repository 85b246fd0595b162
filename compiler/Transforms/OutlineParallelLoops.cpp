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
#include "attnc/Transforms/ParallelTasks.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace attnc {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPS
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// How one captured value crosses the call.
struct Capture {
  Value value;
  bool viaBase; ///< passed as (base buffer, offset), rebuilt inside
};

bool isIdentityStatic(MemRefType type) {
  return type.hasStaticShape() && type.getLayout().isIdentity();
}

/// A strided view with static sizes and strides: only its offset varies.
bool isRebuildable(MemRefType type) {
  if (!type.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return false;
  return llvm::none_of(strides, ShapedType::isDynamic);
}

LogicalResult outline(scf::ForallOp loop, unsigned index,
                      SymbolTable &symbols) {
  if (loop.getRank() != 1 || loop.getNumResults() != 0)
    return loop.emitError("attn-outline-parallel-loops: expects a "
                          "one-dimensional scf.forall on buffers");
  int64_t lb = loop.getStaticLowerBound()[0];
  int64_t ub = loop.getStaticUpperBound()[0];
  int64_t step = loop.getStaticStep()[0];
  if (ShapedType::isDynamic(lb) || ShapedType::isDynamic(ub) ||
      ShapedType::isDynamic(step) || step <= 0)
    return loop.emitError("attn-outline-parallel-loops: bounds must be "
                          "constants");
  int64_t count = ub > lb ? (ub - lb + step - 1) / step : 0;

  // The task and its launcher become functions next to the loop's own, in
  // the symbol table `symbols` is for.
  auto func = loop->getParentOfType<func::FuncOp>();
  if (!func || func->getParentOp() != symbols.getOp())
    return loop.emitError("attn-outline-parallel-loops: expects the loop in "
                          "a func.func at the top level of the module");
  Location loc = loop.getLoc();
  MLIRContext *ctx = loop.getContext();

  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getRegion(), used);
  SmallVector<Capture> captures;
  SmallVector<Value> constants;
  for (Value v : used) {
    if (matchPattern(v, m_Constant())) {
      constants.push_back(v);
      continue;
    }
    auto memref = dyn_cast<MemRefType>(v.getType());
    if (!memref) {
      if (!v.getType().isIntOrIndexOrFloat() && !isa<VectorType>(v.getType()))
        return loop.emitError("attn-outline-parallel-loops: cannot pass a ")
               << v.getType() << " to a task";
      captures.push_back({v, false});
    } else if (isIdentityStatic(memref)) {
      captures.push_back({v, false});
    } else if (isRebuildable(memref)) {
      captures.push_back({v, true});
    } else {
      return loop.emitError("attn-outline-parallel-loops: cannot pass ")
             << memref << " to a task";
    }
  }

  // Signatures: the body takes the captures then the iteration number; the
  // launcher the captures then the iteration count.
  SmallVector<Type> captureTypes;
  for (const Capture &c : captures) {
    if (!c.viaBase) {
      captureTypes.push_back(c.value.getType());
      continue;
    }
    auto type = cast<MemRefType>(c.value.getType());
    captureTypes.push_back(MemRefType::get({}, type.getElementType(),
                                           MemRefLayoutAttrInterface(),
                                           type.getMemorySpace()));
    captureTypes.push_back(IndexType::get(ctx));
  }
  SmallVector<Type> bodyInputs(captureTypes);
  bodyInputs.push_back(IndexType::get(ctx));

  OpBuilder moduleBuilder(func);
  // attnc finds a launcher's task by its name (ParallelLaunch.cpp): both
  // names must be free, not renamed on insertion.
  std::string bodyName =
      (func.getName() + "_parallel_" + Twine(index)).str();
  auto launcherName = [](StringRef body) {
    return (Twine(attnc::kLaunchPrefix) + body).str();
  };
  for (unsigned suffix = 1;
       symbols.lookup(bodyName) || symbols.lookup(launcherName(bodyName));
       ++suffix)
    bodyName = (func.getName() + "_parallel_" + Twine(index) + "_" +
                Twine(suffix))
                   .str();
  auto body = moduleBuilder.create<func::FuncOp>(
      loc, bodyName, FunctionType::get(ctx, bodyInputs, {}));
  body.setPrivate();
  auto launcher = moduleBuilder.create<func::FuncOp>(
      loc, launcherName(bodyName),
      FunctionType::get(ctx, bodyInputs, {}));
  launcher.setPrivate();
  symbols.insert(body);
  symbols.insert(launcher);

  // The body: rebuild the captures, the induction variable, then the loop's
  // operations.
  Block *entry = body.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  for (Value c : constants)
    mapping.map(c, b.clone(*c.getDefiningOp())->getResult(0));
  unsigned arg = 0;
  for (const Capture &c : captures) {
    if (!c.viaBase) {
      mapping.map(c.value, entry->getArgument(arg++));
      continue;
    }
    auto type = cast<MemRefType>(c.value.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    (void)getStridesAndOffset(type, strides, offset);
    Value base = entry->getArgument(arg++);
    Value dynOffset = entry->getArgument(arg++);
    SmallVector<OpFoldResult> sizes, strideFolds;
    for (int64_t s : type.getShape())
      sizes.push_back(b.getIndexAttr(s));
    for (int64_t s : strides)
      strideFolds.push_back(b.getIndexAttr(s));
    Value view = b.create<memref::ReinterpretCastOp>(
        loc, type, base, OpFoldResult(dynOffset), sizes, strideFolds);
    mapping.map(c.value, view);
  }
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
  SmallVector<Value> args;
  for (const Capture &c : captures) {
    if (!c.viaBase) {
      args.push_back(c.value);
      continue;
    }
    auto metadata =
        call.create<memref::ExtractStridedMetadataOp>(loc, c.value);
    args.push_back(metadata.getBaseBuffer());
    args.push_back(metadata.getOffset());
  }
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
