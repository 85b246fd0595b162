"""Models and blocks: declarations, outputs, and blocks checked per call.

Inside a ``Block`` shapes are unknown: a block is checked with the shapes of
each call, as attnc does, and its results take the shapes the call gives.
"""

from . import ops
from .errors import ModelError
from .graph import Graph, Tensor, check_name

_MAX_ELEMENTS = 1 << 40  # attnc's limit: 64-bit byte offsets


class Block(Graph):
    """``block NAME(params) { ... return ... }``: a piece of model written
    once and called like an operation (``layer(x, g, w)``). Build its body
    with the same methods as a model's, on ``params``; finish with
    ``returns(...)``."""

    kind = "block"

    def __init__(self, model, name, params):
        super().__init__(name, model)
        self.params = []
        for p in params:
            self._check_fresh([p])
            t = Tensor(self, None, 0, None, p, role="parameter")
            self.params.append(t)
            self.names[p] = t
        self.returned = None

    def returns(self, *values):
        """Ends the block: the values a call gives, in order. Unnamed ones
        are named y, y1, ..."""
        if self.returned is not None:
            raise ModelError("block '%s' already returns" % self.name)
        if not values:
            raise ModelError("block '%s' must return at least one value"
                             % self.name)
        for v in values:
            if not isinstance(v, Tensor) or v.graph is not self:
                raise ModelError("block '%s' can return only its own values, "
                                 "got %r" % (self.name, v))
            if v.name is None:
                self._name_value(v, _free_name(self.names, "y"))
        self.returned = list(values)

    def _add(self, kind, args, kwargs, name, several=False, block=None):
        if self.returned is not None:
            raise ModelError("block '%s' is finished (returns was called)"
                             % self.name, op=kind)
        return super()._add(kind, args, kwargs, name, several, block)

    def __call__(self, *args, name=None):
        """A call in the graph of the arguments; one tensor, or a tuple if
        the block returns several."""
        owner = next((a.graph for a in args if isinstance(a, Tensor)), None)
        if owner is None:
            raise ModelError("block '%s' is called with no tensor" % self.name,
                             op=self.name)
        several = self.returned is not None and len(self.returned) > 1
        return owner._add("call", list(args), {}, name, several=several,
                          block=self)

    def expand(self, shapes):
        """The shapes of the results for arguments of these shapes,
        checking every operation of the body with them."""
        known = dict(zip(self.params, shapes))
        for op in self.ops:
            try:
                if op.kind == "call":
                    results = op.block.expand([known[a] for a in op.args])
                else:
                    results = ops.infer(op.kind, op.args, op.kwargs,
                                        known.__getitem__, self.model.context)
            except ModelError as e:
                raise ModelError("in the call to block '%s': %s"
                                 % (self.name, e.message), op=e.op,
                                 argument=e.argument) from None
            known.update(zip(op.results, results))
        return [known[t] for t in self.returned]


def _free_name(names, stem):
    if stem not in names:
        return stem
    i = 1
    while "%s%d" % (stem, i) in names:
        i += 1
    return "%s%d" % (stem, i)


class Model(Graph):
    """A model: ``Model("blk", context=128)``, then inputs, params,
    operations and outputs. ``to_attn()`` writes it as .attn text."""

    kind = "model"

    def __init__(self, name, context, dtype="f32", decode=False):
        check_name(name, "a model name", c_identifier=True)
        if isinstance(context, bool) or not isinstance(context, int) \
                or context <= 0:
            raise ModelError("context must be a positive integer, got %r"
                             % (context,), argument="context")
        if dtype != "f32":
            reserved = dtype in ("bf16", "f16")
            raise ModelError("dtype %r %s" % (dtype, "is reserved but not "
                             "supported yet; use f32" if reserved
                             else "is unknown; expected f32"),
                             argument="dtype")
        super().__init__(name, self)
        self.context = context
        self.dtype = dtype
        # Also compile NAME_decode, one token at a time over KV caches
        # (the language's `decode`; see Kernel.decoder).
        self.decode = bool(decode)
        self.declarations = []  # inputs and params, in order
        self.outputs = []
        self.blocks = []

    def input(self, name, shape):
        """An activation the caller passes; ``shape`` may use "context"."""
        return self._declare(name, shape, "input")

    def param(self, name, shape):
        """A weight, bias or gain the caller passes."""
        return self._declare(name, shape, "param")

    def _declare(self, name, shape, role):
        check_name(name, "an %s name" % role if role == "input"
                   else "a param name", c_identifier=True)
        if name in self.names:
            raise ModelError("redefinition of '%s'" % name, argument="name")
        if isinstance(shape, (str, int)) or not hasattr(shape, "__iter__"):
            raise ModelError("the shape of '%s' must be a sequence of "
                             "dimensions, got %r" % (name, shape),
                             argument="shape")
        dims = list(shape)
        if not dims:
            raise ModelError("the shape of '%s' needs at least one dimension"
                             % name, argument="shape")
        resolved, elements = [], 1
        for d in dims:
            if d == "context":
                d_value = self.context
            elif isinstance(d, int) and not isinstance(d, bool) and d > 0:
                d_value = d
            else:
                raise ModelError("a dimension of '%s' must be a positive "
                                 "integer or \"context\", got %r" % (name, d),
                                 argument="shape")
            elements *= d_value
            if elements > _MAX_ELEMENTS:
                raise ModelError("'%s' has more than 2^40 elements" % name,
                                 argument="shape")
            resolved.append(d_value)
        t = Tensor(self, None, 0, tuple(resolved), name, role=role)
        t.dims = dims  # as written, for the text
        self.names[name] = t
        self.declarations.append(t)
        return t

    def output(self, t, name=None):
        """Makes a computed value an output of the kernel. An unnamed value
        takes ``name``, else y, y1, ..."""
        if not isinstance(t, Tensor) or t.graph is not self:
            raise ModelError("output takes a value of model '%s', got %r"
                             % (self.name, t), argument="t")
        source = t
        while source.op is not None and source.op.kind == "alias":
            source = source.op.args[0]
        if source.op is None:
            raise ModelError("output %s is %s; an output must be computed"
                             % (t.label, "an input or param"
                                if source is t else "the same tensor as "
                                + source.label), argument="t")
        if t.name is None:
            self._name_value(t, name or _free_name(self.names, "y"))
        elif name is not None and name != t.name:
            raise ModelError("%s is already named; output it under that name"
                             % t.label, argument="name")
        check_name(t.name, "an output name", c_identifier=True)
        if t in self.outputs:
            raise ModelError("output %s is listed twice" % t.label,
                             argument="t")
        self.outputs.append(t)
        return t

    def block(self, name, params):
        """Starts ``block name(params)``; build its body on
        ``block.params`` and finish with ``block.returns(...)``."""
        check_name(name, "a block name")
        if name in ops.BUILTIN_NAMES:
            raise ModelError("block '%s' has the name of a built-in operation"
                             % name, argument="name")
        if any(b.name == name for b in self.blocks):
            raise ModelError("redefinition of block '%s'" % name,
                             argument="name")
        b = Block(self, name, list(params))
        self.blocks.append(b)
        return b

    @property
    def inputs(self):
        return [t for t in self.declarations if t.role == "input"]

    @property
    def params(self):
        return [t for t in self.declarations if t.role == "param"]

    def arguments(self):
        """(name, role, shape) of each kernel argument in call order (the
        ABI's): inputs and params as declared, then the outputs."""
        args = [(t.name, t.role, t.shape) for t in self.declarations]
        return args + [(t.name, "output", t.shape) for t in self.outputs]

    def to_attn(self):
        """The model as .attn text, in attnc's canonical layout."""
        from .text import model_to_text
        return model_to_text(self)

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.to_attn())

    def __repr__(self):
        return "Model(%r, context=%d: %d arguments, %d operations)" % (
            self.name, self.context, len(self.arguments()), len(self.ops))
