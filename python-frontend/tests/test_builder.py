"""The builder: shapes as a model is built, and errors that name the
argument at fault."""

import pytest

import attnc


@pytest.fixture
def m():
    return attnc.Model("blk", context=16)


def test_shapes_follow_each_operation(m):
    x = m.input("x", ("context", 64))
    w = m.param("w_qkv", (64, 192))
    q, k, v = m.split(m.linear(x, w), 3)
    assert x.shape == (16, 64) and q.shape == k.shape == v.shape == (16, 64)
    heads = m.split_heads(q, heads=4)
    assert heads.shape == (4, 16, 16)
    scores = m.matmul(heads, m.transpose(m.split_heads(k, heads=4)))
    assert scores.shape == (4, 16, 16)
    assert m.merge_heads(m.matmul(m.softmax(scores), heads)).shape == (16, 64)
    a = m.attention(q, k, v, heads=4, mask="causal")
    assert a.shape == (16, 64)
    g = m.param("g", (64,))
    assert (x + g).shape == (16, 64)  # a row added to every token
    assert (m.rms_norm(x, g) * 0.5).shape == (16, 64)


def test_linear_names_the_mismatched_weight(m):
    x = m.input("x", (16, 64))
    w = m.param("w", (32, 8))
    with pytest.raises(attnc.ModelError) as e:
        m.linear(x, w)
    assert e.value.argument == "w" and e.value.op == "linear"
    assert "argument w ('w' [32, 8]) needs 64 rows" in str(e.value)


def test_linear_names_the_mismatched_bias(m):
    x, w = m.input("x", (16, 64)), m.param("w", (64, 8))
    with pytest.raises(attnc.ModelError) as e:
        m.linear(x, w, m.param("bias", (9,)))
    assert e.value.argument == "b"
    assert "must be [8]" in str(e.value)


def test_attention_checks_heads_and_key_width(m):
    q = m.input("q", (16, 64))
    k = m.input("k", (16, 32))
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, k, k, heads=3)
    assert e.value.argument == "heads"
    assert "heads = 3 does not divide the width 64" in str(e.value)
    # Eight heads of 8 columns: two key/value heads need 16 columns, not 32.
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, k, k, heads=8, kv_heads=2)
    assert e.value.argument == "k"
    assert "must have 16 columns (kv_heads x head_dim = 2 x 8)" in str(e.value)
    assert m.attention(q, k, k, heads=8, kv_heads=4).shape == (16, 64)


def test_attention_mask_values_are_checked(m):
    q = m.input("q", (16, 32))
    kv = m.input("kv", (8, 32))
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, kv, kv, heads=2, mask="causal")
    assert e.value.argument == "mask"
    assert "as many keys as queries" in str(e.value)
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, q, q, heads=2, mask="diagonal")
    assert e.value.argument == "mask"
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, q, q, heads=2, mask=attnc.window(17))
    assert "window(17) must be between 1 and the context size 16" \
        in str(e.value)
    pad = m.input("pad", (16, 9))
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, kv, kv, heads=2, mask=pad)
    assert "must be [16, 8] (queries x keys)" in str(e.value)
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, q, q, heads=2, alibi=m.param("slopes", (4,)))
    assert e.value.argument == "alibi"
    with pytest.raises(attnc.ModelError) as e:
        m.attention(q, q, q, heads=2, scale=-1.0)
    assert e.value.argument == "scale"


def test_other_operations_check_their_attributes(m):
    x = m.input("x", (16, 12))
    with pytest.raises(attnc.ModelError) as e:
        m.rope(x)
    assert e.value.argument == "heads"
    with pytest.raises(attnc.ModelError) as e:
        m.rope(x, heads=4)  # head width 3 is odd
    assert "odd" in str(e.value)
    with pytest.raises(attnc.ModelError) as e:
        m.rope(x, heads=2, style="sideways")
    assert e.value.argument == "style"
    with pytest.raises(attnc.ModelError) as e:
        m.softmax(x, axis=2)
    assert "axis 2 is out of range" in str(e.value)
    with pytest.raises(attnc.ModelError) as e:
        m.split(x, 5)
    assert e.value.argument == "parts"
    with pytest.raises(attnc.ModelError) as e:
        m.split_heads(x, heads=2.0)
    assert e.value.argument == "heads" and "integer" in str(e.value)
    with pytest.raises(attnc.ModelError) as e:
        m.gelu(x, approximate="sigmoid")
    assert e.value.argument == "approximate"
    with pytest.raises(attnc.ModelError) as e:
        m.layer_norm(x, m.param("g", (12,)), m.param("b", (11,)))
    assert e.value.argument == "b"
    with pytest.raises(attnc.ModelError) as e:
        m.matmul(x, x)
    assert "last dimension" in str(e.value)


def test_python_operators_follow_the_language(m):
    x, y = m.input("x", (16, 8)), m.input("y", (8,))
    assert (x * y).shape == (16, 8) and (y - x).shape == (16, 8)
    assert (-x).shape == (16, 8) and (0.5 * x / 2).shape == (16, 8)
    with pytest.raises(attnc.ModelError, match="tensor and a number"):
        x + 1
    with pytest.raises(attnc.ModelError, match="a number by a tensor"):
        2 / x
    with pytest.raises(attnc.ModelError, match="dividing tensors"):
        x / x
    with pytest.raises(attnc.ModelError, match="trailing dimensions"):
        x + m.input("z", (16, 4))
    with pytest.raises(attnc.ModelError, match="range of f32"):
        x * 1e-60
    # Subnormal in f32: 1e-45 would be computed as 1.4e-45.
    with pytest.raises(attnc.ModelError, match="range of f32"):
        x * 1e-45
    assert (x * 2e-38).shape == (16, 8)


def test_names_are_checked(m):
    x = m.input("x", (16, 8))
    with pytest.raises(attnc.ModelError, match="redefinition of 'x'"):
        m.param("x", (8,))
    with pytest.raises(attnc.ModelError, match="reserved word"):
        m.input("context", (16, 8))
    with pytest.raises(attnc.ModelError, match="C keyword"):
        m.param("int", (8,))
    with pytest.raises(attnc.ModelError, match="identifier"):
        m.input("2x", (16, 8))
    r = m.relu(x, name="r")
    with pytest.raises(attnc.ModelError, match="redefinition of 'r'"):
        m.silu(x, name="r")
    with pytest.raises(attnc.ModelError, match="already named"):
        r.named("other")
    with pytest.raises(attnc.ModelError, match="C keyword"):
        attnc.Model("float", context=4)
    with pytest.raises(attnc.ModelError, match="positive integer"):
        attnc.Model("m", context=0)


def test_outputs_must_be_computed_values_of_the_model(m):
    x = m.input("x", (16, 8))
    with pytest.raises(attnc.ModelError, match="an output must be computed"):
        m.output(x)
    other = attnc.Model("other", context=16)
    with pytest.raises(attnc.ModelError, match="belongs to model 'other'"):
        m.relu(other.input("x", (16, 8)))
    y = m.output(m.relu(x))
    assert y.name == "y"  # unnamed outputs are named y, y1, ...
    assert m.output(m.silu(x)).name == "y1"
    with pytest.raises(attnc.ModelError, match="listed twice"):
        m.output(y)


def test_arguments_are_in_abi_order(m):
    x = m.input("x", ("context", 8))
    w = m.param("w", (8, 8))
    t = m.input("t", (16, 8))
    m.output(m.linear(x, w) + t, name="out")
    m.output(m.relu(t), name="r")
    assert m.arguments() == [("x", "input", (16, 8)), ("w", "param", (8, 8)),
                             ("t", "input", (16, 8)),
                             ("out", "output", (16, 8)),
                             ("r", "output", (16, 8))]
    assert [t.name for t in m.inputs] == ["x", "t"]


def test_blocks_are_checked_with_the_shapes_of_each_call(m):
    layer = m.block("layer", ["x", "w"])
    bx, bw = layer.params
    assert bx.shape is None  # known only per call
    layer.returns(bx + layer.linear(bx, bw))
    x = m.input("x", (16, 8))
    h = layer(x, m.param("w0", (8, 8)))
    assert h.shape == (16, 8)
    with pytest.raises(attnc.ModelError) as e:
        layer(h, m.param("w1", (4, 8)))
    assert "in the call to block 'layer'" in str(e.value)
    assert e.value.op == "linear" and e.value.argument == "w"
    with pytest.raises(attnc.ModelError, match="takes 2 arguments, got 1"):
        layer(h)


def test_a_block_sees_only_its_parameters(m):
    x = m.input("x", (16, 8))
    b = m.block("b", ["t"])
    with pytest.raises(attnc.ModelError, match="a block sees only its "
                       "parameters"):
        b.relu(x)
    with pytest.raises(attnc.ModelError, match="built-in operation"):
        m.block("linear", ["t"])
    with pytest.raises(attnc.ModelError, match="before its returns"):
        b(x)


def test_numbers_keep_the_form_they_were_given(m):
    x = m.input("x", (16, 64))
    a = m.attention(x, x, x, heads=1, scale=1 / attnc.sqrt(64))
    s = m.softmax(m.mask(m.matmul(x, m.transpose(x)),
                         attnc.window(attnc.CONTEXT)), axis=-1)
    m.output(a, name="a")
    m.output(s, name="s")
    text = m.to_attn()
    assert "attention(x, x, x, heads = 1, scale = 1 / sqrt(64))" in text
    assert "softmax(mask(matmul(x, transpose(x)), window(context)), " \
        "axis = -1)" in text
