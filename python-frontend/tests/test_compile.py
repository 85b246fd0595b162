"""attnc.compile: running attnc, and its diagnostics as CompileError."""

import os

import numpy as np
import pytest

import attnc
from conftest import EXAMPLES


def tiny():
    m = attnc.Model("tiny", context=4)
    x = m.input("x", (4, 8))
    w = m.param("w", (8, 24))
    q, k, v = m.split(m.linear(x, w), 3, names=("q", "k", "v"))
    m.output(m.attention(q, k, v, heads=2, mask="causal"))
    return m


def test_compile_writes_the_model_and_library_to_workdir(attnc_exe, tmp_path):
    compiled = attnc.compile(tiny(), workdir=str(tmp_path), opt_level=1)
    assert compiled.source == str(tmp_path / "tiny.attn")
    assert compiled.library == str(tmp_path / "tiny.so")
    assert os.path.isfile(compiled.library)
    assert compiled.compiler == attnc_exe and compiled.warnings == []
    with open(compiled.source) as f:
        assert f.read() == tiny().to_attn()


def test_a_recompiled_model_in_the_same_workdir_is_the_new_kernel(
        attnc_exe, tmp_path):
    # dlopen hands back the library it loaded first for a path: a model
    # compiled again into the same workdir gets a library path of its own.
    def scaled(factor, width):
        m = attnc.Model("same", context=4)
        m.output(m.input("x", ("context", width)) * factor, name="y")
        return m
    first = attnc.compile(scaled(2.0, 8), workdir=str(tmp_path)).load()
    second = attnc.compile(scaled(3.0, 8), workdir=str(tmp_path))
    third = attnc.compile(scaled(5.0, 16), workdir=str(tmp_path))
    assert second.library == str(tmp_path / "same-1.so")
    assert third.library == str(tmp_path / "same-2.so")
    ones = np.ones((4, 8), np.float32)
    assert first(x=ones)[0, 0] == 2.0
    assert second.load()(x=ones)[0, 0] == 3.0
    kernel = third.load()
    assert [a.shape for a in kernel.arguments] == [(4, 16), (4, 16)]
    assert kernel(x=np.ones((4, 16), np.float32))[0, 0] == 5.0


def test_a_tile_attnc_rejects_is_a_compile_error_at_the_attention(
        attnc_exe, tmp_path):
    # A tile must fit in the context: only attnc knows, at the attention.
    with pytest.raises(attnc.CompileError) as e:
        attnc.compile(tiny(), tile=(8, 2), workdir=str(tmp_path))
    err = e.value
    assert err.file == str(tmp_path / "tiny.attn")
    assert (err.line, err.column) == (7, 7)
    assert err.message.startswith("tile sizes 8x2 must be positive and "
                                  "at most the 4 queries and 4 keys")
    assert err.exit_code == 1  # an input error (docs/cli.md)
    assert "--tile=8,2" in err.command
    assert str(err).startswith("%s:7:7: tile sizes" % err.file)


def test_an_invalid_file_is_reported_with_attnc_s_position(attnc_exe,
                                                           tmp_path):
    path = tmp_path / "broken.attn"
    path.write_text("model broken {\n  context = 4\n  input x : [4, 8]\n"
                    "  y = softmax(x, axis = 2)\n  output y\n}\n")
    with pytest.raises(attnc.CompileError) as e:
        attnc.compile(str(path), workdir=str(tmp_path))
    assert (e.value.file, e.value.line, e.value.column) == (str(path), 4, 25)
    assert "axis 2 is out of range" in e.value.message
    assert [d.severity for d in e.value.diagnostics] == ["error"]
    assert "^" in e.value.output  # attnc's caret under the column


def test_warnings_are_kept(attnc_exe, tmp_path):
    m = tiny()
    m.param("unused", (8,))
    compiled = attnc.compile(m, workdir=str(tmp_path))
    assert len(compiled.warnings) == 1
    w = compiled.warnings[0]
    assert (w.line, w.column) == (6, 9)
    assert "'unused' is declared but never used" in w.message


def test_a_tile_the_backend_ignores_is_a_warning(attnc_exe, backend,
                                                 tmp_path):
    # --tile is the MLIR backend's; the Halide schedule picks its own tiles,
    # and attnc says so rather than dropping the option silently.
    compiled = attnc.compile(tiny(), backend=backend, tile=(2, 2),
                             workdir=str(tmp_path))
    messages = [w.message for w in compiled.warnings]
    if backend == "halide":
        assert messages == ["--tile has no effect with --backend=halide: its "
                            "schedule picks its own tiles (docs/halide.md)"]
    else:
        assert messages == []


def test_a_failing_toolchain_is_an_internal_error(attnc_exe, tmp_path,
                                                  monkeypatch):
    monkeypatch.setenv("ATTNC_CC", "false")  # the driver attnc links with
    with pytest.raises(attnc.CompileError) as e:
        attnc.compile(tiny(), workdir=str(tmp_path))
    assert e.value.exit_code == 3 and e.value.line is None
    assert "failed" in e.value.message


def test_options_are_checked_before_running_attnc():
    with pytest.raises(ValueError, match="backend 'tvm' is not available"):
        attnc.compile(tiny(), backend="tvm")
    with pytest.raises(ValueError, match="tile must be two positive"):
        attnc.compile(tiny(), tile=(16,))
    with pytest.raises(ValueError, match="opt_level must be"):
        attnc.compile(tiny(), opt_level=4)
    with pytest.raises(attnc.ModelError, match="has no output"):
        attnc.compile(attnc.Model("empty", context=4))


def test_the_compiler_is_found_by_argument_or_environment(attnc_exe,
                                                          monkeypatch,
                                                          tmp_path):
    assert attnc.find_compiler(attnc_exe) == attnc_exe
    monkeypatch.setenv("ATTNC_COMPILER", str(tmp_path / "no-attnc"))
    with pytest.raises(attnc.AttncError, match="ATTNC_COMPILER"):
        attnc.find_compiler()
    with pytest.raises(attnc.AttncError, match="attnc_path"):
        attnc.find_compiler(str(tmp_path / "missing"))


def test_a_file_path_compiles_and_reads_back(attnc_exe, tmp_path):
    compiled = attnc.compile(os.path.join(EXAMPLES, "gpt2_block.attn"),
                             workdir=str(tmp_path))
    assert compiled.name == "gpt2_block"
    assert [a[0] for a in compiled.model.arguments()] == \
        ["x", "w_qkv", "b_qkv", "w_o", "b_o", "y"]
