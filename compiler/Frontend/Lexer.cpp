//===- Lexer.cpp - tokens of the .attn language -----------------*- C++ -*-===//

#include "attnc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace attnc;

const char *attnc::tokenKindName(Token::Kind kind) {
  switch (kind) {
  case Token::Kind::Eof: return "end of file";
  case Token::Kind::Error: return "invalid token";
  case Token::Kind::Identifier: return "identifier";
  case Token::Kind::Integer: return "integer";
  case Token::Kind::Float: return "number";
  case Token::Kind::LBrace: return "'{'";
  case Token::Kind::RBrace: return "'}'";
  case Token::Kind::LParen: return "'('";
  case Token::Kind::RParen: return "')'";
  case Token::Kind::LBracket: return "'['";
  case Token::Kind::RBracket: return "']'";
  case Token::Kind::Comma: return "','";
  case Token::Kind::Colon: return "':'";
  case Token::Kind::Equal: return "'='";
  case Token::Kind::Minus: return "'-'";
  case Token::Kind::Plus: return "'+'";
  case Token::Kind::Star: return "'*'";
  case Token::Kind::Slash: return "'/'";
  }
  return "token";
}

Token Lexer::make(Token::Kind kind, const char *start) {
  Token t;
  t.kind = kind;
  t.spelling = llvm::StringRef(start, cur - start);
  return t;
}

Token Lexer::lexError(const char *start, const llvm::Twine &message) {
  diag.error(llvm::SMLoc::getFromPointer(start), message);
  hadError = true;
  return make(Token::Kind::Error, start);
}

static bool isIdentStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isIdentChar(char c) { return llvm::isAlnum(c) || c == '_'; }

Token Lexer::lexNumber(const char *start) {
  const char *end = buffer.end();
  bool isFloat = false;
  while (cur != end && llvm::isDigit(*cur))
    ++cur;
  if (cur != end && *cur == '.') {
    isFloat = true;
    ++cur;
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  }
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    isFloat = true;
    ++cur;
    if (cur != end && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur == end || !llvm::isDigit(*cur)) {
      while (cur != end && isIdentChar(*cur))
        ++cur;
      return lexError(start, "bad number '" + llvm::StringRef(start, cur - start) +
                                 "': the exponent needs digits");
    }
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  }
  // "12ab" or "1.5x" is one malformed word, not a number followed by a name.
  if (cur != end && (isIdentChar(*cur) || *cur == '.')) {
    while (cur != end && (isIdentChar(*cur) || *cur == '.'))
      ++cur;
    return lexError(start, "bad number '" + llvm::StringRef(start, cur - start) +
                               "'");
  }
  return make(isFloat ? Token::Kind::Float : Token::Kind::Integer, start);
}

Token Lexer::next() {
  // One bad byte is one error: after it, the parser only unwinds.
  if (hadError)
    return make(Token::Kind::Error, cur);
  const char *end = buffer.end();
  for (;;) {
    while (cur != end && (*cur == ' ' || *cur == '\t' || *cur == '\n' ||
                          *cur == '\r'))
      ++cur;
    if (cur != end && *cur == '#') {
      while (cur != end && *cur != '\n')
        ++cur;
      continue;
    }
    break;
  }
  const char *start = cur;
  if (cur == end)
    return make(Token::Kind::Eof, start);

  unsigned char c = *cur;
  if (isIdentStart(c)) {
    while (cur != end && isIdentChar(*cur))
      ++cur;
    // Names become C symbols and appear in every message about them.
    if (cur - start > kMaxNameLength)
      return lexError(start, "a name of " + llvm::Twine(cur - start) +
                                 " characters; names are at most " +
                                 llvm::Twine(kMaxNameLength));
    return make(Token::Kind::Identifier, start);
  }
  if (llvm::isDigit(c) || (c == '.' && cur + 1 != end && llvm::isDigit(cur[1])))
    return lexNumber(start);

  ++cur;
  switch (c) {
  case '{': return make(Token::Kind::LBrace, start);
  case '}': return make(Token::Kind::RBrace, start);
  case '(': return make(Token::Kind::LParen, start);
  case ')': return make(Token::Kind::RParen, start);
  case '[': return make(Token::Kind::LBracket, start);
  case ']': return make(Token::Kind::RBracket, start);
  case ',': return make(Token::Kind::Comma, start);
  case ':': return make(Token::Kind::Colon, start);
  case '=': return make(Token::Kind::Equal, start);
  case '-': return make(Token::Kind::Minus, start);
  case '+': return make(Token::Kind::Plus, start);
  case '*': return make(Token::Kind::Star, start);
  case '/': return make(Token::Kind::Slash, start);
  default:
    break;
  }
  std::string hex;
  llvm::raw_string_ostream(hex) << llvm::format_hex(c, 4);
  if (c >= 0x80)
    return lexError(start, "non-ASCII byte " + hex +
                               "; .attn files are plain ASCII");
  if (c < 0x20 || c == 0x7f)
    return lexError(start, "control byte " + hex + " is not allowed here");
  return lexError(start, "unexpected character '" + llvm::Twine(char(c)) + "'");
}
