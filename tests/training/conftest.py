"""Fixtures of the trainer tests."""

import pytest

from pdesuite.recipes.generate import generate


@pytest.fixture(scope="session")
def heat_like(tmp_path_factory):
    """u_t = 0.1 u_xx, u0 = sin x, periodic (the convection dataset at c = 0)."""
    path = tmp_path_factory.mktemp("data") / "heat.h5"
    generate("convection", path, progress=False, overrides={"c": "0", "nu": "0.1", "nt": "20", "nx": "64"})
    return path
