//===- Parser.h - .attn text to ModelAST ------------------------*- C++ -*-===//

#ifndef ATTNC_FRONTEND_PARSER_H
#define ATTNC_FRONTEND_PARSER_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Diagnostics.h"

#include <optional>

namespace attnc {

/// Parses the main buffer of the reporter's SourceMgr. Returns std::nullopt
/// after reporting the first syntax error.
std::optional<ModelAST> parseModel(DiagnosticReporter &diag);

} // namespace attnc

#endif // ATTNC_FRONTEND_PARSER_H
