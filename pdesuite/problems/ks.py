"""Kuramoto-Sivashinsky equation u_t + u u_x + u_xx + ν u_xxxx = 0 on [0, L), periodic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pdesuite.problems.base import Problem, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("ks")
@dataclass(frozen=True)
class KuramotoSivashinsky(Problem):
    """u_t + u u_x + u_xx + ν u_xxxx = 0, x ∈ [0, L) periodic (chaotic for L ≳ 20 at ν = 1).

    Attributes:
        length: Domain length L > 0.
        nu: Hyper-viscosity ν > 0.
        t_end: Final time T > 0.
    """

    name = "ks"
    dim: int = 1
    length: float = 64.0
    nu: float = 1.0
    t_end: float = 100.0

    def __post_init__(self) -> None:
        require(math.isfinite(self.length) and self.length > 0, f"domain length L must be positive, got {self.length}")
        require(math.isfinite(self.nu) and self.nu > 0, f"viscosity nu must be positive, got {self.nu}")
        require(math.isfinite(self.t_end) and self.t_end > 0, f"final time T must be positive, got {self.t_end}")
