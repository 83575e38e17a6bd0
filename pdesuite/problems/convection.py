"""Convection-diffusion u_t + c u_x = ν u_xx on [0, 2π), periodic, u0 = sin x (LPINN / PINN-failure benchmark)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import LagrangianForm, PhysicsInformed, Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("convection")
@dataclass(frozen=True)
class Convection(PhysicsInformed, Problem):
    """u_t + c u_x = ν u_xx, x ∈ [0, 2π) periodic, t ∈ [0, T], u0 = sin x.

    Exact solution u = e^{-νt} sin(x - ct) (`exact`).
    """

    name = "convection"
    axes = ("t", "x")
    periodic = {"x": 2 * math.pi}
    dim: int = 1
    c: float = 30.0
    nu: float = 0.0
    t_end: float = 1.0

    def __post_init__(self) -> None:
        require(math.isfinite(self.c), f"convection speed c must be finite, got {self.c}")
        require(math.isfinite(self.nu) and self.nu >= 0, f"viscosity nu must be >= 0, got {self.nu}")
        require(self.t_end > 0, f"final time T must be positive, got {self.t_end}")

    def exact(self, x, t, m):
        """u(x, t) = e^{-νt} sin(x - ct), with ``m`` a math namespace (numpy, torch, UFL)."""
        return m.exp(-self.nu * t) * m.sin(x[0] - self.c * t)

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = -c u_x + ν u_xx (no second derivative when ν = 0)."""
        u_x = grad[:, first : first + 1]
        if self.nu == 0:
            return -self.c * u_x
        from pdesuite.problems.autodiff import derivative

        return -self.c * u_x + self.nu * derivative(u_x, X, first)

    def lagrangian_form(self) -> LagrangianForm:
        return LagrangianForm(speed=self.c, viscosity=self.nu)
