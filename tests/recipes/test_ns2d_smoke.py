"""The `ns2d` and `smoke` datasets, generated tiny: layout, provenance, invariants, bad input."""

import numpy as np
import pytest

from pdesuite.data import open_dataset, validate_dataset
from pdesuite.errors import BadInput
from pdesuite.problems.ns2d import NS2D
from pdesuite.problems.smoke import Smoke
from pdesuite.recipes.base import Recipe
from pdesuite.recipes.generate import generate
from pdesuite.solvers.fd.smoke import SmokeSolver
from pdesuite.solvers.spectral.ns2d import NS2DSolver

NS2D_TINY = {"resolution": 32, "store_resolution": 16, "t_end": 2.0, "record_every": 1.0, "dt": 0.02,
             "train": 3, "valid": 1, "test": 1, "batch_size": 2}
SMOKE_TINY = {"resolution": 16, "n_skip": 2, "n_frames": 4, "frame_every": 2, "train": 3, "valid": 1, "test": 1,
              "batch_size": 2}


def make(tmp_path, name, tag, **overrides):
    path = tmp_path / f"{name}-{tag}.h5"
    generate(name, path, seed=3, progress=False, overrides={k: str(v) for k, v in overrides.items()})
    validate_dataset(path)
    return open_dataset(path)


def test_ns2d_dataset(tmp_path):
    data = make(tmp_path, "ns2d", "a", **NS2D_TINY)
    np.testing.assert_allclose(data.read("t"), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(data.read("x"), np.arange(16) / 16)
    train = data.split("train")
    assert train["u"].shape == (3, 3, 16, 16, 1) and data.attrs["fields"] == ["w"]
    np.testing.assert_allclose(train["params"], 1e-3)
    # the stored t = 0 frame is the (dealiased) Gaussian random field of each sample's own generator
    problem, solver = NS2D(), NS2DSolver(NS2D(), 32, 0.02)
    for index, u in enumerate(train["u"]):
        w0 = solver.truncate(problem.initial_vorticity(Recipe.rng(3, "train", index), 32))
        np.testing.assert_allclose(u[0, :, :, 0], w0[::2, ::2], atol=1e-6)
    # the one stored sample reproduced by a direct solve; mean vorticity stays zero
    w0 = problem.initial_vorticity(Recipe.rng(3, "test", 0), 32)
    direct = solver.solve(w0[None], np.array([0.0, 1.0, 2.0]))[0, :, ::2, ::2]
    np.testing.assert_allclose(data.split("test")["u"][0, ..., 0], direct, atol=1e-6)
    assert np.abs(train["u"].mean(axis=(2, 3, 4))).max() < 1e-6
    # the batch size does not change the data
    other = make(tmp_path, "ns2d", "b", **{**NS2D_TINY, "batch_size": 3})
    np.testing.assert_array_equal(other.split("train")["u"], train["u"])


def test_smoke_dataset(tmp_path):
    data = make(tmp_path, "smoke", "a", **SMOKE_TINY)
    np.testing.assert_allclose(data.read("t"), 1.5 * np.array([3, 5, 7, 9]))
    np.testing.assert_allclose(data.read("x"), (np.arange(16) + 0.5) * 2.0)
    assert data.attrs["fields"] == ["s", "vx", "vy"]
    train = data.split("train")
    assert train["u"].shape == (3, 4, 16, 16, 3)
    b = train["params"][:, 0]
    assert np.all((b >= 0.2) & (b <= 0.5)) and len(set(b)) == 3
    s = train["u"][..., 0]
    assert s.min() >= 0
    mass = s.sum(axis=(2, 3))
    assert np.abs(mass / mass[:, :1] - 1).max() < 0.05
    # a sample reproduced from its generator: b_y first, then the smoke noise
    rng = Recipe.rng(3, "train", 1)
    b1 = rng.uniform(0.2, 0.5)
    s0 = Smoke().initial_smoke(rng, 16, 16)
    out = SmokeSolver(Smoke(), 16, 16, 1.5).solve(s0[None], [3, 5, 7, 9], buoyancy_y=b1)
    assert b1 == train["params"][1, 0]
    np.testing.assert_allclose(train["u"][1], np.stack([out[k][0] for k in ("s", "vx", "vy")], axis=-1), atol=1e-6)


@pytest.mark.parametrize("name, overrides, message", [
    ("ns2d", {"resolution": "63"}, "positive even number"),
    ("ns2d", {"resolution": "0"}, "resolution must be an integer"),
    ("ns2d", {"nu": "-0.001"}, "nu must be >= 0"),
    ("ns2d", {"t_end": "0"}, "t_end must be positive"),
    ("ns2d", {"dt": "0.1"}, "CFL number"),
    ("ns2d", {"record_every": "0.3"}, "whole number"),
    ("ns2d", {"store_resolution": "48"}, "must divide"),
    ("smoke", {"dt": "40"}, "explicit viscous step"),
    ("smoke", {"nu": "-1"}, "nu must be >= 0"),
    ("smoke", {"resolution": "2"}, "resolution must be an integer"),
    ("smoke", {"buoyancy_min": "0.6"}, "must not exceed"),
    ("smoke", {"backtrace": "rk4"}, "backtrace must be one of"),
])
def test_bad_input_is_refused_before_any_work(tmp_path, name, overrides, message):
    target = tmp_path / "out.h5"
    with pytest.raises(BadInput, match=message) as info:
        generate(name, target, progress=False, overrides=overrides)
    assert "\n" not in str(info.value)
    assert not target.exists()
