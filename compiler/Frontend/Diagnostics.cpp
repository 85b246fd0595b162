//===- Diagnostics.cpp ------------------------------------------*- C++ -*-===//

#include "attnc/Frontend/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

using namespace attnc;

void DiagnosticReporter::report(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
                                const llvm::Twine &message) {
  sourceMgr.PrintMessage(os ? *os : llvm::errs(), loc, kind, message);
}

void DiagnosticReporter::error(llvm::SMLoc loc, const llvm::Twine &message) {
  ++errors;
  report(loc, llvm::SourceMgr::DK_Error, message);
}

void DiagnosticReporter::warning(llvm::SMLoc loc, const llvm::Twine &message) {
  report(loc, llvm::SourceMgr::DK_Warning, message);
}

void DiagnosticReporter::note(llvm::SMLoc loc, const llvm::Twine &message) {
  report(loc, llvm::SourceMgr::DK_Note, message);
}
