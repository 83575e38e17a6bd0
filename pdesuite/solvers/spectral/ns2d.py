"""Pseudo-spectral solver for 2D Navier-Stokes in vorticity form on the periodic unit square.

    ∂ω/∂t = ν Δω + N(ω),   N(ω) = -u·∇ω + f,   u = U + ∇^⊥ψ,   -Δψ = ω.

Space: Fourier (real FFTs), the product u·∇ω evaluated on the grid and dealiased with the 2/3 rule
(modes with |k_x| or |k_y| > n/3 of the product are dropped, as in the FNO data generator). The
initial vorticity is projected onto the same retained modes (`truncate`; FNO kept them, unforced by
the advection), so the semi-discrete system is the Galerkin truncation: with ν = 0 and f = 0 it
conserves energy and enstrophy, and the mean vorticity is conserved always.

Time: the low-storage three-stage Runge-Kutta/Crank-Nicolson scheme of Spalart, Moser & Rogers
(1991, J. Comput. Phys. 96): per stage m = 1, 2, 3

    ω_m = ω_{m-1} + Δt [γ_m N(ω_{m-1}) + ζ_m N(ω_{m-2}) + β_m ν Δ (ω_{m-1} + ω_m)],
    γ = (8/15, 5/12, 3/4),  ζ = (0, -17/60, -5/12),  β = (γ + ζ)/2 = (4/15, 1/15, 1/6),

i.e. Wray's third-order Runge-Kutta for N and the trapezoidal (Crank-Nicolson) rule for diffusion on
each sub-step. The coupled scheme is second order (`convergence_order["time"]`); the explicit part
alone is third order (`convergence_order["time_explicit"]`, observed with ν = 0). FNO used forward
Euler with Crank-Nicolson (first order) at Δt = 1e-4; this scheme is stable on the imaginary axis
up to |λΔt| = √3, so the advective CFL number max(|u_x|/Δx + |u_y|/Δy) Δt may reach about 0.8
(`cfl_max` = 0.7 is enforced).

Shapes:
    ω: (batch, n, n), ``w[b, i, j] = ω(i/n, j/n)``; `solve` returns (batch, n_t, n, n).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.ns2d import NS2D
from pdesuite.solvers.order import SPECTRAL, ConvergenceOrder, Rate

GAMMA = (8.0 / 15.0, 5.0 / 12.0, 3.0 / 4.0)
ZETA = (0.0, -17.0 / 60.0, -5.0 / 12.0)
BETA = tuple((g + z) / 2.0 for g, z in zip(GAMMA, ZETA, strict=True))


class NS2DSolver:
    """Batched pseudo-spectral RK3/Crank-Nicolson solver for `NS2D`.

    Args:
        problem: The equation (ν, forcing, mean flow).
        n: Grid points per direction (even, >= 4).
        dt: Time step Δt > 0.

    Example:
        >>> solver = NS2DSolver(NS2D(t_end=1.0), n=64, dt=1e-2)
        >>> w0 = solver.problem.initial_vorticity(np.random.default_rng(0), 64)[None]
        >>> w = solver.solve(w0, np.linspace(0, 1, 3))  # (1, 3, 64, 64)
    """

    #: Max-norm error: 2 in Δt (coupled), 3 in Δt for the explicit Runge-Kutta part alone (ν = 0),
    #: spectral in n for analytic solutions.
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(
        time=Rate(2, "dt", "max / max|ω|"),
        time_explicit=Rate(3, "dt", "max / max|ω|", "ν = 0: the explicit Runge-Kutta part alone"),
        space=Rate(SPECTRAL, "n", "max / max|ω|"))
    #: The largest advective CFL number max(|u_x|/Δx + |u_y|/Δy) Δt accepted.
    cfl_max: ClassVar[float] = 0.7

    def __init__(self, problem: NS2D, n: int, dt: float):
        if isinstance(n, bool) or not isinstance(n, int) or n < 4 or n % 2:
            raise BadInput(f"ns2d: grid size n must be an even integer >= 4, got {n!r}")
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
            raise BadInput(f"ns2d: time step dt must be positive, got {dt!r}")
        self.problem, self.n, self.dt = problem, n, float(dt)
        k = np.fft.fftfreq(n, 1.0 / n)
        kr = np.fft.rfftfreq(n, 1.0 / n)
        self.ikx = (2j * math.pi * k)[:, None]  # ∂/∂x along axis -2
        self.iky = (2j * math.pi * kr)[None, :]  # ∂/∂y along axis -1 (half spectrum)
        self.lap = -(4.0 * math.pi**2) * (k[:, None] ** 2 + kr[None, :] ** 2)
        self.inv_lap = np.divide(1.0, self.lap, out=np.zeros_like(self.lap), where=self.lap != 0)
        self.dealias = (np.abs(k)[:, None] <= n / 3.0) & (np.abs(kr)[None, :] <= n / 3.0)
        X, Y = NS2D.grid(n)
        self.f_hat = np.fft.rfft2(problem.forcing(X, Y)) * self.dealias
        nu_lap = problem.nu * self.lap
        self.implicit = [1.0 / (1.0 - b * self.dt * nu_lap) for b in BETA]
        self.explicit = [1.0 + b * self.dt * nu_lap for b in BETA]

    # -- pieces ------------------------------------------------------------------------------------
    def velocity(self, w_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """u = U + (∂ψ/∂y, -∂ψ/∂x) on the grid from ω̂ (rfft2 of ω)."""
        psi_hat = -w_hat * self.inv_lap
        ux = np.fft.irfft2(self.iky * psi_hat, s=(self.n, self.n)) + self.problem.mean_flow[0]
        uy = np.fft.irfft2(-self.ikx * psi_hat, s=(self.n, self.n)) + self.problem.mean_flow[1]
        return ux, uy

    def cfl(self, ux: np.ndarray, uy: np.ndarray) -> float:
        """max over the grid (and batch) of (|u_x| + |u_y|) n Δt."""
        return float(np.max(np.abs(ux) + np.abs(uy))) * self.n * self.dt

    def nonlinear(self, w_hat: np.ndarray) -> tuple[np.ndarray, float]:
        """(N̂(ω) = FFT(-u·∇ω) dealiased + f̂, CFL number of this state)."""
        ux, uy = self.velocity(w_hat)
        wx = np.fft.irfft2(self.ikx * w_hat, s=(self.n, self.n))
        wy = np.fft.irfft2(self.iky * w_hat, s=(self.n, self.n))
        return -np.fft.rfft2(ux * wx + uy * wy) * self.dealias + self.f_hat, self.cfl(ux, uy)

    def step(self, w_hat: np.ndarray) -> tuple[np.ndarray, float]:
        """One time step of ω̂; returns (ω̂ at t + Δt, the largest CFL number met in its stages)."""
        previous, cfls = 0.0, []
        for m in range(3):
            current, c = self.nonlinear(w_hat)
            cfls.append(c)
            rhs = self.explicit[m] * w_hat + self.dt * (GAMMA[m] * current + ZETA[m] * previous)
            w_hat, previous = self.implicit[m] * rhs, current
        return w_hat, float(np.max(cfls))  # NaN propagates

    # -- driver ------------------------------------------------------------------------------------
    def steps_between(self, save_times: np.ndarray) -> list[int]:
        """Steps between consecutive save times (each a whole number of Δt; BadInput otherwise)."""
        save_times = np.asarray(save_times, dtype=float)
        if save_times.ndim != 1 or save_times.size == 0 or save_times[0] < 0 or np.any(np.diff(save_times) < 0):
            raise BadInput("ns2d: save_times must be a non-empty, non-decreasing array of times >= 0")
        ratios = np.diff(np.concatenate([[0.0], save_times])) / self.dt
        steps = np.rint(ratios).astype(int)
        if np.any(np.abs(ratios - steps) > 1e-6 * np.maximum(1.0, ratios)):
            raise BadInput(f"ns2d: save times must be multiples of dt = {self.dt:g}")
        return steps.tolist()

    def truncate(self, w: np.ndarray) -> np.ndarray:
        """``w`` (..., n, n) with the modes |k_x| or |k_y| > n/3 removed, as `solve` does to ω0."""
        return np.fft.irfft2(np.fft.rfft2(w) * self.dealias, s=(self.n, self.n))

    def check_cfl(self, w: np.ndarray) -> float:
        """The CFL number of the state ``w`` (batch, n, n); BadInput if above `cfl_max`."""
        if not np.all(np.isfinite(w)):
            raise BadInput("ns2d: the initial vorticity has non-finite values")
        ux, uy = self.velocity(np.fft.rfft2(w))
        cfl = self.cfl(ux, uy)
        if cfl > self.cfl_max:
            raise BadInput(f"ns2d: dt = {self.dt:g} gives CFL number {cfl:.3g} > {self.cfl_max} for the initial "
                           f"vorticity at n = {self.n}; reduce dt")
        return cfl

    def solve(self, w0: np.ndarray, save_times: np.ndarray) -> np.ndarray:
        """Integrate from ω0 (batch, n, n) at t = 0; ω at ``save_times``, shape (batch, n_t, n, n).

        Raises BadInput when the initial state violates the CFL limit (before any step) and
        SolverError naming the step when the state stops being finite or the CFL number grows past
        the stability limit during the run.
        """
        w0 = np.asarray(w0, dtype=float)
        if w0.ndim != 3 or w0.shape[1:] != (self.n, self.n):
            raise BadInput(f"ns2d: initial vorticity must have shape (batch, {self.n}, {self.n}), got {w0.shape}")
        steps = self.steps_between(save_times)
        self.check_cfl(w0)
        out = np.empty((w0.shape[0], len(steps), self.n, self.n))
        w_hat, step = np.fft.rfft2(w0) * self.dealias, 0
        for index, count in enumerate(steps):
            for _ in range(count):
                w_hat, cfl = self.step(w_hat)
                step += 1
                if not math.isfinite(cfl):
                    raise SolverError(f"ns2d: non-finite velocity at step {step} (t = {step * self.dt:g})")
                if cfl > 1.5 * self.cfl_max:
                    raise SolverError(f"ns2d: CFL number {cfl:.3g} at step {step} (t = {step * self.dt:g}) "
                                      f"exceeds the stability limit; reduce dt")
            out[:, index] = np.fft.irfft2(w_hat, s=(self.n, self.n))
            if not np.all(np.isfinite(out[:, index])):
                raise SolverError(f"ns2d: non-finite vorticity at step {step} (t = {step * self.dt:g})")
        return out
