"""PDE residuals for physics-informed surrogates, computed with autograd.

Each `PDESpec` names the problem (as stored in a dataset's ``problem`` attribute), its input axes in
network-column order, which axes are periodic, and the residual r(u; X, params) that vanishes for an
exact solution. ``u_fn`` maps coordinates X (N, d) (requires_grad) to u (N, 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch

#: Math namespace for problem expressions evaluated on torch tensors.
TORCH = SimpleNamespace(sin=torch.sin, cos=torch.cos, exp=torch.exp, sqrt=torch.sqrt, tanh=torch.tanh,
                        ln=torch.log, pi=torch.pi, cosh=torch.cosh,
                        as_vector=lambda components: torch.stack(torch.broadcast_tensors(*components)))


def gradient(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """∇u at every point (N, d), keeping the graph for higher derivatives (one backward pass: take
    several first derivatives from it rather than calling `derivative` per axis)."""
    (g,) = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)
    return g


def derivative(u: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    """∂u/∂x_axis at every point (N, 1), keeping the graph for higher derivatives."""
    return gradient(u, x)[:, axis : axis + 1]


@dataclass(frozen=True)
class PDESpec:
    """A PDE for physics-informed training.

    Attributes:
        axes: Network input columns, e.g. ("t", "x").
        periodic: Axis -> period for periodic axes (enforced exactly by an input embedding).
        residual: (u_fn, X, params) -> r (N, 1).
        initial_velocity: For equations second order in time: (X at t0, params) -> u_t there.
    """

    axes: tuple[str, ...]
    residual: Callable
    periodic: dict[str, float] = field(default_factory=dict)
    initial_velocity: Callable | None = None

    @property
    def steady(self) -> bool:
        return "t" not in self.axes


def laplacian(u: torch.Tensor, X: torch.Tensor, axes: tuple[int, ...],
              grad: torch.Tensor | None = None) -> torch.Tensor:
    """Σ_a ∂²u/∂x_a² over ``axes``; ``grad`` = ∇u when already computed."""
    grad = gradient(u, X) if grad is None else grad
    return sum(derivative(grad[:, a : a + 1], X, a) for a in axes)


def _columns(X: torch.Tensor, first: int) -> list[torch.Tensor]:
    """Spatial coordinate columns x[0], x[1] (each (N, 1)) for problem expressions."""
    return [X[:, i : i + 1] for i in range(first, X.shape[1])]


def problem_instance(name: str, p: dict):
    """The registered problem object ``name`` built from a dataset sample's parameters (unknown keys,
    e.g. per-sample coordinates, are ignored)."""
    from pdesuite.registry import PROBLEMS

    cls = PROBLEMS.get(name)
    fields = {f for f in cls.__dataclass_fields__}
    return cls(**{k: v for k, v in p.items() if k in fields})


def _helmholtz_2d(u_fn, X, p):
    problem = problem_instance("helmholtz-2d", p)
    u = u_fn(X)
    return laplacian(u, X, (0, 1)) + problem.k**2 * u - problem.source(_columns(X, 0), TORCH)


def _klein_gordon(u_fn, X, p):
    problem = problem_instance("klein-gordon", p)
    u = u_fn(X)
    grad = gradient(u, X)
    u_tt = derivative(grad[:, 0:1], X, 0)
    return u_tt - laplacian(u, X, (1, 2), grad) + u**2 - problem.source(_columns(X, 1), X[:, 0:1], TORCH)


def _flow_mixing(u_fn, X, p):
    problem = problem_instance("flow-mixing", p)
    u = u_fn(X)
    a, b = problem.velocity(_columns(X, 1), TORCH)
    grad = gradient(u, X)
    return grad[:, 0:1] + a * grad[:, 1:2] + b * grad[:, 2:3]


def _nonlinear_diffusion(u_fn, X, p):
    problem = problem_instance("nonlinear-diffusion", p)
    u = u_fn(X)
    grad = gradient(u, X)
    flux_x, flux_y = u * grad[:, 1:2], u * grad[:, 2:3]
    return grad[:, 0:1] - problem.alpha * (derivative(flux_x, X, 1) + derivative(flux_y, X, 2))


def _klein_gordon_velocity(X, p):
    """u_t(x, 0) from the exact solution (the equation is second order in time)."""
    problem = problem_instance("klein-gordon", p)
    t = X[:, 0:1].clone().requires_grad_(True)
    u = problem.exact(_columns(X, 1), t, TORCH)
    return derivative(u, t, 0)


def _convection(u_fn, X, p):
    u = u_fn(X)
    grad = gradient(u, X)
    u_t, u_x = grad[:, 0:1], grad[:, 1:2]
    return u_t + p["c"] * u_x - p["nu"] * derivative(u_x, X, 1)


def _burgers(u_fn, X, p):
    u = u_fn(X)
    grad = gradient(u, X)
    u_t, u_x = grad[:, 0:1], grad[:, 1:2]
    return u_t + u * u_x - p["nu"] * derivative(u_x, X, 1)


def _allen_cahn(u_fn, X, p):
    u = u_fn(X)
    grad = gradient(u, X)
    return grad[:, 0:1] - p["epsilon"] * derivative(grad[:, 1:2], X, 1) - p["reaction"] * (u - u**3)


TWO_PI = 2 * torch.pi
#: Problem name -> PDE spec. A new physics-informed problem is one entry here.
PDES: dict[str, PDESpec] = {
    "convection": PDESpec(("t", "x"), _convection, {"x": TWO_PI}),
    "burgers": PDESpec(("t", "x"), _burgers, {"x": TWO_PI}),
    "allen-cahn": PDESpec(("t", "x"), _allen_cahn, {"x": 2.0}),
    "helmholtz-2d": PDESpec(("x", "y"), _helmholtz_2d),
    "klein-gordon": PDESpec(("t", "x", "y"), _klein_gordon, initial_velocity=_klein_gordon_velocity),
    "flow-mixing": PDESpec(("t", "x", "y"), _flow_mixing),
    "nonlinear-diffusion": PDESpec(("t", "x", "y"), _nonlinear_diffusion),
}
