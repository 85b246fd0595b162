//===- OutputFile.h - outputs that appear whole or not at all ---*- C++ -*-===//
//
// A compiler that dies or runs out of disk half way must not leave a
// truncated object behind for a build system to pick up as up to date. Each
// output is written to a temporary next to its destination and renamed over
// it only once every byte is written; a temporary not committed is removed,
// on a signal too.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SUPPORT_OUTPUTFILE_H
#define ATTNC_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace attnc {

class OutputFile {
public:
  /// Opens `path` for writing: "-" is stdout, an existing file that is not a
  /// regular one (/dev/null, /dev/full, a pipe) is written in place, anything
  /// else goes to a temporary in the same directory. Errors name `path`.
  static llvm::Expected<std::unique_ptr<OutputFile>>
  open(llvm::StringRef path, bool binary = true);

  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  llvm::raw_fd_ostream &os() { return *stream; }
  /// The destination.
  llvm::StringRef path() const { return destination; }
  /// Where the bytes go until commit(): the temporary, or the destination
  /// itself when it is written in place. For a program that writes the file
  /// itself (a linker), after the stream is left alone.
  llvm::StringRef writePath() const;

  /// Flushes and reports a failed write (a full disk, a file size limit),
  /// naming the destination; for an output that is checked but not kept.
  llvm::Error flush();

  /// Flushes, checks that every write succeeded (a full disk or a file size
  /// limit fails here, naming the destination) and renames the temporary
  /// into place. On failure nothing is left at the destination.
  llvm::Error commit();

private:
  OutputFile(std::string destination) : destination(std::move(destination)) {}
  llvm::Error writeError(std::error_code ec);

  std::string destination;
  std::optional<llvm::sys::fs::TempFile> temporary;
  std::unique_ptr<llvm::raw_fd_ostream> ownStream;
  llvm::raw_fd_ostream *stream = nullptr;
  bool committed = false;
};

} // namespace attnc

#endif // ATTNC_SUPPORT_OUTPUTFILE_H
