//===- MemoryBudget.h - what a model needs, against a limit -----*- C++ -*-===//
//
// A model's shapes are fixed, so what its kernel needs is known before
// anything is allocated: refusing a model that cannot fit with a message
// that says how much and why beats being killed by the OOM killer half way
// through compiling or checking it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_MEMORYBUDGET_H
#define ATTNC_FRONTEND_MEMORYBUDGET_H

#include "attnc/Frontend/Graph.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace llvm {
class SourceMgr;
}

namespace attnc {

/// Bytes one run of a kernel needs, at `bytesPerElement` per element.
struct MemoryUse {
  uint64_t arguments = 0;     ///< every kernel argument, params included
  uint64_t intermediates = 0; ///< computed values alive at once, at the peak
  uint64_t total() const { return arguments + intermediates; }
  /// The largest single buffer, to say where the bytes go.
  uint64_t largestBytes = 0;
  std::string largestWhat; ///< e.g. "param 'w' [768, 2304]"
};

/// Arguments plus the peak of intermediate values, in program order: a
/// value lives from the operation that computes it to its last use.
/// Attention's scores are never a value of their own (the kernels tile
/// them), so a flash kernel's O(S*D) shows as such.
MemoryUse estimateMemoryUse(const Graph &graph, const llvm::SourceMgr &sourceMgr,
                            unsigned bytesPerElement = sizeof(float));

/// "512M", "8G", "1.5GiB", "1T", "1048576" (bytes): powers of 1024.
llvm::Expected<uint64_t> parseByteSize(llvm::StringRef text);
/// "1.5 GiB", "512.0 MiB", "12 bytes".
std::string formatBytes(uint64_t bytes);

/// A --memory-budget: a size, "none" (no limit), or, when the option was
/// not given (std::nullopt), this machine's physical memory. An empty value
/// is an error, not the default: `--memory-budget=$UNSET_VAR` should not
/// quietly mean "as much as the machine has".
struct MemoryBudget {
  std::optional<uint64_t> bytes;
  bool isDefault = false;
  static llvm::Expected<MemoryBudget>
  fromOption(std::optional<llvm::StringRef> value);
  /// The same for a tool's --memory-budget option: nullopt unless given.
  static llvm::Expected<MemoryBudget>
  fromOption(const llvm::cl::opt<std::string> &option);
  /// Fails when `use` exceeds the budget, saying how much `who` needs
  /// ("model 'gpt2'"), for what, and where the budget came from.
  llvm::Error check(const MemoryUse &use, llvm::StringRef who) const;
  /// Checks the model's kernel at `bytesPerElement` for every element of
  /// every buffer. Its decode step needs less: one row of each activation,
  /// and KV caches no larger than the keys and values of a full run.
  llvm::Error checkModel(const Graph &graph, const llvm::SourceMgr &sourceMgr,
                         unsigned bytesPerElement = sizeof(float)) const;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_MEMORYBUDGET_H
