"""The neo-Hookean energy of the hyperelastic problem: zero and stationary at rest, P = ∂Ψ/∂F, numpy and
torch agree, the continued logarithm, the step's integrand, and bad input as one line."""

import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.problems.hyperelastic import CASES, Hyperelastic, safe_log


def test_energy_at_rest_and_its_derivative():
    p = Hyperelastic(mu=2.0, lam=3.0)
    assert p.energy_density(np.eye(2)) == 0.0 and np.allclose(p.first_piola(np.eye(2)), 0.0)
    rng = np.random.default_rng(0)
    F = np.eye(2) + 0.3 * rng.standard_normal((2, 2))
    P, eps = p.first_piola(F), 1e-6
    for i in range(2):
        for j in range(2):
            dF = np.zeros((2, 2))
            dF[i, j] = eps
            numeric = (p.energy_density(F + dF) - p.energy_density(F - dF)) / (2 * eps)
            assert abs(numeric - P[i, j]) < 1e-6
    # a uniaxial stretch in plane strain: Ψ = μ/2 (a² - 1 - 2 ln a) + λ/2 (ln a)²
    a = 1.7
    assert np.isclose(p.energy_density(np.diag([a, 1.0])), (a * a - 1 - 2 * np.log(a)) + 1.5 * np.log(a) ** 2)
    batch = np.eye(2) + 0.2 * rng.standard_normal((5, 2, 2))
    assert np.allclose(p.energy_density(torch.tensor(batch)).numpy(), p.energy_density(batch))


def test_the_continued_logarithm():
    J = np.array([2.0, 0.5, 0.05, 0.01, 0.0, -1.0])
    out = safe_log(J, 0.05)
    assert np.allclose(out[:3], np.log(J[:3])) and np.all(np.isfinite(out)) and np.all(np.diff(out) < 0)
    t = torch.tensor(J, requires_grad=True)
    safe_log(t, 0.05).sum().backward()
    assert torch.all(torch.isfinite(t.grad)) and torch.all(t.grad > 0)


def test_the_cases_and_the_step_integrand():
    stretch, sag, collide = Hyperelastic(dynamic=0.0), Hyperelastic(dynamic=1.0), Hyperelastic(dynamic=2.0)
    assert (stretch.case, sag.case, collide.case) == CASES and stretch.area == 4.0 and sag.area == 1.0
    assert collide.area == 4.0 and collide.perimeter == 8.0 and collide.clamp_displacement(1) == (None, None)
    assert sag.initial_velocity == (0.0, 0.0) and collide.initial_velocity == (0.5, -1.0)
    assert stretch.clamp_displacement(0) == ((0.0, 0.0), (0.0, 0.0))
    assert stretch.clamp_displacement(1) == ((0.0, 0.0), (2.0, 0.0)) and sag.clamp_displacement(3)[1] is None
    u, target = np.array([[0.1, -0.2]]), np.array([[0.0, -0.1]])
    F = np.eye(2)[None]
    expected = 0.5 * sag.rho / sag.dt**2 * 0.02 - sag.rho * sag.gravity * 0.2
    assert np.isclose(sag.step_density(u, F, target)[0], expected)
    assert stretch.step_density(u, F, None)[0] == 0.0


def test_the_contact_density():
    """κ/2 max(0, floor − q_y)² on the boundary: zero above the floor, numpy and torch agree, zero outside collide."""
    p = Hyperelastic(dynamic=2.0, kappa=100.0, floor=-1.5)
    X = np.array([[0.0, -1.0], [0.3, -1.0], [1.0, 0.2]])
    u = np.array([[0.0, -0.6], [0.1, -0.4], [0.0, -2.0]])  # q_y = -1.6 (0.1 deep), -1.4 (above), -1.8 (0.3 deep)
    assert np.allclose(p.contact_density(X, u), [50.0 * 0.01, 0.0, 50.0 * 0.09])
    assert np.allclose(p.contact_density(torch.tensor(X), torch.tensor(u)).numpy(), p.contact_density(X, u))
    assert np.all(Hyperelastic(dynamic=1.0).contact_density(X, u) == 0.0)


@pytest.mark.parametrize(("kwargs", "message"), [({"dynamic": 3.0}, "dynamic must be 0, 1 or 2"),
                                                 ({"dynamic": 2.0, "kappa": 0.0}, "kappa must be a positive"),
                                                 ({"dynamic": 2.0, "floor": -1.0}, "floor -1.0 must lie below"),
                                                 ({"dynamic": 2.0, "vx": float("inf")}, "vx must be a finite"),
                                                 ({"mu": 0.0}, "mu must be a positive"),
                                                 ({"dt": -1.0}, "dt must be a positive"),
                                                 ({"gravity": float("nan")}, "gravity must be a finite"),
                                                 ({"stretch": -2.0}, "would invert the body")])
def test_bad_input(kwargs, message):
    with pytest.raises(BadInput, match=message) as info:
        Hyperelastic(**kwargs)
    assert "\n" not in str(info.value)
