//===- CNames.h - names a kernel cannot take in C ---------------*- C++ -*-===//
//
// A model's name becomes the kernel's global symbols (NAME, NAME_argv,
// NAME_info) and its arguments' names C parameters and macros of the
// generated header. Names that C, the C library or attnc's own runtime
// already give a meaning cannot be reused there.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_CNAMES_H
#define ATTNC_FRONTEND_CNAMES_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace attnc {

bool isCKeyword(llvm::StringRef name);

/// Why `name` cannot be the kernel function's name ("a C keyword", "a
/// function of the C standard library", ...), or std::nullopt if it can.
std::optional<llvm::StringRef> whyNotAKernelName(llvm::StringRef name);

} // namespace attnc

#endif // ATTNC_FRONTEND_CNAMES_H
