//===- Checker.h - Sema's state, shared by its source files -----*- C++ -*-===//
//
// Internal to the frontend. Sema.cpp holds names, scopes, blocks and
// arithmetic; SemaOps.cpp checks each operation of the language.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_CHECKER_H
#define ATTNC_FRONTEND_CHECKER_H

#include "attnc/Frontend/Sema.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <optional>

namespace attnc {
namespace sema {

struct Symbol {
  ValueId value;
  llvm::SMLoc loc;
  bool isArgument = false;
  bool used = false;
};

/// Whether a constant of the model keeps its value in the kernel's f32: a
/// normal float. Below FLT_MIN (1.2e-38) f32 has fewer significant bits
/// (1e-45 becomes 1.4e-45, 40 % off) or none; above FLT_MAX it is infinite.
inline bool isNormalF32(double value) {
  return std::isnormal(static_cast<float>(value));
}

/// A tensor operand of a call, with the words a diagnostic uses for it.
struct Operand {
  ValueId value;
  std::string description; // "'x'" or "the result of 'linear'"
  llvm::SMLoc loc;
};

class Checker {
public:
  Checker(const ModelAST &model, DiagnosticReporter &diag)
      : model(model), diag(diag) {}
  std::optional<Graph> run();

  // Shared by the operation checks (SemaOps.cpp).
  bool error(llvm::SMLoc loc, const llvm::Twine &message);
  bool evaluateTensor(const Expr &expr, Operand &operand);
  /// A number, or arithmetic on numbers; `what` names it in errors.
  bool evaluateNumber(const Expr &expr, double &value,
                      llvm::StringRef what = "this");
  bool checkArity(const Expr &call, size_t minArgs, size_t maxArgs,
                  const char *signature);
  bool checkKeywords(const Expr &call,
                     std::initializer_list<llvm::StringRef> allowed);
  bool checkRank(const Operand &op, std::initializer_list<size_t> ranks,
                 const Expr &call, llvm::StringRef role);
  bool integerArg(const Expr &e, llvm::StringRef what, int64_t &value);
  const KeywordArg *keyword(const Expr &call, llvm::StringRef key) const;
  Shape shapeOf(const Operand &op) const { return graph.shapeOf(op.value); }
  /// Appends an operation with one result of `resultShape`.
  ValueId addOp(GraphOp op, Shape resultShape);
  /// Appends an operation with one result per shape.
  std::vector<ValueId> addOp(GraphOp op, const std::vector<Shape> &resultShapes);
  int64_t contextSize() const { return model.context; }
  bool isDefined(llvm::StringRef name) const { return scope->count(name); }

  bool evaluateLinear(const Expr &call, std::vector<ValueId> &results);
  bool evaluateSplit(const Expr &call, std::vector<ValueId> &results);
  bool evaluateAttention(const Expr &call, std::vector<ValueId> &results);
  bool evaluateMatmul(const Expr &call, std::vector<ValueId> &results);
  bool evaluateTranspose(const Expr &call, std::vector<ValueId> &results);
  bool evaluateSoftmax(const Expr &call, std::vector<ValueId> &results);
  bool evaluateMask(const Expr &call, std::vector<ValueId> &results);
  bool evaluateSplitHeads(const Expr &call, std::vector<ValueId> &results);
  bool evaluateMergeHeads(const Expr &call, std::vector<ValueId> &results);
  bool evaluateRope(const Expr &call, std::vector<ValueId> &results);
  bool evaluateNorm(const Expr &call, std::vector<ValueId> &results);
  bool evaluateActivation(const Expr &call, std::vector<ValueId> &results);
  bool evaluateMul(const Expr &call, std::vector<ValueId> &results);
  /// a + b, a - b, a * b for tensors: equal shapes or a suffix broadcast.
  bool elementwise(GraphOp::Kind kind, const Operand &a, const Operand &b,
                   llvm::SMLoc loc, llvm::StringRef what, ValueId &result);
  /// Parses `causal`, `none` or `window(N)`; false after an error.
  bool maskKind(const Expr &e, MaskKind &kind, int64_t &window);

private:
  using Scope = llvm::StringMap<Symbol>;
  bool declare(Scope &scope, const std::string &name, llvm::SMLoc loc,
               ValueId value, bool isArgument);
  bool resolveShape(const Declaration &decl, Shape &shape);
  bool evaluate(const Expr &expr, std::vector<ValueId> &results);
  bool evaluateBinary(const Expr &expr, ValueId &result);
  bool evaluateBlockCall(const BlockDef &block, const Expr &call,
                         std::vector<ValueId> &results);
  bool assign(const Assignment &assignment);
  bool isNumeric(const Expr &e) const;

  const ModelAST &model;
  DiagnosticReporter &diag;
  Graph graph;
  Scope modelScope;
  Scope *scope = &modelScope;
  /// Blocks a call may name: those defined before the one being checked.
  llvm::StringMap<const BlockDef *> visibleBlocks;
  llvm::StringSet<> calledBlocks;
  /// Call sites of the blocks being expanded, innermost last.
  std::vector<std::pair<llvm::SMLoc, std::string>> callStack;
};

} // namespace sema
} // namespace attnc

#endif // ATTNC_FRONTEND_CHECKER_H
