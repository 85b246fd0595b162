#!/usr/bin/env python3
"""Builds a small GPT-2-style attention block in Python, compiles it with
attnc, runs it on random numpy arrays and prints the largest difference from
a numpy implementation of the same block.

    /usr/bin/python3 python-frontend/examples/run_block.py

Needs a built attnc: scripts/setup.sh builds one into build/; otherwise set
ATTNC_COMPILER (and ATTNC_RUNTIME_LIB) as python-frontend/README.md says.
"""

import math
import os
import sys

import numpy as np

# Run from the checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))
import attnc  # noqa: E402

CONTEXT, WIDTH, HEADS = 64, 128, 4


def build():
    m = attnc.Model("py_block", context=CONTEXT)
    x = m.input("x", ("context", WIDTH))
    w_qkv = m.param("w_qkv", (WIDTH, 3 * WIDTH))
    b_qkv = m.param("b_qkv", (3 * WIDTH,))
    w_o = m.param("w_o", (WIDTH, WIDTH))
    q, k, v = m.split(m.linear(x, w_qkv, b_qkv), 3, names=("q", "k", "v"))
    a = m.attention(q, k, v, heads=HEADS, mask="causal", name="a")
    m.output(x + m.linear(a, w_o))
    return m


def reference(x, w_qkv, b_qkv, w_o):
    """The same block in float64 numpy."""
    q, k, v = np.split(x.astype(np.float64) @ w_qkv + b_qkv, 3, axis=1)
    d = WIDTH // HEADS
    hidden = np.triu(np.ones((CONTEXT, CONTEXT), bool), 1)
    a = np.empty((CONTEXT, WIDTH))
    for h in range(HEADS):
        cols = slice(h * d, (h + 1) * d)
        s = q[:, cols] @ k[:, cols].T / math.sqrt(d)
        s[hidden] = -np.inf
        p = np.exp(s - s.max(axis=1, keepdims=True))
        a[:, cols] = (p / p.sum(axis=1, keepdims=True)) @ v[:, cols]
    return x + a @ w_o


def main():
    model = build()
    print(model.to_attn())
    kernel = attnc.compile(model).load()
    print("compiled:", kernel)

    rng = np.random.default_rng(0)
    args = {
        "x": rng.standard_normal((CONTEXT, WIDTH), dtype=np.float32),
        "w_qkv": (rng.standard_normal((WIDTH, 3 * WIDTH), dtype=np.float32)
                  / math.sqrt(WIDTH)),
        "b_qkv": rng.standard_normal(3 * WIDTH, dtype=np.float32),
        "w_o": (rng.standard_normal((WIDTH, WIDTH), dtype=np.float32)
                / math.sqrt(WIDTH)),
    }
    y = kernel(**args)
    want = reference(**args)
    error = np.max(np.abs(y - want))
    relative = error / np.max(np.abs(want))
    print("max error against numpy: %.3e (%.3e relative to the output's "
          "largest magnitude), %d threads" % (error, relative,
                                              attnc.num_threads()))
    return 0 if relative < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
