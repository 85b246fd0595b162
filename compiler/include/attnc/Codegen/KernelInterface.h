//===- KernelInterface.h - the C side of a compiled model -------*- C++ -*-===//
//
// Everything about a kernel that is not its arithmetic: the `NAME_info`
// metadata and `NAME_argv` entry added to its LLVM module, and the C header
// that declares them. Both are derived from the checked graph, so they cannot
// disagree with each other or with the kernel's signature.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_KERNELINTERFACE_H
#define ATTNC_CODEGEN_KERNELINTERFACE_H

#include "attnc/Frontend/Graph.h"

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
class raw_ostream;
} // namespace llvm

namespace attnc {

/// The string attribute of a kernel parameter that attn-contraction-
/// microkernel reads as panels [N / W, K, W] of its [K, N] matrix (W its
/// value): an embedded param's values are compiled in that order.
inline constexpr const char *kPackedPanelsAttr = "attn-packed-panels";

/// Adds `const attn_kernel_info *NAME_info(void)` and
/// `int NAME_argv(void **args)` next to the kernel function `NAME`.
llvm::Error addKernelInterface(llvm::Module &module, const Graph &graph);

/// Writes the self-contained C header for the kernel.
void emitKernelHeader(const Graph &graph, llvm::StringRef sourceName,
                      llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_CODEGEN_KERNELINTERFACE_H
