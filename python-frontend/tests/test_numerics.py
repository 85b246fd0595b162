"""Compiled kernels against a numpy implementation of the language written
here, in float64, independently of attnc's reference interpreter."""

import math
import os

import numpy as np
import pytest

import attnc
from conftest import EXAMPLES

# Kernels compute in float32; results are compared relative to their scale.
RTOL = 2e-5


def assert_close(got, want):
    assert got.shape == want.shape and got.dtype == np.float32
    scale = max(np.max(np.abs(want)), 1e-30)
    err = np.max(np.abs(got.astype(np.float64) - want)) / scale
    assert err <= RTOL, "max error %.3g relative to the output's scale" % err


# -- the numpy reference ------------------------------------------------------

def linear(x, w, b=None):
    y = x.astype(np.float64) @ w
    return y if b is None else y + b


def attention(q, k, v, heads, kv_heads=None, mask="none", window=None,
              scale=None, bias=None, alibi=None, return_probs=False):
    """docs/language.md: head h reads key/value head h // (heads/kv_heads);
    a query that sees no key gives zeros. With return_probs, also the
    softmax weights, [heads, queries, keys]."""
    kv_heads = kv_heads or heads
    s, t = q.shape[0], k.shape[0]
    d = q.shape[1] // heads
    scale = 1 / math.sqrt(d) if scale is None else scale
    i, j = np.arange(s)[:, None], np.arange(t)[None, :]
    visible = np.ones((s, t), bool)
    if mask == "causal":
        visible = j <= i
    elif mask == "window":
        visible = (j <= i) & (j > i - window)
    out = np.zeros((s, heads * d))
    probs = np.zeros((heads, s, t))
    for h in range(heads):
        g = h // (heads // kv_heads)
        qh = q[:, h * d:(h + 1) * d].astype(np.float64)
        kh = k[:, g * d:(g + 1) * d].astype(np.float64)
        vh = v[:, g * d:(g + 1) * d].astype(np.float64)
        scores = scale * qh @ kh.T
        if bias is not None:
            scores = scores + bias
        if alibi is not None:
            scores = scores - alibi[h] * np.abs(i - j)
        scores = np.where(visible, scores, -np.inf)
        top = np.max(scores, axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        p = np.exp(scores - top)
        total = np.sum(p, axis=1, keepdims=True)
        p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
        probs[h] = p
        out[:, h * d:(h + 1) * d] = p @ vh
    return (out, probs) if return_probs else out


def rope(x, heads, base=10000.0, style="half"):
    s, width = x.shape
    d = width // heads
    pos = np.arange(s)[:, None]
    angle = pos * base ** (-2.0 * np.arange(d // 2)[None, :] / d)
    cos, sin = np.cos(angle), np.sin(angle)
    out = x.astype(np.float64).copy()
    for h in range(heads):
        head = x[:, h * d:(h + 1) * d].astype(np.float64)
        if style == "half":
            a, b = np.arange(d // 2), np.arange(d // 2) + d // 2
        else:
            a, b = np.arange(0, d, 2), np.arange(1, d, 2)
        rotated = head.copy()
        rotated[:, a] = head[:, a] * cos - head[:, b] * sin
        rotated[:, b] = head[:, a] * sin + head[:, b] * cos
        out[:, h * d:(h + 1) * d] = rotated
    return out


def layer_norm(x, g, b, eps=1e-5):
    x = x.astype(np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def rms_norm(x, g, eps=1e-6):
    x = x.astype(np.float64)
    return x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) * g


def gelu(x, approximate="none"):
    x = x.astype(np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                      * (x + 0.044715 * x ** 3)))
    return x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))) / 2


def silu(x):
    x = x.astype(np.float64)
    return x / (1 + np.exp(-x))


# -- helpers ------------------------------------------------------------------

# Every test here runs on each backend attnc was built with (conftest's
# `backend`), within the same tolerance.
BACKEND = "mlir"


@pytest.fixture(autouse=True)
def backend(backend):
    global BACKEND
    BACKEND = backend
    return backend


def run(model, **arrays):
    return attnc.compile(model, backend=BACKEND).load()(**arrays)


def qkv_model(context, width, kv_width, **attention_args):
    m = attnc.Model("attn", context=context)
    q = m.input("q", ("context", width))
    k = m.input("k", ("context", kv_width))
    v = m.input("v", ("context", kv_width))
    extra = {}
    for key in ("mask", "alibi"):
        value = attention_args.get(key)
        if isinstance(value, tuple):  # (name, shape): a tensor input
            extra[key] = m.input(*value)
    m.output(m.attention(q, k, v, **{**attention_args, **extra}))
    return m


# -- tests --------------------------------------------------------------------

def test_linear_with_bias(attnc_exe, uniform):
    m = attnc.Model("proj", context=24)
    x = m.input("x", ("context", 40))
    w, b = m.param("w", (40, 56)), m.param("b", (56,))
    m.output(m.linear(x, w, b))
    x_, w_, b_ = uniform((24, 40)), uniform((40, 56), 0.2), uniform((56,))
    assert_close(run(m, x=x_, w=w_, b=b_), linear(x_, w_, b_))


@pytest.mark.parametrize("mask, window", [("none", None), ("causal", None),
                                          ("window", 5)])
def test_attention_masks(attnc_exe, uniform, mask, window):
    m = qkv_model(32, 64, 64, heads=4,
                  mask=attnc.window(window) if window else mask)
    q, k, v = uniform((32, 64)), uniform((32, 64)), uniform((32, 64))
    assert_close(run(m, q=q, k=k, v=v),
                 attention(q, k, v, 4, mask=mask, window=window))


def test_grouped_query_attention(attnc_exe, uniform):
    # Eight query heads of width 8 share two key/value heads.
    m = qkv_model(16, 64, 16, heads=8, kv_heads=2, mask="causal")
    q, k, v = uniform((16, 64)), uniform((16, 16)), uniform((16, 16))
    assert_close(run(m, q=q, k=k, v=v),
                 attention(q, k, v, 8, kv_heads=2, mask="causal"))


def test_additive_mask_alibi_and_scale(attnc_exe, uniform):
    m = qkv_model(16, 32, 32, heads=4, scale=0.2,
                  mask=("pad", ("context", "context")),
                  alibi=("slopes", (4,)))
    q, k, v = uniform((16, 32)), uniform((16, 32)), uniform((16, 32))
    pad = np.where(uniform((16, 16)) > 0.6, -np.inf, 0).astype(np.float32)
    pad[:, 0] = 0  # every query sees at least one key
    slopes = np.array([0.5, 0.25, 0.125, 0.0625], np.float32)
    got = run(m, q=q, k=k, v=v, pad=pad, slopes=slopes)
    assert_close(got, attention(q, k, v, 4, scale=0.2, bias=pad,
                                alibi=slopes))


@pytest.mark.parametrize("style", ["half", "interleaved"])
def test_rope(attnc_exe, uniform, style):
    m = attnc.Model("rotary", context=32)
    x = m.input("x", ("context", 64))
    m.output(m.rope(x, heads=4, base=500, style=style))
    x_ = uniform((32, 64))
    assert_close(run(m, x=x_), rope(x_, 4, base=500.0, style=style))


def test_norms_and_activations(attnc_exe, uniform):
    m = attnc.Model("pointwise", context=8)
    x = m.input("x", ("context", 48))
    g, b = m.param("g", (48,)), m.param("b", (48,))
    m.output(m.layer_norm(x, g, b), name="ln")
    m.output(m.rms_norm(x, g, eps=1e-3), name="rms")
    m.output(m.gelu(x * 3), name="gelu_erf")
    m.output(m.gelu(x * 3, approximate="tanh"), name="gelu_tanh")
    m.output(m.mul(m.silu(x), m.relu(x)) - x / 4, name="mixed")
    x_, g_, b_ = uniform((8, 48)), uniform((48,)), uniform((48,))
    ln, rms, erf_form, tanh_form, mixed = run(m, x=x_, g=g_, b=b_)
    assert_close(ln, layer_norm(x_, g_, b_))
    assert_close(rms, rms_norm(x_, g_, eps=1e-3))
    assert_close(erf_form, gelu(3 * x_))
    assert_close(tanh_form, gelu(3 * x_, "tanh"))
    x64 = x_.astype(np.float64)
    assert_close(mixed, silu(x_) * np.maximum(x64, 0) - x64 / 4)


@pytest.mark.parametrize("offset", [0.0, 100.0, 1000.0, 1e4])
def test_layer_norm_of_features_far_from_zero(attnc_exe, uniform, offset):
    # The mean of 769 features near 1e4 is lost to a plain float32 running
    # sum (its rounding is 1e-3 of the output at 1000); the kernels sum the
    # deviations from each row's first feature. The relative L2 error is
    # the 1e-5 bound; the inputs are exact float32 values.
    m = attnc.Model("ln_offset", context=5)
    x = m.input("x", ("context", 769))
    g, b = m.param("g", (769,)), m.param("b", (769,))
    m.output(m.layer_norm(x, g, b), name="y")
    x_ = (offset + uniform((5, 769)).astype(np.float64)).astype(np.float32)
    g_, b_ = uniform((769,)), uniform((769,))
    y = run(m, x=x_, g=g_, b=b_)
    want = layer_norm(x_, g_, b_)
    assert_close(y, want)
    l2 = np.linalg.norm(y - want) / np.linalg.norm(want)
    assert l2 <= 1e-5, "relative L2 error %.3g" % l2


def test_attention_written_by_hand(attnc_exe, uniform):
    m = attnc.Model("by_hand", context=16)
    x = m.input("x", ("context", 32))
    wq, wk, wv = (m.param(n, (32, 32)) for n in ("w_q", "w_k", "w_v"))
    q, k, v = (m.split_heads(m.linear(x, w), heads=2) for w in (wq, wk, wv))
    s = m.matmul(q, m.transpose(k)) / attnc.sqrt(16)
    p = m.softmax(m.mask(s, "causal"), axis=-1)
    m.output(m.merge_heads(m.matmul(p, v)))
    x_ = uniform((16, 32))
    ws = [uniform((32, 32), 0.3) for _ in range(3)]
    got = run(m, x=x_, w_q=ws[0], w_k=ws[1], w_v=ws[2])
    q_, k_, v_ = (linear(x_, w) for w in ws)
    assert_close(got, attention(q_, k_, v_, 2, mask="causal"))


def test_llama_style_block(attnc_exe, uniform):
    m = attnc.Model("llama", context=32)
    x = m.input("x", ("context", 64))
    norm = m.param("norm", (64,))
    wq, wk = m.param("w_q", (64, 64)), m.param("w_k", (64, 32))
    wv, wo = m.param("w_v", (64, 32)), m.param("w_o", (64, 64))
    h = m.rms_norm(x, norm, eps=1e-5)
    q = m.rope(m.linear(h, wq), heads=4)
    k = m.rope(m.linear(h, wk), heads=2)
    a = m.attention(q, k, m.linear(h, wv), heads=4, kv_heads=2,
                    mask="causal")
    m.output(x + m.linear(a, wo))
    p = {"x": uniform((32, 64)), "norm": uniform((64,)),
         "w_q": uniform((64, 64), 0.2), "w_k": uniform((64, 32), 0.2),
         "w_v": uniform((64, 32), 0.2), "w_o": uniform((64, 64), 0.2)}
    h_ = rms_norm(p["x"], p["norm"], eps=1e-5)
    q_ = rope(linear(h_, p["w_q"]), 4)
    k_ = rope(linear(h_, p["w_k"]), 2)
    a_ = attention(q_, k_, linear(h_, p["w_v"]), 4, kv_heads=2,
                   mask="causal")
    assert_close(run(m, **p), p["x"] + linear(a_, p["w_o"]))


def test_bundled_gpt2_block(attnc_exe, uniform):
    kernel = attnc.compile(os.path.join(EXAMPLES, "gpt2_block.attn"),
                           backend=BACKEND).load()
    p = {"x": uniform((128, 256)), "w_qkv": uniform((256, 768), 0.06),
         "b_qkv": uniform((768,)), "w_o": uniform((256, 256), 0.06),
         "b_o": uniform((256,))}
    q, k, v = np.split(linear(p["x"], p["w_qkv"], p["b_qkv"]), 3, axis=1)
    a = attention(q, k, v, 4, mask="causal")
    assert_close(kernel(**p), linear(a, p["w_o"], p["b_o"]))


def test_two_layers_through_a_block(attnc_exe, uniform):
    m = attnc.Model("stack", context=16)
    layer = m.block("layer", ["x", "g", "b", "w_qkv", "w_o"])
    bx, bg, bb, bw, bo = layer.params
    q, k, v = layer.split(layer.linear(layer.layer_norm(bx, bg, bb), bw), 3)
    layer.returns(bx + layer.linear(
        layer.attention(q, k, v, heads=2, mask="causal"), bo))
    x = m.input("x", ("context", 32))
    h = x
    for i in range(2):
        h = layer(h, m.param("g%d" % i, (32,)), m.param("b%d" % i, (32,)),
                  m.param("w_qkv%d" % i, (32, 96)),
                  m.param("w_o%d" % i, (32, 32)))
    m.output(h)
    p = {"x": uniform((16, 32))}
    want = p["x"].astype(np.float64)
    for i in range(2):
        p.update({"g%d" % i: uniform((32,)), "b%d" % i: uniform((32,)),
                  "w_qkv%d" % i: uniform((32, 96), 0.2),
                  "w_o%d" % i: uniform((32, 32), 0.2)})
        qkv = linear(layer_norm(want, p["g%d" % i], p["b%d" % i]),
                     p["w_qkv%d" % i])
        q_, k_, v_ = np.split(qkv, 3, axis=1)
        want = want + linear(attention(q_, k_, v_, 2, mask="causal"),
                             p["w_o%d" % i])
    assert_close(run(m, **p), want)
