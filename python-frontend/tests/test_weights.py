"""attnc.save_weights and compile(..., weights=...): params compiled into
the library from numpy arrays or a .safetensors file."""

import json
import struct

import numpy as np
import pytest

import attnc


def tiny():
    m = attnc.Model("tiny", context=4)
    x = m.input("x", (4, 8))
    w = m.param("w", (8, 24))
    b = m.param("b", (24,))
    q, k, v = m.split(m.linear(x, w, b), 3, names=("q", "k", "v"))
    m.output(m.attention(q, k, v, heads=2, mask="causal"), name="y")
    return m


def read_safetensors(path):
    """An independent reader of the format: header length, JSON, data."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    data = raw[8 + length:]
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        assert entry["dtype"] == "F32"
        arrays[name] = np.frombuffer(data[begin:end], "<f4").reshape(
            entry["shape"])
    return length, header, arrays


def test_save_weights_writes_float32_tensors_in_order(tmp_path, uniform):
    w = uniform((8, 24)).astype(np.float64)   # converted to float32
    b = np.arange(24)                          # integers too
    scalar = 2.5
    path = attnc.save_weights(tmp_path / "t.safetensors",
                              {"w": w, "b": b, "s": scalar},
                              metadata={"format": "pt"})
    length, header, arrays = read_safetensors(path)
    assert length % 8 == 0  # the data starts 8-byte aligned
    assert list(header) == ["w", "b", "s", "__metadata__"]
    assert header["__metadata__"] == {"format": "pt"}
    assert header["w"]["data_offsets"] == [0, 8 * 24 * 4]
    assert header["b"]["data_offsets"] == [8 * 24 * 4, 8 * 24 * 4 + 24 * 4]
    assert header["s"]["shape"] == []
    np.testing.assert_array_equal(arrays["w"], w.astype(np.float32))
    np.testing.assert_array_equal(arrays["b"], b.astype(np.float32))
    assert arrays["s"] == np.float32(2.5)


@pytest.mark.parametrize("tensors, argument, words", [
    ({"w": [1.0, np.inf]}, "w", "not a finite float32"),
    ({"w": np.array([1e39])}, "w", "beyond float32's range"),
    ({"w": [np.nan]}, "w", "not a finite float32"),
    ({"w": ["one"]}, "w", "not an array of numbers"),
    ({"w": [[1.0, 2.0], [3.0]]}, "w", "not an array of numbers"),
    ({"__metadata__": [1.0]}, "__metadata__", "other than '__metadata__'"),
    ({"": [1.0]}, "", "non-empty string"),
])
def test_save_weights_refuses_what_no_reader_should_get(
        tmp_path, tensors, argument, words):
    with pytest.raises(attnc.ArgumentError) as e:
        attnc.save_weights(tmp_path / "bad.safetensors", tensors)
    assert e.value.argument == argument
    assert words in str(e.value)
    assert not (tmp_path / "bad.safetensors").exists()


def test_embedded_weights_give_the_same_kernel_taking_only_inputs(
        attnc_exe, backend, tmp_path, uniform):
    x, w, b = uniform((4, 8)), uniform((8, 24)), uniform((24,))
    passed = attnc.compile(tiny(), backend=backend,
                           workdir=str(tmp_path)).load()
    expected = passed(x=x, w=w, b=b)
    from_arrays = attnc.compile(tiny(), backend=backend,
                                weights={"w": w, "b": b},
                                workdir=str(tmp_path))
    assert from_arrays.library == str(tmp_path / "tiny-1.so")
    assert (tmp_path / "tiny-1.safetensors").is_file()
    kernel = from_arrays.load()
    assert [a.name for a in kernel.inputs] == ["x"]
    np.testing.assert_array_equal(kernel(x=x), expected)
    with pytest.raises(attnc.ArgumentError):
        kernel(x=x, w=w)  # no longer an argument

    path = attnc.save_weights(tmp_path / "mine.safetensors", {"b": b, "w": w})
    from_file = attnc.compile(tiny(), backend=backend, weights=path,
                              workdir=str(tmp_path)).load()
    np.testing.assert_array_equal(from_file(x=x), expected)


def test_a_mis_shaped_or_missing_param_is_a_compile_error(
        attnc_exe, tmp_path, uniform):
    with pytest.raises(attnc.CompileError) as e:
        attnc.compile(tiny(), weights={"w": uniform((8, 23))},
                      workdir=str(tmp_path))
    message = e.value.output
    assert "param 'w' has shape [8, 23], expected [8, 24]" in message
    assert "param 'b' [24] is missing" in message
