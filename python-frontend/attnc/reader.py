"""Reading .attn text into a Model: ``attnc.parse(path_or_text)``.

The syntax tree (syntax.py) is turned into builder calls, so a parsed model
is checked by the same rules as one built in Python; errors carry the file,
line and column of the expression at fault.
"""

import os

from . import ops
from .errors import ModelError
from .model import Model
from .numbers import Arith, CONTEXT, Lit, Sqrt
from .ops import Symbol, Window
from .syntax import parse_text


def parse(source, file=None):
    """A Model from a .attn file (a path) or from .attn text.

    A str with neither a newline nor a '{' is a path (a model needs both);
    ``file`` names the text in error messages.
    """
    if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source
            and "{" not in source):
        path = os.fspath(source)
        with open(path, encoding="ascii", errors="surrogateescape") as f:
            return _Reader(f.read(), file or path).read()
    return _Reader(source, file or "<text>").read()


class _Reader:
    def __init__(self, text, file):
        self.text = text
        self.file = file
        self.graph = None   # the model or the block being read
        self.scope = None   # name -> Tensor of that graph

    def at(self, pos, error):
        return error.located(self.file, pos[0], pos[1])

    def fail(self, pos, message):
        raise ModelError(message, file=self.file, line=pos[0], column=pos[1])

    def read(self):
        ast = parse_text(self.text, self.file)
        if ast.context is None:
            self.fail(ast.pos, "model '%s' has no 'context = N': the fixed "
                      "context size is required" % ast.name)
        try:
            model = Model(ast.name, ast.context, ast.dtype, decode=ast.decode)
        except ModelError as e:
            pos = ast.dtype_pos if e.argument == "dtype" else ast.pos
            raise self.at(pos, e) from None
        self.blocks = {}  # name -> Block, those read so far
        for b in ast.blocks:
            self.read_block(model, b)
        self.graph, self.scope = model, model.names
        for d in ast.declarations:
            try:
                declare = model.input if d.role == "input" else model.param
                declare(d.name, [dim for dim, _ in d.dims])
            except ModelError as e:
                raise self.at(d.pos, e) from None
        for a in ast.assignments:
            self.assign(a)
        if not ast.outputs:
            self.fail(ast.close_pos, "model '%s' has no output; add 'output "
                      "NAME' before '}'" % ast.name)
        for name, pos in ast.outputs:
            if name not in model.names:
                self.fail(pos, "output '%s' is not defined" % name)
            try:
                model.output(model.names[name])
            except ModelError as e:
                raise self.at(pos, e) from None
        return model

    def read_block(self, model, b):
        try:
            block = model.block(b.name, [p for p, _ in b.params])
        except ModelError as e:
            raise self.at(b.pos, e) from None
        self.graph, self.scope = block, block.names
        for a in b.assignments:
            self.assign(a)
        returned = []
        for name, pos in b.returns:
            if name not in block.names:
                self.fail(pos, "block '%s' returns undefined name '%s'"
                          % (b.name, name))
            returned.append(block.names[name])
        block.returns(*returned)
        self.blocks[b.name] = block

    def assign(self, a):
        value = a.value
        if value.kind == "name" and value.name in self.scope:
            # `b = a` names the same value again.
            results = [self.build(value.pos, "alias", [self.scope[value.name]],
                                  {})]
        elif value.kind == "call":
            results = self.call(value)
        else:
            results = [self.tensor(value)]
        if len(results) != len(a.targets):
            what = "'%s'" % value.name if value.kind == "call" \
                else "the expression"
            self.fail(a.targets[0][1], "%d name(s) assigned from %s, which "
                      "gives %d value(s)" % (len(a.targets), what,
                                             len(results)))
        for t, (name, pos) in zip(results, a.targets):
            try:
                self.graph._name_value(t, name)
            except ModelError as e:
                raise self.at(pos, e) from None

    def build(self, pos, kind, args, kwargs, block=None, several=False,
              position_of=None):
        try:
            return self.graph._add(kind, args, kwargs, None, several=several,
                                   block=block)
        except ModelError as e:
            where = position_of(e.argument) if position_of else pos
            raise self.at(where or pos, e) from None

    # -- expressions ------------------------------------------------------

    def is_number(self, e):
        if e.kind in ("int", "float"):
            return True
        if e.kind == "binary":
            return self.is_number(e.args[0]) and self.is_number(e.args[1])
        if e.kind == "call":
            return e.name == "sqrt" and len(e.args) == 1 and not e.kwargs \
                and self.is_number(e.args[0])
        return e.name == "context"

    def number(self, e):
        if e.kind == "int":
            return Lit(e.value)
        if e.kind == "float":
            return Lit(float(e.value))
        if e.kind == "name":
            return CONTEXT
        if e.kind == "call":
            return Sqrt(self.number(e.args[0]))
        return Arith(e.name, self.number(e.args[0]), self.number(e.args[1]))

    def tensor(self, e):
        if e.kind == "name" and e.name == "context":
            self.fail(e.pos, "'context' is the context size, not a tensor")
        if self.is_number(e):
            self.fail(e.pos, "expected a tensor, found a number")
        if e.kind == "name":
            if e.name not in self.scope:
                self.fail(e.pos, "use of undefined name '%s'" % e.name)
            return self.scope[e.name]
        if e.kind == "binary":
            lhs, rhs = e.args
            args = [self.number(x) if self.is_number(x) else self.tensor(x)
                    for x in (lhs, rhs)]
            return self.build(e.pos, e.name, args, {})
        results = self.call(e)
        if len(results) != 1:
            self.fail(e.pos, "'%s' gives %d values; assign them to names "
                      "first" % (e.name, len(results)))
        return results[0]

    def attribute(self, e, slot):
        """An argument in a slot that may hold a word or window(N)."""
        if self.is_number(e):
            return self.number(e)
        if slot in (ops.MASK, ops.MASK_KIND) and e.kind == "call" \
                and e.name == "window":
            if len(e.args) != 1 or e.kwargs or not self.is_number(e.args[0]):
                self.fail(e.pos, "'window' takes one argument: the number of "
                          "tokens a query sees, itself included")
            return Window(self.number(e.args[0]))
        if e.kind == "name":
            keyword = slot in (ops.SYMBOL, ops.MASK_KIND) or (
                slot == ops.MASK and e.name in ("none", "causal"))
            if keyword or (slot != ops.TENSOR and e.name not in self.scope):
                return Symbol(e.name)
        return self.tensor(e)

    def call(self, e):
        block = self.blocks.get(e.name)  # blocks read before this one
        if block is not None:
            if e.kwargs:
                self.fail(e.kwargs[0][1], "block '%s' takes no keyword "
                          "arguments" % e.name)
            args = [self.tensor(a) for a in e.args]
            result = self.build(e.pos, "call", args, {}, block=block,
                                several=True)
            return list(result)
        spec = ops.SPECS.get(e.name)
        if spec is None:
            self.unknown_call(e)
        slots = [slot for _, slot in spec.params]
        args = [self.attribute(a, slots[i] if i < len(slots) else None)
                for i, a in enumerate(e.args)]
        kwargs = {}
        for key, pos, value in e.kwargs:
            if key in kwargs:
                self.fail(pos, "attribute '%s' given twice" % key)
            kwargs[key] = self.attribute(value, spec.keywords.get(key))

        def position_of(argument):
            for i, (name, _) in enumerate(spec.params):
                if name == argument and i < len(e.args):
                    return e.args[i].pos
            for key, pos, value in e.kwargs:
                if key == argument:
                    return value.pos
            return None

        result = self.build(e.pos, e.name, args, kwargs,
                            several=e.name == "split", position_of=position_of)
        return list(result) if isinstance(result, tuple) else [result]

    def unknown_call(self, e):
        if e.name == "sqrt":
            self.fail(e.pos, "'sqrt' applies to numbers only")
        if any(b.name == e.name for b in self.graph.model.blocks):
            self.fail(e.pos, "block '%s' is not visible here: a block may "
                      "call only blocks defined before it" % e.name)
        self.fail(e.pos, "unknown operation '%s'; expected one of %s%s"
                  % (e.name, ", ".join(ops.SPECS),
                     " or a block (%s)" % ", ".join(sorted(self.blocks))
                     if self.blocks else ""))
