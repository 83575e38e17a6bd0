"""Convection-diffusion u_t + c u_x = ν u_xx on [0, L), periodic: the exact Fourier solution.

Each Fourier mode evolves independently: û_k(t) = û_k(0) exp((-ick - νk²) t). For u0 = sin x on
[0, 2π) this is u = e^{-νt} sin(x - ct): the "PINN failure mode" benchmark of Krishnapriyan et al.
(2021) and Mojgani et al.'s LPINN paper. Exact up to the representation of u0 on the grid
(exact for band-limited u0).
"""

from __future__ import annotations

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.convection import Convection


def convection_solution(u0: np.ndarray, t: np.ndarray, c: float, nu: float, length: float = 2 * np.pi) -> np.ndarray:
    """u on the grid of ``u0`` (n,) at times ``t`` (n_t,), shape (n_t, n)."""
    if nu < 0:
        raise BadInput(f"viscosity nu must be >= 0, got {nu}")
    u0 = np.asarray(u0, dtype=float)
    n = u0.shape[-1]
    modes = np.fft.rfftfreq(n, d=1.0 / n)
    k = 2 * np.pi * modes / length
    ik = 1j * k * (modes < n / 2)  # the Nyquist mode does not move for a real field
    symbol = -c * ik - nu * k**2
    v0 = np.fft.rfft(u0)
    return np.fft.irfft(v0[None, :] * np.exp(symbol[None, :] * np.asarray(t, float)[:, None]), n=n, axis=-1)


def convection_solution_for(problem: Convection, u0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """`convection_solution` with the problem's c and ν on its domain [0, 2π): u (n_t, n) from u0 (n,)."""
    if not isinstance(problem, Convection):
        raise BadInput(f"convection_solution_for solves a Convection problem, got {type(problem).__name__}")
    return convection_solution(u0, t, problem.c, problem.nu)
