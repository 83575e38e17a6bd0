"""Heat and advection-diffusion equations.

    ∂u/∂t + b·∇u - ∇·(κ∇u) = f(x, t)   in Ω × (0, T],
                          u = g(x, t)   on ∂Ω,
                    u(x, 0) = u0(x).

With b = 0 this is the heat equation. Expressions take ``(x, t, m)``. When `exact` is given,
`source`, `dirichlet_value` and `initial` default to what the exact solution implies.
"""

from __future__ import annotations

from dataclasses import dataclass

from pdesuite.problems.base import Problem, TimeExpr, positive_if_constant, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("heat")
@dataclass(frozen=True)
class Heat(Problem):
    """∂u/∂t + b·∇u - ∇·(κ∇u) = f with Dirichlet data; b = 0 gives the heat equation.

    Attributes:
        kappa: Diffusivity κ > 0 (a number, or an expression ``(x, m)``).
        velocity: Advection velocity b as a tuple of numbers, or None for pure diffusion.
        source: f(x, t, m); derived from `exact` when None (zero otherwise).
        dirichlet_value: g(x, t, m); derived from `exact` when None (zero otherwise).
        initial: u0(x, m); derived from `exact` when None.
        exact: Exact solution u(x, t, m), if known.
        t_end: Final time T > 0.
    """

    name = "heat"
    kappa: object = 1.0
    velocity: tuple[float, ...] | None = None
    source: TimeExpr | None = None
    dirichlet_value: TimeExpr | None = None
    initial: object = None
    exact: TimeExpr | None = None
    t_end: float = 1.0

    def __post_init__(self) -> None:
        positive_if_constant(self.kappa, "diffusivity kappa")
        require(self.t_end > 0, f"final time t_end must be positive, got {self.t_end}")
        require(self.initial is not None or self.exact is not None,
                "heat problem needs an initial condition or an exact solution")
        if self.velocity is not None:
            require(len(self.velocity) == self.dim,
                    f"velocity needs {self.dim} components, got {len(self.velocity)}")
PROBLEMS.register("advection-diffusion")(Heat)
