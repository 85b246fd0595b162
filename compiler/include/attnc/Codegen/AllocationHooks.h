//===- AllocationHooks.h - where kernels' temporaries come from -*- C++ -*-===//
//
// finalize-memref-to-llvm{use-generic-functions} makes every memref.alloc
// and dealloc call `_mlir_memref_to_llvm_alloc` / `_mlir_memref_to_llvm_free`.
// defineAllocationHooks gives them internal bodies that use the runtime's
// scratch allocator (attnc/scratch.h) when the program links the runtime,
// and malloc/free otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_ALLOCATIONHOOKS_H
#define ATTNC_CODEGEN_ALLOCATIONHOOKS_H

namespace llvm {
class Module;
} // namespace llvm

namespace attnc {

void defineAllocationHooks(llvm::Module &module);

} // namespace attnc

#endif // ATTNC_CODEGEN_ALLOCATIONHOOKS_H
