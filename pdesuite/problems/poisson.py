"""Poisson's equation with a variable coefficient.

    -∇·(κ(x) ∇u) = f   in Ω,
               u = g_D on Γ_D (selected by `dirichlet_boundary`),
        κ ∇u · n = g_N on Γ_N = ∂Ω \\ Γ_D.

When `exact` is given and `source` / `dirichlet_value` / `neumann_flux` are not, the solver
derives them from the exact solution (method of manufactured solutions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pdesuite.problems.base import Expr, Problem, as_expr, on_whole_boundary, positive_if_constant
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("poisson")
@dataclass(frozen=True)
class Poisson(Problem):
    """-∇·(κ∇u) = f with Dirichlet data on `dirichlet_boundary` and Neumann flux elsewhere.

    Attributes:
        kappa: Diffusion coefficient κ(x) > 0 (number or expression).
        source: Right-hand side f(x); derived from `exact` when None.
        dirichlet_value: g_D(x); derived from `exact` when None (zero if there is no exact solution).
        neumann_flux: g_N(x) = κ∇u·n; derived from `exact` when None (zero otherwise).
        dirichlet_boundary: Marker ``x (3, n) -> bool (n,)`` choosing Γ_D among boundary facets.
        exact: Exact solution u(x), if known.
    """

    name = "poisson"
    kappa: Expr | float = 1.0
    source: Expr | float | None = None
    dirichlet_value: Expr | float | None = None
    neumann_flux: Expr | float | None = None
    dirichlet_boundary: Callable[[np.ndarray], np.ndarray] = field(default=on_whole_boundary)
    exact: Expr | None = None

    def __post_init__(self) -> None:
        positive_if_constant(self.kappa, "diffusivity kappa")
        for name in ("kappa", "source", "dirichlet_value", "neumann_flux"):
            object.__setattr__(self, name, as_expr(getattr(self, name)))


def oscillating_coefficient_poisson() -> Poisson:
    """The variable-coefficient problem of the DCDM benchmark (docs/dcdm.md): -∇·(κ∇u) = f on the unit
    square, u = 0 on the boundary, κ = exp(1.5 sin 2πx sin 2πy) (from e^-1.5 to e^1.5, a contrast of 20)
    and a smooth bump source f = 1 + 10 exp(-20 |x - (0.3, 0.6)|²)."""
    return Poisson(kappa=lambda x, m: m.exp(1.5 * m.sin(2 * m.pi * x[0]) * m.sin(2 * m.pi * x[1])),
                   source=lambda x, m: 1.0 + 10.0 * m.exp(-20.0 * ((x[0] - 0.3) ** 2 + (x[1] - 0.6) ** 2)),
                   dirichlet_value=0.0)
