"""The 1D grid datasets (KS, convection, Burgers, Allen-Cahn): layout, independent checks, bad input."""

import numpy as np
import pytest

from pdesuite.data import open_dataset, validate_dataset
from pdesuite.errors import BadInput
from pdesuite.recipes.base import Recipe
from pdesuite.recipes.generate import generate, make_recipe
from pdesuite.registry import DATASETS
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition

KS_SMALL = {"nt_train": 60, "keep_train": 20, "nt_eval": 90, "keep_eval": 40, "t_end_train": 12.0,
            "t_end_eval": 18.0, "batch": 2, "valid": 1, "test": 1}


def make(tmp_path, name, samples=None, **overrides):
    path = tmp_path / f"{name}.h5"
    generate(name, path, samples=samples, seed=3, progress=False, overrides={k: str(v) for k, v in overrides.items()})
    validate_dataset(path)
    return open_dataset(path)


@pytest.mark.parametrize("name,nu_range", [("ks", (1.0, 1.0)), ("ks-conditional", (0.5, 1.5))])
def test_ks_layout_and_parameters(tmp_path, name, nu_range):
    data = make(tmp_path, name, samples=3, **KS_SMALL)
    train, test = data.split("train"), data.split("test")
    assert train["u"].shape == (3, 20, 256, 1) and test["u"].shape == (1, 40, 256, 1)
    assert train["param_names"] == ["L", "dt", "nu"]
    L, dt, nu = train["params"].T
    assert np.all((L >= 57.6) & (L <= 70.4)) and np.all((nu >= nu_range[0]) & (nu <= nu_range[1]))
    np.testing.assert_allclose(dt * 59, train["t"][:, -1])  # last stored time = T = (nt - 1) dt
    assert np.all((dt * 59 >= 10.8) & (dt * 59 <= 13.2))  # T = 12·U(0.9, 1.1)
    np.testing.assert_allclose(train["x"][:, 1], L / 256)
    np.testing.assert_allclose(np.diff(train["t"], axis=1), dt[:, None] * np.ones((1, 19)))


def test_ks_stored_trajectory_matches_a_refined_independent_solve(tmp_path):
    data = make(tmp_path, "ks", samples=2, **KS_SMALL)
    stored = data.split("train")["u"][1, :, :, 0]
    recipe = make_recipe("ks", overrides={k: str(v) for k, v in KS_SMALL.items()})
    draw = recipe.draw(Recipe.rng(3, "train", 1), "train")  # the same generator as sample 1
    solver = KSSolver(256, draw["length"], draw["nu"])
    u0 = ks_initial_condition(solver.x[0], draw["length"], draw["amplitudes"], draw["phases"], draw["wavenumbers"])
    # an independent scheme: the recipe integrates by fifth-order exponential Adams, this by ETDRK4
    reference = solver.solve(u0[None], draw["dt"], 59, substeps=64, keep_from=40)[0]
    error = np.abs(stored - reference).max() / np.abs(reference).max()
    assert error < 1e-6, error  # float32 storage (6e-8) and both schemes' errors (< 1e-8 here)


def test_ks_files_written_before_schemes_regenerate_with_etdrk4():
    """Files from before `scheme` was a parameter hold no scheme; they were made with ETDRK4."""
    params = dict(make_recipe("ks").params)
    assert params.pop("scheme") == "etd-adams5"
    assert DATASETS.get("ks")(params).params["scheme"] == "etdrk4"


def test_convection_is_the_exact_solution_and_sweeps(tmp_path):
    data = make(tmp_path, "convection")
    test = data.split("test")
    assert test["u"].shape == (16, 100, 256, 1) and data.splits == ["test"]
    x, t = data.read("x"), data.read("t")
    for u, (c, nu) in zip(test["u"], test["params"], strict=True):
        exact = np.exp(-nu * t)[:, None] * np.sin(x[None, :] - c * t[:, None])
        np.testing.assert_allclose(u[..., 0], exact, atol=1e-6)
    one = make(tmp_path / "..", "convection", c="30", nu="0")
    assert one.split("test")["params"].tolist() == [[30.0, 0.0]]


def test_burgers_lpinn_galilean_invariance(tmp_path):
    """u_C(x, t) = u_0(x - Ct, t) + C: the C = 2 sample is the C = 0 sample shifted and lifted."""
    data = make(tmp_path, "burgers-lpinn", nx_solve=1024, substeps=16)
    (u0, u2), t = data.split("test")["u"][..., 0], data.read("t")
    k = np.fft.rfftfreq(256, d=1 / 256)
    shifted = np.fft.irfft(np.fft.rfft(u0, axis=-1) * np.exp(-1j * k[None, :] * 2.0 * t[:, None]), n=256, axis=-1)
    error = np.abs(u2 - (shifted + 2.0)).max()
    assert error < 2e-3, error  # the front is steep at t = 1 (ν = 0.01): a sharp test of both runs


def test_burgers_conserves_the_mean_and_converges(tmp_path):
    coarse = make(tmp_path, "burgers", samples=2, valid=0, test=0, nt=21, t_end=1.0, substeps=16,
                  nx_solve=512, nx=128)
    u = coarse.split("train")["u"][..., 0]
    np.testing.assert_allclose(u.mean(axis=-1), u[:, :1].mean(axis=-1) * np.ones((1, 21)), atol=1e-6)
    fine = make(tmp_path / "..", "burgers", samples=2, valid=0, test=0, nt=21, t_end=1.0, substeps=32,
                nx_solve=1024, nx=128)
    assert np.abs(fine.split("train")["u"][..., 0] - u).max() < 1e-5


def test_allen_cahn_reference(tmp_path):
    data = make(tmp_path, "allen-cahn", nt=21)
    u = data.split("test")["u"][0, :, :, 0]
    x = data.read("x")
    np.testing.assert_allclose(u[0], x**2 * np.cos(np.pi * x), atol=1e-7)
    assert u.shape == (21, 512) and np.abs(u).max() <= 1.0 + 1e-5 and u[-1, 0] == pytest.approx(-1.0, abs=1e-4)


@pytest.mark.parametrize("name,overrides,message", [
    ("ks", {"nx": "255"}, "even"),
    ("ks", {"nx": "0"}, "nx"),
    ("ks", {"nu_min": "-1"}, "nu_min"),
    ("ks", {"t_end_train": "0"}, "t_end_train"),
    ("ks", {"substeps": "1", "nt_train": "150"}, "too large for stability"),
    ("burgers", {"nu_min": "-0.1"}, "nu_min"),
    ("burgers", {"substeps": "1"}, "too large for stability"),
    ("burgers", {"nx": "100", "nx_solve": "1024"}, "divide"),
    ("convection", {"nu": "[-0.1]"}, "nu must be >= 0"),
    ("allen-cahn", {"t_end": "-1"}, "t_end"),
])
def test_bad_parameters(name, overrides, message):
    with pytest.raises(BadInput, match=message):
        make_recipe(name, overrides=overrides)
