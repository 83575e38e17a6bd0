"""Exponential Adams-Bashforth steppers: φ-functions and weights, exactness, the torch path, and
stability checks up front. (The observed orders 2-6 against Cole-Hopf and the agreement with ETDRK4
on KS are cases of tests/solvers/test_orders.py.)"""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from pdesuite.errors import BadInput
from pdesuite.recipes.generate import generate
from pdesuite.solvers.spectral.etd_adams import ETDAdams, adams_weights, phi_functions
from pdesuite.solvers.spectral.ks import KSSolver

#: Classical Adams-Bashforth coefficients, the z → 0 limit of the exponential weights.
ADAMS_BASHFORTH = {
    2: [3 / 2, -1 / 2],
    3: [23 / 12, -16 / 12, 5 / 12],
    4: [55 / 24, -59 / 24, 37 / 24, -9 / 24],
    5: [1901 / 720, -2774 / 720, 2616 / 720, -1274 / 720, 251 / 720],
    6: [4277 / 1440, -7923 / 1440, 9982 / 1440, -7298 / 1440, 2877 / 1440, -475 / 1440],
}


def test_phi_functions():
    z = np.array([-30.0, -4.5, -3.9, -0.7, 1e-9, 0.0, 2.0, 3.9, 4.5, 10.0])
    phis = phi_functions(z, 6)
    np.testing.assert_allclose(phis[1][z != 0], np.expm1(z[z != 0]) / z[z != 0], rtol=1e-13)
    np.testing.assert_allclose(phis[2][np.abs(z) > 1], (np.exp(z) - 1 - z)[np.abs(z) > 1] / z[np.abs(z) > 1] ** 2,
                               rtol=1e-13)
    for k in range(7):  # φ_k(0) = 1/k!, and the recursion φ_k = z φ_{k+1} + 1/k! holds everywhere
        assert phis[k][5] == pytest.approx(1 / math.factorial(k), rel=1e-15)
        if k < 6:
            np.testing.assert_allclose(phis[k], z * phis[k + 1] + 1 / math.factorial(k), rtol=1e-13, atol=1e-15)
    # away from zero (the recursion's branch), against the closed form (e^z - Σ_{i<k} z^i/i!)/z^k
    far = np.abs(z) >= 4
    for k in range(1, 7):
        partial_sum = sum(z[far] ** i / math.factorial(i) for i in range(k))
        np.testing.assert_allclose(phis[k][far], (np.exp(z[far]) - partial_sum) / z[far] ** k, rtol=1e-12)
    complex_z = np.array([-2.0 + 3.0j, 0.5j, 5.0 - 1.0j])
    np.testing.assert_allclose(phi_functions(complex_z, 1)[1], np.expm1(complex_z) / complex_z, rtol=1e-13)


@pytest.mark.parametrize("order", sorted(ADAMS_BASHFORTH))
def test_weights_reduce_to_adams_bashforth_and_sum_to_phi1(order):
    np.testing.assert_allclose([float(b) for b in adams_weights(np.array(0.0), order)], ADAMS_BASHFORTH[order],
                               rtol=1e-14)
    z = np.array([-50.0, -3.0, -0.1, 0.4, 2.0])
    weights = adams_weights(z, order)
    np.testing.assert_allclose(sum(weights), phi_functions(z, 1)[1], rtol=1e-12)
    # each weight against quadrature of its definition ∫_0^1 e^{z(1-s)} ℓ_j(s) ds, ℓ_j as a product
    nodes = -np.arange(order)
    for j in range(order):
        def basis(s, j=j):
            return np.prod([(s - nodes[i]) / (nodes[j] - nodes[i]) for i in range(order) if i != j])
        for zi, weight in zip(z, weights[j], strict=True):
            expected = quad(lambda s, zi=zi, basis=basis: np.exp(zi * (1 - s)) * basis(s), 0, 1, epsabs=0,
                            epsrel=1e-13)[0]
            assert weight == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_exact_for_linear_problems_with_constant_forcing():
    """v' = Lv + f with constant f: the interpolated N is exact, so is every step (and the start-up)."""
    linear, forcing = np.array([-2.0, -0.3 + 4j, 0.5]), np.array([1.0, -2.0 + 1j, 0.25])
    v0 = np.array([1.0, 2.0 - 1j, 0.5])
    stepper = ETDAdams(linear, 0.1, order=5)
    v = v0
    for _ in range(30):
        v = stepper.step(v, lambda w: forcing + 0 * w)
    exact = np.exp(linear * 3.0) * v0 + np.expm1(linear * 3.0) / linear * forcing
    np.testing.assert_allclose(v, exact, rtol=1e-12)


def test_history_restarts_for_a_foreign_state_and_torch_matches_numpy():
    x_unit = np.arange(128) / 128
    u0 = np.stack([np.sin(2 * np.pi * x_unit) + 0.3 * np.cos(4 * np.pi * x_unit + i) for i in range(3)])
    lengths = np.array([60.0, 64.0, 68.0])
    solver = KSSolver(128, lengths, 1.0, batch=3)
    first = solver.solve(u0, 0.2, 20, substeps=4, scheme="etd-adams4")
    np.testing.assert_array_equal(first[:, 0], u0)
    # a second trajectory from another state with the same stepper object must not reuse the history
    stepper = ETDAdams(solver.linear_symbol(), 0.05, order=4, factor=solver.nonlinear_factor())
    v = solver.to_spectral(u0) * solver.mask
    runs = []
    for _ in range(2):
        w = v.copy()
        for _ in range(40):
            w = stepper.step(w, solver.nonlinear_core)
        runs.append(w)
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_allclose(solver.to_grid(runs[0]), first[:, 10], atol=1e-12)
    on_torch = solver.solve(u0, 0.2, 20, substeps=4, scheme="etd-adams4", device="cpu")
    np.testing.assert_allclose(on_torch, first, rtol=0, atol=1e-12)


def test_unknown_scheme_and_unstable_substeps_are_refused(tmp_path):
    with pytest.raises(BadInput, match="unknown time-stepping scheme"):
        KSSolver(64, 22.0).solve(np.zeros((1, 64)), 0.1, 2, scheme="rk4")
    with pytest.raises(ValueError, match="order"):
        ETDAdams(np.zeros(3), 0.1, order=7)
    with pytest.raises(BadInput, match=r"CFL 1\.470 > 0\.06 for etd-adams6"):
        generate("ks", tmp_path / "a.h5", progress=False, overrides={"scheme": "etd-adams6", "substeps": "2"})
    with pytest.raises(BadInput, match="too large for stability"):  # the evaluation split's longer Δt
        generate("ks", tmp_path / "c.h5", progress=False, overrides={"nt_eval": "400", "keep_eval": "100"})
    with pytest.raises(BadInput, match="unknown time-stepping scheme"):
        generate("ks", tmp_path / "b.h5", progress=False, overrides={"scheme": "adams"})
    path = tmp_path / "ks.h5"
    generate("ks", path, progress=False, overrides={
        "scheme": "etd-adams5", "substeps": "32", "train": "2", "valid": "1", "test": "1",
        "nt_train": "30", "keep_train": "10", "nt_eval": "30", "keep_eval": "10",
        "t_end_train": "6", "t_end_eval": "6"})
    assert path.exists()
