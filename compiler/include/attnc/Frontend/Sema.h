//===- Sema.h - meaning and shape checks of a parsed model ------*- C++ -*-===//

#ifndef ATTNC_FRONTEND_SEMA_H
#define ATTNC_FRONTEND_SEMA_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Graph.h"

#include <optional>

namespace attnc {

/// Checks names, arities, attributes and shapes; reports the first error with
/// its location and returns std::nullopt, or returns the typed graph.
/// Unused inputs and params are warnings.
std::optional<Graph> checkModel(const ModelAST &model, DiagnosticReporter &diag);

/// Parse and check a whole file already loaded into the reporter's SourceMgr.
std::optional<Graph> loadModel(DiagnosticReporter &diag);

} // namespace attnc

#endif // ATTNC_FRONTEND_SEMA_H
