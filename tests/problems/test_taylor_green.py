"""The Taylor-Green problem of INSR's fluid case: the single vortex is a steady, divergence-free Euler
solution with no flow through the walls; the multi-scale field is the authors' at hand-checked points;
its spectral reference reproduces the exact single vortex (the mirror-box argument); bad input."""

import math

import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.problems.taylor_green import TaylorGreen
from pdesuite.recipes.taylor_green import cell_centres, spectral_reference


def fields(problem, X):
    """(u, v, p) of the single vortex at X = (t, x, y), (N, 3)."""
    u, v = problem.exact_velocity(X[:, 1:2], X[:, 2:3])
    return torch.cat([u, v, problem.exact_pressure(X[:, 1:2], X[:, 2:3])], dim=1)


def test_the_single_vortex_is_a_steady_euler_solution():
    problem = TaylorGreen()
    g = torch.Generator().manual_seed(0)
    X = (torch.rand(300, 3, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    residual = problem.residual(lambda Y: fields(problem, Y), X)  # momentum x, y and the divergence
    assert residual.shape == (300, 3) and float(residual.detach().abs().max()) < 1e-12
    # and not trivially: without the pressure the momentum residual is the advection term, O(1/π)
    no_pressure = problem.residual(lambda Y: fields(problem, Y) * torch.tensor([1.0, 1.0, 0.0]), X)
    assert float(no_pressure[:, :2].detach().abs().max()) > 0.1
    with pytest.raises(BadInput, match=r"needs \(u, v, p\)"):
        problem.residual(lambda Y: fields(problem, Y)[:, :2], X)


def test_no_flow_through_the_walls_in_either_case():
    s = np.linspace(-1, 1, 101)
    for problem in (TaylorGreen(), TaylorGreen(multiscale=1)):
        for wall in (-1.0, 1.0):
            assert np.abs(problem.initial_velocity(np.full_like(s, wall), s)[0]).max() < 1e-12
            assert np.abs(problem.initial_velocity(s, np.full_like(s, wall))[1]).max() < 1e-12
    u, v = TaylorGreen().initial_velocity(np.array([-0.5]), np.array([-1.0]))  # tangential flow along y = -1
    assert abs(u[0] - 1 / math.pi) < 1e-12 and abs(v[0]) < 1e-12


@pytest.mark.parametrize(("point", "expected"), [
    ((-0.75, -0.5), (-1.0, 0.0)),    # the large block [-1, 0]²: X = π/2, Y = π
    ((0.8125, 0.875), (-1.0, 0.0)),  # the corner patch [0.75, 1]², scaled 8x: the same point of the vortex
    ((0.025, -0.75), (0.0, -0.5)),   # the fade beyond x = 0: the edge value (0, -1), halfway down
    ((0.5, 0.5), (0.0, 0.0)),        # at rest between the blocks
    ((0.06, -0.5), (0.0, 0.0)),      # beyond the fade
])
def test_the_multiscale_field_at_hand_checked_points(point, expected):
    x, y = (np.array([c]) for c in point)
    u, v = TaylorGreen(multiscale=1).initial_velocity(x, y)
    assert np.allclose([u[0], v[0]], expected, atol=1e-12)
    ut, vt = TaylorGreen(multiscale=1).initial_velocity(torch.tensor([point[0]]), torch.tensor([point[1]]))
    assert np.allclose([float(ut), float(vt)], expected, atol=1e-6)  # the same formula on tensors


def test_the_mirrored_spectral_reference_reproduces_the_exact_vortex():
    """NS2DSolver at ν = 0 on the mirrored periodic box, started from the single vortex, keeps it."""
    problem = TaylorGreen()
    u = spectral_reference(problem, 8, 0.05, 3, 32, 4)
    x, y = np.meshgrid(cell_centres(8), cell_centres(8), indexing="ij")
    exact = np.stack(problem.exact_velocity(x, y), axis=-1)
    assert u.shape == (4, 8, 8, 2) and np.abs(u - exact).max() < 1e-12


def test_the_multiscale_reference_conserves_energy():
    u = spectral_reference(TaylorGreen(multiscale=1), 32, 0.05, 3, 128, 8)
    energy = (0.5 * (u**2).sum(-1)).mean(axis=(1, 2))  # measured: 1.0002 after 2 more steps
    assert np.all(np.isfinite(u)) and abs(energy[3] / energy[1] - 1) < 1e-3


@pytest.mark.parametrize("kwargs", [{"multiscale": 2}, {"gap": 0.0}, {"scale": 1.5}, {"t_end": -1.0}])
def test_bad_problem_values(kwargs):
    with pytest.raises(BadInput):
        TaylorGreen(**kwargs)
    with pytest.raises(BadInput, match="no closed-form"):
        TaylorGreen(multiscale=1).exact_velocity(np.zeros(1), np.zeros(1))
