"""Running compiled kernels on numpy arrays, through ctypes and the
runtime's C API (runtime/include/attnc/runtime.h).

The runtime (libattnc_runtime.so) is loaded once per process with
RTLD_GLOBAL: kernels reference its thread pool and scratch allocator
weakly, and bind to them when the runtime is already global as they are
opened. Every argument is checked against the kernel's own metadata
(NAME_info, runtime/include/attnc/kernel_info.h) before the call.
"""

import collections
import ctypes
import os

import numpy as np

from .errors import ArgumentError, AttncError, KernelError

ABI_VERSION = 2  # ATTN_KERNEL_ABI_VERSION
_ROLES = {0: "input", 1: "param", 2: "output"}
_DTYPES = {0: np.dtype(np.float32)}


class _ArgInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("role", ctypes.c_int32),
                ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("flags", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64))]


class _KernelInfo(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32), ("num_args", ctypes.c_int32),
                ("name", ctypes.c_char_p), ("context", ctypes.c_int64),
                ("args", ctypes.POINTER(_ArgInfo))]


class _DecodeInfo(ctypes.Structure):
    _fields_ = _KernelInfo._fields_ + [
        ("num_layers", ctypes.c_int32), ("chunk_rows", ctypes.c_int32),
        ("cache_widths", ctypes.POINTER(ctypes.c_int64)),
        ("prefill_from", ctypes.c_int64)]


ArgInfo = collections.namedtuple("ArgInfo",
                                 "name role dtype shape attention_probs")
ArgInfo.__doc__ = ("One kernel argument, from its metadata: role is "
                   "'input', 'param' or 'output'; dtype a numpy dtype; "
                   "attention_probs is True for an output holding one "
                   "attention call's softmax weights, [heads, queries, keys] "
                   "(compile(..., attention_probs=True)).")

# attn_arg_info.flags bits (kernel_info.h).
_FLAG_ATTENTION_PROBS = 1
_FLAG_PER_TOKEN = 2

_runtime = None


def _runtime_candidates(compiler_dir):
    env = os.environ.get("ATTNC_RUNTIME_LIB")
    if env:
        return [env]  # asked for this one: no fallback
    found = []
    if compiler_dir:  # a build tree: bin/attnc next to lib/
        found.append(os.path.join(compiler_dir, os.pardir, "lib",
                                  "libattnc_runtime.so"))
    from .compiler import _SOURCE_ROOT
    found.append(os.path.join(_SOURCE_ROOT, "build", "lib",
                              "libattnc_runtime.so"))
    return found


def load_runtime(compiler_dir=None):
    """The runtime library, loaded on first use: $ATTNC_RUNTIME_LIB, else
    ../lib/ next to the attnc that compiled the kernel, else the checkout's
    build/lib/. One runtime per process (one thread pool)."""
    global _runtime
    if _runtime is not None:
        return _runtime
    candidates = _runtime_candidates(compiler_dir)
    path = next((p for p in candidates if os.path.isfile(p)), None)
    if path is None:
        raise AttncError("cannot find libattnc_runtime.so; tried: %s. Build "
                         "the attnc_runtime_shared target or set "
                         "ATTNC_RUNTIME_LIB" % ", ".join(candidates))
    lib = ctypes.CDLL(os.path.abspath(path), mode=ctypes.RTLD_GLOBAL)
    lib.attn_last_error.restype = ctypes.c_char_p
    lib.attn_model_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_void_p)]
    lib.attn_model_open.restype = ctypes.c_int
    lib.attn_model_close.argtypes = [ctypes.c_void_p]
    lib.attn_model_info.argtypes = [ctypes.c_void_p]
    lib.attn_model_info.restype = ctypes.POINTER(_KernelInfo)
    lib.attn_model_run.argtypes = [ctypes.c_void_p,
                                   ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.c_size_t]
    lib.attn_model_run.restype = ctypes.c_int
    lib.attn_set_num_threads.argtypes = [ctypes.c_int]
    lib.attn_set_num_threads.restype = ctypes.c_int
    lib.attn_num_threads.restype = ctypes.c_int
    lib.attn_model_decode_info.argtypes = [ctypes.c_void_p]
    lib.attn_model_decode_info.restype = ctypes.POINTER(_DecodeInfo)
    lib.attn_decoder_open.argtypes = [ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_void_p)]
    lib.attn_decoder_open.restype = ctypes.c_int
    lib.attn_decoder_free.argtypes = [ctypes.c_void_p]
    lib.attn_decoder_position.argtypes = [ctypes.c_void_p]
    lib.attn_decoder_position.restype = ctypes.c_int64
    lib.attn_decoder_reset.argtypes = [ctypes.c_void_p]
    for fn in (lib.attn_decoder_step, lib.attn_decoder_prefill):
        fn.restype = ctypes.c_int
    lib.attn_decoder_step.argtypes = [ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.c_size_t]
    lib.attn_decoder_prefill.argtypes = [ctypes.c_void_p,
                                         ctypes.POINTER(ctypes.c_void_p),
                                         ctypes.c_size_t, ctypes.c_int64]
    _runtime = lib
    return lib


def set_num_threads(n):
    """Threads kernels use from now on (0: the default, ATTNC_NUM_THREADS or
    the online CPUs); returns the previous setting."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError("the thread count must be a non-negative integer, "
                         "got %r" % (n,))
    return load_runtime().attn_set_num_threads(n)


def num_threads():
    """The number of threads kernels run on now."""
    return load_runtime().attn_num_threads()


class Kernel:
    """A compiled model, callable on numpy arrays.

    ``kernel(x, w)`` takes the inputs and params in the model's order (the
    ABI's), ``kernel(x=..., w=...)`` by name, or a mix; each must be a
    C-contiguous float32 array of exactly the declared shape. Returns the
    output, or a tuple of them in the order of the model's ``output``s,
    followed, for a kernel compiled with ``attention_probs=True``, by the
    softmax weights of each attention call (``attention_outputs`` names
    them); ``attention_maps()`` returns only those.
    """

    def __init__(self, runtime, library, name, owner=None):
        self._runtime = runtime
        self._owner = owner  # keeps the library's directory alive
        handle = ctypes.c_void_p()
        status = runtime.attn_model_open(os.fsencode(library),
                                         name.encode(), ctypes.byref(handle))
        if status != 0:
            raise KernelError(runtime.attn_last_error().decode())
        opened_libraries.add(os.path.abspath(library))
        self._handle = handle
        info = runtime.attn_model_info(handle).contents
        self.name = info.name.decode()
        self.context = info.context
        self.arguments = [self._arg(info.args[i])
                          for i in range(info.num_args)]
        self.inputs = [a for a in self.arguments if a.role != "output"]
        self.outputs = [a for a in self.arguments if a.role == "output"]
        # Outputs of the model itself, then one per attention call when
        # compiled with attention_probs=True.
        self.attention_outputs = [a for a in self.outputs
                                  if a.attention_probs]

    @staticmethod
    def _arg(a):
        if a.dtype not in _DTYPES:
            raise KernelError("argument '%s' has dtype code %d, which this "
                              "frontend does not know" % (a.name.decode(),
                                                          a.dtype))
        return ArgInfo(a.name.decode(), _ROLES[a.role], _DTYPES[a.dtype],
                       tuple(a.shape[d] for d in range(a.rank)),
                       bool(a.flags & _FLAG_ATTENTION_PROBS))

    def __call__(self, *args, **kwargs):
        arrays = self._bind(args, kwargs)
        outputs = [np.empty(a.shape, a.dtype) for a in self.outputs]
        pointers = (ctypes.c_void_p * len(self.arguments))(
            *[a.ctypes.data for a in arrays + outputs])
        status = self._runtime.attn_model_run(self._handle, pointers,
                                              len(self.arguments))
        if status != 0:
            raise KernelError(self._runtime.attn_last_error().decode())
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def attention_maps(self, *args, **kwargs):
        """Runs the kernel and returns the softmax weights of every
        attention call, in program order: a list of [heads, queries, keys]
        arrays, each visible row summing to 1."""
        if not self.attention_outputs:
            raise KernelError("%s returns no attention weights; compile it "
                              "with attnc.compile(..., attention_probs=True)"
                              % self.name)
        results = self(*args, **kwargs)
        if not isinstance(results, tuple):
            results = (results,)
        return [r for r, a in zip(results, self.outputs) if a.attention_probs]

    def decoder(self, **params):
        """A decode session for a model compiled with ``decode``: it keeps
        the KV caches, and its ``step`` and ``prefill`` take tokens one row
        each. ``params`` are bound once here, by name (every param the step
        takes); see Decoder."""
        return Decoder(self, params)

    def _bind(self, args, kwargs):
        """The input and param arrays in ABI order, each checked."""
        names = [a.name for a in self.inputs]
        if len(args) > len(names):
            raise ArgumentError("%s takes %d inputs and params (%s), got %d "
                                "positional arguments"
                                % (self.name, len(names), ", ".join(names),
                                   len(args)))
        given = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                outputs = [a.name for a in self.outputs]
                raise ArgumentError(
                    "%s has no input or param '%s'%s; it takes %s"
                    % (self.name, key, " (it is an output)" if key in outputs
                       else "", ", ".join(names)), argument=key)
            if key in given:
                raise ArgumentError("argument '%s' given twice (by position "
                                    "and by name)" % key, argument=key)
            given[key] = value
        missing = [n for n in names if n not in given]
        if missing:
            raise ArgumentError("%s: missing argument%s %s" % (
                self.name, "s" if len(missing) > 1 else "",
                ", ".join("'%s'" % m for m in missing)), argument=missing[0])
        return [_checked(a, given[a.name]) for a in self.inputs]

    def close(self):
        if getattr(self, "_handle", None):
            self._runtime.attn_model_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __repr__(self):
        sig = ", ".join("%s%s" % (a.name, list(a.shape)) for a in self.inputs)
        return "Kernel(%s(%s) -> %s)" % (
            self.name, sig, ", ".join(a.name for a in self.outputs))


# Every library path this process has opened: dlopen hands back the library
# it loaded first for a path, even after the file there was rebuilt, so
# compile() gives a rebuilt kernel a path of its own.
opened_libraries = set()


class Decoder:
    """Feeds a model one token at a time (the model says ``decode``).

    ``step(x=row)`` feeds one token, each per-token input given as its row
    (``(width,)`` or ``(1, width)``), and returns that token's outputs as
    rows (one array, or a tuple in the model's output order).
    ``prefill(x=rows)`` feeds ``n`` tokens at once (``(n, width)``) and
    returns ``(n, width)`` outputs, what ``n`` steps give (a long prompt in
    the first context runs through the whole model at once, after the
    tokens fed before it again; past it, through the step over
    ``chunk_rows`` tokens at once, 0 when the backend compiled none; a
    prompt in the first context takes the whole model from
    ``prefill_from`` tokens on, where attnc counts it cheaper than chunks
    and steps).
    ``reset()``
    starts a new sequence; ``position`` counts the tokens fed. Each token
    sees the cached tokens its masks allow: the last ``context`` (causal) or
    the last N (``window(N)``), itself included.
    """

    def __init__(self, kernel, params):
        runtime = kernel._runtime
        info = runtime.attn_model_decode_info(kernel._handle)
        if not info:
            raise KernelError("%s has no decode step; build the model with "
                              "Model(..., decode=True) (the language's "
                              "`decode`)" % kernel.name)
        info = info.contents
        self._kernel = kernel  # keeps the library open
        self._runtime = runtime
        self.name = kernel.name
        self.context = info.context
        self.num_layers = info.num_layers
        self.chunk_rows = info.chunk_rows
        self.prefill_from = info.prefill_from
        flags = [info.args[i].flags for i in range(info.num_args)]
        self.arguments = [Kernel._arg(info.args[i])
                          for i in range(info.num_args)]
        self._per_token = [bool(f & _FLAG_PER_TOKEN) for f in flags]
        self.token_inputs = [a for a, t in zip(self.arguments,
                                               self._per_token)
                             if t and a.role == "input"]
        self.outputs = [a for a in self.arguments if a.role == "output"]
        fixed = [a for a, t in zip(self.arguments, self._per_token)
                 if a.role != "output" and not t]
        names = [a.name for a in fixed]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ArgumentError("the decode step of %s has no param '%s'; it "
                                "takes %s" % (self.name, unknown[0],
                                              ", ".join(names) or "none"),
                                argument=unknown[0])
        missing = [n for n in names if n not in params]
        if missing:
            raise ArgumentError("%s.decoder(): missing param%s %s" % (
                self.name, "s" if len(missing) > 1 else "",
                ", ".join("'%s'" % m for m in missing)), argument=missing[0])
        self._fixed = {a.name: _checked(a, params[a.name]) for a in fixed}
        handle = ctypes.c_void_p()
        if runtime.attn_decoder_open(kernel._handle, ctypes.byref(handle)):
            raise KernelError(runtime.attn_last_error().decode())
        self._handle = handle

    @property
    def position(self):
        """How many tokens were fed since the start or the last reset."""
        return self._runtime.attn_decoder_position(self._handle)

    def reset(self):
        self._runtime.attn_decoder_reset(self._handle)

    def step(self, **tokens):
        outputs = self._run(tokens, 1)
        return tuple(o[0] for o in outputs) if len(outputs) > 1 \
            else outputs[0][0]

    def prefill(self, **tokens):
        rows = {np.asarray(v).shape[0] if np.ndim(v) == 2 else None
                for v in tokens.values()}
        if len(rows) != 1 or None in rows:
            raise ArgumentError("prefill takes every per-token input as "
                                "(tokens, width) arrays with the same number "
                                "of rows")
        n = rows.pop()
        if n < 1:
            first = next(iter(tokens))
            raise ArgumentError("prefill takes at least one token; '%s' has "
                                "0 rows" % first, argument=first)
        outputs = self._run(tokens, n)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _run(self, tokens, n):
        names = [a.name for a in self.token_inputs]
        for key in tokens:
            if key not in names:
                raise ArgumentError("the decode step of %s takes the tokens "
                                    "%s, not '%s'" % (self.name,
                                                      ", ".join(names), key),
                                    argument=key)
        missing = [k for k in names if k not in tokens]
        if missing:
            raise ArgumentError("missing token input '%s'" % missing[0],
                                argument=missing[0])
        arrays, outputs = [], []
        for a, per_token in zip(self.arguments, self._per_token):
            if a.role == "output":
                shape = (n,) + a.shape[1:] if per_token else a.shape
                outputs.append(np.empty(shape, a.dtype))
                arrays.append(outputs[-1])
            elif per_token:
                value = tokens[a.name]
                if n == 1 and isinstance(value, np.ndarray) \
                        and value.ndim == 1:
                    if value.shape != a.shape[1:]:
                        raise ArgumentError(
                            "argument '%s' has shape %s; a step takes one "
                            "token's row, %s (or %s)"
                            % (a.name, value.shape, a.shape[1:],
                               (1,) + a.shape[1:]), argument=a.name)
                    value = value.reshape(a.shape)
                want = ArgInfo(a.name, a.role, a.dtype,
                               (n,) + a.shape[1:], False)
                arrays.append(_checked(want, value))
            else:
                arrays.append(self._fixed[a.name])
        pointers = (ctypes.c_void_p * len(arrays))(
            *[x.ctypes.data for x in arrays])
        if n == 1:
            status = self._runtime.attn_decoder_step(self._handle, pointers,
                                                     len(arrays))
        else:
            status = self._runtime.attn_decoder_prefill(
                self._handle, pointers, len(arrays), n)
        if status != 0:
            raise KernelError(self._runtime.attn_last_error().decode())
        return outputs

    def close(self):
        if getattr(self, "_handle", None):
            self._runtime.attn_decoder_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __repr__(self):
        return "Decoder(%s, context %d, %d layers, position %d)" % (
            self.name, self.context, self.num_layers, self.position)


def _checked(info, value):
    name = info.name
    if not isinstance(value, np.ndarray):
        raise ArgumentError("argument '%s' must be a numpy array, got %s"
                            % (name, type(value).__name__), argument=name)
    if value.dtype != info.dtype:
        raise ArgumentError("argument '%s' has dtype %s; the kernel takes %s "
                            "(convert with .astype(np.%s))"
                            % (name, value.dtype, info.dtype, info.dtype),
                            argument=name)
    if value.shape != info.shape:
        raise ArgumentError("argument '%s' has shape %s; the kernel takes %s"
                            % (name, value.shape, info.shape), argument=name)
    if not (value.flags.c_contiguous and value.flags.aligned):
        raise ArgumentError("argument '%s' is not a C-contiguous, aligned "
                            "array (a transposed or strided view?); pass "
                            "np.ascontiguousarray(%s)" % (name, name),
                            argument=name)
    return value
