//===- Outlining.h - moving a loop into a function of its own ---*- C++ -*-===//
//
// attn-outline-parallel-loops and attn-outline-serial-loops both move a loop
// on buffers out of a model's function. What the loop uses from above
// crosses the call: constants are cloned inside, scalars and identity-layout
// memrefs are passed as they are, a strided view with static sizes and
// strides as its base buffer and offset (rebuilt inside), so that every
// signature lowers to plain pointers and integers under the bare pointer
// calling convention.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_OUTLINING_H
#define ATTNC_TRANSFORMS_OUTLINING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Region.h"
#include "mlir/IR/SymbolTable.h"

namespace attnc {

/// The values a region uses from above, and how each crosses the call.
struct LoopCaptures {
  struct Capture {
    mlir::Value value;
    bool viaBase; ///< passed as (base buffer, offset, dynamic sizes),
                  ///< rebuilt inside
  };
  llvm::SmallVector<Capture> captures;
  llvm::SmallVector<mlir::Value> constants; ///< cloned into the function
  /// The function parameters the captures take, in order.
  llvm::SmallVector<mlir::Type> types;
};

/// The captures of `region` (of `op`) and of `alsoUsed` (say, a loop's
/// bounds); an error on `op`, prefixed with `pass`, for a value that cannot
/// cross a call.
mlir::FailureOr<LoopCaptures>
collectCaptures(mlir::Operation *op, mlir::Region &region,
                llvm::StringRef pass, mlir::ValueRange alsoUsed = {});

/// At the start of a new function whose first parameters are `c.types`:
/// clones the constants and maps every captured value (rebuilding views) in
/// `mapping`. Returns the number of parameters taken.
unsigned mapCaptures(mlir::OpBuilder &b, mlir::Block *entry,
                     const LoopCaptures &c, mlir::IRMapping &mapping);

/// The call's arguments for the captures, built before `at`.
llvm::SmallVector<mlir::Value> captureArguments(mlir::OpBuilder &b,
                                                mlir::Location loc,
                                                const LoopCaptures &c);

/// `base` (e.g. "F_parallel_3"), or with a suffix, such that neither it nor
/// any of `prefixes` + it names a symbol of `symbols` yet.
std::string freeSymbolName(mlir::SymbolTable &symbols, llvm::StringRef base,
                           llvm::ArrayRef<llvm::StringRef> prefixes = {});

} // namespace attnc

#endif // ATTNC_TRANSFORMS_OUTLINING_H
