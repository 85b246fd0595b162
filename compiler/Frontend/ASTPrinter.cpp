//===- ASTPrinter.cpp - canonical .attn text from a ModelAST ----*- C++ -*-===//

#include "attnc/Frontend/AST.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace attnc;

static void printNumber(double v, llvm::raw_ostream &os) {
  // %.9g round-trips every float; attributes are stored as float32 anyway.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  os << s;
}

static int precedence(const Expr &e) {
  if (e.kind != Expr::Kind::Binary)
    return 3;
  return e.name == "+" || e.name == "-" ? 1 : 2;
}

static void printExpr(const Expr &e, llvm::raw_ostream &os);

/// Parenthesizes an operand that binds more loosely than its operator, and a
/// right operand of equal precedence, since `a - (b - c)` != `a - b - c`.
static void printOperand(const Expr &operand, int parentPrecedence,
                         bool isRight, llvm::raw_ostream &os) {
  int p = precedence(operand);
  bool parens = p < parentPrecedence || (isRight && p == parentPrecedence);
  if (parens)
    os << "(";
  printExpr(operand, os);
  if (parens)
    os << ")";
}

static void printExpr(const Expr &e, llvm::raw_ostream &os) {
  switch (e.kind) {
  case Expr::Kind::Binary:
    printOperand(*e.args[0], precedence(e), /*isRight=*/false, os);
    os << " " << e.name << " ";
    printOperand(*e.args[1], precedence(e), /*isRight=*/true, os);
    return;
  case Expr::Kind::Name:
    os << e.name;
    return;
  case Expr::Kind::Integer:
    os << e.intValue;
    return;
  case Expr::Kind::Float:
    printNumber(e.floatValue, os);
    return;
  case Expr::Kind::Call:
    break;
  }
  os << e.name << "(";
  bool first = true;
  for (const ExprPtr &arg : e.args) {
    os << (first ? "" : ", ");
    printExpr(*arg, os);
    first = false;
  }
  for (const KeywordArg &kw : e.keywords) {
    os << (first ? "" : ", ") << kw.key << " = ";
    printExpr(*kw.value, os);
    first = false;
  }
  os << ")";
}

static void printAssignment(const Assignment &a, llvm::raw_ostream &os) {
  os << "  ";
  for (size_t i = 0; i < a.targets.size(); ++i)
    os << (i ? ", " : "") << a.targets[i].first;
  os << " = ";
  printExpr(*a.value, os);
  os << "\n";
}

void attnc::printModel(const ModelAST &model, llvm::raw_ostream &os) {
  for (const BlockDef &b : model.blocks) {
    os << "block " << b.name << "(";
    for (size_t i = 0; i < b.params.size(); ++i)
      os << (i ? ", " : "") << b.params[i].first;
    os << ") {\n";
    for (const Assignment &a : b.assignments)
      printAssignment(a, os);
    os << "  return ";
    for (size_t i = 0; i < b.returns.size(); ++i)
      os << (i ? ", " : "") << b.returns[i].name;
    os << "\n}\n\n";
  }
  os << "model " << model.name << " {\n";
  os << "  context = " << model.context << "\n";
  os << "  dtype = " << model.dtype << "\n";
  if (model.decode)
    os << "  decode\n";
  for (const Declaration &d : model.declarations) {
    os << "  " << (d.role == ArgRole::Input ? "input" : "param") << " "
       << d.name << " : [";
    for (size_t i = 0; i < d.dims.size(); ++i) {
      os << (i ? ", " : "");
      if (d.dims[i].isContext)
        os << "context";
      else
        os << d.dims[i].value;
    }
    os << "]\n";
  }
  for (const Assignment &a : model.assignments)
    printAssignment(a, os);
  if (!model.outputs.empty()) {
    os << "  output ";
    for (size_t i = 0; i < model.outputs.size(); ++i)
      os << (i ? ", " : "") << model.outputs[i].name;
    os << "\n";
  }
  os << "}\n";
}
