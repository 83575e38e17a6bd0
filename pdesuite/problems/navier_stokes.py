"""Incompressible Navier-Stokes flow past a cylinder in a channel (DFG benchmark, Schäfer & Turek 1996).

    ρ(∂u/∂t + (u·∇)u) - μΔu + ∇p = 0,   ∇·u = 0   in Ω = [0, 2.2] × [0, 0.41] minus a disc,

with the disc of radius 0.05 centred at (0.2, 0.2), no-slip on walls and cylinder, the parabolic
inflow u = (4 U_m y (H - y) / H², 0) at x = 0 (times sin(πt/8) for the 2D-3 case) and a
do-nothing outflow at x = 2.2. Units are SI as in the benchmark: ρ = 1 kg/m³, ν = μ/ρ = 1e-3 m²/s.
The Reynolds number is Re = Ū D / ν with Ū = 2 U_m / 3 the mean inflow speed and D = 0.1 m.

Reference values (Schäfer & Turek 1996; refined by John 2004 / FEATFLOW):
    2D-1 (steady, U_m = 0.3, Re = 20): c_D = 5.57953523384, c_L = 0.010618948146
    2D-2 (periodic, U_m = 1.5, Re = 100): max c_D = 3.22-3.24, max c_L = 0.99-1.01, St = 0.295-0.305
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import Problem, require
from pdesuite.registry import PROBLEMS

#: Published reference values used by tests and benchmarks.
DFG_2D1_REFERENCE = {"drag": 5.57953523384, "lift": 0.010618948146}
DFG_2D2_REFERENCE = {"max_drag": (3.22, 3.24), "max_lift": (0.99, 1.01), "strouhal": (0.295, 0.305)}


@PROBLEMS.register("navier-stokes-dfg")
@dataclass(frozen=True)
class DFGCylinderFlow(Problem):
    """The DFG 2D channel flow past a cylinder.

    Attributes:
        max_inflow: U_m, the peak of the parabolic inflow profile (m/s).
        viscosity: Kinematic viscosity ν (m²/s).
        density: ρ (kg/m³).
        pulsating: Multiply the inflow by sin(πt/8) (the 2D-3 case).
        t_end: Final time for transient runs (s).
    """

    name = "navier-stokes-dfg"
    max_inflow: float = 0.3
    viscosity: float = 1e-3
    density: float = 1.0
    pulsating: bool = False
    t_end: float = 8.0
    length: float = 2.2
    height: float = 0.41
    center: tuple[float, float] = (0.2, 0.2)
    radius: float = 0.05

    def __post_init__(self) -> None:
        require(math.isfinite(self.max_inflow) and self.max_inflow > 0,
                f"max_inflow must be positive, got {self.max_inflow}")
        require(self.viscosity > 0, f"viscosity must be positive, got {self.viscosity}")
        require(self.density > 0, f"density must be positive, got {self.density}")
        require(self.t_end > 0, f"t_end must be positive, got {self.t_end}")

    @property
    def mean_inflow(self) -> float:
        """Ū = 2 U_m / 3."""
        return 2.0 * self.max_inflow / 3.0

    @property
    def reynolds(self) -> float:
        """Re = Ū D / ν."""
        return self.mean_inflow * 2 * self.radius / self.viscosity

    @classmethod
    def from_reynolds(cls, reynolds: float, **kwargs) -> DFGCylinderFlow:
        """The problem whose Reynolds number is `reynolds` (varying the inflow speed)."""
        require(reynolds > 0, f"Reynolds number must be positive, got {reynolds}")
        nu = kwargs.get("viscosity", 1e-3)
        radius = kwargs.get("radius", 0.05)
        return cls(max_inflow=1.5 * reynolds * nu / (2 * radius), **kwargs)

    def inflow(self, x, t, m):
        """Inflow velocity at x = 0 as a pair of expressions (components), time factor included."""
        profile = 4.0 * self.max_inflow * x[1] * (self.height - x[1]) / self.height**2
        if self.pulsating:
            profile = profile * m.sin(m.pi * t / 8.0)
        return (profile, 0.0 * x[1])

    def body_force(self, x, t, m):
        """Force per unit volume f(x, t) on the right of the momentum equation (N/m³), a pair of
        expressions, or None (the benchmark has none). Manufactured-solution studies override it."""
        return None

    def force_coefficient_scale(self) -> float:
        """2 / (ρ Ū² D): turns a force per unit depth into a drag/lift coefficient."""
        return 2.0 / (self.density * self.mean_inflow**2 * 2 * self.radius)
