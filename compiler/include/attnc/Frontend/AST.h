//===- AST.h - syntax tree of a .attn file ----------------------*- C++ -*-===//
//
// What the parser saw, with a source location on everything a diagnostic may
// point at. Meaning (shapes, operand kinds) is decided later by Sema.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_AST_H
#define ATTNC_FRONTEND_AST_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnc {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// `key = value` inside a call's parentheses.
struct KeywordArg {
  std::string key;
  llvm::SMLoc loc;
  ExprPtr value;
};

struct Expr {
  /// Binary: `name` holds the operator ("+", "-", "*", "/"), args the two
  /// operands.
  enum class Kind { Name, Integer, Float, Call, Binary };
  Kind kind;
  llvm::SMLoc loc;
  std::string name; ///< Name, or the callee of a Call.
  int64_t intValue = 0;
  double floatValue = 0;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> keywords;
  /// Height of this subtree; the parser bounds it so that every recursive
  /// walk over expressions has bounded stack depth.
  unsigned depth = 1;
};

/// The deepest expression the parser accepts.
constexpr unsigned kMaxExprDepth = 256;

/// A dimension written in a shape: a literal or the word `context`.
struct DimExpr {
  int64_t value = 0;
  bool isContext = false;
  llvm::SMLoc loc;
};

enum class ArgRole { Input, Param, Output };

struct Declaration {
  ArgRole role;
  std::string name;
  llvm::SMLoc loc;
  std::vector<DimExpr> dims;
};

/// `a, b = expr`.
struct Assignment {
  std::vector<std::pair<std::string, llvm::SMLoc>> targets;
  ExprPtr value;
};

struct OutputDecl {
  std::string name;
  llvm::SMLoc loc;
};

/// `block NAME(params) { assignments  return names }`: a piece of model
/// that can be called like an operation, e.g. once per layer.
struct BlockDef {
  std::string name;
  llvm::SMLoc loc;
  std::vector<std::pair<std::string, llvm::SMLoc>> params;
  std::vector<Assignment> assignments;
  std::vector<OutputDecl> returns;
};

struct ModelAST {
  std::vector<BlockDef> blocks;
  std::string name;
  llvm::SMLoc loc;     ///< the `model` keyword
  llvm::SMLoc nameLoc; ///< the model's name
  int64_t context = 0;
  llvm::SMLoc contextLoc;
  std::string dtype = "f32";
  llvm::SMLoc dtypeLoc;
  /// `decode`: also compile NAME_decode, one token at a time over a KV cache.
  bool decode = false;
  llvm::SMLoc decodeLoc;
  std::vector<Declaration> declarations;
  std::vector<Assignment> assignments;
  std::vector<OutputDecl> outputs;
  llvm::SMLoc closeLoc;
};

/// Writes the model back as canonical .attn text; parsing the result gives an
/// equal tree, which the round-trip tests rely on.
void printModel(const ModelAST &model, llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_FRONTEND_AST_H
