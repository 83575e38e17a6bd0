"""Linear advection u_t + a u_x = 0 on an interval, a Gaussian pulse, zero inflow data (INSR's 1D case)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import PhysicsInformed, Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("advection")
@dataclass(frozen=True)
class Advection(PhysicsInformed, Problem):
    """u_t + a u_x = 0 on [x_min, x_max], u(x, 0) = exp(-(x - μ)²/(2σ²)), u = 0 at the inflow end.

    Exact solution, while the pulse stays 5σ inside the interval (its tails are then below 4e-6 at the
    ends, the error of the zero inflow datum): u(x, t) = u0(x - a t). INSR's case (Chen et al. 2023,
    ``advection1d``): a = 0.25, [-2, 2], μ = -1.5, σ = 0.1, implicit midpoint with dt 0.05 for 240 steps
    (the pulse moves from -1.5 to 1.5).

    Attributes:
        a: Advection speed.
        mu, sigma: Centre and width of the initial pulse.
        x_min, x_max: The interval.
        t_end: Final time.
    """

    name = "advection"
    axes = ("t", "x")
    dim: int = 1
    a: float = 0.25
    mu: float = -1.5
    sigma: float = 0.1
    x_min: float = -2.0
    x_max: float = 2.0
    t_end: float = 12.0

    def __post_init__(self) -> None:
        for key in ("a", "mu", "sigma", "x_min", "x_max", "t_end"):
            value = getattr(self, key)
            require(isinstance(value, int | float) and math.isfinite(value),
                    f"{key} must be a finite number, got {value!r}")
        require(self.sigma > 0, f"pulse width sigma must be positive, got {self.sigma}")
        require(self.x_min < self.x_max, f"need x_min < x_max, got {self.x_min}, {self.x_max}")
        require(self.t_end > 0, f"final time t_end must be positive, got {self.t_end}")

    def initial(self, x, m):
        return m.exp(-((x[0] - self.mu) ** 2) / (2 * self.sigma**2))

    def exact(self, x, t, m):
        return m.exp(-((x[0] - self.a * t - self.mu) ** 2) / (2 * self.sigma**2))

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = -a u_x."""
        return -self.a * grad[:, first : first + 1]
