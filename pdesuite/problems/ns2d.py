"""2D incompressible Navier-Stokes in vorticity form on the periodic unit square (the FNO setting).

    ∂ω/∂t + u·∇ω = ν Δω + f,    u = U + ∇^⊥ψ = U + (∂ψ/∂y, -∂ψ/∂x),    -Δψ = ω,

on (x, y) ∈ [0, 1)² with periodic boundaries. U is a constant background velocity (zero in the FNO
data; it lets the Taylor-Green test exercise the advection term). The forcing of Li et al. (2021,
"Fourier neural operator", ν = 1e-3 data) is

    f(x, y) = A (sin 2πk(x + y) + cos 2πk(x + y)),   A = 0.1, k = 1,

and the initial vorticity is their Gaussian random field: zero mean, covariance
C = σ² (-Δ + τ² I)^(-α) with α = 2.5, τ = 7, σ = τ^(α - 1) = 7^(3/2).

Exact solution (`exact_shell`): when the initial vorticity and the forcing both lie on one Fourier
shell |k| = const, ψ = ω / |k|² and the Jacobian u·∇ψ-part of the advection vanishes, so every mode
evolves by the linear ODE  dω̂/dt = (-i k·U - ν|k|²) ω̂ + f̂.  With ω0 = a sin(2πkx) sin(2πky) (the
Taylor-Green vortex) and the forcing above at the same k this gives the translated, decaying vortex
plus the forced response, in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pdesuite.problems.base import Problem, finite, require
from pdesuite.registry import PROBLEMS


@PROBLEMS.register("ns2d")
@dataclass(frozen=True)
class NS2D(Problem):
    """Forced 2D Navier-Stokes (vorticity form) on the periodic unit square.

    Attributes:
        nu: Kinematic viscosity ν >= 0.
        forcing_amplitude: A in f = A (sin 2πk(x + y) + cos 2πk(x + y)).
        forcing_wavenumber: k of the forcing (a positive integer).
        mean_flow: Constant background velocity U = (U_x, U_y).
        t_end: Final time T > 0.
        grf_alpha: Exponent α of the initial field's covariance (> 1 for a square-integrable field).
        grf_tau: τ > 0 of the initial field's covariance.
        grf_sigma: σ; None means τ^(α - 1) (the FNO choice, 7^(3/2) for τ = 7, α = 2.5).

    Shapes:
        Fields are (..., n, n) arrays with ``w[..., i, j] = ω(i/n, j/n)``.
    """

    name = "ns2d"
    nu: float = 1e-3
    forcing_amplitude: float = 0.1
    forcing_wavenumber: int = 1
    mean_flow: tuple[float, float] = (0.0, 0.0)
    t_end: float = 50.0
    grf_alpha: float = 2.5
    grf_tau: float = 7.0
    grf_sigma: float | None = None

    def __post_init__(self) -> None:
        require(finite(self.nu) and self.nu >= 0, f"ns2d: viscosity nu must be >= 0, got {self.nu}")
        require(finite(self.forcing_amplitude),
                f"ns2d: forcing_amplitude must be finite, got {self.forcing_amplitude}")
        require(isinstance(self.forcing_wavenumber, int) and self.forcing_wavenumber >= 1,
                f"ns2d: forcing_wavenumber must be a positive integer, got {self.forcing_wavenumber}")
        require(len(self.mean_flow) == 2 and all(finite(c) for c in self.mean_flow),
                f"ns2d: mean_flow must be two finite numbers, got {self.mean_flow}")
        require(finite(self.t_end) and self.t_end > 0, f"ns2d: final time t_end must be positive, got {self.t_end}")
        require(finite(self.grf_alpha) and self.grf_alpha > 1, f"ns2d: grf_alpha must be > 1, got {self.grf_alpha}")
        require(finite(self.grf_tau) and self.grf_tau > 0, f"ns2d: grf_tau must be positive, got {self.grf_tau}")
        require(self.grf_sigma is None or (finite(self.grf_sigma) and self.grf_sigma >= 0),
                f"ns2d: grf_sigma must be >= 0, got {self.grf_sigma}")

    # -- data ------------------------------------------------------------------------------------
    @property
    def sigma(self) -> float:
        return self.grf_tau ** (self.grf_alpha - 1.0) if self.grf_sigma is None else float(self.grf_sigma)

    @staticmethod
    def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
        """The (n, n) arrays X, Y of grid points x_i = i/n, y_j = j/n (``indexing="ij"``)."""
        axis = np.arange(n) / n
        return np.meshgrid(axis, axis, indexing="ij")

    def forcing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f(x, y) = A (sin 2πk(x + y) + cos 2πk(x + y))."""
        phase = 2.0 * math.pi * self.forcing_wavenumber * (x + y)
        return self.forcing_amplitude * (np.sin(phase) + np.cos(phase))

    def grf_sqrt_eigenvalues(self, n: int) -> np.ndarray:
        """σ (4π²|k|² + τ²)^(-α/2) on the (n, n) FFT wavenumbers, zero for k = 0."""
        k = np.fft.fftfreq(n, 1.0 / n)
        k2 = k[:, None] ** 2 + k[None, :] ** 2
        root = self.sigma * (4.0 * math.pi**2 * k2 + self.grf_tau**2) ** (-self.grf_alpha / 2.0)
        root[0, 0] = 0.0
        return root

    def initial_vorticity(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """One draw of the Gaussian random field on the n × n grid, shape (n, n).

        As in the FNO generator: complex normal coefficients ξ_k = a_k + i b_k (a, b ~ N(0, 1)) on
        the n² FFT modes, ω0 = Re Σ_k √2 σ (4π²|k|² + τ²)^(-α/2) ξ_k exp(2πi k·x). Its law does not
        depend on n apart from the truncation.
        """
        xi = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        coefficients = math.sqrt(2.0) * self.grf_sqrt_eigenvalues(n) * xi * n * n
        return np.fft.ifft2(coefficients).real

    def velocity_bound(self) -> float:
        """An a-priori estimate of max(|u_x| + |u_y|) over a run, for the CFL check before any work.

        Four standard deviations of the initial field's velocity components (from the covariance),
        plus |U|, plus the amplitude of the forced response A√2/(2πk) · min(T, 1/(ν|k|²)); in the
        FNO setting this is 0.48 against the 0.39 observed (T = 50, ν = 1e-3).
        """
        n = 256  # the covariance decays like |k|^-5: the sum is converged far below this
        k = np.fft.fftfreq(n, 1.0 / n)
        kx, ky = k[:, None], k[None, :]
        k2 = kx**2 + ky**2
        k2[0, 0] = 1.0
        weight = 2.0 * self.grf_sqrt_eigenvalues(n) ** 2 / (4.0 * math.pi**2 * k2**2)
        spread = 4.0 * (math.sqrt(np.sum(weight * ky**2)) + math.sqrt(np.sum(weight * kx**2)))
        a = 2.0 * math.pi * self.forcing_wavenumber
        decay = 1.0 / (2.0 * a * a * self.nu) if self.nu > 0 else math.inf
        forced = abs(self.forcing_amplitude) * math.sqrt(2.0) / a * min(self.t_end, decay)
        return spread + abs(self.mean_flow[0]) + abs(self.mean_flow[1]) + forced

    # -- exact solution ----------------------------------------------------------------------------
    def exact_shell(self, x: np.ndarray, y: np.ndarray, t: float, amplitude: float = 1.0, k: int = 1) -> np.ndarray:
        """Exact ω(x, y, t) from the Taylor-Green vortex ω0 = amplitude · sin(2πkx) sin(2πky).

        Valid when the forcing is off or on the same shell (``forcing_wavenumber == k``); raises
        ValueError otherwise. Includes the translation by `mean_flow` and the forced response.
        """
        require(self.forcing_amplitude == 0 or self.forcing_wavenumber == k,
                "ns2d: exact_shell needs forcing_amplitude = 0 or forcing_wavenumber == k")
        a = 2.0 * math.pi * k
        ux, uy = self.mean_flow
        decay = math.exp(-self.nu * 2.0 * a * a * t)
        vortex = amplitude * decay * np.sin(a * (x - ux * t)) * np.sin(a * (y - uy * t))
        if self.forcing_amplitude == 0:
            return vortex
        # f = A√2 sin(θ), θ = a(x + y) + π/4; response Im(c(t) e^{iθ}) with c' = λc + A√2, c(0) = 0
        lam = complex(-self.nu * 2.0 * a * a, -a * (ux + uy))
        c = self.forcing_amplitude * math.sqrt(2.0) * (t if lam == 0 else (np.exp(lam * t) - 1.0) / lam)
        theta = a * (x + y) + math.pi / 4.0
        return vortex + np.imag(c * np.exp(1j * theta))
