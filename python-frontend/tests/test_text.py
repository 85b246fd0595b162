"""Text: models written as .attn and read back, against attnc's own
canonical form (``attnc --emit=ast``), and parse errors with positions."""

import glob
import os
import re
import subprocess

import pytest

import attnc
from conftest import EXAMPLES, SOURCE_ROOT

EXAMPLE_FILES = sorted(glob.glob(os.path.join(EXAMPLES, "*.attn")))


def canonical(attnc_exe, text):
    """attnc's canonical text of a model, checked by attnc itself."""
    done = subprocess.run([attnc_exe, "--emit=ast", "-", "-o", "-"],
                          input=text, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_examples_are_bundled():
    names = [os.path.basename(f) for f in EXAMPLE_FILES]
    assert "gpt2_block.attn" in names and "decoder_stack.attn" in names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=os.path.basename)
def test_example_reads_back_as_attnc_prints_it(attnc_exe, path):
    model = attnc.parse(path)
    text = model.to_attn()
    with open(path) as f:
        assert text == canonical(attnc_exe, f.read())
    # Stable: text -> Model -> text changes nothing more.
    assert attnc.parse(text).to_attn() == text


def test_language_reference_examples_read_back(attnc_exe):
    with open(os.path.join(SOURCE_ROOT, "docs", "language.md")) as f:
        blocks = re.findall(r"```attn\n(.*?)```", f.read(), re.S)
    assert len(blocks) >= 10
    for text in blocks:
        assert attnc.parse(text).to_attn() == canonical(attnc_exe, text)


def llama_like():
    m = attnc.Model("llama_like", context=32)
    x = m.input("x", ("context", 64))
    norm = m.param("norm", (64,))
    wq, wk = m.param("w_q", (64, 64)), m.param("w_k", (64, 32))
    wv, wo = m.param("w_v", (64, 32)), m.param("w_o", (64, 64))
    h = m.rms_norm(x, norm, eps=1e-5)  # used three times: gets a name
    q = m.rope(m.linear(h, wq), heads=4)
    k = m.rope(m.linear(h, wk), heads=2, style="interleaved", base=500.0)
    a = m.attention(q, k, m.linear(h, wv), heads=4, kv_heads=2,
                    mask=attnc.window(8))
    m.output(x + m.linear(a, wo) * 0.5)
    return m


def test_a_built_model_is_written_as_attnc_prints_it(attnc_exe):
    text = llama_like().to_attn()
    assert text == canonical(attnc_exe, text)
    assert "  rms_norm1 = rms_norm(x, norm, eps = 1e-05)\n" in text
    # Attributes in the order of the builder's signature.
    assert "rope(linear(rms_norm1, w_k), heads = 2, base = 500.0, " \
        "style = interleaved)" in text
    assert "  y = x + linear(attention(rope(linear(rms_norm1, w_q), heads = " \
        "4), " in text
    assert attnc.parse(text).to_attn() == text


def test_generated_names_avoid_names_in_use():
    m = attnc.Model("m", context=4)
    x = m.input("x", (4, 8))
    m.relu(x, name="relu1")
    r = m.relu(x)
    m.output(r + r)
    assert "  relu2 = relu(x)\n  y = relu2 + relu2\n" in m.to_attn()


def test_precedence_and_negation_survive_a_round_trip():
    text = ("model m {\n  context = 4\n  dtype = f32\n  input a : [4, 8]\n"
            "  input b : [4, 8]\n  y = a - (b - a) * 2 - -1 * (a + b) / 4\n"
            "  output y\n}\n")
    assert attnc.parse(text).to_attn() == text
    negated = attnc.parse(text.replace("-1 * (a + b)", "-(a + b)"))
    assert negated.to_attn() == text


@pytest.mark.parametrize("text, line, column, message", [
    ("model m {\n  context = 4\n  input x : [4, 8\n}\n", 4, 1,
     "expected ',' or ']' in the shape of 'x', found '}'"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n  y = relu(z)\n"
     "  output y\n}\n", 4, 12, "use of undefined name 'z'"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n  param w : [4, 4]\n"
     "  y = linear(x, w)\n  output y\n}\n", 5, 17, "needs 8 rows"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n"
     "  y = attention(x, x, x, heads = 3)\n  output y\n}\n", 4, 34,
     "heads = 3 does not divide"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n  y = frobnicate(x)\n"
     "  output y\n}\n", 4, 7, "unknown operation 'frobnicate'"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n  y = x $ 2\n}\n", 4, 9,
     "unexpected character '$'"),
    ("model m {\n  context = 4\n  input x : [4, 8]\n  y = relu(x)\n}\n", 5, 1,
     "has no output"),
    ("model m {\n  input x : [4, 8]\n  y = relu(x)\n  output y\n}\n", 1, 1,
     "has no 'context = N'"),
])
def test_parse_errors_carry_line_and_column(text, line, column, message):
    with pytest.raises(attnc.ModelError) as e:
        attnc.parse(text, file="bad.attn")
    assert (e.value.line, e.value.column) == (line, column)
    assert message in e.value.message
    assert str(e.value).startswith("bad.attn:%d:%d: " % (line, column))


def test_parse_reads_paths_and_names_missing_files(tmp_path):
    path = tmp_path / "m.attn"
    path.write_text("model m {\n  context = 4\n  input x : [4, 8]\n"
                    "  y = relu(x)\n  output y\n}\n")
    assert attnc.parse(path).to_attn() == attnc.parse(str(path)).to_attn()
    with pytest.raises(FileNotFoundError):
        attnc.parse(str(tmp_path / "missing.attn"))


def test_parse_positions_agree_with_attnc(attnc_exe, tmp_path):
    text = ("model m {\n  context = 4\n  input x : [4, 8]\n  param w : [4, 4]"
            "\n  y = linear(x, w)\n  output y\n}\n")
    path = tmp_path / "bad.attn"
    path.write_text(text)
    with pytest.raises(attnc.ModelError) as ours:
        attnc.parse(str(path))
    with pytest.raises(attnc.CompileError) as theirs:
        attnc.compile(str(path), workdir=str(tmp_path))
    assert (ours.value.file, ours.value.line, ours.value.column) == \
        (theirs.value.file, theirs.value.line, theirs.value.column)
