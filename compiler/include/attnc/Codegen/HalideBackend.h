//===- HalideBackend.h - attnc --backend=halide -----------------*- C++ -*-===//
//
// The models the MLIR backend compiles, lowered instead through Halide 14
// (in the separately loaded libattnc-halide module) behind the same ABI:
// the object holds the Halide pipeline (built without a runtime) and a thin
// entry point NAME(float *...) that wraps the arrays in halide_buffer_t,
// plus the same NAME_info and NAME_argv as the MLIR backend's.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_HALIDEBACKEND_H
#define ATTNC_CODEGEN_HALIDEBACKEND_H

#include "attnc/Codegen/ObjectEmitter.h"
#include "attnc/Frontend/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace attnc {

class OutputFile;

enum class Backend { MLIR, Halide };

struct HalideOptions {
  /// Empty: attnc's hand-written schedule; else adams2019, li2018 or
  /// mullapudi2016, Halide's autoschedulers.
  std::string autoscheduler;
  /// A model is compiled as several Halide pipelines, each of at least
  /// this many constructs (HalidePipelines.h); 0: one pipeline.
  unsigned minOpsPerPipeline = 12;
};

/// Whether this attnc was built with the Halide backend.
bool halideBackendBuilt();
/// Halide's version ("14.0.0"), or an error saying why the module does not
/// load.
llvm::Expected<std::string> halideVersion();

/// The Halide target for attnc's --target and --mcpu: "host" for this
/// machine's CPU, else this machine's architecture and OS with the features
/// the named CPU has (e.g. x86-64-linux-sse41-avx-avx2-fma-f16c for
/// --mcpu=x86-64-v3). Another architecture or OS is an error: the Halide
/// side's objects are linked with this machine's linker.
llvm::Expected<std::string> halideTargetFor(const TargetOptions &target);

/// Halide's lowered statement of the model's pipeline (--emit=halide-stmt).
llvm::Error emitHalideStatement(mlir::ModuleOp module, const Graph &graph,
                                const HalideOptions &options,
                                const TargetOptions &target,
                                OutputFile &output);

/// The model as an object file (no Halide runtime in it), or as a shared
/// library with one Halide runtime linked in.
llvm::Error emitHalideKernel(mlir::ModuleOp module, const Graph &graph,
                             const HalideOptions &options,
                             const TargetOptions &target, OutputFile &output,
                             bool sharedLibrary);

/// The one Halide runtime an application links next to any number of
/// Halide-built kernel objects (--emit=halide-runtime).
llvm::Error emitHalideRuntime(const TargetOptions &target,
                              OutputFile &output);

} // namespace attnc

#endif // ATTNC_CODEGEN_HALIDEBACKEND_H
