"""Each named FEM dataset, generated small, checked against its exact solution (or a converged one)."""

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
from pdesuite.data import open_dataset, validate_dataset  # noqa: E402
from pdesuite.recipes.generate import generate  # noqa: E402
from pdesuite.solvers.fem.verification import observed_rate  # noqa: E402


def make(tmp_path, name, tag, samples=3, **overrides):
    path = tmp_path / f"{name}-{tag}.h5"
    generate(name, path, samples=samples, seed=1, progress=False,
             overrides={k: str(v) for k, v in {"valid": 0, "test": 0, **overrides}.items()})
    validate_dataset(path)
    return open_dataset(path)


def test_helmholtz_bumps_against_exact_solution(tmp_path):
    from pdesuite.recipes.helmholtz_bumps import MAX_BUMPS, exact_solution

    sizes, errors = [0.1, 0.05, 0.025], []
    for h in sizes:
        data = make(tmp_path, "helmholtz-bumps", h, mesh_size=h)
        points, train = data.read("mesh/points"), data.split("train")
        assert train["params"].shape[1] == 1 + 5 * MAX_BUMPS
        assert np.all((train["params"][:, 0] >= 1) & (train["params"][:, 0] <= MAX_BUMPS))
        rel = [np.linalg.norm(u[0, :, 0] - exact_solution(points, p)) / np.linalg.norm(exact_solution(points, p))
               for u, p in zip(train["u"], train["params"], strict=True)]
        errors.append(np.mean(rel))
    # the same seed draws the same bumps at every mesh size, so errors are comparable
    assert errors[1] < 5e-3, errors  # P1 at UM2N's h = 0.05
    rate = observed_rate(sizes, errors)
    assert 1.7 < rate < 2.5, (rate, errors)


def test_heat_random_against_exact_solution(tmp_path):
    from pdesuite.recipes.heat_random import exact_solution

    resolutions, errors = [8, 16, 32], []
    for n in resolutions:
        data = make(tmp_path, "heat-random", n, samples=2, resolution=n, dt=0.005)
        t, x, y = data.read("t"), data.read("x"), data.read("y")
        X, Y = np.meshgrid(x, y, indexing="ij")
        points = np.stack([X.ravel(), Y.ravel()], axis=1)
        train = data.split("train")
        kappa = data.params["kappa"]
        err = []
        for u, p in zip(train["u"], train["params"], strict=True):
            exact = exact_solution(points, t, p, kappa).reshape(len(t), *X.shape)
            err.append(np.linalg.norm(u[..., 0] - exact) / np.linalg.norm(exact))
        errors.append(np.mean(err))
    assert errors[-1] < 1e-2, errors  # P1, modes up to sin(4πx), 32 cells
    rate = observed_rate([1 / n for n in resolutions], errors)
    assert 1.8 < rate < 2.3, (rate, errors)


def test_poisson_random_converges_to_fine_reference(tmp_path):
    reference = make(tmp_path, "poisson-random", "ref", samples=2, resolution=64, degree=2)
    u_ref = reference.split("train")["u"]
    resolutions, errors = [8, 16, 32], []
    for n in resolutions:
        data = make(tmp_path, "poisson-random", n, samples=2, resolution=n)
        u = data.split("train")["u"]
        stride = 64 // n
        coarse_ref = u_ref[:, :, ::stride, ::stride, :]
        np.testing.assert_allclose(u[..., :2], coarse_ref[..., :2], rtol=1e-5, atol=1e-6)  # same κ, f
        errors.append(np.linalg.norm(u[..., 2] - coarse_ref[..., 2]) / np.linalg.norm(coarse_ref[..., 2]))
    rate = observed_rate([1 / n for n in resolutions], errors)
    assert 1.8 < rate < 2.3, (rate, errors)


def test_cylinder_flow_conserves_mass_and_matches_inflow(tmp_path):
    data = make(tmp_path, "cylinder-flow", "coarse", samples=1, h_cylinder=0.02, h_max=0.04,
                t_start=0.5, t_end=1.0, n_times=3, dt=0.01)
    points, train = data.read("mesh/points"), data.split("train")
    reynolds, max_inflow = train["params"][0]
    assert 20 <= reynolds <= 100 and max_inflow == pytest.approx(1.5 * reynolds * 1e-3 / 0.1)
    H = 0.41
    u = train["u"][0]  # (n_t, nodes, [vx, vy, p])
    inlet = np.flatnonzero(points[:, 0] < 1e-9)
    outlet = np.flatnonzero(points[:, 0] > 2.2 - 1e-9)
    y_in = points[inlet, 1]
    np.testing.assert_allclose(u[-1, inlet, 0], 4 * max_inflow * y_in * (H - y_in) / H**2, atol=1e-6)
    y_out = np.sort(points[outlet, 1])
    # the trapezoidal rule on the coarse outlet nodes, applied to the inflow parabola, is the
    # flux the nodal outflow must match when ∇·u = 0 (the profile far downstream is parabolic)
    inflow = np.trapezoid(4 * max_inflow * y_out * (H - y_out) / H**2, y_out)
    for n_t in range(u.shape[0]):
        outflow = np.trapezoid(u[n_t, outlet[np.argsort(points[outlet, 1])], 0], y_out)
        assert outflow == pytest.approx(inflow, rel=1e-2)
    assert np.all(np.isfinite(train["drag"])) and np.all(train["drag"] > 0)
    assert f"{reynolds:.0f}" in train["prompt"][0].decode()  # the sample's prompt names its Reynolds number
