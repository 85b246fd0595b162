"""Decode sessions: a model built with decode=True, fed token by token,
gives the full model's outputs for the first context and a sliding window
after it (checked against numpy), past the point where the KV cache ring
wraps, on each backend."""

import math

import numpy as np
import pytest

import attnc

CONTEXT, WIDTH, HEADS = 8, 32, 4


def block(mask, rope=False):
    m = attnc.Model("dec", context=CONTEXT, decode=True)
    x = m.input("x", ("context", WIDTH))
    w_qkv = m.param("w_qkv", (WIDTH, 3 * WIDTH))
    w_o = m.param("w_o", (WIDTH, WIDTH))
    q, k, v = m.split(m.linear(x, w_qkv), 3)
    if rope:
        q, k = m.rope(q, heads=HEADS), m.rope(k, heads=HEADS)
    a = m.attention(q, k, v, heads=HEADS, mask=mask)
    m.output(x + m.linear(a, w_o), name="y")
    return m


def rotate(x, positions):
    """Rotary embedding, 'half' style, of rows at the given positions."""
    d = WIDTH // HEADS
    half = d // 2
    out = x.copy()
    for h in range(HEADS):
        base = h * d
        for p in range(half):
            theta = positions * 10000.0 ** (-2.0 * p / d)
            c, s = np.cos(theta), np.sin(theta)
            x1, x2 = x[:, base + p], x[:, base + p + half]
            out[:, base + p] = x1 * c - x2 * s
            out[:, base + p + half] = x1 * s + x2 * c
    return out


def reference(x, w_qkv, w_o, span, rope=False):
    """Every token of a long sequence attending to the last `span` tokens
    (itself included), in float64."""
    x = x.astype(np.float64)
    q, k, v = np.split(x @ w_qkv, 3, axis=1)
    if rope:
        positions = np.arange(len(x), dtype=np.float64)
        q, k = rotate(q, positions), rotate(k, positions)
    d = WIDTH // HEADS
    a = np.zeros_like(q)
    for t in range(len(x)):
        first = max(0, t - span + 1)
        for h in range(HEADS):
            cols = slice(h * d, (h + 1) * d)
            s = k[first:t + 1, cols] @ q[t, cols] / math.sqrt(d)
            p = np.exp(s - s.max())
            a[t, cols] = (p / p.sum()) @ v[first:t + 1, cols]
    return x + a @ w_o


@pytest.fixture
def weights(uniform):
    return {"w_qkv": uniform((WIDTH, 3 * WIDTH), 1 / math.sqrt(WIDTH)),
            "w_o": uniform((WIDTH, WIDTH), 1 / math.sqrt(WIDTH))}


@pytest.mark.parametrize("mask, span, rope", [
    ("causal", CONTEXT, False), (attnc.window(3), 3, False),
    ("causal", CONTEXT, True)])
def test_decode_matches_full_model_and_numpy(attnc_exe, uniform, weights,
                                             backend, mask, span, rope):
    kernel = attnc.compile(block(mask, rope), backend=backend).load()
    x = uniform((3 * CONTEXT, WIDTH))
    decoder = kernel.decoder(**weights)
    rows = np.stack([decoder.step(x=x[t]) for t in range(len(x))])
    assert decoder.position == 3 * CONTEXT
    want = reference(x, weights["w_qkv"], weights["w_o"], span, rope)
    np.testing.assert_allclose(rows, want, rtol=2e-5, atol=2e-5)
    full = kernel(x=np.ascontiguousarray(x[:CONTEXT]), **weights)
    np.testing.assert_allclose(rows[:CONTEXT], full, rtol=1e-5, atol=1e-5)


def test_prefill_then_steps_match_steps(attnc_exe, uniform, weights, backend):
    """A prompt of prefill_from tokens or more runs through the whole
    model (NAME_prefill), after earlier tokens too (run again in front of
    it), past the first context through chunks (of CONTEXT rows here: a
    whole one, then 5 padded), and matches the steps to
    rounding, the tokens after it included; a shorter one runs a step per
    token, bit for bit."""
    kernel = attnc.compile(block("causal"), backend=backend).load()
    x = uniform((3 * CONTEXT + 4, WIDTH))
    stepped = kernel.decoder(**weights)
    one_by_one = np.stack([stepped.step(x=x[t]) for t in range(len(x))])
    session = kernel.decoder(**weights)
    assert session.chunk_rows == CONTEXT
    # From where attnc counts steps and chunks dearer than the whole model:
    # here one chunk (8 rows over 16 keys each) outweighs the whole model,
    # and three steps (a quarter of a chunk each) do too.
    assert session.prefill_from == 3
    for prompts, exact in (((5,), False), ((CONTEXT + 2,), False),
                           ((1, 4), False), ((3, 6), False),
                           ((CONTEXT, CONTEXT + 5), False),
                           ((session.prefill_from - 1,), True)):
        session.reset()
        assert session.position == 0
        fed, rows = 0, []
        for n in prompts:
            rows.append(session.prefill(x=np.ascontiguousarray(x[fed:fed + n])))
            fed += n
            assert session.position == fed
        rows += [session.step(x=x[t]) for t in range(fed, len(x))]
        rows = np.vstack(rows)
        if exact:
            np.testing.assert_array_equal(rows, one_by_one)
        else:
            np.testing.assert_allclose(rows, one_by_one, rtol=1e-5, atol=1e-5)
    session.reset()
    np.testing.assert_array_equal(session.step(x=x[0]), one_by_one[0])


def test_decode_errors_name_the_problem(attnc_exe, uniform, weights):
    plain = attnc.Model("plain", context=CONTEXT)
    px = plain.input("x", ("context", WIDTH))
    plain.output(plain.attention(px, px, px, heads=HEADS, mask="causal"))
    with pytest.raises(attnc.KernelError, match="has no decode step"):
        attnc.compile(plain).load().decoder()

    kernel = attnc.compile(block("causal")).load()
    with pytest.raises(attnc.ArgumentError, match="missing param 'w_o'"):
        kernel.decoder(w_qkv=weights["w_qkv"])
    decoder = kernel.decoder(**weights)
    with pytest.raises(attnc.ArgumentError,
                       match=r"has shape \(%d,\); a step takes one token's "
                             r"row, \(%d,\) \(or \(1, %d\)\)"
                             % (WIDTH + 1, WIDTH, WIDTH)):
        decoder.step(x=uniform((WIDTH + 1,)))
    with pytest.raises(attnc.ArgumentError,
                       match="prefill takes at least one token") as error:
        decoder.prefill(x=np.zeros((0, WIDTH), np.float32))
    assert error.value.argument == "x"
    with pytest.raises(attnc.ArgumentError, match="takes the tokens x, not 'y'"):
        decoder.step(y=uniform((WIDTH,)))
    assert decoder.position == 0


def test_mask_none_cannot_decode(attnc_exe):
    with pytest.raises(attnc.CompileError) as e:
        attnc.compile(block("none"))
    assert "decode: attention needs mask = causal or window(N)" in str(e.value)


def test_decode_round_trips_as_text(attnc_exe, tmp_path):
    m = block("causal")
    assert "  decode\n" in m.to_attn()
    path = tmp_path / "dec.attn"
    m.save(str(path))
    assert attnc.parse(str(path)).decode
