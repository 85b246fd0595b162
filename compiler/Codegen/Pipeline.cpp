//===- Pipeline.cpp - pass pipelines from attn to the LLVM dialect --------===//

#include "attnc/Codegen/Pipeline.h"
#include "attnc/Passes.h"

#include "attn/AttnDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Pass.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;

void attnc::registerCompilerDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void attnc::registerCompilerPasses() {
  // The pipelines below are parsed from text and need the registry filled;
  // tools may have registered already, and a second registration is an error.
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    registerAttncPasses();
  });
}

/// Appends a textual pipeline to `pm`. The text is a fixed part of the
/// compiler, so a parse failure is a bug in attnc, not in the user's model.
static void addPipeline(OpPassManager &pm, StringRef text) {
  attnc::registerCompilerPasses();
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("attnc: malformed built-in pass pipeline");
}

void attnc::buildAttnOptimizationPipeline(
    OpPassManager &pm, const AttnOptimizationOptions &options) {
  // The first canonicalize removes scale-by-1, mask none and double
  // transposes and merges consecutive scales, so the fusion sees the
  // canonical chain; the second canonicalize and cse clean up whatever the
  // fusion exposes.
  std::string chooseTiles = "attn-choose-tiles";
  if (!options.tiles.empty()) {
    chooseTiles += "{tile-sizes=";
    llvm::raw_string_ostream os(chooseTiles);
    llvm::interleave(options.tiles, os, ",");
    os << "}";
  }
  addPipeline(pm, "canonicalize,attn-fuse-sdpa,canonicalize,cse," + chooseTiles);
}

void attnc::buildAttnToLinalgPipeline(OpPassManager &pm) {
  addPipeline(pm, "convert-attn-to-linalg,func.func(attn-fuse-elementwise),"
                  "attn-expose-c-abi,func.func(canonicalize,cse)");
}

void attnc::buildLinalgToLLVMPipeline(OpPassManager &pm) {
  // Register tiles and vectors first, on tensors, so tiling is destination
  // passing and bufferizes in place. Bufferize into the caller's buffers;
  // canonicalize and cse before dropping equivalent results so no returned
  // buffer survives to be cloned. Matrix products become register-blocked
  // micro-kernels once they are buffers.
  // Temporaries of static size are allocated once, outside the loops that
  // use them (buffer-loop-hoisting), not once per tile.
  // Clean-ups that only look inside a function run nested in func.func, so
  // that MLIR spreads a model's entry points over the threads.
  addPipeline(pm, "func.func(attn-vectorize,canonicalize,cse),"
                  "one-shot-bufferize,func.func(canonicalize,cse,canonicalize),"
                  "func.func(attn-contraction-microkernel),"
                  // Parallel loops become tasks before temporaries are
                  // hoisted: each task allocates its own.
                  // Then each top-level loop moves into a function, so
                  // that a stack's layers share their serial code too.
                  "attn-outline-parallel-loops,attn-outline-serial-loops,"
                  "attn-merge-identical-tasks,"
                  "scf-forall-to-for,"
                  "func.func(buffer-loop-hoisting),"
                  "canonicalize,"
                  "drop-equivalent-buffer-results,buffer-deallocation-pipeline,"
                  // Copies from strided views (an output that is a piece
                  // of a split input) become loops, not memrefCopy calls.
                  "func.func(attn-lower-strided-copies),"
                  "convert-linalg-to-loops,"
                  "convert-vector-to-scf{full-unroll=true},"
                  "lower-affine,convert-scf-to-cf,"
                  // Before memref lowering: transfers it cannot turn into
                  // vector loads become memref.loads.
                  "convert-vector-to-llvm{reassociate-fp-reductions=true},"
                  "expand-strided-metadata,lower-affine,"
                  // Allocations through hooks that prefer the runtime's
                  // scratch allocator (Codegen/AllocationHooks.cpp).
                  "finalize-memref-to-llvm{use-generic-functions=true},"
                  // What has no LLVM intrinsic (erf, tanh) becomes a libm
                  // call (-lm); math-to-libm rejects ops it cannot map, so
                  // it runs after math-to-llvm has taken the rest.
                  "convert-math-to-llvm,convert-math-to-libm,"
                  "convert-arith-to-llvm,convert-index-to-llvm,"
                  "convert-ub-to-llvm,convert-cf-to-llvm,"
                  // Statically shaped memref arguments become plain pointers:
                  // the C ABI `int model(const float *x, ..., float *y)`.
                  "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
                  "reconcile-unrealized-casts");
}

LogicalResult
attnc::runPipeline(ModuleOp module,
                   llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module->getContext());
  // Only succeeds when the tool registered the pass-manager command-line
  // options; library users (tests) get a plain pass manager.
  (void)applyPassManagerCLOptions(pm);
  (void)applyDefaultTimingPassManagerCLOptions(pm);
  // LLVM's --time-passes also times attnc's MLIR pipelines, so one flag
  // shows where the whole compile went.
  if (llvm::TimePassesIsEnabled)
    pm.enableTiming();
  build(pm);
  return pm.run(module);
}
