"""Shared fixtures: the package from this checkout, the attnc executable and
seeded random data.

ctest runs these with ATTNC_COMPILER and ATTNC_RUNTIME_LIB pointing into
its build tree; run by hand, the package looks in build/ (see the README).
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import attnc  # noqa: E402

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXAMPLES = os.path.join(SOURCE_ROOT, "examples")


@pytest.fixture(scope="session")
def attnc_exe():
    """The attnc executable; tests that compile fail clearly without it."""
    try:
        return attnc.find_compiler()
    except attnc.AttncError as e:
        pytest.fail(str(e))


def _built_backends():
    try:
        return attnc.available_backends()
    except attnc.AttncError:  # no attnc: attnc_exe fails those tests
        return ("mlir",)


@pytest.fixture(params=_built_backends())
def backend(request):
    """Each backend attnc was built with, in turn."""
    return request.param


@pytest.fixture
def uniform():
    """A seeded source of float32 arrays uniform in [-scale, scale]."""
    rng = np.random.default_rng(1234)

    def make(shape, scale=1.0):
        return rng.uniform(-scale, scale, size=shape).astype(np.float32)
    return make
