"""Buoyant smoke in a closed box: the PDEArena / Text2PDE `NavierStokes2D` smoke data.

    ∂u/∂t + (u·∇)u = -∇p + ν Δu + b s,    ∇·u = 0,
    ∂s/∂t + u·∇s = 0,

on the box [0, L_x] × [0, L_y] (32 × 32 in PDEArena) with closed walls (no flow through them, no
slip along them), a passive smoke density s, viscosity ν = 0.01 and buoyancy b = (b_x, b_y), b_y the
per-sample parameter (U(0.2, 0.5) in the data). The velocity starts at zero; the smoke starts as the
absolute value of a smooth periodic random field with the law of PhiFlow's
``Noise(scale=11, smoothness=6)``: complex normal Fourier coefficients weighted by (|k|² scale²)^-6 on
the physical wavenumbers k = m / L (m ≠ 0 integer pairs with |k|² scale² > 0.1), zero mean and unit
standard deviation before the absolute value. This follows PDEArena's ``pdedatagen/navier_stokes.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pdesuite.problems.base import Problem, finite, require
from pdesuite.registry import PROBLEMS

#: Fourier modes |m_x|, |m_y| <= NOISE_MODES carry the smoke noise; the weight of the first mode left
#: out is below 1e-9 of the largest for the default scale and smoothness.
NOISE_MODES = 8


@PROBLEMS.register("smoke")
@dataclass(frozen=True)
class Smoke(Problem):
    """Buoyancy-driven smoke in a closed box.

    Attributes:
        size: Box size (L_x, L_y).
        nu: Kinematic viscosity ν >= 0.
        buoyancy: Default buoyancy vector (b_x, b_y); solvers accept a per-sample b_y.
        noise_scale: PhiFlow ``Noise`` scale of the initial smoke (size of the fluctuations).
        noise_smoothness: PhiFlow ``Noise`` smoothness (the spectrum decays like |k|^(-2 smoothness)).

    Shapes:
        Cell-centred fields are (..., n_x, n_y) with ``s[..., i, j] = s((i + 1/2) Δx, (j + 1/2) Δy)``.
    """

    name = "smoke"
    size: tuple[float, float] = (32.0, 32.0)
    nu: float = 0.01
    buoyancy: tuple[float, float] = (0.0, 0.5)
    noise_scale: float = 11.0
    noise_smoothness: float = 6.0

    def __post_init__(self) -> None:
        require(len(self.size) == 2 and all(finite(s) and s > 0 for s in self.size),
                f"smoke: box size must be two positive numbers, got {self.size}")
        require(finite(self.nu) and self.nu >= 0, f"smoke: viscosity nu must be >= 0, got {self.nu}")
        require(len(self.buoyancy) == 2 and all(finite(b) for b in self.buoyancy),
                f"smoke: buoyancy must be two finite numbers, got {self.buoyancy}")
        require(finite(self.noise_scale) and self.noise_scale > 0,
                f"smoke: noise_scale must be positive, got {self.noise_scale}")
        require(finite(self.noise_smoothness) and self.noise_smoothness > 0,
                f"smoke: noise_smoothness must be positive, got {self.noise_smoothness}")

    def cell_centres(self, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
        """1-D arrays of cell-centre coordinates (i + 1/2) Δx and (j + 1/2) Δy."""
        return (np.arange(nx) + 0.5) * self.size[0] / nx, (np.arange(ny) + 0.5) * self.size[1] / ny

    def noise_coefficients(self, rng: np.random.Generator) -> np.ndarray:
        """Random complex Fourier coefficients of the smoke noise on modes m ∈ [-M, M]², M = NOISE_MODES."""
        m = np.arange(-NOISE_MODES, NOISE_MODES + 1)
        kx = m[:, None] / self.size[0] * self.noise_scale
        ky = m[None, :] / self.size[1] * self.noise_scale
        k2 = kx**2 + ky**2
        weight = np.zeros_like(k2)
        kept = k2 > 0.1
        weight[kept] = k2[kept] ** (-self.noise_smoothness)
        xi = rng.standard_normal(weight.shape) + 1j * rng.standard_normal(weight.shape)
        return xi * weight

    def initial_smoke(self, rng: np.random.Generator, nx: int, ny: int) -> np.ndarray:
        """|noise| at the cell centres of an nx × ny grid, shape (nx, ny).

        The noise is Re Σ_m c_m exp(2πi (m_x x / L_x + m_y y / L_y)), normalised to zero mean and unit
        standard deviation over the grid. The same generator state gives the same continuous field
        at every resolution (only the modes |m| <= NOISE_MODES are drawn; see `noise_coefficients`).
        """
        c = self.noise_coefficients(rng)
        m = np.arange(-NOISE_MODES, NOISE_MODES + 1)
        x, y = self.cell_centres(nx, ny)
        ex = np.exp(2j * math.pi * np.outer(x, m) / self.size[0])
        ey = np.exp(2j * math.pi * np.outer(y, m) / self.size[1])
        field = (ex @ c @ ey.T).real
        field = field / field.std()
        return np.abs(field - field.mean())
