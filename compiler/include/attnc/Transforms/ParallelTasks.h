//===- ParallelTasks.h - how outlined tasks and their launchers are named -===//
//
// attn-outline-parallel-loops declares `__attnc_launch.BODY` for the task
// `BODY`; attn-merge-identical-tasks and the LLVM-IR definition of the
// launchers (Codegen/ParallelLaunch.cpp) find one from the other by name.
// attn-outline-serial-loops marks the functions it makes, which
// attn-merge-identical-tasks merges too.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_PARALLELTASKS_H
#define ATTNC_TRANSFORMS_PARALLELTASKS_H

#include "llvm/ADT/StringRef.h"

namespace attnc {

inline constexpr llvm::StringLiteral kLaunchPrefix = "__attnc_launch.";

/// Marks a function attn-outline-serial-loops made of a top-level loop.
inline constexpr llvm::StringLiteral kSerialLoopAttr = "attn.serial_loop";

} // namespace attnc

#endif // ATTNC_TRANSFORMS_PARALLELTASKS_H
