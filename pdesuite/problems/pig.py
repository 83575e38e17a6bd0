"""The four PDE benchmarks of Physics-Informed Gaussians (Kang et al., ICLR 2025).

Settings follow the authors' code (``NamGyuKang/Physics-Informed-Gaussians@4d8ab30``):

    helmholtz-2d         Δu + k²u = f on [-1, 1]²,                u = sin(a1 π x) sin(a2 π y)
    klein-gordon         u_tt - Δu + u² = f on [-1, 1]² × [0, 10], u = (x + y) cos kt + x y sin kt
    flow-mixing          u_t + a u_x + b u_y = 0 on [-4, 4]² × [0, 4],
                         u = -tanh((y cos ωt - x sin ωt) / 2)
    nonlinear-diffusion  u_t = α ∇·(u ∇u) on [-1, 1]² × [0, 1], u = 0 on ∂Ω, three Gaussians at t = 0

Every expression takes the coordinates ``x`` (``x[0]``, ``x[1]``), the time ``t`` where there is one,
and a math namespace ``m`` (``NUMPY``, or any object with ``sin cos tanh exp sqrt pi``, e.g. torch),
so surrogates can evaluate the exact solutions and sources on tensors and differentiate them.
Source terms are derived analytically from the exact solutions (see each class).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import Expr, PhysicsInformed, Problem, TimeExpr, require
from pdesuite.registry import PROBLEMS

Bounds = tuple[tuple[float, float], tuple[float, float]]


def _finite(value: float, name: str) -> None:
    require(isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
            f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class PIGProblem(PhysicsInformed, Problem):
    """Shared pieces: a rectangle ``bounds`` and, for evolution problems, the final time ``t_end``."""

    axes = ("t", "x", "y")

    bounds: Bounds = ((-1.0, 1.0), (-1.0, 1.0))
    t_end: float = 1.0

    def __post_init__(self) -> None:
        for (low, high), axis in zip(self.bounds, "xy", strict=True):
            _finite(low, f"{axis} lower bound")
            _finite(high, f"{axis} upper bound")
            require(low < high, f"{axis} bounds must satisfy low < high, got ({low}, {high})")
        _finite(self.t_end, "final time t_end")
        require(self.t_end > 0, f"final time t_end must be positive, got {self.t_end}")


@PROBLEMS.register("helmholtz-2d")
@dataclass(frozen=True)
class Helmholtz2D(PIGProblem):
    """Δu + k²u = f on [-1, 1]² with u = g on ∂Ω (steady; ``t_end`` is unused).

    Exact solution and the source it implies (Δu = -(a1² + a2²)π² u):

        u = sin(a1 π x) sin(a2 π y),     f = (k² - (a1² + a2²) π²) u.

    PIG's script runs ``--a1 4 --a2 1`` with ``u = sin(a1 π y) sin(a2 π x)``: the same function as
    a1 = 1, a2 = 4 here. Its coefficient ``--lambda-1 = 1`` multiplies u, i.e. k² = 1.

    Attributes:
        a1: Frequency in x (in units of π).
        a2: Frequency in y.
        k: Wavenumber k >= 0.
    """

    name = "helmholtz-2d"
    axes = ("x", "y")
    time_order = 0
    a1: float = 1.0
    a2: float = 4.0
    k: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("a1", "a2", "k"):
            _finite(getattr(self, key), key)
        require(self.k >= 0, f"wavenumber k must be >= 0, got {self.k}")

    def exact(self, x, m):
        return m.sin(self.a1 * m.pi * x[0]) * m.sin(self.a2 * m.pi * x[1])

    def source(self, x, m):
        return (self.k**2 - (self.a1**2 + self.a2**2) * math.pi**2) * self.exact(x, m)

    def dirichlet_value(self, x, m):
        return self.exact(x, m)

    def residual(self, u_fn, X):
        """Δu + k²u - f."""
        from pdesuite.problems.autodiff import TORCH, columns, laplacian

        u = u_fn(X)
        return laplacian(u, X, (0, 1)) + self.k**2 * u - self.source(columns(X, 0), TORCH)


@PROBLEMS.register("klein-gordon")
@dataclass(frozen=True)
class KleinGordon(PIGProblem):
    """u_tt - Δu + u² = f on [-1, 1]² × [0, T], with u, u_t at t = 0 and u on ∂Ω from the exact solution.

    Exact solution: u = (x + y) cos kt + x y sin kt. Both spatial factors are harmonic (Δu = 0) and
    u_tt = -k² u, so

        f = u² - k² u.

    The nonlinearity is quadratic (u², as in PIG and SPINN), not the cubic u³ of other Klein-Gordon
    benchmarks. PIG's script uses k = 2 (``--k=2``), the ``cos 2t`` of the issue.

    Attributes:
        k: Temporal frequency of the exact solution.
        t_end: Final time T (PIG: 10).
    """

    name = "klein-gordon"
    time_order = 2
    t_end: float = 10.0
    k: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _finite(self.k, "k")

    def exact(self, x, t, m):
        return (x[0] + x[1]) * m.cos(self.k * t) + x[0] * x[1] * m.sin(self.k * t)

    def source(self, x, t, m):
        u = self.exact(x, t, m)
        return u * u - self.k**2 * u

    def initial(self, x, m):
        return self.exact(x, 0.0 * x[0], m)

    def initial_velocity(self, x, m):
        """u_t at t = 0: k x y."""
        return self.k * x[0] * x[1]

    def dirichlet_value(self, x, t, m):
        return self.exact(x, t, m)

    def residual(self, u_fn, X):
        """u_tt - Δu + u² - f."""
        from pdesuite.problems.autodiff import TORCH, columns, derivative, gradient, laplacian

        u = u_fn(X)
        grad = gradient(u, X)
        u_tt = derivative(grad[:, 0:1], X, 0)
        return u_tt - laplacian(u, X, (1, 2), grad) + u**2 - self.source(columns(X, 1), X[:, 0:1], TORCH)


@PROBLEMS.register("flow-mixing")
@dataclass(frozen=True)
class FlowMixing(PIGProblem):
    """u_t + a u_x + b u_y = 0 on [-4, 4]² × [0, 4]: a vortex with radius-dependent angular speed.

    With r = √(x² + y²) and v_t = sech²(r) tanh(r), the velocity is a rigid rotation at angular speed
    ω(r) = v_t / (r v_max):

        a = -ω y = -(v_t / v_max)(y / r),    b = ω x = (v_t / v_max)(x / r).

    Since r is unchanged by the rotation, u = u0 carried around the circles solves the equation:

        u = -tanh((y cos ωt - x sin ωt) / 2),   u0 = -tanh(y / 2).

    sech² is written 1 - tanh² and r as √(x² + y² + ε²), ε = 1e-12, so the expressions are finite
    at the centre (ω → 1/v_max as r → 0) for numpy and autograd alike; the change is O(ε²).

    Attributes:
        v_max: Maximum tangential speed scale (PIG: 0.385).
        t_end: Final time (PIG: 4).
    """

    name = "flow-mixing"
    bounds: Bounds = ((-4.0, 4.0), (-4.0, 4.0))
    t_end: float = 4.0
    v_max: float = 0.385

    def __post_init__(self) -> None:
        super().__post_init__()
        _finite(self.v_max, "v_max")
        require(self.v_max > 0, f"v_max must be positive, got {self.v_max}")

    @staticmethod
    def radius(x, m):
        return m.sqrt(x[0] * x[0] + x[1] * x[1] + 1e-24)

    def omega(self, x, m):
        """Angular speed ω(r) = sech²(r) tanh(r) / (r v_max)."""
        r = self.radius(x, m)
        th = m.tanh(r)
        return (1.0 - th * th) * th / (r * self.v_max)

    def velocity(self, x, m):
        """(a, b) = ω(r) (-y, x)."""
        w = self.omega(x, m)
        return -w * x[1], w * x[0]

    def exact(self, x, t, m):
        angle = self.omega(x, m) * t
        return -m.tanh(0.5 * (x[1] * m.cos(angle) - x[0] * m.sin(angle)))

    def initial(self, x, m):
        return -m.tanh(0.5 * x[1])

    def source(self, x, t, m):
        return 0.0 * x[0]

    def dirichlet_value(self, x, t, m):
        return self.exact(x, t, m)

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = -(a u_x + b u_y)."""
        from pdesuite.problems.autodiff import TORCH, columns

        a, b = self.velocity(columns(X, first)[:2], TORCH)
        return -(a * grad[:, first : first + 1] + b * grad[:, first + 1 : first + 2])


#: PIG's initial condition: (amplitude A, centre x, centre y, inverse width s) of
#: A exp(-s((x - cx)² + (y - cy)²)) (``Nonlinear_Diffusion3d/utils/data_generators.py``).
PIG_BUMPS: tuple[tuple[float, float, float, float], ...] = (
    (0.25, 0.3, 0.2, 10.0),
    (0.4, -0.5, -0.1, 15.0),
    (0.3, 0.0, -0.5, 20.0),
)


@PROBLEMS.register("nonlinear-diffusion")
@dataclass(frozen=True)
class NonlinearDiffusion(PIGProblem):
    """u_t = α ∇·(u ∇u) + f on Ω × (0, T], u = g on ∂Ω, u(·, 0) = u0.

    PIG's case: α = 0.05, Ω = [-1, 1]², T = 1, f = 0, g = 0 and u0 a sum of three Gaussians
    (`PIG_BUMPS`). No exact solution is known; `pdesuite.solvers.fd.NonlinearDiffusionSolver` gives
    the reference. Note u0 is not zero on ∂Ω (up to 9.4e-3 at (-1, -0.1)): the boundary value
    switches to g = 0 for t > 0, as in PIG's loss (initial and boundary points are sampled apart).
    Since ∇·(u∇u) = Δ(u²)/2 the equation is a porous-medium equation (degenerate where u = 0).

    Attributes:
        alpha: Diffusivity α > 0.
        bumps: (A, cx, cy, s) of each Gaussian A exp(-s |x - c|²) of the default u0; s > 0.
        source: f(x, t, m), or None for zero (used by manufactured solutions).
        dirichlet_value: g(x, t, m), or None for zero.
        initial_value: u0(x, m) replacing the Gaussians, or None (then ``exact`` at t = 0 if given).
        exact: Exact solution u(x, t, m), if known (manufactured tests).
    """

    name = "nonlinear-diffusion"
    alpha: float = 0.05
    bumps: tuple[tuple[float, float, float, float], ...] = PIG_BUMPS
    source: TimeExpr | None = None
    dirichlet_value: TimeExpr | None = None
    initial_value: Expr | None = None
    exact: TimeExpr | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _finite(self.alpha, "diffusivity alpha")
        require(self.alpha > 0, f"diffusivity alpha must be positive, got {self.alpha}")
        for bump in self.bumps:
            require(len(bump) == 4, f"each bump is (A, cx, cy, s), got {bump!r}")
            for value in bump:
                _finite(value, "bump parameter")
            require(bump[3] > 0, f"bump inverse width s must be positive, got {bump[3]}")

    def initial(self, x, m):
        if self.initial_value is not None:
            return self.initial_value(x, m)
        if self.exact is not None:
            return self.exact(x, 0.0 * x[0], m)
        total = 0.0 * x[0]
        for amplitude, cx, cy, s in self.bumps:
            total = total + amplitude * m.exp(-s * ((x[0] - cx) ** 2 + (x[1] - cy) ** 2))
        return total

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = α ∇·(u ∇u) (+ f where a source is given)."""
        from pdesuite.problems.autodiff import TORCH, columns, derivative

        flux_x, flux_y = u * grad[:, first : first + 1], u * grad[:, first + 1 : first + 2]
        F = self.alpha * (derivative(flux_x, X, first) + derivative(flux_y, X, first + 1))
        if self.source is not None:
            F = F + self.source(columns(X, first)[:2], X[:, 0:1] if first else t, TORCH)
        return F

    def boundary(self, x, t, m):
        """g(x, t): ``dirichlet_value``, else the exact solution, else zero."""
        if self.dirichlet_value is not None:
            return self.dirichlet_value(x, t, m)
        if self.exact is not None:
            return self.exact(x, t, m)
        return 0.0 * x[0]
