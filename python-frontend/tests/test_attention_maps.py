"""Attention maps: kernels compiled with attention_probs=True also return
each attention call's softmax weights, checked against numpy, and
save_attention_map draws them."""

import struct

import numpy as np
import pytest

import attnc
from test_numerics import attention, qkv_model


def probs_kernel(context=16, width=32, kv_width=32, **attention_args):
    m = qkv_model(context, width, kv_width, **attention_args)
    return attnc.compile(m, attention_probs=True).load()


@pytest.mark.parametrize("heads, kv_heads, mask, window", [
    (4, 4, "none", None), (4, 4, "causal", None), (4, 2, "window", 5),
    (1, 1, "causal", None)])
def test_weights_match_numpy(attnc_exe, uniform, heads, kv_heads, mask,
                             window):
    kv_width = 32 // heads * kv_heads
    kernel = probs_kernel(16, 32, kv_width, heads=heads, kv_heads=kv_heads,
                          mask=attnc.window(window) if window else mask)
    q, k, v = uniform((16, 32)), uniform((16, kv_width)), uniform((16, kv_width))
    y, probs = kernel(q=q, k=k, v=v)
    want_y, want_probs = attention(q, k, v, heads, kv_heads=kv_heads,
                                   mask=mask, window=window, return_probs=True)
    assert probs.shape == (heads, 16, 16)
    # Weights lie in [0, 1]: an absolute bound, a few float32 ulps of exp
    # and the division above what the output tolerance allows.
    np.testing.assert_allclose(probs, want_probs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, rtol=0, atol=1e-5)
    # Hidden keys are exactly zero, not merely small.
    assert np.all(probs[want_probs == 0] == 0)
    np.testing.assert_allclose(y, want_y, rtol=2e-5, atol=2e-5)


def test_metadata_marks_the_weights(attnc_exe):
    kernel = probs_kernel(heads=4, mask="causal")
    assert [(a.shape, a.attention_probs) for a in kernel.outputs] == [
        ((16, 32), False), ((4, 16, 16), True)]
    assert [a.name for a in kernel.attention_outputs] == ["attention0_probs"]
    assert not any(a.attention_probs for a in kernel.inputs)


def test_attention_maps_returns_one_per_call(attnc_exe, uniform):
    m = attnc.Model("two_calls", context=8)
    x = m.input("x", ("context", 16))
    a = m.attention(x, x, x, heads=2, mask="causal")
    m.output(m.attention(a, a, a, heads=4))
    kernel = attnc.compile(m, attention_probs=True).load()
    maps = kernel.attention_maps(uniform((8, 16)))
    assert [p.shape for p in maps] == [(2, 8, 8), (4, 8, 8)]
    assert np.all(np.triu(maps[0][0], 1) == 0)  # the causal call
    assert np.all(maps[1] > 0)  # the unmasked one sees every key


def test_attention_maps_needs_the_flag(attnc_exe, uniform):
    m = qkv_model(8, 16, 16, heads=2)
    kernel = attnc.compile(m).load()
    assert kernel.attention_outputs == []
    with pytest.raises(attnc.KernelError, match="attention_probs=True"):
        kernel.attention_maps(q=uniform((8, 16)), k=uniform((8, 16)),
                              v=uniform((8, 16)))


def test_save_attention_map_writes_a_png(tmp_path, uniform):
    weights = np.abs(uniform((2, 6, 6)))
    weights /= weights.sum(axis=2, keepdims=True)
    path = attnc.save_attention_map(weights, str(tmp_path / "map.png"),
                                    tokens="a b c d e f".split())
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100


@pytest.mark.parametrize("kwargs, message", [
    (dict(tokens=["a", "b"]), "2 tokens given for 6 queries and 6 keys"),
    (dict(heads=[3]), "head 3 does not exist; the weights have 2 heads"),
])
def test_save_attention_map_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        attnc.save_attention_map(np.zeros((2, 6, 6)), str(tmp_path / "m.png"),
                                 **kwargs)
    with pytest.raises(ValueError, match=r"\[heads, queries, keys\]"):
        attnc.save_attention_map(np.zeros(6), str(tmp_path / "m.png"))
