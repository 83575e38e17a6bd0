"""PIG-suite datasets: generated small, validated, and compared with the exact solutions (or, for
nonlinear diffusion, with a finer run of the same solver)."""

import numpy as np
import pytest

from pdesuite.data import open_dataset, validate_dataset
from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import FlowMixing, Helmholtz2D, KleinGordon, NonlinearDiffusion
from pdesuite.recipes.generate import generate


def make(tmp_path, name, tag="", **overrides):
    path = tmp_path / f"{name}{tag}.h5"
    generate(name, path, progress=False, overrides={k: str(v) for k, v in overrides.items()})
    validate_dataset(path)
    return open_dataset(path)


@pytest.mark.parametrize("name, problem, names, overrides", [
    ("pig-helmholtz", Helmholtz2D(a1=1.0, a2=3.0, k=2.0), ["a1", "a2", "k"], dict(a2=3.0, k=2.0, n=33)),
    ("pig-klein-gordon", KleinGordon(k=2.0, t_end=5.0), ["k"], dict(t_end=5.0)),
    ("pig-flow-mixing", FlowMixing(v_max=0.385), ["v_max"], dict(n=17)),  # odd n: a node at r = 0
])
def test_exact_solution_datasets(tmp_path, name, problem, names, overrides):
    data = make(tmp_path, name, **overrides)
    assert data.splits == ["test"] and data.fields == ["u"]
    t, x, y = data.read("t"), data.read("x"), data.read("y")
    test = data.split("test")
    u, params = test["u"], test["params"]
    assert u.shape == (1, len(t), len(x), len(y), 1)
    np.testing.assert_array_equal(params[0], [getattr(problem, key) for key in names])
    (x0, x1), (y0, y1) = problem.bounds
    assert (x[0], x[-1], y[0], y[-1]) == (x0, x1, y0, y1)
    X, Y = np.meshgrid(x, y, indexing="ij")
    if name == "pig-helmholtz":
        np.testing.assert_array_equal(t, [0.0])
        exact = problem.exact((X, Y), NUMPY)[None]
    else:
        assert t[0] == 0.0 and t[-1] == pytest.approx(problem.t_end)
        exact = problem.exact((X[None], Y[None]), t[:, None, None], NUMPY)
    np.testing.assert_allclose(u[0, ..., 0], exact, atol=1e-6)  # stored as float32
    assert np.abs(exact).max() > 0.5


def test_nonlinear_diffusion_dataset_is_a_converged_reference(tmp_path):
    data = make(tmp_path, "pig-nonlinear-diffusion")  # small: 21² stored, 40² solver cells, 11 times
    x = data.read("x")
    u = data.split("test")["u"][0, ..., 0]
    assert u.shape == (11, 21, 21) and data.split("test")["params"][0, 0] == 0.05
    X, Y = np.meshgrid(x, x, indexing="ij")
    np.testing.assert_allclose(u[0], NonlinearDiffusion().initial((X, Y), NUMPY), atol=1e-7)
    assert np.all(u[1:, 0, :] == 0) and np.all(u[1:, :, 0] == 0)
    ref = make(tmp_path, "pig-nonlinear-diffusion", "-160", refine=8).split("test")["u"][0, 1:, ..., 0]
    mid = make(tmp_path, "pig-nonlinear-diffusion", "-80", refine=4).split("test")["u"][0, 1:, ..., 0]
    errors = [np.linalg.norm(v - ref) / np.linalg.norm(ref) for v in (u[1:], mid)]  # 40 and 80 solver cells
    assert errors[0] < 4e-3 and 3.0 < errors[0] / errors[1] < 5.5, errors  # second order: ratio 4 (5 vs ref)


@pytest.mark.parametrize("name, key, value", [
    ("pig-helmholtz", "n", 1), ("pig-helmholtz", "k", -1.0), ("pig-klein-gordon", "t_end", 0.0),
    ("pig-klein-gordon", "n_t", 1), ("pig-flow-mixing", "v_max", -0.1), ("pig-flow-mixing", "t_end", -4.0),
    ("pig-nonlinear-diffusion", "alpha", -0.05), ("pig-nonlinear-diffusion", "refine", 0),
    ("pig-nonlinear-diffusion", "substeps", 0), ("pig-nonlinear-diffusion", "n", 0),
])
def test_invalid_parameters_are_bad_input(tmp_path, name, key, value):
    path = tmp_path / "bad.h5"
    with pytest.raises(BadInput, match=key if key != "alpha" else "diffusivity"):
        generate(name, path, progress=False, overrides={key: str(value)})
    assert not path.exists()
