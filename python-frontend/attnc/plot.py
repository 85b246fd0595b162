"""Attention maps as pictures: which tokens each token attends to.

``save_attention_map(weights, "map.png", tokens=[...])`` draws the softmax
weights a kernel compiled with ``attention_probs=True`` returns (see
``Kernel.attention_maps``) as one heatmap per head: keys across, queries
down, darker for more weight, labelled with the tokens when given.
Needs matplotlib (Debian: python3-matplotlib); nothing else in attnc does.
"""

import math

import numpy as np

from .errors import AttncError


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise AttncError("drawing attention maps needs matplotlib; install "
                         "it (Debian: apt-get install python3-matplotlib)")
    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt
    return plt


def save_attention_map(weights, path, tokens=None, heads=None, title=None,
                       columns=None):
    """Writes a heatmap of ``weights`` ([heads, queries, keys], or one
    [queries, keys] map) to ``path`` (the format follows its extension:
    .png, .svg, .pdf). ``tokens`` labels both axes (one string per token;
    default: token indices); ``heads`` picks which heads to draw (default:
    all); ``columns`` how many panels go side by side (default: a square
    grid). Returns ``path``."""
    weights = np.asarray(weights)
    if weights.ndim == 2:
        weights = weights[np.newaxis]
    if weights.ndim != 3:
        raise ValueError("weights must be [heads, queries, keys] or "
                         "[queries, keys], got shape %s" % (weights.shape,))
    n_heads, queries, keys = weights.shape
    heads = list(range(n_heads)) if heads is None else list(heads)
    for h in heads:
        if not 0 <= h < n_heads:
            raise ValueError("head %d does not exist; the weights have %d "
                             "heads" % (h, n_heads))
    if tokens is not None:
        tokens = [str(t) for t in tokens]
        if len(tokens) != max(queries, keys):
            raise ValueError("%d tokens given for %d queries and %d keys"
                             % (len(tokens), queries, keys))
    plt = _pyplot()
    if columns is None:
        columns = math.ceil(math.sqrt(len(heads)))
    columns = max(1, min(columns, len(heads)))
    rows = math.ceil(len(heads) / columns)
    side = 4.0 if max(queries, keys) <= 64 else 6.0
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(side * columns, side * rows + 0.6))
    # One colour scale for all panels, up to the largest weight drawn: with
    # a long causal context most weights are far below 1.
    top = float(weights[heads].max()) if heads else 0.0
    image = None
    for ax, h in zip(axes.flat, heads):
        image = ax.imshow(weights[h], cmap="Blues", vmin=0.0,
                          vmax=top if top > 0 else 1.0,
                          interpolation="nearest")
        ax.set_title("head %d" % h)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
        if tokens is not None and max(queries, keys) <= 64:
            ax.set_xticks(range(keys))
            ax.set_xticklabels(tokens[:keys], rotation=90, fontsize=7)
            ax.set_yticks(range(queries))
            ax.set_yticklabels(tokens[:queries], fontsize=7)
    for ax in list(axes.flat)[len(heads):]:
        ax.axis("off")
    figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8,
                    label="attention weight")
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
