"""Writing a model's params as a .safetensors file from numpy arrays.

The file is what ``attnc --embed-weights`` (``compile(..., weights=...)``,
CMake's ``attnc_add_model(... WEIGHTS ...)``), ``attn-run --weights`` and
the runtime's ``attn_weights_load`` read: an 8-byte little-endian header
length, a JSON header naming each tensor's dtype, shape and byte range, and
the data, here every tensor as little-endian float32, row-major.
"""

import json
import os

import numpy as np

from .errors import ArgumentError


def save_weights(path, tensors, metadata=None):
    """Writes ``tensors`` (a mapping from param name to an array-like) to
    ``path`` as float32 tensors, in the mapping's order, and returns the path.

    Values are converted to float32; one that is not finite after that (an
    inf, a NaN, or a float64 beyond float32's range) raises ArgumentError
    naming the tensor, as does a name that is not a non-empty string or is
    ``__metadata__``. ``metadata``: optional string key/value pairs stored
    under ``__metadata__``, which readers ignore.
    """
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ArgumentError("a tensor name must be a non-empty string "
                                "other than '__metadata__', got %r" % (name,),
                                argument=str(name))
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                array = np.array(value, dtype="<f4", order="C")
        except (TypeError, ValueError) as e:
            raise ArgumentError("tensor '%s' is not an array of numbers: %s"
                                % (name, e), argument=name) from None
        if not np.isfinite(array).all():
            raise ArgumentError("tensor '%s' holds a value that is not a "
                                "finite float32 (inf, NaN, or beyond "
                                "float32's range)" % name, argument=name)
        data = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Padded with spaces so that the data starts 8-byte aligned, as the
    # format's reference writer does.
    text += b" " * (-len(text) % 8)
    path = os.fspath(path)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for data in blobs:
            f.write(data)
    return path
