//===- Compiler.h - a checked model to machine code, step by step -*- C++ -*-===//
//
// The stages `attnc --emit=` stops after, as functions, so the driver, the
// tests and embedders share one path from a graph to an object file.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_COMPILER_H
#define ATTNC_COMPILER_H

#include "attnc/Codegen/HalideBackend.h"
#include "attnc/Codegen/ObjectEmitter.h"
#include "attnc/Codegen/Pipeline.h"
#include "attnc/Frontend/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace llvm {
class LLVMContext;
class Module;
class SourceMgr;
} // namespace llvm

namespace attnc {

/// An MLIRContext with every dialect the pipelines need registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// attn dialect -> LLVM dialect, in place, attn-level optimizations first.
/// Diagnostics go to the context.
mlir::LogicalResult
lowerToLLVMDialect(mlir::ModuleOp module,
                   const AttnOptimizationOptions &options = {});

/// LLVM dialect -> LLVM IR: the kernel functions with their parallel
/// launchers and allocation hooks, unoptimized, without entry points.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateKernels(mlir::ModuleOp module, const Graph &graph,
                 llvm::LLVMContext &llvmContext);

/// LLVM dialect -> optimized LLVM IR for `machine`, with the kernel's
/// NAME_info and NAME_argv entry points added.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, const Graph &graph,
                  llvm::LLVMContext &llvmContext, llvm::TargetMachine &machine,
                  unsigned optLevel);

/// The whole way from a checked graph to an object file, or to a shared
/// library when `sharedLibrary` is set, through either backend. Used by
/// tests and embedders.
llvm::Error compileGraph(const Graph &graph, const llvm::SourceMgr &sourceMgr,
                         const TargetOptions &target, llvm::StringRef outputPath,
                         bool sharedLibrary,
                         const AttnOptimizationOptions &options = {},
                         Backend backend = Backend::MLIR,
                         const HalideOptions &halide = {});

} // namespace attnc

#endif // ATTNC_COMPILER_H
