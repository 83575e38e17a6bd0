"""Viscous Burgers equation u_t + u u_x = ν u_xx on [0, L), periodic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import LagrangianForm, PhysicsInformed, Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("burgers")
@dataclass(frozen=True)
class Burgers(PhysicsInformed, Problem):
    """u_t + u u_x = ν u_xx, x ∈ [0, L) periodic.

    Attributes:
        nu: Viscosity ν >= 0.
        length: Domain length (default 2π).
        t_end: Final time T > 0.
    """

    name = "burgers"
    axes = ("t", "x")
    dim: int = 1
    nu: float = 0.01
    length: float = 2 * math.pi
    t_end: float = 1.0

    def __post_init__(self) -> None:
        require(math.isfinite(self.nu) and self.nu >= 0, f"viscosity nu must be >= 0, got {self.nu}")
        require(self.length > 0, f"domain length must be positive, got {self.length}")
        require(self.t_end > 0, f"final time T must be positive, got {self.t_end}")

    @property
    def periodic(self) -> dict[str, float]:
        return {"x": self.length}

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = -u u_x + ν u_xx."""
        from pdesuite.problems.autodiff import derivative

        u_x = grad[:, first : first + 1]
        return -u * u_x + self.nu * derivative(u_x, X, first)

    def lagrangian_form(self) -> LagrangianForm:
        return LagrangianForm(speed=0.0, viscosity=self.nu, self_advected=True)
