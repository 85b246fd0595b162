"""Tensors, operations and the builder methods models and blocks share.

A model (model.py) is a list of operations over tensors, in the order they
were built, mirroring a .attn file statement by statement: every builder
method checks its arguments at once (``ModelError`` naming the argument) and
adds one operation. Values keep the names they were given, so writing the
model back as text (text.py) gives the same statements.
"""

import re

from . import ops
from .errors import ModelError
from .numbers import Num, to_num
from .ops import Symbol, Window

RESERVED = {"model", "block", "return", "context", "dtype", "decode",
            "input", "param", "output"}
# Kernel argument and model names become C identifiers in the header.
C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
    "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic",
    "_Noreturn", "_Static_assert", "_Thread_local", "bool", "true", "false"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_name(name, what, c_identifier=False):
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ModelError("%s must be an identifier (letters, digits, '_'), "
                         "got %r" % (what, name), argument="name")
    if name in RESERVED:
        raise ModelError("%r is a reserved word and cannot be %s"
                         % (name, what), argument="name")
    if c_identifier and name in C_KEYWORDS:
        raise ModelError("%r is a C keyword and cannot be %s: it becomes a C "
                         "identifier in the generated header" % (name, what),
                         argument="name")


class Tensor:
    """A value of a model or block: an input, a param, a block parameter or
    the result of an operation. Python's operators build operations:
    ``x + y``, ``x - y``, ``x * y`` (elementwise), ``t * 0.5``, ``t / 8``,
    ``-t``."""

    def __init__(self, graph, op, index, shape, name=None, role=None):
        self.graph = graph
        self.op = op        # None for inputs, params and block parameters
        self.index = index  # which result of op
        self.shape = shape  # a tuple; None inside a block
        self.name = name
        self.role = role    # "input", "param", "parameter" or None

    @property
    def label(self):
        """How errors refer to it: 'x' or the result of linear."""
        if self.name is not None:
            return "'%s'" % self.name
        return "the result of %s" % self.op.describe()

    def named(self, name):
        """Gives this computed value a name in the text (returns self)."""
        self.graph._name_value(self, name)
        return self

    def __repr__(self):
        shape = "?" if self.shape is None else ops.shape_text(self.shape)
        name = self.name if self.name is not None else \
            "<%s>" % self.op.describe()
        return "Tensor(%s %s of %s)" % (name, shape, self.graph.name)

    def __add__(self, other): return self.graph._binary("+", self, other)
    def __radd__(self, other): return self.graph._binary("+", other, self)
    def __sub__(self, other): return self.graph._binary("-", self, other)
    def __rsub__(self, other): return self.graph._binary("-", other, self)
    def __mul__(self, other): return self.graph._binary("*", self, other)
    def __rmul__(self, other): return self.graph._binary("*", other, self)
    def __truediv__(self, other): return self.graph._binary("/", self, other)
    def __rtruediv__(self, other): return self.graph._binary("/", other, self)
    def __neg__(self):
        # What attnc's parser makes of `-t`.
        return self.graph._binary("*", -1, self)


class Op:
    """One operation: ``kind`` is an operation of the language, one of
    + - * /, "alias" (``a = b``) or "call" (of ``block``). ``args`` holds
    tensors, numbers (Num), symbols and windows; ``kwargs`` the attributes
    in the order they were given."""

    def __init__(self, graph, kind, args, kwargs, block=None):
        self.graph = graph
        self.kind = kind
        self.args = args
        self.kwargs = kwargs
        self.block = block
        self.results = []

    def describe(self):
        return "'%s'" % (self.block.name if self.kind == "call" else self.kind)

    def operands(self):
        """The tensors it reads, arguments then attributes."""
        values = list(self.args) + list(self.kwargs.values())
        return [v for v in values if isinstance(v, Tensor)]


class Graph:
    """What models and blocks share: named values and the builder methods,
    one per operation of the language (docs/language.md)."""

    kind = None  # "model" or "block"

    def __init__(self, name, model):
        self.name = name
        self.model = model
        self.ops = []
        self.names = {}  # name -> Tensor

    # -- the operations -------------------------------------------------

    def linear(self, x, w, b=None, *, name=None):
        """``x @ w + b``: x [S, In], w [In, Out], b [Out] -> [S, Out]."""
        args = [x, w] if b is None else [x, w, b]
        return self._add("linear", args, {}, name)

    def split(self, t, parts, *, names=None):
        """The ``parts`` equal column blocks of t [S, parts*W], in order."""
        return self._add("split", [t, _integer(parts, "parts")], {}, names,
                         several=True)

    def attention(self, q, k, v, *, heads, kv_heads=None, mask=None,
                  scale=None, alibi=None, name=None):
        """Multi-head scaled dot-product attention (docs/language.md).

        mask: "none", "causal", ``attnc.window(N)`` or an additive
        [S, T] mask tensor; scale: a number (default 1/sqrt(head_dim));
        alibi: a [heads] tensor of slopes.
        """
        kwargs = {"heads": _integer(heads, "heads")}
        if kv_heads is not None:
            kwargs["kv_heads"] = _integer(kv_heads, "kv_heads")
        if mask is not None:
            kwargs["mask"] = _mask(mask, "mask", tensor_ok=True)
        if scale is not None:
            kwargs["scale"] = to_num(scale, "scale")
        if alibi is not None:
            kwargs["alibi"] = alibi
        return self._add("attention", [q, k, v], kwargs, name)

    def matmul(self, a, b, *, name=None):
        """[M, K] x [K, N], or batched [B, M, K] x [B, K, N]."""
        return self._add("matmul", [a, b], {}, name)

    def transpose(self, t, *, name=None):
        """Swaps the last two dimensions."""
        return self._add("transpose", [t], {}, name)

    def softmax(self, s, *, axis=None, name=None):
        """Along ``axis`` (default -1)."""
        kwargs = {} if axis is None else {"axis": _integer(axis, "axis")}
        return self._add("softmax", [s], kwargs, name)

    def mask(self, s, kind, *, name=None):
        """-inf where ``kind`` ("causal", "none", ``attnc.window(N)``) hides
        key j from query i."""
        return self._add("mask", [s, _mask(kind, "kind")], {}, name)

    def split_heads(self, t, *, heads, name=None):
        """[S, H*D] -> [H, S, D]."""
        return self._add("split_heads", [t],
                         {"heads": _integer(heads, "heads")}, name)

    def merge_heads(self, t, *, name=None):
        """[H, S, D] -> [S, H*D]."""
        return self._add("merge_heads", [t], {}, name)

    def rope(self, x, *, heads=None, base=None, style=None, name=None):
        """Rotary position embedding; style "half" (default) or
        "interleaved"."""
        kwargs = {}
        if heads is not None:
            kwargs["heads"] = _integer(heads, "heads")
        if base is not None:
            kwargs["base"] = to_num(base, "base")
        if style is not None:
            kwargs["style"] = _symbol(style, "style")
        return self._add("rope", [x], kwargs, name)

    def layer_norm(self, x, g, b, *, eps=None, name=None):
        kwargs = {} if eps is None else {"eps": to_num(eps, "eps")}
        return self._add("layer_norm", [x, g, b], kwargs, name)

    def rms_norm(self, x, g, *, eps=None, name=None):
        kwargs = {} if eps is None else {"eps": to_num(eps, "eps")}
        return self._add("rms_norm", [x, g], kwargs, name)

    def gelu(self, x, *, approximate=None, name=None):
        """approximate: "none" (erf, the default) or "tanh"."""
        kwargs = {} if approximate is None else \
            {"approximate": _symbol(approximate, "approximate")}
        return self._add("gelu", [x], kwargs, name)

    def silu(self, x, *, name=None):
        return self._add("silu", [x], {}, name)

    def relu(self, x, *, name=None):
        return self._add("relu", [x], {}, name)

    def mul(self, a, b, *, name=None):
        """Elementwise product, written ``mul(a, b)``; ``a * b`` is the
        same operation written as an operator."""
        return self._add("mul", [a, b], {}, name)

    def add(self, a, b, *, name=None):
        return self._binary("+", a, b, name)

    def sub(self, a, b, *, name=None):
        return self._binary("-", a, b, name)

    # -- machinery --------------------------------------------------------

    def _binary(self, kind, a, b, name=None):
        a = a if isinstance(a, Tensor) else _operand_number(a, kind)
        b = b if isinstance(b, Tensor) else _operand_number(b, kind)
        return self._add(kind, [a, b], {}, name)

    def _add(self, kind, args, kwargs, name, several=False, block=None):
        """Checks and appends one operation; returns its result(s)."""
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, Tensor):
                self._check_visible(value, kind)
        if kind == "call":
            shapes = self._call_shapes(block, args)
        else:
            shapes = ops.infer(kind, args, kwargs, _shape_of,
                               self.model.context)
        op = Op(self, kind, args, kwargs, block)
        op.results = [Tensor(self, op, i, s) for i, s in enumerate(shapes)]
        names = name if several else (None if name is None else [name])
        if names is not None and (isinstance(names, str)
                                  or len(names) != len(op.results)):
            raise ModelError("%s gives %d values; names must list %d names"
                             % (op.describe(), len(op.results),
                                len(op.results)), op=kind, argument="names")
        self._check_fresh(names or [])
        self.ops.append(op)
        for t, n in zip(op.results, names or []):
            self._name_value(t, n)
        return tuple(op.results) if several else op.results[0]

    @property
    def title(self):
        return "%s '%s'" % (self.kind, self.name)

    def _check_visible(self, t, kind):
        if t.graph is self:
            return
        raise ModelError("%s: %s belongs to %s, not to %s%s"
                         % (kind, t.label, t.graph.title, self.title,
                            "; a block sees only its parameters"
                            if self.kind == "block" else ""), op=kind)

    def _check_fresh(self, names):
        for n in names:
            check_name(n, "a value's name")
            if n in self.names:
                raise ModelError("redefinition of '%s' in %s" % (n, self.name),
                                 argument="name")
        if len(set(names)) != len(names):
            raise ModelError("a name is given twice in %s" % (names,),
                             argument="name")

    def _name_value(self, t, name):
        if t.graph is not self:
            self._check_visible(t, "named")
        if t.name == name:
            return
        if t.name is not None:
            raise ModelError("%s is already named; a value has one name"
                             % t.label, argument="name")
        self._check_fresh([name])
        t.name = name
        self.names[name] = t

    def _call_shapes(self, block, args):
        if getattr(block, "kind", None) != "block" \
                or block.model is not self.model:
            raise ModelError("can call only blocks of model '%s'"
                             % self.model.name, op="call")
        if block.returned is None:
            raise ModelError("block '%s' is called before its returns(...)"
                             % block.name, op=block.name)
        order = self.model.blocks
        if self.kind == "block" and order.index(block) >= order.index(self):
            raise ModelError("block '%s' cannot call '%s': a block may call "
                             "only blocks defined before it"
                             % (self.name, block.name), op=block.name)
        if len(args) != len(block.params):
            raise ModelError("block '%s' takes %d arguments, got %d"
                             % (block.name, len(block.params), len(args)),
                             op=block.name)
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                raise ModelError("block '%s': argument %s must be a tensor, "
                                 "got %r" % (block.name, block.params[i].name,
                                             a), op=block.name,
                                 argument=block.params[i].name)
        shapes = [a.shape for a in args]
        if any(s is None for s in shapes):
            return [None] * len(block.returned)
        return block.expand(shapes)


def _shape_of(t):
    return t.shape


def _integer(value, what):
    if isinstance(value, Num):
        return value  # `context`, checked with the operation
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError("%s must be an integer, got %r" % (what, value),
                         argument=what)
    return to_num(value, what)


def _symbol(value, what):
    if isinstance(value, Symbol):
        return value
    if not isinstance(value, str):
        raise ModelError("%s must be a word such as 'tanh', got %r"
                         % (what, value), argument=what)
    return Symbol(value)


def _mask(value, what, tensor_ok=False):
    if isinstance(value, (Window, Symbol)) or \
            (tensor_ok and isinstance(value, Tensor)):
        return value
    if isinstance(value, str) and value in ("none", "causal"):
        return Symbol(value)
    raise ModelError("%s must be \"none\", \"causal\", attnc.window(N)%s; "
                     "got %r" % (what, " or a tensor" if tensor_ok else "",
                                 value), argument=what)


def _operand_number(value, kind):
    if isinstance(value, (Num, int, float)) and not isinstance(value, bool):
        return to_num(value, "factor")
    raise ModelError("'%s' takes tensors or numbers, got %r" % (kind, value),
                     op=kind)
