"""The swirl: a ring of tracer in a swirling, time-reversing flow (UM2N's moving-mesh advection case).

    ∂u/∂t + b(x, t)·∇u = 0   in Ω = [0, 1]² × (0, T],      u = 0 on the inflow boundary,
    u(x, 0) = u0(x) = exp(-(r - R)² / (2σ²)),   r = |x - c|,

with the divergence-free velocity (Zhang et al., NeurIPS 2024, UM2N's ``swirl_solver.py``)

    b(x, t) = A a(t) (sin²(πx) sin(2πy), -sin²(πy) sin(2πx)),   a(t) = +1 for t < t_r, -1 for t ≥ t_r.

b is the skew gradient of ψ = A a(t) sin²(πx) sin²(πy) / π, so ∇·b = 0 and b·n = 0 on ∂Ω (no
inflow at all: the boundary condition never acts). The flow winds the ring up until t_r and unwinds
it exactly afterwards, so for t_r = T/2 the solution at T is u0 again (`exact`). UM2N's case: A = 1.5,
t_r = 0.5, T = 1, c = (0.5, 0.75), R = 0.2, σ = 0.05/3.

Expressions take a math namespace ``m`` (numpy or UFL, see `pdesuite.problems.base.NUMPY` and
`pdesuite.solvers.fem.expressions.UFL`); the time in `velocity` may be a number, a numpy array or a
UFL expression (a dolfinx Constant): the sign switch a(t) is then a UFL conditional.

Units: dimensionless; x in the unit square, t in [0, T]. Shapes: ``x`` a sequence of two arrays of one
shape (or UFL scalars); `velocity` returns ``m.as_vector`` of two components ((2, ...) for numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pdesuite.problems.base import Problem, finite, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("swirl")
@dataclass(frozen=True)
class Swirl(Problem):
    """The swirling, time-reversing advection of a ring (see the module docstring).

    Attributes:
        amplitude: Velocity scale A (UM2N's 1.5).
        reversal_time: t_r ∈ (0, T] at which the flow reverses (UM2N's T/2).
        t_end: Final time T > 0.
        center: Centre c of the ring.
        radius: Ring radius R > 0.
        width: Ring width σ > 0 (the Gaussian's standard deviation across the ring).
    """

    name: ClassVar[str] = "swirl"

    amplitude: float = 1.5
    reversal_time: float = 0.5
    t_end: float = 1.0
    center: tuple[float, float] = (0.5, 0.75)
    radius: float = 0.2
    width: float = 0.05 / 3

    def __post_init__(self) -> None:
        for key in ("amplitude", "reversal_time", "t_end", "radius", "width"):
            value = getattr(self, key)
            require(finite(value), f"swirl: {key} must be a finite number, got {value!r}")
        for key in ("t_end", "radius", "width"):
            value = getattr(self, key)
            require(value > 0, f"swirl: {key} must be positive, got {value}")
        require(0 < self.reversal_time <= self.t_end,
                f"swirl: reversal_time must lie in (0, t_end = {self.t_end}], got {self.reversal_time}")
        require(len(self.center) == 2 and all(finite(c) for c in self.center),
                f"swirl: center must be two finite numbers, got {self.center!r}")

    # -- expressions -----------------------------------------------------------------------------
    def direction(self, t):
        """a(t) = +1 before the reversal time, -1 from it on (numbers, numpy arrays, or UFL)."""
        if isinstance(t, np.ndarray):
            return np.where(t < self.reversal_time, 1.0, -1.0)
        if isinstance(t, int | float | np.floating | np.integer):
            return 1.0 if t < self.reversal_time else -1.0
        import ufl  # a dolfinx Constant or UFL expression: stays symbolic, no recompilation per step

        return ufl.conditional(ufl.lt(t, self.reversal_time), 1.0, -1.0)

    def velocity(self, x, t, m):
        """b(x, t) = A a(t) (sin²(πx) sin(2πy), -sin²(πy) sin(2πx)) as ``m.as_vector``."""
        scale = self.amplitude * self.direction(t)
        bx = scale * m.sin(m.pi * x[0]) ** 2 * m.sin(2 * m.pi * x[1])
        by = -scale * m.sin(m.pi * x[1]) ** 2 * m.sin(2 * m.pi * x[0])
        return m.as_vector((bx, by))

    def initial(self, x, m):
        """u0 = exp(-(r - R)² / (2σ²)), r = |x - c|."""
        r = m.sqrt((x[0] - self.center[0]) ** 2 + (x[1] - self.center[1]) ** 2)
        return m.exp(-((r - self.radius) ** 2) / (2 * self.width**2))

    @property
    def has_exact_solution(self) -> bool:
        """The final state is known in closed form when the flow reverses exactly half-way."""
        return abs(2 * self.reversal_time - self.t_end) <= 1e-12 * self.t_end

    def exact(self, x, m):
        """u(x, T) = u0(x): exact when ``reversal_time = t_end / 2`` (the flow retraces its path).

        Raises:
            BadInput: the reversal is not half-way, so the final state has no closed form.
        """
        require(self.has_exact_solution,
                f"swirl: the final state is known only for reversal_time = t_end / 2, got "
                f"{self.reversal_time} with t_end {self.t_end}")
        return self.initial(x, m)
