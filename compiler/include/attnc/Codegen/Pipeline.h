//===- Pipeline.h - pass pipelines from attn to the LLVM dialect -*- C++ -*-===//

#ifndef ATTNC_CODEGEN_PIPELINE_H
#define ATTNC_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir {
class DialectRegistry;
}

namespace attnc {

/// Every dialect, interface and translation the compiler's pipelines touch.
void registerCompilerDialects(mlir::DialectRegistry &registry);
/// attnc's own passes plus upstream ones, so that textual pipelines and
/// attn-opt can name them.
void registerCompilerPasses();

/// Choices a user may force instead of the compiler's heuristics.
struct AttnOptimizationOptions {
  /// Query and key tile lengths of every attn.sdpa (attnc --tile=Tq,Tk);
  /// empty: attn-choose-tiles decides.
  llvm::SmallVector<int64_t, 2> tiles;
};

/// attn -> attn: canonicalize, fuse attention written out by hand into
/// attn.sdpa (attn-fuse-sdpa), canonicalize, cse, and choose the attention
/// tiles (attn-choose-tiles). Run it before buildAttnToLinalgPipeline, which
/// does not include it.
void buildAttnOptimizationPipeline(mlir::OpPassManager &pm,
                                   const AttnOptimizationOptions &options = {});
/// attn -> linalg on tensors, in the C-ABI (destination-passing) form.
void buildAttnToLinalgPipeline(mlir::OpPassManager &pm);
/// linalg on tensors -> vectorized register tiles (attn-vectorize) -> buffers
/// -> LLVM dialect with bare-pointer memref arguments.
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm);

/// Runs a pipeline with the command-line pass-manager options applied
/// (--mlir-print-ir-*, --mlir-timing) when they are registered.
mlir::LogicalResult
runPipeline(mlir::ModuleOp module,
            llvm::function_ref<void(mlir::OpPassManager &)> build);

} // namespace attnc

#endif // ATTNC_CODEGEN_PIPELINE_H
