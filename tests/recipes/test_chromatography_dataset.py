"""The `chromatography` dataset: layout, per-sample parameters, an independent re-solve, bad input."""

import numpy as np
import pytest

from pdesuite.data import open_dataset, validate_dataset
from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.recipes.generate import generate, make_recipe, regenerate
from pdesuite.solvers.fd.chromatography import ColumnFD
from pdesuite.solvers.laplace.column import LaplaceColumn

SMALL = {"valid": 1, "test": 1}


def make(tmp_path, name="c.h5", samples=3, **overrides):
    path = tmp_path / name
    generate("chromatography", path, samples=samples, seed=5, progress=False,
             overrides={k: str(v) for k, v in {**SMALL, **overrides}.items()})
    validate_dataset(path)
    return path, open_dataset(path)


def test_layout_parameters_and_an_independent_solve(tmp_path):
    path, data = make(tmp_path)
    train = data.split("train")
    assert train["u"].shape == (3, 1501, 1) and data.fields == ["c"]
    assert train["param_names"] == ["k_a", "k_d", "u", "L"]
    k_a, k_d, u, L = train["params"].T
    assert np.all((k_a >= 10) & (k_a <= 60) & (k_d >= 2) & (k_d <= 10) & (u >= 0.05) & (u <= 0.15))
    assert np.all((L >= 0.5) & (L <= 1.5))
    t = data.read("t")
    assert t[0] == 0 and t[-1] == 250.0 and data.attrs["solver"].startswith("LaplaceColumn")
    # sample 1 again, from its stored parameters, by adaptive Bromwich quadrature (float32 storage)
    problem = Chromatography(length=L[1], velocity=u[1], alpha=0.1, analytes=(Analyte("A", k_a[1], k_d[1], 1.0),),
                             injection=Injection("pulse", 1.0, 0.0))
    again = LaplaceColumn(problem, method="bromwich").outlet(t[::40])[:, 0]
    np.testing.assert_allclose(train["u"][1, ::40, 0], again, atol=1e-6 * again.max())
    # the peak holds the injected mass (area = c0 τ for a constant velocity)
    np.testing.assert_allclose(np.trapezoid(train["u"][..., 0], t, axis=1), 1.0, rtol=1e-3)
    # regeneration from the file's metadata reproduces it
    again_path = regenerate(path, tmp_path / "again.h5", progress=False)
    np.testing.assert_array_equal(open_dataset(again_path).split("train")["u"], train["u"])


def test_the_fd_solver_with_a_pressure_drop_and_diffusion(tmp_path):
    _, data = make(tmp_path, samples=1, valid=0, test=0, solver="fd", cells=200, D=1e-6, pressure_ratio=2.0,
                   nt=1501, k_a_min=20.0, k_a_max=20.0, k_d_min=5.0, k_d_max=5.0)
    assert data.attrs["solver"].startswith("ColumnFD")
    k_a, k_d, u, L = data.split("train")["params"][0]
    problem = Chromatography(length=L, velocity=u, alpha=0.1, diffusion=1e-6, p_in=2.0, p_out=1.0,
                             analytes=(Analyte("A", k_a, k_d, 1.0),), injection=Injection("pulse", 1.0, 0.0))
    t = data.read("t")
    c = ColumnFD(problem, 200, "kappa3", rtol=1e-8, atol=1e-11).solve(t)[:, 0]
    np.testing.assert_allclose(data.split("train")["u"][0, :, 0], c, atol=1e-6)


@pytest.mark.parametrize("overrides,message", [
    ({"k_a_min": 100.0}, "k_a_min <= k_a_max"),
    ({"u_min": -0.1}, "u_min must be positive"),
    ({"L_max": 0.0}, "L_max must be positive"),
    ({"t_end": 50.0}, "raise t_end"),
    ({"nt": 200}, "raise nt"),
    ({"D": 1e-5}, "use solver = fd"),
    ({"pressure_ratio": 0.5}, "reverse the flow"),
    ({"injection": "box"}, "pulse or gaussian"),
])
def test_bad_parameters(overrides, message):
    with pytest.raises(BadInput, match=message):
        make_recipe("chromatography", overrides={k: str(v) for k, v in overrides.items()})
