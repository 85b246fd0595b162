#!/usr/bin/env python3
"""Compiles an attention block that also returns its softmax weights, runs it
on one sentence, checks outputs and weights against numpy, and saves the
weights as a heatmap: which token each token attends to.

    /usr/bin/python3 python-frontend/examples/attention_map.py [out.png]

The weights of the block are random (no trained model ships with attnc), so
the picture shows the mechanics, not language: the causal mask hides every
later token, each row sums to 1, and tokens that repeat ("the") carry the
same key, so they draw the same weight from each query.

Needs a built attnc (scripts/setup.sh) and matplotlib (python3-matplotlib).
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))
import attnc  # noqa: E402

SENTENCE = ("the animal did not cross the street because it was too tired "
            ". it slept on the street").split()
CONTEXT, WIDTH, HEADS = len(SENTENCE), 64, 4


def build():
    m = attnc.Model("sentence_block", context=CONTEXT)
    x = m.input("x", ("context", WIDTH))
    w_qkv = m.param("w_qkv", (WIDTH, 3 * WIDTH))
    w_o = m.param("w_o", (WIDTH, WIDTH))
    q, k, v = m.split(m.linear(x, w_qkv), 3, names=("q", "k", "v"))
    a = m.attention(q, k, v, heads=HEADS, mask="causal", name="a")
    m.output(m.linear(a, w_o), name="y")
    return m


def reference(x, w_qkv, w_o):
    """Output and per-head softmax weights in float64 numpy."""
    q, k, v = np.split(x.astype(np.float64) @ w_qkv, 3, axis=1)
    d = WIDTH // HEADS
    hidden = np.triu(np.ones((CONTEXT, CONTEXT), bool), 1)
    a = np.empty((CONTEXT, WIDTH))
    probs = np.empty((HEADS, CONTEXT, CONTEXT))
    for h in range(HEADS):
        cols = slice(h * d, (h + 1) * d)
        s = q[:, cols] @ k[:, cols].T / math.sqrt(d)
        s[hidden] = -np.inf
        p = np.exp(s - s.max(axis=1, keepdims=True))
        probs[h] = p / p.sum(axis=1, keepdims=True)
        a[:, cols] = probs[h] @ v[:, cols]
    return a @ w_o, probs


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "attention_map.png"
    kernel = attnc.compile(build(), attention_probs=True).load()
    print("compiled:", kernel)

    rng = np.random.default_rng(0)
    # One embedding per distinct word: repeated words share it.
    vocabulary = {w: rng.standard_normal(WIDTH, dtype=np.float32)
                  for w in sorted(set(SENTENCE))}
    x = np.stack([vocabulary[w] for w in SENTENCE])
    w_qkv = (rng.standard_normal((WIDTH, 3 * WIDTH), dtype=np.float32)
             * np.float32(2.0 / math.sqrt(WIDTH)))
    w_o = (rng.standard_normal((WIDTH, WIDTH), dtype=np.float32)
           / np.float32(math.sqrt(WIDTH)))

    y, probs = kernel(x, w_qkv, w_o)
    want_y, want_probs = reference(x, w_qkv, w_o)
    y_error = np.max(np.abs(y - want_y)) / np.max(np.abs(want_y))
    p_error = np.max(np.abs(probs - want_probs))
    print("max error against numpy: output %.3e (relative to its largest "
          "magnitude), attention weights %.3e (absolute)" % (y_error, p_error))

    it = SENTENCE.index("it")
    for h in range(HEADS):
        top = np.argsort(probs[h, it])[::-1][:3]
        print("head %d: '%s' (token %d) attends most to %s" % (
            h, SENTENCE[it], it, ", ".join("'%s' %d (%.2f)" % (
                SENTENCE[j], j, probs[h, it, j]) for j in top)))
    attnc.save_attention_map(probs, out, tokens=SENTENCE,
                             title="sentence_block: causal attention, "
                                   "%d heads" % HEADS)
    print("wrote", out)
    return 0 if y_error < 1e-4 and p_error < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
