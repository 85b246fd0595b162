"""Writing a model as .attn text, in the layout ``attnc --emit=ast`` prints.

Each operation whose result has a name (or several results, or several
uses) becomes an assignment; an unnamed value used once is written inside
the expression that uses it, as ``split(linear(x, w), 3)`` was written. So a
parsed file comes back with its statements, and a model built in Python
reads like one written by hand. Values that need a name and have none get
one after their operation (``linear1``), never one already in use.
"""

from .numbers import Num, format_number
from .ops import Symbol, Window

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_STEMS = {"+": "sum", "-": "diff", "*": "prod", "/": "quot", "alias": "copy"}


def model_to_text(model):
    out = []
    for block in model.blocks:
        params = ", ".join(p.name for p in block.params)
        out.append("block %s(%s) {\n" % (block.name, params))
        out += _statements(block, block.returned or [])
        out.append("  return %s\n}\n\n"
                   % ", ".join(t.name for t in block.returned or []))
    out.append("model %s {\n" % model.name)
    out.append("  context = %d\n" % model.context)
    out.append("  dtype = %s\n" % model.dtype)
    if model.decode:
        out.append("  decode\n")
    for t in model.declarations:
        dims = ", ".join(str(d) for d in t.dims)
        out.append("  %s %s : [%s]\n" % (t.role, t.name, dims))
    out += _statements(model, model.outputs)
    if model.outputs:
        out.append("  output %s\n" % ", ".join(t.name for t in model.outputs))
    out.append("}\n")
    return "".join(out)


def _statements(graph, results):
    uses = {}
    for op in graph.ops:
        for t in op.operands():
            uses[t] = uses.get(t, 0) + 1
    for t in results:
        uses[t] = uses.get(t, 0) + 1

    def assigned(op):
        return len(op.results) != 1 or op.results[0].name is not None \
            or uses.get(op.results[0], 0) != 1

    taken = set(graph.names) | {b.name for b in graph.model.blocks}
    names = {t: t.name for t in graph.names.values()}
    counters = {}
    lines = []
    for op in graph.ops:
        if not assigned(op):
            continue
        for t in op.results:
            if t.name is None:
                names[t] = _fresh(op, taken, counters)
        targets = ", ".join(names[t] for t in op.results)
        lines.append("  %s = %s\n" % (targets, _op_text(op, names)[0]))
    return lines


def _fresh(op, taken, counters):
    stem = op.block.name if op.kind == "call" else _STEMS.get(op.kind, op.kind)
    while True:
        counters[stem] = counters.get(stem, 0) + 1
        name = "%s%d" % (stem, counters[stem])
        if name not in taken:
            taken.add(name)
            return name


def _value_text(value, names):
    """(text, precedence) of an argument."""
    if isinstance(value, Num):
        return format_number(value), value.precedence
    if isinstance(value, Symbol):
        return value.word, 3
    if isinstance(value, Window):
        return "window(%s)" % format_number(value.size), 3
    if value in names:
        return names[value], 3
    return _op_text(value.op, names)  # an unnamed value used once


def _op_text(op, names):
    if op.kind in _PRECEDENCE:
        p = _PRECEDENCE[op.kind]
        lhs = _operand(op.args[0], p, False, names)
        rhs = _operand(op.args[1], p, True, names)
        return "%s %s %s" % (lhs, op.kind, rhs), p
    if op.kind == "alias":
        return _value_text(op.args[0], names)
    callee = op.block.name if op.kind == "call" else op.kind
    parts = [_value_text(a, names)[0] for a in op.args]
    parts += ["%s = %s" % (k, _value_text(v, names)[0])
              for k, v in op.kwargs.items()]
    return "%s(%s)" % (callee, ", ".join(parts)), 3


def _operand(value, parent, is_right, names):
    text, p = _value_text(value, names)
    if p < parent or (is_right and p == parent):
        return "(" + text + ")"
    return text
