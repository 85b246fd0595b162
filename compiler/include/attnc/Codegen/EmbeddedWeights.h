//===- EmbeddedWeights.h - params compiled into the object ------*- C++ -*-===//
//
// attnc --embed-weights file.safetensors reads every param of the model from
// the file with the runtime's reader (the same checks as at run time: each
// param present, F32, its exact shape, every mismatch named) and stores the
// values on the graph. The kernel interface then puts them in the object's
// read-only data and drops them from the C signature, so an application links
// one object and passes only inputs and outputs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_EMBEDDEDWEIGHTS_H
#define ATTNC_CODEGEN_EMBEDDEDWEIGHTS_H

#include "attnc/Frontend/Graph.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace attnc {

/// Loads `path` and marks every param of `graph` embedded with its values.
llvm::Error embedWeights(Graph &graph, llvm::StringRef path);

/// Marks `param` of `graph`, and the same param of its decode step, embedded
/// with `values` (as many as its shape holds, row-major).
void embedParam(Graph &graph, KernelArg &param, std::vector<float> values);

} // namespace attnc

#endif // ATTNC_CODEGEN_EMBEDDEDWEIGHTS_H
