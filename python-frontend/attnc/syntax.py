"""Tokens and syntax tree of .attn text (the grammar in docs/language.md).

A small recursive-descent parser in the shape of attnc's own
(compiler/Frontend/Parser.cpp): it only reads structure; names, shapes and
attributes are checked when reader.py builds the model from the tree.
"""

from .errors import ParseError

MAX_DEPTH = 256  # attnc's bound on expression nesting
RESERVED = {"model", "context", "dtype", "decode", "input", "param",
            "output", "block", "return"}
_PUNCTUATION = {"{": "'{'", "}": "'}'", "(": "'('", ")": "')'", "[": "'['",
                "]": "']'", ",": "','", ":": "':'", "=": "'='", "-": "'-'",
                "+": "'+'", "*": "'*'", "/": "'/'"}


class Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind = kind  # "name", "int", "float", "eof" or the punctuation
        self.text = text
        self.pos = pos    # (line, column), 1-based


class Expr:
    """kind: "name", "int", "float", "call" or "binary" (``name`` holds the
    operator); ``kwargs`` is a list of (key, pos, Expr)."""

    def __init__(self, kind, pos, name=None, value=None):
        self.kind = kind
        self.pos = pos
        self.name = name
        self.value = value
        self.args = []
        self.kwargs = []


class Assignment:
    def __init__(self, targets, value):
        self.targets = targets  # [(name, pos)]
        self.value = value


class BlockDef:
    def __init__(self, name, pos):
        self.name, self.pos = name, pos
        self.params = []       # [(name, pos)]
        self.assignments = []
        self.returns = []      # [(name, pos)]


class Declaration:
    def __init__(self, role, name, pos):
        self.role, self.name, self.pos = role, name, pos
        self.dims = []  # [(int or "context", pos)]


class FileAST:
    def __init__(self):
        self.blocks = []
        self.name = None
        self.pos = None
        self.context = None
        self.context_pos = None
        self.dtype = "f32"
        self.dtype_pos = None
        self.decode = False
        self.decode_pos = None
        self.declarations = []
        self.assignments = []
        self.outputs = []  # [(name, pos)]
        self.close_pos = None


def tokenize(text, file):
    """All tokens of ``text``; a ParseError at the first bad character."""
    tokens, i, line, start_of_line, n = [], 0, 1, 0, len(text)

    def error(at, message):
        raise ParseError(message, file=file, line=line,
                         column=at - start_of_line + 1)

    while True:
        while i < n and text[i] in " \t\r\n#":
            if text[i] == "#":
                while i < n and text[i] != "\n":
                    i += 1
                continue
            if text[i] == "\n":
                line, start_of_line = line + 1, i + 1
            i += 1
        pos = (line, i - start_of_line + 1)
        if i == n:
            tokens.append(Token("eof", "", pos))
            return tokens
        c = text[i]
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum()
                                                   or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], pos))
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j, kind = _scan_number(text, i, error)
            tokens.append(Token(kind, text[i:j], pos))
        elif c in _PUNCTUATION:
            j = i + 1
            tokens.append(Token(c, c, pos))
        elif ord(c) >= 0x80:
            error(i, "non-ASCII character %r; .attn files are plain ASCII" % c)
        elif ord(c) < 0x20 or ord(c) == 0x7f:
            error(i, "control byte 0x%02x is not allowed here" % ord(c))
        else:
            error(i, "unexpected character '%s'" % c)
        i = j


def _scan_number(text, i, error):
    n, j, is_float = len(text), i, False
    while j < n and text[j].isdigit():
        j += 1
    if j < n and text[j] == ".":
        is_float = True
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        is_float = True
        j += 1
        if j < n and text[j] in "+-":
            j += 1
        if j == n or not text[j].isdigit():
            error(i, "bad number '%s': the exponent needs digits"
                  % text[i:j])
        while j < n and text[j].isdigit():
            j += 1
    # "12ab" or "1.5x" is one malformed word, not a number and a name.
    if j < n and (text[j].isalnum() or text[j] in "_."):
        k = j
        while k < n and (text[k].isalnum() or text[k] in "_."):
            k += 1
        error(i, "bad number '%s'" % text[i:k])
    return j, "float" if is_float else "int"


class Parser:
    def __init__(self, text, file):
        self.file = file
        self.tokens = tokenize(text, file)
        self.i = 0
        self.depth = 0

    @property
    def tok(self):
        return self.tokens[self.i]

    def peek(self):
        return self.tokens[min(self.i + 1, len(self.tokens) - 1)]

    def advance(self):
        tok = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def error(self, pos, message):
        raise ParseError(message, file=self.file, line=pos[0], column=pos[1])

    def expected(self, what):
        found = "end of file" if self.tok.kind == "eof" \
            else "'%s'" % self.tok.text
        self.error(self.tok.pos, "expected %s, found %s" % (what, found))

    def consume(self, kind, what):
        if self.tok.kind != kind:
            self.expected(what)
        return self.advance()

    def is_word(self, word):
        return self.tok.kind == "name" and self.tok.text == word

    def name(self, what):
        if self.tok.kind != "name":
            self.expected(what)
        if self.tok.text in RESERVED:
            self.error(self.tok.pos, "'%s' is a reserved word and cannot be "
                       "used as %s" % (self.tok.text, what))
        tok = self.advance()
        return tok.text, tok.pos

    def names(self, what):
        result = [self.name(what)]
        while self.tok.kind == ",":
            self.advance()
            result.append(self.name(what))
        return result

    def positive_int(self, what):
        if self.tok.kind in ("-", "float"):
            self.error(self.tok.pos, "%s must be a positive integer" % what)
        if self.tok.kind != "int":
            self.expected(what)
        value = int(self.tok.text)
        if value > 1 << 62:
            self.error(self.tok.pos, "integer '%s' is too large"
                       % self.tok.text)
        self.advance()
        return value

    # -- file structure ---------------------------------------------------

    def parse_file(self):
        f = FileAST()
        if self.tok.kind == "eof":
            self.error(self.tok.pos,
                       "empty file: expected 'model NAME { ... }'")
        while self.is_word("block"):
            f.blocks.append(self.parse_block())
        if not self.is_word("model"):
            self.expected("'block' or 'model'" if f.blocks else "'model'")
        f.pos = self.advance().pos
        f.name, _ = self.name("a model name")
        open_pos = self.consume("{", "'{' after the model name").pos
        while self.tok.kind != "}":
            if self.tok.kind == "eof":
                self.error(self.tok.pos, "unterminated model '%s' (opened at "
                           "line %d): expected '}' before end of file"
                           % (f.name, open_pos[0]))
            self.parse_item(f)
        f.close_pos = self.advance().pos
        if self.tok.kind != "eof":
            self.expected("end of file after the model's closing '}'")
        return f

    def parse_item(self, f):
        tok = self.tok
        if tok.kind == "name" and tok.text in RESERVED and self.peek().kind \
                == "=" and tok.text not in ("context", "dtype"):
            self.error(tok.pos, "'%s' is a reserved word and cannot be "
                       "assigned" % tok.text)
        if self.is_word("context"):
            if f.context_pos is not None:
                self.error(tok.pos, "'context' is given twice")
            f.context_pos = self.advance().pos
            self.consume("=", "'=' after 'context'")
            value_pos = self.tok.pos
            f.context = self.positive_int("the context size")
            if f.context == 0:
                self.error(value_pos, "the context size must be a positive "
                           "integer")
        elif self.is_word("dtype"):
            if f.dtype_pos is not None:
                self.error(tok.pos, "'dtype' is given twice")
            self.advance()
            self.consume("=", "'=' after 'dtype'")
            if self.tok.kind != "name":
                self.expected("an element type (f32)")
            f.dtype_pos = self.tok.pos
            f.dtype = self.advance().text
        elif self.is_word("decode"):
            if f.decode_pos is not None:
                self.error(tok.pos, "'decode' is given twice")
            f.decode = True
            f.decode_pos = self.advance().pos
        elif self.is_word("input") or self.is_word("param"):
            role = self.advance().text
            f.declarations.append(self.parse_declaration(role))
        elif self.is_word("output"):
            self.advance()
            f.outputs += self.names("an output name")
        elif tok.kind == "name" and tok.text not in RESERVED:
            f.assignments.append(self.parse_assignment())
        elif self.is_word("block"):
            self.error(tok.pos, "blocks are defined before 'model', not "
                       "inside it")
        else:
            self.expected("a declaration (context, dtype, decode, input, "
                          "param, output) or an assignment 'NAME = ...'")

    def parse_declaration(self, role):
        name, pos = self.name("an %s name" % role if role == "input"
                              else "a param name")
        d = Declaration(role, name, pos)
        self.consume(":", "':' and a shape after '%s'" % name)
        self.consume("[", "'[' to start the shape of '%s'" % name)
        while True:
            pos = self.tok.pos
            if self.is_word("context"):
                self.advance()
                d.dims.append(("context", pos))
            else:
                value = self.positive_int("a dimension")
                if value == 0:
                    self.error(pos, "a dimension must be a positive integer, "
                               "found 0")
                d.dims.append((value, pos))
            if self.tok.kind != ",":
                break
            self.advance()
        self.consume("]", "',' or ']' in the shape of '%s'" % name)
        return d

    def parse_block(self):
        self.advance()  # 'block'
        b = BlockDef(*self.name("a block name"))
        self.consume("(", "'(' and the block's parameters")
        if self.tok.kind != ")":
            b.params = self.names("a parameter name")
        self.consume(")", "',' or ')' after the parameters of '%s'" % b.name)
        self.consume("{", "'{' to open block '%s'" % b.name)
        while not self.is_word("return"):
            if self.tok.kind in ("eof", "}"):
                self.error(self.tok.pos, "block '%s' must end with 'return "
                           "NAME[, NAME...]'" % b.name)
            if self.tok.kind != "name" or self.tok.text in RESERVED:
                self.expected("an assignment 'NAME = ...' or 'return' in "
                              "block '%s'" % b.name)
            b.assignments.append(self.parse_assignment())
        self.advance()  # 'return'
        b.returns = self.names("a returned name")
        self.consume("}", "'}' after the return of block '%s'" % b.name)
        return b

    def parse_assignment(self):
        targets = self.names("a name to assign")
        self.consume("=", "'=' after the assigned name")
        return Assignment(targets, self.parse_expr())

    # -- expressions --------------------------------------------------------

    def nest(self, pos):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.error(pos, "expression is nested more than %d levels deep; "
                       "split it with intermediate names" % MAX_DEPTH)

    def parse_expr(self):
        self.nest(self.tok.pos)
        lhs = self.parse_term()
        while self.tok.kind in ("+", "-"):
            lhs = self.binary(lhs, self.parse_term)
        self.depth -= 1
        return lhs

    def parse_term(self):
        lhs = self.parse_unary()
        while self.tok.kind in ("*", "/"):
            lhs = self.binary(lhs, self.parse_unary)
        return lhs

    def binary(self, lhs, operand):
        op = self.advance()
        e = Expr("binary", op.pos, name=op.text)
        e.args = [lhs, operand()]
        return e

    def parse_unary(self):
        if self.tok.kind != "-":
            return self.parse_primary()
        pos = self.advance().pos
        self.nest(pos)
        operand = self.parse_unary()
        self.depth -= 1
        # A negative literal stays a literal (`scale = -0.5`); `-t` is
        # `-1 * t`, as in attnc.
        if operand.kind in ("int", "float"):
            operand.value = -operand.value
            operand.pos = pos
            return operand
        e = Expr("binary", pos, name="*")
        e.args = [Expr("int", pos, value=-1), operand]
        return e

    def parse_primary(self):
        tok = self.tok
        if tok.kind == "(":
            self.advance()
            inner = self.parse_expr()
            self.consume(")", "')' to close '('")
            return inner
        if tok.kind == "int":
            value = int(tok.text)
            if value > 1 << 62:
                self.error(tok.pos, "integer '%s' is too large" % tok.text)
            self.advance()
            return Expr("int", tok.pos, value=value)
        if tok.kind == "float":
            value = float(tok.text)
            if value in (float("inf"), float("-inf")):
                self.error(tok.pos, "number '%s' is out of range" % tok.text)
            self.advance()
            return Expr("float", tok.pos, value=value)
        if tok.kind != "name":
            self.expected("an expression (a name, a number or a call)")
        if tok.text in RESERVED and tok.text != "context":
            self.error(tok.pos, "'%s' is a reserved word and cannot be used "
                       "in an expression" % tok.text)
        self.advance()
        if self.tok.kind != "(":
            return Expr("name", tok.pos, name=tok.text)
        e = Expr("call", tok.pos, name=tok.text)
        self.advance()
        if self.tok.kind != ")":
            while True:
                if self.tok.kind == "name" and self.peek().kind == "=":
                    key = self.advance()
                    self.advance()
                    e.kwargs.append((key.text, key.pos, self.parse_expr()))
                else:
                    if e.kwargs:
                        self.error(self.tok.pos, "positional argument after "
                                   "a keyword argument in '%s'" % e.name)
                    e.args.append(self.parse_expr())
                if self.tok.kind != ",":
                    break
                self.advance()
        self.consume(")", "',' or ')' in the call to '%s'" % e.name)
        return e


def parse_text(text, file):
    return Parser(text, file).parse_file()
