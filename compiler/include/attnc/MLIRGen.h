//===- MLIRGen.h - checked model to the attn dialect ------------*- C++ -*-===//

#ifndef ATTNC_MLIRGEN_H
#define ATTNC_MLIRGEN_H

#include "attnc/Frontend/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
}

namespace attnc {

/// Emits one public `func.func @<model>` marked `attn.model`, taking the
/// inputs and params as tensors and returning the outputs; every argument and
/// result carries `attn.name` and `attn.role`. Locations are file:line:col of
/// the .attn source.
mlir::OwningOpRef<mlir::ModuleOp>
generateAttnModule(mlir::MLIRContext &context, const Graph &graph,
                   const llvm::SourceMgr &sourceMgr);

} // namespace attnc

#endif // ATTNC_MLIRGEN_H
