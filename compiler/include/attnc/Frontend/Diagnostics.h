//===- Diagnostics.h - file:line:col messages for .attn files ---*- C++ -*-===//

#ifndef ATTNC_FRONTEND_DIAGNOSTICS_H
#define ATTNC_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

namespace attnc {

/// Reports errors through llvm::SourceMgr so that every message carries
/// file:line:col, the source line and a caret, and counts them.
class DiagnosticReporter {
public:
  explicit DiagnosticReporter(llvm::SourceMgr &sourceMgr,
                              llvm::raw_ostream *os = nullptr)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message);
  void warning(llvm::SMLoc loc, const llvm::Twine &message);
  void note(llvm::SMLoc loc, const llvm::Twine &message);

  unsigned errorCount() const { return errors; }
  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

private:
  void report(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
              const llvm::Twine &message);
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream *os;
  unsigned errors = 0;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_DIAGNOSTICS_H
