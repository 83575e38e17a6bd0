"""Convection-diffusion u_t + c u_x = ν u_xx on [0, 2π), periodic, u0 = sin x (LPINN / PINN-failure benchmark)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("convection")
@dataclass(frozen=True)
class Convection(Problem):
    """u_t + c u_x = ν u_xx, x ∈ [0, 2π) periodic, t ∈ [0, T], u0 = sin x.

    Exact solution u = e^{-νt} sin(x - ct) (`exact`).
    """

    name = "convection"
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
