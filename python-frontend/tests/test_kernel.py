"""Loading kernels: metadata through the runtime, and every argument
checked before the call."""

import numpy as np
import pytest

import attnc


@pytest.fixture(scope="module")
def kernel(attnc_exe):
    m = attnc.Model("two_outputs", context=8)
    x = m.input("x", ("context", 16))
    w = m.param("w", (16, 16))
    h = m.linear(x, w)
    m.output(m.relu(h), name="r")
    m.output(h * 2, name="doubled")
    return attnc.compile(m).load()


@pytest.fixture
def args(uniform):
    return uniform((8, 16)), uniform((16, 16))


def test_metadata_comes_from_the_kernel(kernel):
    assert kernel.name == "two_outputs" and kernel.context == 8
    assert [(a.name, a.role, a.shape) for a in kernel.arguments] == [
        ("x", "input", (8, 16)), ("w", "param", (16, 16)),
        ("r", "output", (8, 16)), ("doubled", "output", (8, 16))]
    assert all(a.dtype == np.float32 for a in kernel.arguments)


def test_outputs_come_back_in_order(kernel, args):
    x, w = args
    r, doubled = kernel(x, w=w)
    h = x.astype(np.float64) @ w
    np.testing.assert_allclose(r, np.maximum(h, 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(doubled, 2 * h, rtol=1e-5, atol=1e-5)
    r2, _ = kernel(w=w, x=x)
    np.testing.assert_array_equal(r, r2)


@pytest.mark.parametrize("change, message", [
    (lambda x: x.astype(np.float64), "argument 'x' has dtype float64; the "
     "kernel takes float32"),
    (lambda x: x[:, :15], "argument 'x' has shape (8, 15); the kernel takes "
     "(8, 16)"),
    (lambda x: np.asfortranarray(x), "argument 'x' is not a C-contiguous"),
    (lambda x: x.tolist(), "argument 'x' must be a numpy array, got list"),
])
def test_a_bad_array_is_named(kernel, args, change, message):
    x, w = args
    with pytest.raises(attnc.ArgumentError) as e:
        kernel(change(x), w)
    assert e.value.argument == "x"
    assert message in str(e.value)


def test_bad_argument_lists_are_named(kernel, args):
    x, w = args
    with pytest.raises(attnc.ArgumentError, match="missing argument 'w'"):
        kernel(x)
    with pytest.raises(attnc.ArgumentError, match="given twice"):
        kernel(x, w, x=x)
    with pytest.raises(attnc.ArgumentError, match="3 positional"):
        kernel(x, w, w)
    with pytest.raises(attnc.ArgumentError, match="no input or param 'bias'"):
        kernel(x, w, bias=w)
    with pytest.raises(attnc.ArgumentError, match="it is an output"):
        kernel(x, w, r=x)


def test_thread_counts_give_identical_results(kernel, args):
    # Tasks are independent: the pool changes where they run, not what
    # they compute.
    before = attnc.set_num_threads(1)
    try:
        one = kernel(*args)
        assert attnc.num_threads() == 1
        attnc.set_num_threads(2)
        two = kernel(*args)
    finally:
        attnc.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        attnc.set_num_threads(-1)
