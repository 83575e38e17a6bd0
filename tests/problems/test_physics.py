"""The physics each problem owns: residuals vanish on exact solutions, spatial operators equal their
closed forms on test functions (autograd against hand-derived derivatives), float64."""

import math

import pytest
import torch

from pdesuite.problems.autodiff import TORCH, columns
from pdesuite.problems.base import PhysicsInformed, physics_problems, problem_instance
from pdesuite.problems.pig import NonlinearDiffusion
from pdesuite.registry import PROBLEMS


def points(n, dims, low=-1.0, high=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (low + (high - low) * torch.rand(n, dims, generator=g, dtype=torch.float64)).requires_grad_(True)


#: problem -> (parameters, exact u(X) with X = (t, x[, y]) or (x, y)) for problems with an exact solution
EXACT = {
    "convection": ({"c": 7.0, "nu": 0.03}, lambda p, X: p.exact(columns(X, 1), X[:, :1], TORCH)),
    "convection-inviscid": ({"c": 30.0, "nu": 0.0}, lambda p, X: p.exact(columns(X, 1), X[:, :1], TORCH)),
    "helmholtz-2d": ({"a1": 1.0, "a2": 4.0, "k": 1.0}, lambda p, X: p.exact(columns(X, 0), TORCH)),
    "klein-gordon": ({"k": 2.0}, lambda p, X: p.exact(columns(X, 1), X[:, :1], TORCH)),
    "flow-mixing": ({}, lambda p, X: p.exact(columns(X, 1), X[:, :1], TORCH)),
    "advection": ({"a": 0.25}, lambda p, X: p.exact(columns(X, 1), X[:, :1], TORCH)),
}


@pytest.mark.parametrize("case", sorted(EXACT))
def test_residual_vanishes_on_the_exact_solution(case):
    name = case.replace("-inviscid", "")
    params, exact = EXACT[case]
    problem = problem_instance(name, params)
    X = points(200, len(problem.axes))
    residual = problem.residual(lambda Y: exact(problem, Y), X)
    u = exact(problem, X)
    assert residual.shape == (200, 1)
    assert float(residual.detach().abs().max()) < 1e-9 * max(1.0, float(u.detach().abs().max()))


def test_every_physics_problem_is_covered_here():
    assert set(physics_problems()) == {"advection", "allen-cahn", "burgers", "convection", "flow-mixing",
                                       "helmholtz-2d", "klein-gordon", "nonlinear-diffusion", "taylor-green"}


def test_spatial_operators_against_closed_forms():
    """u = sin(ax) e^{-t} (1D) or sin(ax) cos(by) (2D): F(u) by autograd equals the hand derivation."""
    a, b = 1.3, 0.7
    X = points(100, 2)
    t, x = X[:, :1], X[:, 1:2]
    u_fn = lambda Y: torch.sin(a * Y[:, 1:2]) * torch.exp(-Y[:, :1])  # noqa: E731
    u, u_x, u_xx = u_fn(X), a * torch.cos(a * x) * torch.exp(-t), -a * a * u_fn(X)
    cases = {
        "convection": ({"c": 2.0, "nu": 0.1}, lambda p: -2.0 * u_x + 0.1 * u_xx),
        "burgers": ({"nu": 0.05}, lambda p: -u * u_x + 0.05 * u_xx),
        "allen-cahn": ({"epsilon": 1e-3, "reaction": 5.0}, lambda p: 1e-3 * u_xx + 5.0 * (u - u**3)),
    }
    for name, (params, closed) in cases.items():
        problem = problem_instance(name, params)
        grad = torch.autograd.grad(u_fn(X), X, torch.ones(100, 1, dtype=torch.float64), create_graph=True)[0]
        F = problem.spatial_operator(u_fn(X), X, grad, first=1)
        torch.testing.assert_close(F, closed(problem), rtol=1e-10, atol=1e-12, msg=name)
        # the default residual is u_t - F
        torch.testing.assert_close(problem.residual(u_fn, X), -u - closed(problem), rtol=1e-10, atol=1e-12)

    X3 = points(100, 3)
    v_fn = lambda Y: torch.sin(a * Y[:, 1:2]) * torch.cos(b * Y[:, 2:3]) + 2.0  # noqa: E731
    x, y = X3[:, 1:2], X3[:, 2:3]
    v = v_fn(X3)
    v_x, v_y = a * torch.cos(a * x) * torch.cos(b * y), -b * torch.sin(a * x) * torch.sin(b * y)
    lap = -(a * a + b * b) * (v - 2.0)
    diffusion = NonlinearDiffusion(alpha=0.05)
    grad = torch.autograd.grad(v_fn(X3), X3, torch.ones(100, 1, dtype=torch.float64), create_graph=True)[0]
    # ∇·(v∇v) = |∇v|² + v Δv
    torch.testing.assert_close(diffusion.spatial_operator(v_fn(X3), X3, grad),
                               0.05 * (v_x**2 + v_y**2 + v * lap), rtol=1e-10, atol=1e-12)
    mixing = problem_instance("flow-mixing", {})
    wa, wb = mixing.velocity(columns(X3, 1), TORCH)
    torch.testing.assert_close(mixing.spatial_operator(v_fn(X3), X3, grad), -(wa * v_x + wb * v_y))


def test_operator_without_a_time_column_for_time_stepping():
    """INSR evaluates F on a network of x alone (first = 0)."""
    problem = problem_instance("convection", {"c": 1.0, "nu": 0.2})
    x = points(50, 1, 0.0, 2 * math.pi)
    u = torch.sin(x)
    grad = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)[0]
    torch.testing.assert_close(problem.spatial_operator(u, x, grad, first=0), -torch.cos(x) - 0.2 * torch.sin(x))


def test_problems_without_a_spatial_operator_say_so():
    helmholtz = problem_instance("helmholtz-2d", {})
    with pytest.raises(NotImplementedError, match="no spatial operator"):
        helmholtz.spatial_operator(None, None, None)
    assert isinstance(helmholtz, PhysicsInformed) and helmholtz.steady
    assert not issubclass(PROBLEMS.get("poisson"), PhysicsInformed)
