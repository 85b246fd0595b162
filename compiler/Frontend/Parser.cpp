//===- Parser.cpp - recursive descent over .attn tokens ---------*- C++ -*-===//
//
//   file        ::= block* 'model' IDENT '{' item* '}' EOF
//   block       ::= 'block' IDENT '(' [IDENT (',' IDENT)*] ')'
//                   '{' assignment* 'return' IDENT (',' IDENT)* '}'
//   item        ::= 'context' '=' INT
//                 | 'dtype' '=' IDENT
//                 | 'decode'
//                 | ('input' | 'param') IDENT ':' shape
//                 | 'output' IDENT (',' IDENT)*
//                 | assignment
//   assignment  ::= IDENT (',' IDENT)* '=' expr
//   shape       ::= '[' dim (',' dim)* ']'
//   dim         ::= INT | 'context'
//   expr        ::= term (('+' | '-') term)*
//   term        ::= unary (('*' | '/') unary)*
//   unary       ::= '-' unary | primary
//   primary     ::= IDENT | number | IDENT '(' arglist? ')' | '(' expr ')'
//   arglist     ::= arg (',' arg)*
//   arg         ::= expr | IDENT '=' expr
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace attnc;

namespace {

/// Items of a model body that are words of the language, not names.
bool isReservedWord(llvm::StringRef s) {
  return s == "model" || s == "context" || s == "dtype" || s == "decode" ||
         s == "input" ||
         s == "param" || s == "output" || s == "block" || s == "return";
}

class Parser {
public:
  explicit Parser(DiagnosticReporter &diag)
      : diag(diag),
        lexer(diag.getSourceMgr()
                  .getMemoryBuffer(diag.getSourceMgr().getMainFileID())
                  ->getBuffer(),
              diag) {
    advance();
  }

  std::optional<ModelAST> parseFile();

private:
  /// Tokens are lexed only when the parser looks at them, so diagnostics
  /// come out in source order and a lexer error is never reported ahead of a
  /// syntax error before it.
  void advance() {
    if (peeked) {
      tok = peekTok;
      peeked = false;
    } else {
      tok = lexer.next();
    }
  }
  const Token &peek() {
    if (!peeked) {
      peekTok = lexer.next();
      peeked = true;
    }
    return peekTok;
  }
  bool failed() const { return diag.errorCount() != 0; }
  bool error(llvm::SMLoc loc, const llvm::Twine &message) {
    if (!failed())
      diag.error(loc, message);
    return false;
  }
  /// Reports "expected X" at the current token, naming what was found.
  bool expected(const llvm::Twine &what) {
    if (tok.is(Token::Kind::Error))
      return false; // the lexer has reported it
    std::string found = tok.is(Token::Kind::Eof)
                            ? std::string("end of file")
                            : "'" + tok.spelling.str() + "'";
    return error(tok.loc(), "expected " + what + ", found " + found);
  }
  bool consume(Token::Kind kind, const llvm::Twine &what) {
    if (!tok.is(kind))
      return expected(what);
    advance();
    return true;
  }
  bool isWord(llvm::StringRef word) const {
    return tok.is(Token::Kind::Identifier) && tok.spelling == word;
  }

  bool parseItem(ModelAST &model);
  bool parseDeclaration(ModelAST &model, ArgRole role);
  bool parseOutputs(ModelAST &model);
  bool parseAssignment(std::vector<Assignment> &assignments);
  bool parseBlock(ModelAST &model);
  bool parseIntegerLiteral(int64_t &value, llvm::StringRef what);
  ExprPtr parseExpr();
  ExprPtr parseSum();
  ExprPtr parseTerm();
  ExprPtr parseUnary();
  ExprPtr parsePrimary();
  ExprPtr makeBinary(llvm::StringRef op, llvm::SMLoc loc, ExprPtr lhs,
                     ExprPtr rhs);
  bool parseName(std::string &name, llvm::SMLoc &loc, llvm::StringRef what);

  DiagnosticReporter &diag;
  Lexer lexer;
  Token tok, peekTok;
  bool peeked = false;
  unsigned nesting = 0;
};

} // namespace

bool Parser::parseName(std::string &name, llvm::SMLoc &loc,
                       llvm::StringRef what) {
  if (!tok.is(Token::Kind::Identifier))
    return expected(what);
  if (isReservedWord(tok.spelling))
    return error(tok.loc(), "'" + tok.spelling + "' is a reserved word and "
                            "cannot be used as " + what);
  name = tok.spelling.str();
  loc = tok.loc();
  advance();
  return true;
}

bool Parser::parseIntegerLiteral(int64_t &value, llvm::StringRef what) {
  if (tok.is(Token::Kind::Minus))
    return error(tok.loc(), what + " must be a positive integer");
  if (tok.is(Token::Kind::Float))
    return error(tok.loc(), what + " must be a positive integer, found '" +
                                tok.spelling + "'");
  if (!tok.is(Token::Kind::Integer))
    return expected(what);
  unsigned long long v;
  if (llvm::getAsUnsignedInteger(tok.spelling, 10, v) || v > (1ull << 62))
    return error(tok.loc(), "integer '" + tok.spelling + "' is too large");
  value = static_cast<int64_t>(v);
  advance();
  return true;
}

std::optional<ModelAST> Parser::parseFile() {
  ModelAST model;
  if (tok.is(Token::Kind::Eof) && !failed()) {
    error(tok.loc(), "empty file: expected 'model NAME { ... }'");
    return std::nullopt;
  }
  while (isWord("block"))
    if (!parseBlock(model))
      return std::nullopt;
  if (!isWord("model")) {
    expected(model.blocks.empty() ? "'model'" : "'block' or 'model'");
    return std::nullopt;
  }
  model.loc = tok.loc();
  advance();
  if (!parseName(model.name, model.nameLoc, "a model name"))
    return std::nullopt;
  llvm::SMLoc openLoc = tok.loc();
  if (!consume(Token::Kind::LBrace, "'{' after the model name"))
    return std::nullopt;
  while (!tok.is(Token::Kind::RBrace)) {
    if (tok.is(Token::Kind::Eof)) {
      error(tok.loc(), "unterminated model '" + model.name +
                           "': expected '}' before end of file");
      diag.note(openLoc, "the model's block opens here");
      return std::nullopt;
    }
    if (!parseItem(model))
      return std::nullopt;
  }
  model.closeLoc = tok.loc();
  advance();
  if (!tok.is(Token::Kind::Eof)) {
    expected("end of file after the model's closing '}'");
    return std::nullopt;
  }
  if (failed())
    return std::nullopt;
  return model;
}

bool Parser::parseItem(ModelAST &model) {
  if (tok.is(Token::Kind::Identifier) && isReservedWord(tok.spelling) &&
      tok.spelling != "context" && tok.spelling != "dtype" &&
      peek().is(Token::Kind::Equal))
    return error(tok.loc(), "'" + tok.spelling +
                                "' is a reserved word and cannot be assigned");
  if (isWord("context")) {
    if (model.contextLoc.isValid()) {
      error(tok.loc(), "'context' is given twice");
      diag.note(model.contextLoc, "first given here");
      return false;
    }
    model.contextLoc = tok.loc();
    advance();
    if (!consume(Token::Kind::Equal, "'=' after 'context'"))
      return false;
    llvm::SMLoc valueLoc = tok.loc();
    if (!parseIntegerLiteral(model.context, "the context size"))
      return false;
    if (model.context == 0)
      return error(valueLoc, "the context size must be a positive integer");
    return true;
  }
  if (isWord("dtype")) {
    if (model.dtypeLoc.isValid()) {
      error(tok.loc(), "'dtype' is given twice");
      diag.note(model.dtypeLoc, "first given here");
      return false;
    }
    advance();
    if (!consume(Token::Kind::Equal, "'=' after 'dtype'"))
      return false;
    if (!tok.is(Token::Kind::Identifier))
      return expected("an element type (f32)");
    model.dtype = tok.spelling.str();
    model.dtypeLoc = tok.loc();
    advance();
    return true;
  }
  if (isWord("decode")) {
    if (model.decodeLoc.isValid()) {
      error(tok.loc(), "'decode' is given twice");
      diag.note(model.decodeLoc, "first given here");
      return false;
    }
    model.decode = true;
    model.decodeLoc = tok.loc();
    advance();
    return true;
  }
  if (isWord("input") || isWord("param")) {
    ArgRole role = isWord("input") ? ArgRole::Input : ArgRole::Param;
    advance();
    return parseDeclaration(model, role);
  }
  if (isWord("output")) {
    advance();
    return parseOutputs(model);
  }
  if (tok.is(Token::Kind::Identifier) && !isReservedWord(tok.spelling))
    return parseAssignment(model.assignments);
  if (isWord("block"))
    return error(tok.loc(), "blocks are defined before 'model', not inside it");
  return expected("a declaration (context, dtype, decode, input, param, "
                  "output) or an assignment 'NAME = ...'");
}

bool Parser::parseDeclaration(ModelAST &model, ArgRole role) {
  Declaration decl;
  decl.role = role;
  if (!parseName(decl.name, decl.loc,
                 role == ArgRole::Input ? "an input name" : "a param name"))
    return false;
  if (!consume(Token::Kind::Colon, "':' and a shape after '" + decl.name + "'"))
    return false;
  if (!consume(Token::Kind::LBracket, "'[' to start the shape of '" +
                                          decl.name + "'"))
    return false;
  do {
    DimExpr dim;
    dim.loc = tok.loc();
    if (isWord("context")) {
      dim.isContext = true;
      advance();
    } else {
      if (!parseIntegerLiteral(dim.value, "a dimension"))
        return false;
      if (dim.value == 0)
        return error(dim.loc, "a dimension must be a positive integer, found 0");
    }
    decl.dims.push_back(dim);
  } while (tok.is(Token::Kind::Comma) && (advance(), true));
  if (!consume(Token::Kind::RBracket, "',' or ']' in the shape of '" +
                                          decl.name + "'"))
    return false;
  model.declarations.push_back(std::move(decl));
  return true;
}

bool Parser::parseOutputs(ModelAST &model) {
  do {
    OutputDecl out;
    if (!parseName(out.name, out.loc, "an output name"))
      return false;
    model.outputs.push_back(std::move(out));
  } while (tok.is(Token::Kind::Comma) && (advance(), true));
  return true;
}

bool Parser::parseBlock(ModelAST &model) {
  BlockDef block;
  advance(); // 'block'
  if (!parseName(block.name, block.loc, "a block name"))
    return false;
  if (!consume(Token::Kind::LParen, "'(' and the block's parameters"))
    return false;
  if (!tok.is(Token::Kind::RParen)) {
    do {
      std::string name;
      llvm::SMLoc loc;
      if (!parseName(name, loc, "a parameter name"))
        return false;
      block.params.emplace_back(std::move(name), loc);
    } while (tok.is(Token::Kind::Comma) && (advance(), true));
  }
  if (!consume(Token::Kind::RParen, "',' or ')' after the parameters of '" +
                                        block.name + "'"))
    return false;
  llvm::SMLoc openLoc = tok.loc();
  if (!consume(Token::Kind::LBrace, "'{' to open block '" + block.name + "'"))
    return false;
  while (!isWord("return")) {
    if (tok.is(Token::Kind::Eof) || tok.is(Token::Kind::RBrace)) {
      if (!failed()) {
        error(tok.loc(), "block '" + block.name +
                             "' must end with 'return NAME[, NAME...]'");
        diag.note(openLoc, "the block opens here");
      }
      return false;
    }
    if (!tok.is(Token::Kind::Identifier) || isReservedWord(tok.spelling))
      return expected("an assignment 'NAME = ...' or 'return' in block '" +
                      block.name + "'");
    if (!parseAssignment(block.assignments))
      return false;
  }
  advance(); // 'return'
  do {
    OutputDecl ret;
    if (!parseName(ret.name, ret.loc, "a returned name"))
      return false;
    block.returns.push_back(std::move(ret));
  } while (tok.is(Token::Kind::Comma) && (advance(), true));
  if (!consume(Token::Kind::RBrace, "'}' after the return of block '" +
                                        block.name + "'"))
    return false;
  model.blocks.push_back(std::move(block));
  return true;
}

bool Parser::parseAssignment(std::vector<Assignment> &assignments) {
  Assignment assign;
  do {
    std::string name;
    llvm::SMLoc loc;
    if (!parseName(name, loc, "a name to assign"))
      return false;
    assign.targets.emplace_back(std::move(name), loc);
  } while (tok.is(Token::Kind::Comma) && (advance(), true));
  if (!consume(Token::Kind::Equal, "'=' after the assigned name"))
    return false;
  assign.value = parseExpr();
  if (!assign.value)
    return false;
  assignments.push_back(std::move(assign));
  return true;
}

ExprPtr Parser::makeBinary(llvm::StringRef op, llvm::SMLoc loc, ExprPtr lhs,
                           ExprPtr rhs) {
  auto expr = std::make_unique<Expr>();
  expr->kind = Expr::Kind::Binary;
  expr->loc = loc;
  expr->name = op.str();
  expr->depth = std::max(lhs->depth, rhs->depth) + 1;
  if (expr->depth > kMaxExprDepth) {
    error(loc, "expression is nested more than " + llvm::Twine(kMaxExprDepth) +
                   " levels deep; split it with intermediate names");
    return nullptr;
  }
  expr->args.push_back(std::move(lhs));
  expr->args.push_back(std::move(rhs));
  return expr;
}

ExprPtr Parser::parseExpr() {
  // Parentheses, calls and unary minus recurse; bound the recursion.
  if (++nesting > kMaxExprDepth) {
    --nesting;
    error(tok.loc(), "expression is nested more than " +
                         llvm::Twine(kMaxExprDepth) +
                         " levels deep; split it with intermediate names");
    return nullptr;
  }
  ExprPtr result = parseSum();
  --nesting;
  return result;
}

ExprPtr Parser::parseSum() {
  ExprPtr lhs = parseTerm();
  while (lhs && (tok.is(Token::Kind::Plus) || tok.is(Token::Kind::Minus))) {
    llvm::StringRef op = tok.spelling;
    llvm::SMLoc loc = tok.loc();
    advance();
    ExprPtr rhs = parseTerm();
    if (!rhs)
      return nullptr;
    lhs = makeBinary(op, loc, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseTerm() {
  ExprPtr lhs = parseUnary();
  while (lhs && (tok.is(Token::Kind::Star) || tok.is(Token::Kind::Slash))) {
    llvm::StringRef op = tok.spelling;
    llvm::SMLoc loc = tok.loc();
    advance();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = makeBinary(op, loc, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (!tok.is(Token::Kind::Minus))
    return parsePrimary();
  llvm::SMLoc loc = tok.loc();
  advance();
  if (++nesting > kMaxExprDepth) {
    --nesting;
    error(loc, "expression is nested more than " + llvm::Twine(kMaxExprDepth) +
                   " levels deep; split it with intermediate names");
    return nullptr;
  }
  ExprPtr operand = parseUnary();
  --nesting;
  if (!operand)
    return nullptr;
  // A negative literal stays a literal, so `scale = -0.5` reads as a number.
  if (operand->kind == Expr::Kind::Integer ||
      operand->kind == Expr::Kind::Float) {
    operand->intValue = -operand->intValue;
    operand->floatValue = -operand->floatValue;
    operand->loc = loc;
    return operand;
  }
  auto minusOne = std::make_unique<Expr>();
  minusOne->kind = Expr::Kind::Integer;
  minusOne->loc = loc;
  minusOne->intValue = -1;
  minusOne->floatValue = -1;
  return makeBinary("*", loc, std::move(minusOne), std::move(operand));
}

ExprPtr Parser::parsePrimary() {
  auto expr = std::make_unique<Expr>();
  expr->loc = tok.loc();
  if (tok.is(Token::Kind::LParen)) {
    advance();
    ExprPtr inner = parseExpr();
    if (!inner || !consume(Token::Kind::RParen, "')' to close '('"))
      return nullptr;
    return inner;
  }
  if (tok.is(Token::Kind::Integer) || tok.is(Token::Kind::Float)) {
    std::string text = tok.spelling.str();
    errno = 0;
    if (tok.is(Token::Kind::Integer)) {
      expr->kind = Expr::Kind::Integer;
      unsigned long long v;
      if (llvm::getAsUnsignedInteger(tok.spelling, 10, v) || v > (1ull << 62)) {
        error(tok.loc(), "integer '" + tok.spelling + "' is too large");
        return nullptr;
      }
      expr->intValue = static_cast<int64_t>(v);
      expr->floatValue = static_cast<double>(expr->intValue);
    } else {
      expr->kind = Expr::Kind::Float;
      double v = std::strtod(text.c_str(), nullptr);
      if (errno == ERANGE || !std::isfinite(v)) {
        error(tok.loc(), "number '" + tok.spelling + "' is out of range");
        return nullptr;
      }
      expr->floatValue = v;
    }
    advance();
    return expr;
  }
  if (!tok.is(Token::Kind::Identifier)) {
    expected("an expression (a name, a number or a call)");
    return nullptr;
  }
  expr->name = tok.spelling.str();
  if (isReservedWord(tok.spelling) && tok.spelling != "context") {
    error(tok.loc(), "'" + tok.spelling + "' is a reserved word and cannot be "
                                          "used in an expression");
    return nullptr;
  }
  advance();
  if (!tok.is(Token::Kind::LParen)) {
    expr->kind = Expr::Kind::Name;
    return expr;
  }
  expr->kind = Expr::Kind::Call;
  advance();
  if (!tok.is(Token::Kind::RParen)) {
    do {
      if (tok.is(Token::Kind::Identifier) && peek().is(Token::Kind::Equal)) {
        KeywordArg kw;
        kw.key = tok.spelling.str();
        kw.loc = tok.loc();
        advance();
        advance();
        kw.value = parseExpr();
        if (!kw.value)
          return nullptr;
        expr->keywords.push_back(std::move(kw));
        continue;
      }
      if (!expr->keywords.empty()) {
        error(tok.loc(), "positional argument after a keyword argument in '" +
                             expr->name + "'");
        return nullptr;
      }
      ExprPtr arg = parseExpr();
      if (!arg)
        return nullptr;
      expr->args.push_back(std::move(arg));
    } while (tok.is(Token::Kind::Comma) && (advance(), true));
  }
  if (!consume(Token::Kind::RParen, "',' or ')' in the call to '" +
                                        expr->name + "'"))
    return nullptr;
  for (const ExprPtr &arg : expr->args)
    expr->depth = std::max(expr->depth, arg->depth + 1);
  for (const KeywordArg &kw : expr->keywords)
    expr->depth = std::max(expr->depth, kw.value->depth + 1);
  return expr;
}

std::optional<ModelAST> attnc::parseModel(DiagnosticReporter &diag) {
  Parser parser(diag);
  return parser.parseFile();
}
