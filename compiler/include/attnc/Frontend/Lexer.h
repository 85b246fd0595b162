//===- Lexer.h - tokens of the .attn language -------------------*- C++ -*-===//

#ifndef ATTNC_FRONTEND_LEXER_H
#define ATTNC_FRONTEND_LEXER_H

#include "attnc/Frontend/Diagnostics.h"

#include "llvm/ADT/StringRef.h"

namespace attnc {

struct Token {
  enum class Kind {
    Eof,
    Error,
    Identifier,
    Integer,
    Float,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Equal,
    Minus,
    Plus,
    Star,
    Slash,
  };
  Kind kind = Kind::Eof;
  llvm::StringRef spelling;
  llvm::SMLoc loc() const { return llvm::SMLoc::getFromPointer(spelling.data()); }
  bool is(Kind k) const { return kind == k; }
};

/// The longest name the language accepts.
constexpr long kMaxNameLength = 255;

/// Splits a buffer into tokens. `#` starts a comment to the end of the line;
/// newlines are ordinary white space. Bytes that cannot start a token are
/// reported once and yield an Error token, which stops the parser.
class Lexer {
public:
  Lexer(llvm::StringRef buffer, DiagnosticReporter &diag)
      : buffer(buffer), cur(buffer.begin()), diag(diag) {}
  Token next();
  /// Location just past the last byte, for "unexpected end of file".
  llvm::SMLoc endLoc() const { return llvm::SMLoc::getFromPointer(buffer.end()); }

private:
  Token make(Token::Kind kind, const char *start);
  Token lexNumber(const char *start);
  Token lexError(const char *start, const llvm::Twine &message);

  llvm::StringRef buffer;
  const char *cur;
  DiagnosticReporter &diag;
  bool hadError = false;
};

const char *tokenKindName(Token::Kind kind);

} // namespace attnc

#endif // ATTNC_FRONTEND_LEXER_H
