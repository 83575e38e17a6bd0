"""Allen-Cahn equation u_t = ε u_xx + a(u - u³) on [-1, 1), periodic, u0 = x² cos(πx) (PINN benchmark)."""

from __future__ import annotations

from dataclasses import dataclass

from pdesuite.problems.base import PhysicsInformed, Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("allen-cahn")
@dataclass(frozen=True)
class AllenCahn(PhysicsInformed, Problem):
    """u_t = ε u_xx + a (u - u³), x ∈ [-1, 1) periodic, t ∈ [0, T], u0 = x² cos(πx).

    The standard benchmark (Raissi et al. 2019; PIG) has ε = 1e-4, a = 5, T = 1.
    """

    name = "allen-cahn"
    axes = ("t", "x")
    periodic = {"x": 2.0}
    dim: int = 1
    epsilon: float = 1e-4
    reaction: float = 5.0
    t_end: float = 1.0

    def __post_init__(self) -> None:
        require(self.epsilon > 0, f"diffusivity epsilon must be positive, got {self.epsilon}")
        require(self.t_end > 0, f"final time T must be positive, got {self.t_end}")

    @staticmethod
    def initial(x, m):
        return x[0] ** 2 * m.cos(m.pi * x[0])

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) = ε u_xx + a (u - u³)."""
        from pdesuite.problems.autodiff import derivative

        return self.epsilon * derivative(grad[:, first : first + 1], X, first) + self.reaction * (u - u**3)
