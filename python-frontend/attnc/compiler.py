"""Compiling a model with the attnc executable.

``compile(model)`` writes the model's text, runs ``attnc --emit=so`` on it
and returns a CompiledModel whose ``load()`` gives a callable kernel. attnc's
diagnostics (``file:line:col: error: message``) become a CompileError with
those fields.
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping

from .errors import AttncError, CompileError, Diagnostic, ModelError
from .model import Model
from .reader import parse
from .weights import save_weights

# attnc's code generators; "halide" only when attnc was built with it (see
# available_backends).
BACKENDS = ("mlir", "halide")

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# python-frontend/attnc -> the checkout; `scripts/setup.sh` builds into build/.
_SOURCE_ROOT = os.path.dirname(os.path.dirname(_PACKAGE_DIR))
_LOCATED = re.compile(r"^(.*?):(\d+):(\d+): (error|warning|note): (.*)$")
_UNLOCATED = re.compile(r"^attnc: (error|warning): (.*)$")


def find_compiler(attnc_path=None):
    """The attnc executable: ``attnc_path``, else $ATTNC_COMPILER, else the
    checkout's build/bin/attnc, else attnc on PATH."""
    tried = []
    for label, path in (("attnc_path", attnc_path),
                        ("ATTNC_COMPILER", os.environ.get("ATTNC_COMPILER")),
                        ("the build tree", os.path.join(_SOURCE_ROOT, "build",
                                                        "bin", "attnc")),
                        ("PATH", shutil.which("attnc"))):
        if not path:
            continue
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
        tried.append("%s (%s)" % (path, label))
        if label in ("attnc_path", "ATTNC_COMPILER"):
            break  # asked for this one: do not fall back to another
    raise AttncError("cannot find the attnc executable; tried: %s. Build it "
                     "(scripts/setup.sh) or set ATTNC_COMPILER"
                     % (", ".join(tried) or "nothing"))


def available_backends(attnc_path=None):
    """The backends this attnc was built with, from `attnc --version`."""
    done = subprocess.run([find_compiler(attnc_path), "--version"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    for line in done.stdout.splitlines():
        line = line.strip()
        if line.startswith("backends:"):
            return tuple(b.strip() for b in line[len("backends:"):].split(","))
    return ("mlir",)


def parse_diagnostics(text):
    """The ``file:line:col: severity: message`` and ``attnc: error:`` lines
    of attnc's error output, in order (source excerpts and carets are
    skipped)."""
    found = []
    for line in text.splitlines():
        m = _LOCATED.match(line)
        if m:
            found.append(Diagnostic(m.group(4), m.group(5), m.group(1),
                                    int(m.group(2)), int(m.group(3))))
            continue
        m = _UNLOCATED.match(line)
        if m:
            found.append(Diagnostic(m.group(1), m.group(2)))
    return found


def compile(model, backend="mlir", tile=None, opt_level=None,
            attention_probs=False, weights=None, attnc_path=None,
            workdir=None):
    """Compiles a Model (or a .attn file, given by path) into a shared
    library.

    tile: (queries, keys) attention tile lengths, attnc's --tile; opt_level:
    LLVM's 0-3; attention_probs: also return every attention call's softmax
    weights (attnc's --emit-attention-probs; see Kernel.attention_maps);
    weights: the params' values compiled into the library (attnc's
    --embed-weights), a .safetensors path or a mapping from param name to
    array (written with save_weights next to the library); the kernel then
    takes only inputs, and a missing or mis-shaped param is a CompileError
    naming it; workdir: where the .attn and .so go (default: a temporary
    directory that lives as long as the result); the library is NAME.so,
    or NAME-1.so, NAME-2.so, ... when this process compiled NAME there
    before. Raises CompileError when attnc fails.
    """
    if backend not in BACKENDS:
        raise ValueError("backend %r is not available; attnc has: %s"
                         % (backend, ", ".join(BACKENDS)))
    flags = []
    if tile is not None:
        if len(tuple(tile)) != 2 or not all(
                isinstance(t, int) and not isinstance(t, bool) and t > 0
                for t in tile):
            raise ValueError("tile must be two positive integers (queries, "
                             "keys), got %r" % (tile,))
        flags.append("--tile=%d,%d" % tuple(tile))
    if opt_level is not None:
        if opt_level not in (0, 1, 2, 3) or isinstance(opt_level, bool):
            raise ValueError("opt_level must be 0, 1, 2 or 3, got %r"
                             % (opt_level,))
        flags.append("-O%d" % opt_level)
    if attention_probs:
        flags.append("--emit-attention-probs")
    if backend != "mlir":
        flags.append("--backend=" + backend)
    if isinstance(model, Model) and not model.outputs:
        raise ModelError("model '%s' has no output; add one with "
                         "output(value)" % model.name, argument="model")
    compiler = find_compiler(attnc_path)

    owner = None
    if workdir is None:
        owner = tempfile.TemporaryDirectory(prefix="attnc-")
        workdir = owner.name
    os.makedirs(workdir, exist_ok=True)
    if isinstance(model, Model):
        source = os.path.join(workdir, model.name + ".attn")
        model.save(source)
    else:
        source = os.path.abspath(os.fspath(model))
        model = None  # read once attnc has accepted it
    stem = os.path.splitext(os.path.basename(source))[0]
    library = _library_path(workdir, stem)
    if weights is not None:
        if isinstance(weights, Mapping):
            weights = save_weights(
                os.path.splitext(library)[0] + ".safetensors", weights)
        flags.append("--embed-weights=" + os.path.abspath(os.fspath(weights)))
    command = [compiler, "--emit=so"] + flags + [source, "-o", library]
    done = subprocess.run(command, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    diagnostics = parse_diagnostics(done.stderr)
    if done.returncode != 0:
        raise _error(done, diagnostics, command)
    if model is None:
        model = parse(source)
    return CompiledModel(model, library, source, compiler, backend,
                         diagnostics, owner)


# Library paths compile() has given out in this process.
_compiled_libraries = set()


def _library_path(workdir, stem):
    """<workdir>/<stem>.so, or <stem>-N.so when this process has compiled
    or opened a library at that path already: dlopen would hand back the
    library it loaded then, not the one compiled now, and a compiled model
    not loaded yet keeps its file."""
    from .kernel import opened_libraries
    path = os.path.join(workdir, stem + ".so")
    n = 1
    while os.path.abspath(path) in _compiled_libraries | opened_libraries:
        path = os.path.join(workdir, "%s-%d.so" % (stem, n))
        n += 1
    _compiled_libraries.add(os.path.abspath(path))
    return path


def _error(done, diagnostics, command):
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        first = errors[0]
        return CompileError(first.message, file=first.file, line=first.line,
                            column=first.column, diagnostics=diagnostics,
                            output=done.stderr, exit_code=done.returncode,
                            command=command)
    # Not an attnc diagnostic: LLVM's option parser, or a crash.
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    message = lines[0] if lines else \
        "attnc exited with status %d" % done.returncode
    return CompileError(message, diagnostics=diagnostics, output=done.stderr,
                        exit_code=done.returncode, command=command)


class CompiledModel:
    """A model compiled into a shared library.

    ``load()`` opens it through the runtime and returns a Kernel.
    """

    def __init__(self, model, library, source, compiler, backend,
                 diagnostics, owner=None):
        self.model = model
        self.name = model.name
        self.library = library
        self.source = source
        self.compiler = compiler
        self.backend = backend
        self.warnings = [d for d in diagnostics if d.severity == "warning"]
        self._owner = owner  # the temporary directory, if we made it

    def load(self):
        """The kernel as a Python callable (see Kernel)."""
        from .kernel import Kernel, load_runtime
        runtime = load_runtime(os.path.dirname(self.compiler))
        return Kernel(runtime, self.library, self.name, self)

    def __repr__(self):
        return "CompiledModel(%r, %s)" % (self.name, self.library)
