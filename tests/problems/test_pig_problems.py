"""PIG-suite problems: each exact solution satisfies its PDE with the stated source (finite-difference
residuals vanish at second order, and with torch autograd to rounding), the settings match PIG's code,
and invalid values are refused."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import PIG_BUMPS, FlowMixing, Helmholtz2D, KleinGordon, NonlinearDiffusion
from pdesuite.registry import PROBLEMS


def rate(h, errors) -> float:
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def d1(f, step, axis):
    """Central first difference along ``axis`` (interior of the array)."""
    return (np.roll(f, -1, axis) - np.roll(f, 1, axis)) / (2 * step)


def d2(f, step, axis):
    return (np.roll(f, -1, axis) - 2 * f + np.roll(f, 1, axis)) / step**2


def interior(f):
    return f[(slice(1, -1),) * f.ndim]


def helmholtz_residual(problem, n):
    x = np.linspace(-1, 1, n)
    h = x[1] - x[0]
    X, Y = np.meshgrid(x, x, indexing="ij")
    u = problem.exact((X, Y), NUMPY)
    r = d2(u, h, 0) + d2(u, h, 1) + problem.k**2 * u - problem.source((X, Y), NUMPY)
    return np.abs(interior(r)).max(), h


def space_time_grid(problem, n, n_t):
    (x0, x1), _ = problem.bounds
    t = np.linspace(0.0, problem.t_end, n_t)
    x = np.linspace(x0, x1, n)
    T, X, Y = np.meshgrid(t, x, x, indexing="ij")
    return (X, Y), T, t[1] - t[0], x[1] - x[0]


def klein_gordon_residual(problem, n):
    x, t, dt, h = space_time_grid(problem, n, 4 * n)
    u = problem.exact(x, t, NUMPY)
    r = d2(u, dt, 0) - d2(u, h, 1) - d2(u, h, 2) + u**2 - problem.source(x, t, NUMPY)
    return np.abs(interior(r)).max(), h


def flow_mixing_residual(problem, n, velocity=None):
    x, t, dt, h = space_time_grid(problem, n, n)
    u = problem.exact(x, t, NUMPY)
    a, b = (velocity or problem.velocity)(x, NUMPY)
    r = d1(u, dt, 0) + a * d1(u, h, 1) + b * d1(u, h, 2)
    return np.abs(interior(r)).max(), h


@pytest.mark.parametrize("residual, problem, sizes", [
    (helmholtz_residual, Helmholtz2D(), [41, 81, 161]),
    (helmholtz_residual, Helmholtz2D(a1=2.0, a2=3.0, k=5.0), [41, 81, 161]),
    (klein_gordon_residual, KleinGordon(), [21, 41, 81]),
    # up to t = 1: by t = 4 the vortex has wound u into a spiral too fine for these grids
    (flow_mixing_residual, FlowMixing(t_end=1.0), [24, 48, 96]),
])
def test_finite_difference_residual_vanishes_at_second_order(residual, problem, sizes):
    values, steps = zip(*(residual(problem, n) for n in sizes), strict=True)
    assert values[-1] < values[0] / 10, values
    assert 1.8 < rate(steps[-2:], values[-2:]) < 2.3, values  # the finest pair: past the pre-asymptotic range


def test_residual_check_detects_a_wrong_equation():
    # the same checks on a wrong source or velocity do not converge: they could fail
    wrong = KleinGordon(k=2.0)
    x, t, dt, h = space_time_grid(wrong, 41, 164)
    u = wrong.exact(x, t, NUMPY)
    cubic = d2(u, dt, 0) - d2(u, h, 1) - d2(u, h, 2) + u**3 - wrong.source(x, t, NUMPY)
    assert np.abs(interior(cubic)).max() > 0.1  # u³ instead of PIG's u² is not this problem
    flow = FlowMixing(t_end=1.0)
    reversed_flow, _ = flow_mixing_residual(flow, 96, lambda x, m: tuple(-v for v in flow.velocity(x, m)))
    assert reversed_flow > 0.1


def torch_namespace():
    torch = pytest.importorskip("torch")
    return torch, SimpleNamespace(sin=torch.sin, cos=torch.cos, tanh=torch.tanh, exp=torch.exp,
                                  sqrt=torch.sqrt, pi=math.pi)


def grad(torch, y, x):
    return torch.autograd.grad(y.sum(), x, create_graph=True, allow_unused=True, materialize_grads=True)[0]


def test_exact_solutions_satisfy_their_pdes_under_autograd():
    torch, m = torch_namespace()
    gen = torch.Generator().manual_seed(0)
    x = (2 * torch.rand(500, generator=gen, dtype=torch.float64) - 1).requires_grad_(True)
    y = (2 * torch.rand(500, generator=gen, dtype=torch.float64) - 1).requires_grad_(True)
    t = (10 * torch.rand(500, generator=gen, dtype=torch.float64)).requires_grad_(True)

    hh = Helmholtz2D()
    u = hh.exact((x, y), m)
    lap = grad(torch, grad(torch, u, x), x) + grad(torch, grad(torch, u, y), y)
    assert (lap + hh.k**2 * u - hh.source((x, y), m)).abs().max() < 1e-9

    kg = KleinGordon()
    u = kg.exact((x, y), t, m)
    u_tt = grad(torch, grad(torch, u, t), t)
    lap = grad(torch, grad(torch, u, x), x) + grad(torch, grad(torch, u, y), y)
    assert (u_tt - lap + u**2 - kg.source((x, y), t, m)).abs().max() < 1e-9
    u0 = kg.exact((x, y), 0 * t, m)
    assert (u0 - kg.initial((x, y), m)).abs().max() < 1e-14
    t0 = torch.zeros_like(t, requires_grad=True)
    v0 = grad(torch, kg.exact((x, y), t0, m), t0)
    assert (v0 - kg.initial_velocity((x, y), m)).abs().max() < 1e-12

    fm = FlowMixing()
    xs, ys, ts = 4 * x, 4 * y, 0.4 * t
    u = fm.exact((xs, ys), ts, m)
    a, b = fm.velocity((xs, ys), m)
    residual = grad(torch, u, ts) + a * grad(torch, u, xs) + b * grad(torch, u, ys)
    assert residual.abs().max() < 1e-12


def test_settings_match_pig_code():
    # Helmholtz: PIG's u = sin(a1 π y) sin(a2 π x) with --a1 4 --a2 1
    X, Y = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 9), indexing="ij")
    np.testing.assert_allclose(Helmholtz2D().exact((X, Y), NUMPY), np.sin(4 * np.pi * Y) * np.sin(np.pi * X))
    # Klein-Gordon: --k=2, source u² - k²u
    kg = KleinGordon()
    assert (kg.k, kg.t_end, kg.bounds) == (2.0, 10.0, ((-1.0, 1.0), (-1.0, 1.0)))
    # flow mixing: ω = v_t/(r v_max), (a, b) = (v_t/v_max)(-y/r, x/r), v_t = sech²(r) tanh(r)
    fm = FlowMixing()
    assert (fm.v_max, fm.t_end, fm.bounds) == (0.385, 4.0, ((-4.0, 4.0), (-4.0, 4.0)))
    X, Y = 4 * X, 4 * Y + 0.1  # avoid r = 0
    r = np.hypot(X, Y)
    v_t = np.tanh(r) / np.cosh(r) ** 2
    a, b = fm.velocity((X, Y), NUMPY)
    np.testing.assert_allclose(a, -(v_t / 0.385) * (Y / r), rtol=1e-10)
    np.testing.assert_allclose(b, (v_t / 0.385) * (X / r), rtol=1e-10)
    omega = v_t / (r * 0.385)
    np.testing.assert_allclose(fm.exact((X, Y), 2.5, NUMPY),
                               -np.tanh(Y / 2 * np.cos(omega * 2.5) - X / 2 * np.sin(omega * 2.5)), rtol=1e-10)
    # nonlinear diffusion: PIG's initial condition
    nd = NonlinearDiffusion()
    assert (nd.alpha, nd.t_end, nd.bumps) == (0.05, 1.0, PIG_BUMPS)
    px, py = np.array([0.3, -0.5, 0.0, 1.0]), np.array([0.2, -0.1, -0.5, 1.0])
    pig = (0.25 * np.exp(-((px - 0.3) ** 2 + (py - 0.2) ** 2) / 0.1)
           + 0.4 * np.exp(-((px + 0.5) ** 2 + (py + 0.1) ** 2) * 15)
           + 0.3 * np.exp(-(px**2 + (py + 0.5) ** 2) * 20))
    np.testing.assert_allclose(nd.initial((px, py), NUMPY), pig, rtol=1e-14)
    np.testing.assert_array_equal(nd.boundary((px, py), 0.5, NUMPY), 0.0)


def test_flow_mixing_is_finite_at_the_vortex_centre():
    fm = FlowMixing()
    origin = (np.zeros(1), np.zeros(1))
    np.testing.assert_allclose(fm.omega(origin, NUMPY), 1 / 0.385, rtol=1e-12)
    assert np.isfinite(fm.exact(origin, 3.0, NUMPY)).all()


def test_registered_names():
    for name, cls in [("helmholtz-2d", Helmholtz2D), ("klein-gordon", KleinGordon), ("flow-mixing", FlowMixing),
                      ("nonlinear-diffusion", NonlinearDiffusion)]:
        assert PROBLEMS.get(name) is cls and cls().has_exact_solution == (cls is not NonlinearDiffusion)


@pytest.mark.parametrize("make", [
    lambda: Helmholtz2D(k=-1.0), lambda: Helmholtz2D(a1=float("nan")), lambda: KleinGordon(t_end=0.0),
    lambda: KleinGordon(k=float("inf")), lambda: FlowMixing(v_max=0.0), lambda: FlowMixing(t_end=-4.0),
    lambda: NonlinearDiffusion(alpha=-0.05), lambda: NonlinearDiffusion(bumps=((1.0, 0.0, 0.0, -2.0),)),
    lambda: NonlinearDiffusion(bounds=((1.0, -1.0), (-1.0, 1.0))),
])
def test_invalid_values_are_bad_input(make):
    with pytest.raises(BadInput):
        make()
