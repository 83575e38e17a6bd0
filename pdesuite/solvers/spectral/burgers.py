"""Viscous Burgers: u_t + u u_x = ν u_xx on [0, L), periodic, and its Cole-Hopf exact solutions.

Fourier form: v_t = -ν k² v - (ik/2) F[u²]; pseudo-spectral + ETDRK4.

Cole-Hopf: u = -2ν φ_x / φ turns Burgers into the heat equation φ_t = ν φ_xx, so for
φ(x, 0) = c_0 + Σ_m c_m cos(k_m x + θ_m) with c_0 > Σ|c_m| (φ > 0),

    φ(x, t) = c_0 + Σ_m c_m e^{-ν k_m² t} cos(k_m x + θ_m),
    u(x, t) = 2ν Σ_m c_m k_m e^{-ν k_m² t} sin(k_m x + θ_m) / φ(x, t),

an exact periodic solution used to verify the solver.
"""

from __future__ import annotations

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.burgers import Burgers
from pdesuite.solvers.spectral.periodic1d import Periodic1DSolver, QuadraticFlux, as_batch


class BurgersSolver(QuadraticFlux, Periodic1DSolver):
    """Batched viscous Burgers solver; ``nu`` may differ per sample. Orders: time 4, space spectral."""

    def __init__(self, n: int, length=2 * np.pi, nu=0.01, batch: int = 1, dealias: bool = True,
                 dtype=np.float64):
        super().__init__(n, length, batch, dealias, dtype=dtype)
        self.nu = as_batch(nu, self.batch, "viscosity nu")
        if np.any(self.nu < 0):
            raise BadInput(f"viscosity nu must be >= 0, got {self.nu.min()}")

    @classmethod
    def from_problems(cls, problems, n: int, dealias: bool = True, dtype=np.float64) -> BurgersSolver:
        """One sample per `Burgers` problem, each with its own ν and L, on n points."""
        problems = cls._checked_problems(problems, Burgers, cls.__name__)
        solver = cls(n, length=np.array([p.length for p in problems]), nu=np.array([p.nu for p in problems]),
                     batch=len(problems), dealias=dealias, dtype=dtype)
        solver.problems = problems
        return solver

    def linear_symbol(self) -> np.ndarray:
        return -self.nu[:, None] * self.k**2


def cole_hopf_solution(x, t, nu: float, c0: float, coefficients, wavenumbers, phases) -> np.ndarray:
    """The exact Burgers solution above at points ``x`` (n,) and times ``t`` (n_t,) -> (n_t, n)."""
    x, t = np.asarray(x, float)[None, None, :], np.asarray(t, float)[:, None, None]
    c, k, th = (np.asarray(v, float)[None, :, None] for v in (coefficients, wavenumbers, phases))
    if c0 <= np.sum(np.abs(c)):
        raise BadInput("Cole-Hopf data need c0 > Σ|c_m| so that φ stays positive")
    decay = c * np.exp(-nu * k**2 * t)
    phi = c0 + np.sum(decay * np.cos(k * x + th), axis=1)
    return 2 * nu * np.sum(decay * k * np.sin(k * x + th), axis=1) / phi
