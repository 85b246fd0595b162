"""Numbers in attributes: literals, ``context``, ``sqrt`` and arithmetic.

The language lets an attribute be written as it is derived
(``scale = 1 / sqrt(64)``), so numbers are kept as small expressions and
written back as they were given; attributes that must be integers
(``heads``, ``window(N)``) accept only a literal or ``context``, as attnc
does.
"""

import math

from .errors import ModelError


class Num:
    """A number expression. Arithmetic with numbers builds larger ones:
    ``1 / attnc.sqrt(64)``."""

    precedence = 3  # binds like a primary; Arith overrides

    def evaluate(self, context):
        raise NotImplementedError

    def _arith(self, op, other, swap):
        if isinstance(other, Num):
            rhs = other
        elif isinstance(other, (int, float)) and not isinstance(other, bool):
            rhs = Lit(other)
        else:
            return NotImplemented  # a Tensor handles number * tensor itself
        return Arith(op, rhs, self) if swap else Arith(op, self, rhs)

    def __add__(self, other): return self._arith("+", other, False)
    def __radd__(self, other): return self._arith("+", other, True)
    def __sub__(self, other): return self._arith("-", other, False)
    def __rsub__(self, other): return self._arith("-", other, True)
    def __mul__(self, other): return self._arith("*", other, False)
    def __rmul__(self, other): return self._arith("*", other, True)
    def __truediv__(self, other): return self._arith("/", other, False)
    def __rtruediv__(self, other): return self._arith("/", other, True)

    def __repr__(self):
        return "attnc.Num(%s)" % format_number(self)


class Lit(Num):
    """An integer or floating-point literal (kept apart: ``2`` vs ``2.0``)."""

    def __init__(self, value):
        if isinstance(value, float) and not math.isfinite(value):
            raise ModelError("a number must be finite, got %r" % value)
        self.value = value

    @property
    def is_int(self):
        return isinstance(self.value, int)

    def evaluate(self, context):
        return float(self.value)


class ContextSize(Num):
    """The word ``context``: the model's context size."""

    def evaluate(self, context):
        return float(context)


class Sqrt(Num):
    def __init__(self, arg):
        self.arg = arg

    def evaluate(self, context):
        x = self.arg.evaluate(context)
        if x < 0:
            raise ModelError("sqrt of a negative number")
        return math.sqrt(x)


class Arith(Num):
    def __init__(self, op, lhs, rhs):
        self.op, self.lhs, self.rhs = op, lhs, rhs
        self.precedence = 1 if op in "+-" else 2

    def evaluate(self, context):
        a, b = self.lhs.evaluate(context), self.rhs.evaluate(context)
        if self.op == "/" and b == 0:
            raise ModelError("division by zero")
        if self.op == "+":
            value = a + b
        elif self.op == "-":
            value = a - b
        elif self.op == "*":
            value = a * b
        else:
            value = a / b
        if not math.isfinite(value):
            raise ModelError("this number is out of range")
        return value


CONTEXT = ContextSize()


def sqrt(x):
    """``sqrt(x)`` as written in .attn, e.g. ``scale=1 / attnc.sqrt(64)``."""
    return Sqrt(to_num(x, "sqrt"))


def to_num(value, what):
    """A Python int or float, or a Num, as a Num; ``what`` names it in the
    error."""
    if isinstance(value, Num):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Lit(value)
    raise ModelError("%s must be a number, got %s" % (what, _kind(value)),
                     argument=what)


def _kind(value):
    return "%s %r" % (type(value).__name__, value) \
        if isinstance(value, (str, bool)) else type(value).__name__


def format_literal(value):
    """As attnc prints it: integers as such, others with 9 significant
    digits (enough for every float32) and always with a '.', 'e' or 'n'."""
    if isinstance(value, int):
        return str(value)
    text = "%.9g" % value
    if not any(c in text for c in ".en"):
        text += ".0"
    return text


def format_number(num):
    if isinstance(num, Lit):
        return format_literal(num.value)
    if isinstance(num, ContextSize):
        return "context"
    if isinstance(num, Sqrt):
        return "sqrt(%s)" % format_number(num.arg)
    return "%s %s %s" % (parenthesize(num.lhs, num.precedence, False),
                         num.op,
                         parenthesize(num.rhs, num.precedence, True))


def parenthesize(num, parent, is_right):
    """An operand of a binary operator: in parentheses when it binds more
    loosely, or equally on the right (``a - (b - c)``)."""
    text = format_number(num)
    p = num.precedence
    if p < parent or (is_right and p == parent):
        return "(" + text + ")"
    return text
