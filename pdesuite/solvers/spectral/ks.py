"""Kuramoto-Sivashinsky: u_t + u u_x + u_xx + ν u_xxxx = 0 on [0, L), periodic.

Fourier form: v_t = (k² - ν k⁴) v - (ik/2) F[u²]; pseudo-spectral with 2/3 dealiasing and ETDRK4
(Kassam & Trefethen 2005, who use exactly this equation as their showcase).
"""

from __future__ import annotations

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.ks import KuramotoSivashinsky
from pdesuite.solvers.spectral.periodic1d import Periodic1DSolver, QuadraticFlux, as_batch


class KSSolver(QuadraticFlux, Periodic1DSolver):
    """Batched KS solver; ``length`` and ``nu`` may differ per sample.

    Orders: time 4 (ETDRK4), space spectral (`convergence_order`).

    Example:
        >>> problems = [KuramotoSivashinsky(length=60.0), KuramotoSivashinsky(length=66.0, nu=0.5)]
        >>> solver = KSSolver.from_problems(problems, 256)  # one trajectory per problem
    """

    def __init__(self, n: int, length, nu=1.0, batch: int = 1, dealias: bool = True,
                 dtype=np.float64):
        super().__init__(n, length, batch, dealias, dtype=dtype)
        self.nu = as_batch(nu, self.batch, "viscosity nu")
        if np.any(self.nu <= 0):
            raise BadInput(f"KS viscosity nu must be positive (the u_xxxx term stabilises), got {self.nu.min()}")

    @classmethod
    def from_problems(cls, problems, n: int, dealias: bool = True, dtype=np.float64) -> KSSolver:
        """One trajectory per `KuramotoSivashinsky` problem, each with its own L and ν, on n points."""
        problems = cls._checked_problems(problems, KuramotoSivashinsky, cls.__name__)
        solver = cls(n, np.array([p.length for p in problems]), nu=[p.nu for p in problems], batch=len(problems),
                     dealias=dealias, dtype=dtype)
        solver.problems = problems
        return solver

    def linear_symbol(self) -> np.ndarray:
        return self.k**2 - self.nu[:, None] * self.k**4


def ks_initial_condition(x: np.ndarray, length: float, amplitudes, phases, wavenumbers) -> np.ndarray:
    """LPSDA's KS initial condition Σ_i A_i sin(2π l_i x / L + φ_i) on grid ``x`` (n,)."""
    a, p, l = (np.asarray(v, dtype=float) for v in (amplitudes, phases, wavenumbers))
    return np.sum(a[:, None] * np.sin(2 * np.pi * l[:, None] * x[None, :] / length + p[:, None]), axis=0)
