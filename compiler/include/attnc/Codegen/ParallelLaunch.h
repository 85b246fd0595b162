//===- ParallelLaunch.h - launchers of outlined parallel loops --*- C++ -*-===//
//
// attn-outline-parallel-loops leaves `__attnc_launch.BODY` declared; this
// defines it in the LLVM module once the signatures are plain LLVM types.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_PARALLELLAUNCH_H
#define ATTNC_CODEGEN_PARALLELLAUNCH_H

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
} // namespace llvm

namespace attnc {

/// For every declared `__attnc_launch.BODY(args..., i64 count)`: a task
/// `__attnc_task.BODY(ptr context, i64 i)` that unpacks the arguments and
/// calls BODY(args..., i), and a launcher body that packs its arguments into
/// a context on its stack and calls `attnc_parallel_for(count, task,
/// context)`, or calls BODY for i = 0 .. count-1 in order when that weak
/// symbol is absent.
llvm::Error defineParallelLaunchers(llvm::Module &module);

} // namespace attnc

#endif // ATTNC_CODEGEN_PARALLELLAUNCH_H
