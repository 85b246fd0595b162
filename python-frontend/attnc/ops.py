"""The operations of the language: their arguments, attributes and shapes.

These mirror attnc's checks (compiler/Frontend/SemaOps.cpp) so that a model
built in Python fails at the call that is wrong, naming the argument, rather
than later in attnc, which checks everything again anyway. Errors name the
Python parameter ("w", "heads"); the parser adds the line and column.
"""

import struct

from .errors import ModelError
from .numbers import ContextSize, Lit, Num, format_number

# What an argument or attribute slot holds.
TENSOR = "tensor"
INT = "int"          # an integer literal or `context`
NUMBER = "number"    # any number expression
MASK = "mask"        # none | causal | window(N) | an additive mask tensor
MASK_KIND = "kind"   # none | causal | window(N)
SYMBOL = "symbol"    # a word such as tanh or interleaved


class Symbol:
    """A bare word in attribute position: ``causal``, ``tanh``, ``half``."""

    def __init__(self, word):
        self.word = word

    def __eq__(self, other):
        return isinstance(other, Symbol) and other.word == self.word

    def __hash__(self):
        return hash(self.word)

    def __repr__(self):
        return self.word


class Window:
    """``window(N)``: query i sees keys i-N < j <= i."""

    def __init__(self, size):
        self.size = size  # a Num

    def __repr__(self):
        return "window(%s)" % format_number(self.size)


def window(size):
    """The sliding-window mask: ``mask=attnc.window(32)``."""
    if isinstance(size, bool) or not isinstance(size, (int, Num)):
        raise ModelError("window(N) takes an integer, got %r" % (size,),
                         op="window", argument="size")
    return Window(size if isinstance(size, Num) else Lit(size))


class Spec:
    def __init__(self, params, optional=0, keywords=None, signature=None):
        self.params = params            # [(name, slot)], in order
        self.optional = optional        # trailing params that may be left out
        self.keywords = keywords or {}  # name -> slot, in the documented order
        self.signature = signature


SPECS = {
    "linear": Spec([("x", TENSOR), ("w", TENSOR), ("b", TENSOR)], 1,
                   signature="linear(x, w[, b])"),
    "split": Spec([("t", TENSOR), ("parts", INT)],
                  signature="split(t, parts)"),
    "attention": Spec([("q", TENSOR), ("k", TENSOR), ("v", TENSOR)],
                      keywords={"heads": INT, "kv_heads": INT, "mask": MASK,
                                "scale": NUMBER, "alibi": TENSOR},
                      signature="attention(q, k, v, heads = H, ...)"),
    "matmul": Spec([("a", TENSOR), ("b", TENSOR)], signature="matmul(a, b)"),
    "transpose": Spec([("t", TENSOR)], signature="transpose(t)"),
    "softmax": Spec([("s", TENSOR)], keywords={"axis": INT},
                    signature="softmax(s, axis = -1)"),
    "mask": Spec([("s", TENSOR), ("kind", MASK_KIND)],
                 signature="mask(s, causal | window(N))"),
    "split_heads": Spec([("t", TENSOR)], keywords={"heads": INT},
                        signature="split_heads(t, heads = H)"),
    "merge_heads": Spec([("t", TENSOR)], signature="merge_heads(t)"),
    "rope": Spec([("x", TENSOR)],
                 keywords={"heads": INT, "base": NUMBER, "style": SYMBOL},
                 signature="rope(x, heads = H, base = 10000, style = half)"),
    "layer_norm": Spec([("x", TENSOR), ("g", TENSOR), ("b", TENSOR)],
                       keywords={"eps": NUMBER},
                       signature="layer_norm(x, gamma, beta, eps = 1e-5)"),
    "rms_norm": Spec([("x", TENSOR), ("g", TENSOR)], keywords={"eps": NUMBER},
                     signature="rms_norm(x, gamma, eps = 1e-6)"),
    "gelu": Spec([("x", TENSOR)], keywords={"approximate": SYMBOL},
                 signature="gelu(x, approximate = none)"),
    "silu": Spec([("x", TENSOR)], signature="silu(x)"),
    "relu": Spec([("x", TENSOR)], signature="relu(x)"),
    "mul": Spec([("a", TENSOR), ("b", TENSOR)], signature="mul(a, b)"),
}

BINARY = ("+", "-", "*", "/")
# Names a block may not take (attnc: "has the name of a built-in operation").
BUILTIN_NAMES = set(SPECS) | {"window", "sqrt"}


def shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def is_tensor(value):
    # graph.Tensor, known by its fields: graph.py imports this module.
    return hasattr(value, "graph") and hasattr(value, "op")


class _Check:
    """One operation being checked: its arguments, how to find the shape of
    a tensor (None inside a block, where shapes are known only per call),
    and how to word an error."""

    def __init__(self, kind, args, kwargs, shape_of, context):
        self.kind = kind
        self.args = args
        self.kwargs = kwargs
        self.shape_of = shape_of
        self.context = context
        self.spec = SPECS.get(kind)

    def fail(self, message, argument=None):
        what = "'%s'" % self.kind if self.kind in BINARY else self.kind + "()"
        raise ModelError("%s: %s" % (what, message), op=self.kind,
                         argument=argument)

    def pname(self, i):
        return self.spec.params[i][0] if self.spec else "ab"[i]

    def shape(self, i):
        return self.shape_of(self.args[i])

    def shapes_known(self):
        tensors = [a for a in self.args if is_tensor(a)]
        tensors += [v for v in self.kwargs.values() if is_tensor(v)]
        return all(self.shape_of(t) is not None for t in tensors)

    def describe(self, key):
        """``argument w ('wq' [128, 256])``, for a position or a keyword."""
        value = self.args[key] if isinstance(key, int) else self.kwargs[key]
        name = self.pname(key) if isinstance(key, int) else key
        shape = self.shape_of(value)
        where = value.label if shape is None else \
            "%s %s" % (value.label, shape_text(shape))
        return "argument %s (%s)" % (name, where)

    def rank(self, i, ranks, role):
        s = self.shape(i)
        if len(s) not in ranks:
            self.fail("expects its %s, %s, to have rank %s"
                      % (role, self.describe(i),
                         " or ".join(str(r) for r in ranks)), self.pname(i))
        return s

    def integer(self, value, what):
        """The value of an integer attribute: a literal or `context`."""
        if isinstance(value, Lit) and value.is_int:
            return value.value
        if isinstance(value, ContextSize):
            return self.context
        self.fail("%s must be an integer, got %s" % (what, _show(value)),
                  what)

    def number(self, value, what):
        if not isinstance(value, Num):
            self.fail("%s must be a number, got %s" % (what, _show(value)),
                      what)
        try:
            return value.evaluate(self.context)
        except ModelError as e:
            self.fail("%s: %s" % (what, e.message), what)

    def positive_int(self, key):
        n = self.integer(self.kwargs[key], key)
        if n <= 0:
            self.fail("'%s' must be positive, got %d" % (key, n), key)
        return n


def _show(value):
    if isinstance(value, Num):
        return format_number(value)
    if is_tensor(value):
        return "the tensor %s" % value.label
    return repr(value)


def _fits_f32(x):
    """Whether x survives conversion to float32 (kernels compute in f32):
    0 or a normal float; a subnormal one keeps too few bits (1e-45 becomes
    1.4e-45), as attnc's checks say."""
    try:
        f = struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return False
    return x == 0 or (abs(f) >= 2.0 ** -126 and abs(f) != float("inf"))


def check_structure(c):
    """Arity, attribute names and slot kinds: what holds whatever the
    shapes."""
    spec = c.spec
    n, most = len(c.args), len(spec.params)
    least = most - spec.optional
    if not least <= n <= most:
        count = str(least) if least == most else "%d or %d" % (least, most)
        c.fail("takes %s argument%s, got %d; expected %s"
               % (count, "" if most == 1 else "s", n, spec.signature))
    for key in c.kwargs:
        if key not in spec.keywords:
            allowed = ", ".join(spec.keywords)
            c.fail("unknown attribute '%s'%s" % (
                key, "; it takes no attributes" if not allowed
                else "; expected one of " + allowed), key)
    for i, value in enumerate(c.args):
        name, slot = spec.params[i]
        if slot == TENSOR and not is_tensor(value):
            c.fail("argument %s must be a tensor, got %s"
                   % (name, _show(value)), name)
    for key, value in c.kwargs.items():
        if spec.keywords[key] == TENSOR and not is_tensor(value):
            c.fail("'%s' must be a tensor, got %s" % (key, _show(value)), key)


def _window_size(c, w, argument):
    n = c.integer(w.size, "the window size")
    if n <= 0 or n > c.context:
        c.fail("window(%d) must be between 1 and the context size %d"
               % (n, c.context), argument)
    return n


def _linear(c):
    if not c.shapes_known():
        return [None]
    xs, ws = c.rank(0, (2,), "input"), c.rank(1, (2,), "weight")
    if xs[1] != ws[0]:
        c.fail("%s needs %d rows to match %s (weights are [in, out])"
               % (c.describe(1), xs[1], c.describe(0)), "w")
    if len(c.args) == 3:
        bs = c.rank(2, (1,), "bias")
        if bs[0] != ws[1]:
            c.fail("%s must be [%d], one per column of %s"
                   % (c.describe(2), ws[1], c.describe(1)), "b")
    return [(xs[0], ws[1])]


def _split(c):
    parts = c.integer(c.args[1], "parts")
    if parts <= 0:
        c.fail("parts must be positive, got %d" % parts, "parts")
    if not c.shapes_known():
        return [None] * parts
    ts = c.rank(0, (2,), "operand")
    if ts[1] % parts:
        c.fail("cannot cut %s into %d equal column blocks; expected a "
               "divisor of %d" % (c.describe(0), parts, ts[1]), "parts")
    return [(ts[0], ts[1] // parts)] * parts


def _attention(c):
    if "heads" not in c.kwargs:
        c.fail("needs heads = H", "heads")
    heads = c.positive_int("heads")
    kv_heads = c.positive_int("kv_heads") if "kv_heads" in c.kwargs else heads
    if heads % kv_heads:
        c.fail("kv_heads = %d does not divide heads = %d" % (kv_heads, heads),
               "kv_heads")
    mask = c.kwargs.get("mask")
    if isinstance(mask, Window):
        _window_size(c, mask, "mask")
    elif isinstance(mask, Symbol) and mask.word not in ("none", "causal"):
        c.fail("unknown mask '%s'; expected none, causal, window(N) or an "
               "additive mask tensor" % mask.word, "mask")
    elif mask is not None and not isinstance(mask, Symbol) \
            and not is_tensor(mask):
        c.fail("mask must be none, causal, window(N) or a tensor, got %s"
               % _show(mask), "mask")
    if "scale" in c.kwargs:
        scale = c.number(c.kwargs["scale"], "scale")
        if not (scale > 0 and _fits_f32(scale)):
            c.fail("scale must be a positive number within the range of f32, "
                   "got %g" % scale, "scale")
    if not c.shapes_known():
        return [None]
    qs = c.rank(0, (2,), "query")
    ks = c.rank(1, (2,), "key")
    vs = c.rank(2, (2,), "value")
    if qs[1] % heads:
        c.fail("heads = %d does not divide the width %d of %s"
               % (heads, qs[1], c.describe(0)), "heads")
    head_dim = qs[1] // heads
    if ks[1] != kv_heads * head_dim:
        c.fail("%s must have %d columns (kv_heads x head_dim = %d x %d) to "
               "match %s" % (c.describe(1), kv_heads * head_dim, kv_heads,
                             head_dim, c.describe(0)), "k")
    if vs != ks:
        c.fail("%s must have the shape of %s" % (c.describe(2),
                                                  c.describe(1)), "v")
    if is_tensor(mask):
        ms = c.shape_of(mask)
        if ms != (qs[0], ks[0]):
            c.fail("the additive %s must be [%d, %d] (queries x keys)"
                   % (c.describe("mask"), qs[0], ks[0]), "mask")
    masking = isinstance(mask, Window) or mask == Symbol("causal")
    if masking and ks[0] != qs[0]:
        c.fail("a %s mask needs as many keys as queries, but %s has %d "
               "tokens and %s has %d" % (repr(mask), c.describe(1), ks[0],
                                         c.describe(0), qs[0]), "mask")
    if "alibi" in c.kwargs and c.shape_of(c.kwargs["alibi"]) != (heads,):
        c.fail("the ALiBi slopes, %s, must be [%d]: one per head"
               % (c.describe("alibi"), heads), "alibi")
    return [qs]


def _matmul(c):
    if not c.shapes_known():
        return [None]
    a = c.rank(0, (2, 3), "left operand")
    b = c.rank(1, (2, 3), "right operand")
    why = None
    if len(a) != len(b):
        why = "expected equal ranks"
    elif len(a) == 3 and a[0] != b[0]:
        why = "expected equal batch (head) counts"
    elif a[-1] != b[-2]:
        why = "expected a's last dimension to equal b's second to last"
    if why:
        c.fail("%s and %s: %s" % (c.describe(0), c.describe(1), why), "b")
    return [a[:-1] + (b[-1],)]


def _transpose(c):
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (2, 3), "operand")
    return [s[:-2] + (s[-1], s[-2])]


def _softmax(c):
    axis = c.integer(c.kwargs["axis"], "axis") if "axis" in c.kwargs else -1
    if not c.shapes_known():
        return [None]
    s = c.shape(0)
    if not -len(s) <= axis < len(s):
        c.fail("axis %d is out of range for %s; expected %d to %d"
               % (axis, c.describe(0), -len(s), len(s) - 1), "axis")
    return [s]


def _mask(c):
    kind = c.args[1]
    if isinstance(kind, Window):
        _window_size(c, kind, "kind")
    elif not (isinstance(kind, Symbol) and kind.word in ("none", "causal")):
        c.fail("kind must be none, causal or window(N), got %s (add an "
               "additive mask tensor with '+')" % _show(kind), "kind")
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (2, 3), "scores")
    if kind != Symbol("none") and s[-1] != s[-2]:
        c.fail("needs square [queries, keys] scores, but %s is not"
               % c.describe(0), "s")
    return [s]


def _split_heads(c):
    if "heads" not in c.kwargs:
        c.fail("needs heads = H", "heads")
    heads = c.positive_int("heads")
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (2,), "operand")
    if s[1] % heads:
        c.fail("heads = %d does not divide the width %d of %s"
               % (heads, s[1], c.describe(0)), "heads")
    return [(heads, s[0], s[1] // heads)]


def _merge_heads(c):
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (3,), "operand")
    return [(s[1], s[0] * s[2])]


def _rope(c):
    heads = c.positive_int("heads") if "heads" in c.kwargs else None
    if "base" in c.kwargs:
        base = c.number(c.kwargs["base"], "base")
        if not (base > 1 and _fits_f32(base)):
            c.fail("base must be a number greater than 1 within the range "
                   "of f32, got %g" % base, "base")
    style = c.kwargs.get("style")
    if style is not None and style not in (Symbol("half"),
                                           Symbol("interleaved")):
        c.fail("unknown style %s; expected half (Llama, the default) or "
               "interleaved (GPT-J)" % _show(style), "style")
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (2, 3), "operand")
    if len(s) == 2:
        if heads is None:
            c.fail("on %s needs heads = H to know each head's width"
                   % c.describe(0), "heads")
        if s[1] % heads:
            c.fail("heads = %d does not divide the width %d of %s"
                   % (heads, s[1], c.describe(0)), "heads")
        head_dim = s[1] // heads
    else:
        if heads is not None:
            c.fail("on [heads, tokens, head_dim] %s takes no heads"
                   % c.describe(0), "heads")
        head_dim = s[2]
    if head_dim % 2:
        c.fail("rotates pairs of features, but the head width %d of %s is "
               "odd" % (head_dim, c.describe(0)), "x")
    return [s]


def _norm(c):
    if "eps" in c.kwargs:
        eps = c.number(c.kwargs["eps"], "eps")
        if not (eps > 0 and _fits_f32(eps)):
            c.fail("eps must be a positive number within the range of f32, "
                   "got %g" % eps, "eps")
    if not c.shapes_known():
        return [None]
    s = c.rank(0, (2,), "input")
    for i, role in ((1, "gain"), (2, "bias"))[:len(c.args) - 1]:
        p = c.rank(i, (1,), role)
        if p[0] != s[1]:
            c.fail("%s must be [%d], one per feature of %s"
                   % (c.describe(i), s[1], c.describe(0)), c.pname(i))
    return [s]


def _activation(c):
    approx = c.kwargs.get("approximate")
    if approx is not None and approx not in (Symbol("none"), Symbol("tanh")):
        c.fail("unknown approximation %s; expected none (erf, the default) "
               "or tanh" % _show(approx), "approximate")
    if not c.shapes_known():
        return [None]
    return [c.shape(0)]


def _elementwise(c, what):
    if not c.shapes_known():
        return [None]
    a, b = c.shape(0), c.shape(1)
    big, small = (a, b) if len(a) >= len(b) else (b, a)
    if big[len(big) - len(small):] != small:
        c.fail("%s and %s: expected equal shapes, or one the trailing "
               "dimensions of the other" % (c.describe(0), c.describe(1)),
               "b")
    return [big]


def _binary(c):
    """``a + b``, ``a - b``, ``a * b`` on tensors; ``t * s``, ``s * t``,
    ``t / s`` scale by a number."""
    op = c.kind
    lhs_num, rhs_num = (isinstance(a, Num) for a in c.args)
    if lhs_num and rhs_num:
        c.fail("both operands are numbers; a tensor is expected")
    if lhs_num or rhs_num:
        if op in ("+", "-"):
            c.fail("'%s' between a tensor and a number is not supported; only "
                   "'*' and '/' take a number" % op)
        if op == "/" and lhs_num:
            c.fail("dividing a number by a tensor is not supported")
        factor = c.number(c.args[0] if lhs_num else c.args[1], "factor")
        if op == "/":
            if factor == 0:
                c.fail("division by zero", "factor")
            factor = 1.0 / factor
        if not _fits_f32(factor):
            c.fail("the factor %g is outside the range of f32" % factor,
                   "factor")
        tensor = c.args[1] if lhs_num else c.args[0]
        if not is_tensor(tensor):
            c.fail("expected a tensor, got %s" % _show(tensor))
        return [c.shape_of(tensor)]
    for i in (0, 1):
        if not is_tensor(c.args[i]):
            c.fail("operand %s must be a tensor or a number, got %s"
                   % ("ab"[i], _show(c.args[i])), "ab"[i])
    if op == "/":
        c.fail("dividing tensors elementwise is not supported; divide by a "
               "number")
    return _elementwise(c, op)


_RULES = {
    "linear": _linear, "split": _split, "attention": _attention,
    "matmul": _matmul, "transpose": _transpose, "softmax": _softmax,
    "mask": _mask, "split_heads": _split_heads,
    "merge_heads": _merge_heads, "rope": _rope, "layer_norm": _norm,
    "rms_norm": _norm, "gelu": _activation, "silu": _activation,
    "relu": _activation, "mul": lambda c: _elementwise(c, "mul"),
}


def infer(kind, args, kwargs, shape_of, context):
    """Checks one operation and returns the shapes of its results (None for
    each when an operand's shape is not known, inside a block).

    ``shape_of(tensor)`` gives a tensor's shape as a tuple, or None.
    """
    c = _Check(kind, args, kwargs, shape_of, context)
    if kind in BINARY:
        return _binary(c)
    if kind == "alias":
        return [shape_of(args[0])]
    if c.spec is None:
        raise ModelError("unknown operation '%s'; expected one of %s or a "
                         "block" % (kind, ", ".join(SPECS)), op=kind)
    check_structure(c)
    return _RULES[kind](c)
