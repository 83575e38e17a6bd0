"""Reaction-diffusion (positive definite) and Helmholtz (indefinite) equations.

    reaction-diffusion:  -∇·(κ∇u) + c u = f,   c >= 0   (UM2N's -Δu + u = f has κ = c = 1)
    Helmholtz:            Δu + k² u = f                (PIG's benchmark; indefinite for k² above
                                                        the first Dirichlet eigenvalue)

Both with Dirichlet data u = g on the whole boundary, derived from `exact` when not given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import Expr, Problem, as_expr, positive_if_constant, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("reaction-diffusion")
@dataclass(frozen=True)
class ReactionDiffusion(Problem):
    """-∇·(κ∇u) + c u = f in Ω, u = g on ∂Ω (symmetric positive definite).

    Attributes:
        kappa: Diffusion coefficient κ > 0.
        reaction: Reaction coefficient c >= 0 (a number).
        source: f(x); derived from `exact` when None.
        dirichlet_value: g(x); derived from `exact` when None.
        exact: Exact solution, if known.
    """

    name = "reaction-diffusion"
    kappa: Expr | float = 1.0
    reaction: float = 1.0
    source: Expr | float | None = None
    dirichlet_value: Expr | float | None = None
    exact: Expr | None = None

    def __post_init__(self) -> None:
        positive_if_constant(self.kappa, "diffusivity kappa")
        require(math.isfinite(self.reaction) and self.reaction >= 0,
                f"reaction coefficient must be >= 0, got {self.reaction}")
        for name in ("kappa", "source", "dirichlet_value"):
            object.__setattr__(self, name, as_expr(getattr(self, name)))


@PROBLEMS.register("helmholtz")
@dataclass(frozen=True)
class Helmholtz(Problem):
    """Δu + k² u = f in Ω, u = g on ∂Ω.

    Attributes:
        wavenumber: k (real, >= 0).
        source: f(x); derived from `exact` when None.
        dirichlet_value: g(x); derived from `exact` when None.
        exact: Exact solution, if known.
    """

    name = "helmholtz"
    wavenumber: float = 1.0
    source: Expr | float | None = None
    dirichlet_value: Expr | float | None = None
    exact: Expr | None = None

    def __post_init__(self) -> None:
        require(math.isfinite(self.wavenumber) and self.wavenumber >= 0,
                f"wavenumber must be >= 0, got {self.wavenumber}")
        for name in ("source", "dirichlet_value"):
            object.__setattr__(self, name, as_expr(getattr(self, name)))

    @staticmethod
    def pig_benchmark(a1: float = 1.0, a2: float = 4.0, k: float = 1.0) -> Helmholtz:
        """PIG / PINN benchmark on [-1, 1]²: u = sin(a1 π x) sin(a2 π y)."""
        return Helmholtz(
            wavenumber=k,
            exact=lambda x, m: m.sin(a1 * m.pi * x[0]) * m.sin(a2 * m.pi * x[1]),
        )
