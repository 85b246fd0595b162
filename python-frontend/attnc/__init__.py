"""attnc's Python frontend: build attention blocks, compile them with attnc
and run them on numpy arrays.

    import attnc
    m = attnc.Model("blk", context=128)
    x = m.input("x", (128, 256))
    ...
    m.output(y)
    kernel = attnc.compile(m).load()
    y = kernel(x=..., w=...)

See python-frontend/README.md.
"""

from .compiler import (BACKENDS, CompiledModel, available_backends, compile,
                       find_compiler)
from .errors import (ArgumentError, AttncError, CompileError, Diagnostic,
                     KernelError, ModelError, ParseError)
from .graph import Tensor
from .model import Block, Model
from .kernel import ArgInfo, Decoder, Kernel, num_threads, set_num_threads
from .numbers import CONTEXT, Num, sqrt
from .ops import window
from .plot import save_attention_map
from .reader import parse
from .weights import save_weights

__all__ = [
    "ArgInfo", "ArgumentError", "AttncError", "BACKENDS", "Block", "CONTEXT",
    "CompileError", "CompiledModel", "Decoder", "Diagnostic", "Kernel", "KernelError",
    "Model", "ModelError", "Num", "ParseError", "Tensor", "compile",
    "available_backends", "find_compiler", "num_threads", "parse", "save_attention_map",
    "save_weights", "set_num_threads", "sqrt", "window",
]
