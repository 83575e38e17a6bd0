"""Outlet chromatogram of a GC column without diffusion (D = 0), linear kinetics, by Laplace transform.

With C(x, s), Q(x, s) the transforms of c and q (clean column), the kinetics give
Q = k_a C / (s + k_d), and the mass balance ∂c/∂t + ∂(u c)/∂x = −α ∂q/∂t becomes, for the flux u C,

    d(u C)/dx = −s (1 + α k_a / (s + k_d)) (u C) / u(x)
    ⇒  C(L, s) = (u_in / u_out) C_in(s) exp(−s t0 (1 + α k_a / (s + k_d))),   t0 = ∫_0^L dx / u,

for a constant velocity (u_in = u_out, t0 = L/u) and for the pressure-driven one alike (u_in / u_out =
p_out / p_in = 1/P). Write A = α k_a t0 (adsorption Damköhler number) and

    K(s) = exp(−A s / (s + k_d)) = e^{−A} + R(s):

the term e^{−A} is the fraction that crosses the column without adsorbing once, an undeformed copy of
the injection at t0 (negligible for retained analytes, kept exactly); R(s) decays on |s| ~ k_d/√A and
is inverted numerically. So c_out(t) = (c0/P) [e^{−A} f(t − t0) + L⁻¹{F(s) R(s)}(t − t0)], zero for
t < t0, with F the injection's transform:

    pulse:     F(s) = e^{−s t_inj} (1 − e^{−sτ}) / s
    gaussian:  F(s) = ∫_0^∞ e^{−st} e^{−(t−μ)²/(2σ²)} dt = σ √(π/2) e^{σ²s²/2 − sμ} erfc((σ²s − μ)/(σ√2))

The analytes do not interact (linear kinetics: the paper shows competition is negligible), so the
chromatogram is a sum of such terms, all scaled versions of one integral in the variables (A, k_d).
The closed-form time-domain inverse (Thomas' solution, a Bessel kernel) serves as a check in the
tests: L⁻¹{R}(t) = e^{−A−k_d t} √(A k_d / t) I_1(2 √(A k_d t)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.chromatography import Chromatography, Injection
from pdesuite.solvers.laplace.inversion import FourierSeries, bromwich, fourier_series, talbot

_SQRT_PI_2 = math.sqrt(math.pi / 2)


def retention_kernel(s, A: float, k_d: float) -> np.ndarray:
    """R(s) = exp(−A s / (s + k_d)) − e^{−A} (the retained part of the column's transfer function)."""
    s = np.asarray(s, dtype=complex)
    if A < 600.0:
        return math.exp(-A) * np.expm1(A * k_d / (s + k_d))
    return np.exp(-A * s / (s + k_d))


def injection_transform(s, injection: Injection) -> np.ndarray:
    """F(s) of the unit-height inlet profile f(t)."""
    s = np.asarray(s, dtype=complex)
    if injection.shape == "pulse":
        return np.exp(-s * injection.t_inj) * -np.expm1(-s * injection.width) / s
    sigma, mu = injection.width, injection.t_inj
    z = (sigma**2 * s - mu) / (sigma * math.sqrt(2))
    out = np.empty_like(z)
    right = z.real >= 0
    # erfc(z) = erfcx(z) e^{−z²} for Re z >= 0, = 2 − erfcx(−z) e^{−z²} otherwise (no overflow either way)
    out[right] = math.exp(-0.5 * (mu / sigma) ** 2) * erfcx(z[right])
    zl, sl = z[~right], s[~right]
    out[~right] = 2 * np.exp(0.5 * sigma**2 * sl**2 - sl * mu) - math.exp(-0.5 * (mu / sigma) ** 2) * erfcx(-zl)
    return sigma * _SQRT_PI_2 * out


class LaplaceColumn:
    """Outlet concentrations c_i(L, t) of ``problem`` (its D and q_m are ignored: D = 0, linear).

    Args:
        problem: The column (length, velocity or pressures, α, analytes, injection).
        method: Inversion: "fourier" (trapezoidal Bromwich rule, FFT; the default), "talbot" (fixed
            Talbot contour, delays split off), "bromwich" (adaptive quadrature, as the paper; slow), or
            "auto" (fourier, falling back on talbot for transforms that decay too slowly, e.g. a
            rectangular pulse through a weakly retaining column, whose outlet has kinks).
        tol: Target accuracy relative to the peak (fourier, bromwich).
        talbot_nodes: Nodes N of the Talbot contour (48: ~1e-11).

    Shapes:
        outlet(t): (n_t, n_analytes); chromatogram(t): (n_t,).
    """

    def __init__(self, problem: Chromatography, method: str = "auto", tol: float = 1e-12, talbot_nodes: int = 48):
        if method not in ("auto", "fourier", "talbot", "bromwich"):
            raise BadInput(f"unknown Laplace inversion method {method!r} (auto, fourier, talbot, bromwich)")
        self.problem = problem
        self.method = method
        self.tol = float(tol)
        self.talbot_nodes = int(talbot_nodes)
        self.t0 = problem.hold_up_time
        self.prefactor = 1.0 / problem.pressure_ratio  # u_in / u_out

    def damkohler(self, index: int) -> tuple[float, float]:
        """(A, k_d) of analyte ``index``: A = α k_a t0."""
        a = self.problem.analytes[index]
        return self.problem.alpha * a.k_a * self.t0, a.k_d

    def transform(self, s, index: int) -> np.ndarray:
        """C_i(L, s), the full transform of analyte ``index``'s outlet concentration."""
        s = np.asarray(s, dtype=complex)
        A, k_d = self.damkohler(index)
        c0 = self.problem.analytes[index].c0
        kernel = np.exp(-A * s / (s + k_d))
        return self.prefactor * c0 * np.exp(-s * self.t0) * injection_transform(s, self.problem.injection) * kernel

    def outlet(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise BadInput("outlet times must be a finite 1-D array")
        out = np.zeros((len(t), len(self.problem.analytes)))
        shifted = t - self.t0
        late = shifted > 0
        if not np.any(late):
            return out
        for i, analyte in enumerate(self.problem.analytes):
            A, k_d = self.damkohler(i)
            retained = self._retained(shifted[late], A, k_d)
            direct = math.exp(-A) * self.problem.injection.profile(shifted[late])
            out[late, i] = self.prefactor * analyte.c0 * (direct + retained)
        return out

    def chromatogram(self, t, response=None) -> np.ndarray:
        """Σ_i r_i c_i(L, t) with detector response factors r_i (default 1)."""
        c = self.outlet(t)
        r = np.ones(c.shape[1]) if response is None else np.asarray(response, dtype=float)
        return c @ r

    # -- the inversion of F(s) R(s) at shifted times t' > 0 ----------------------------------------------
    def _retained(self, t, A: float, k_d: float) -> np.ndarray:
        injection = self.problem.injection

        def G(s):
            return injection_transform(s, injection) * retention_kernel(s, A, k_d)

        if self.method in ("auto", "fourier"):
            try:
                return fourier_series(G, t, tol=self.tol, max_terms=1 << 18)
            except SolverError:
                if self.method == "fourier":
                    raise
        if self.method == "bromwich":
            return bromwich(G, t, tol=max(self.tol, 1e-11))
        return self._talbot(t, A, k_d)

    def _talbot(self, t, A: float, k_d: float) -> np.ndarray:
        injection = self.problem.injection
        n = self.talbot_nodes
        if injection.shape == "gaussian":
            # a Gaussian away from t = 0 is a delay Talbot cannot invert: convolve the impulse response
            # h = L⁻¹{R} (Talbot) with f by 64-point Gauss-Legendre over f's support up to t
            sigma, mu = injection.width, injection.t_inj
            lo = max(0.0, mu - 9 * sigma)
            hi = np.minimum(t, mu + 9 * sigma)
            x, w = np.polynomial.legendre.leggauss(64)
            half = np.clip(hi - lo, 0.0, None)[:, None] / 2
            tau = lo + half * (x[None, :] + 1)
            lag = t[:, None] - tau
            values = np.zeros_like(lag)
            ok = (lag > 0) & (half > 0)
            with np.errstate(all="ignore"):
                values[ok] = talbot(lambda s: retention_kernel(s, A, k_d), lag[ok], n)
            return self._checked((half * w[None, :] * injection.profile(tau) * values).sum(axis=1), A)

        # pulse: step responses S(t − t_inj) − S(t − t_inj − τ), S = L⁻¹{R(s)/s} (delays split off)
        def step(times):
            out = np.zeros_like(times)
            positive = times > 0
            if np.any(positive):
                with np.errstate(all="ignore"):
                    out[positive] = talbot(lambda s: retention_kernel(s, A, k_d) / s, times[positive], n)
            return out

        out = step(t - injection.t_inj) - step(t - injection.t_inj - injection.width)
        return self._checked(out, A)

    @staticmethod
    def _checked(out: np.ndarray, A: float) -> np.ndarray:
        # the retained part lies between 0 and the injection height; Talbot's contour breaks down for
        # strongly retained analytes (essential singularity at −k_d): say so instead of returning noise
        if not np.all(np.isfinite(out)) or np.abs(out).max() > 2.0:
            raise SolverError(f"the Talbot inversion failed for a strongly retained analyte (A = α k_a t0 = {A:.4g}); "
                              "use the fourier or bromwich method")
        return out


class FittingBasis:
    """Outlet shapes and their parameter derivatives at fixed times, for least-squares fitting.

    The unit-area outlet shape of an analyte with adsorption Damköhler number A = α k_a t0 and
    desorption rate k_d is h(t) = [e^{−A} f(t − t0) + L⁻¹{F R}(t − t0)] / ∫f (its area is 1: R(0) =
    1 − e^{−A}); with one `FourierSeries` plan shared by every evaluation, h, ∂h/∂ln A and ∂h/∂ln k_d
    come from one inversion of three transforms (∂K/∂A = −s/(s + k_d) K, ∂K/∂k_d = A s/(s + k_d)² K).

    Args:
        t: Measurement times (s).
        t0: Hold-up time (s).
        injection: The inlet profile.
        n_terms: Terms of the Fourier series (see `FittingBasis.for_parameters`).
        tol: Aliasing weight of the series.

    Shapes:
        shapes(A, k_d) with A, k_d (n,) -> h (n, n_t), dh/dlnA (n, n_t), dh/dlnk_d (n, n_t).
    """

    def __init__(self, t, t0: float, injection: Injection, n_terms: int, tol: float = 1e-12):
        self.t = np.asarray(t, dtype=float)
        self.t0 = float(t0)
        self.injection = injection
        self.area = injection.area
        self.late = self.t - self.t0 > 0
        shifted = self.t[self.late] - self.t0
        if len(shifted) == 0:
            raise BadInput("all measurement times are before the hold-up time t0: no peak can have eluted")
        # an evenly spaced series keeps the FFT path when the measured times are evenly spaced
        self.plan = FourierSeries(shifted, n_terms, tol=tol, period=2 * float(self.t.max()))
        self.fs = injection_transform(self.plan.s, injection)

    def shapes(self, A, k_d) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        A = np.atleast_1d(np.asarray(A, dtype=float))
        k_d = np.atleast_1d(np.asarray(k_d, dtype=float))
        s = self.plan.s[None, :]
        ratio = s / (s + k_d[:, None])
        K = np.exp(-A[:, None] * ratio)
        eA = np.exp(-A)[:, None]
        # transforms of the retained part and of its derivatives in ln A and ln k_d
        R = K - eA
        dR_lnA = A[:, None] * (-ratio * K + eA)
        dR_lnkd = A[:, None] * ratio * (k_d[:, None] / (s + k_d[:, None])) * K
        stacked = np.stack([R, dR_lnA, dR_lnkd]) * self.fs[None, None, :]
        inverted = self.plan(stacked)  # (3, n, n_late)
        direct = self.injection.profile(self.t[self.late] - self.t0)[None, :]
        h = np.zeros((3, len(A), len(self.t)))
        h[:, :, self.late] = inverted
        h[0][:, self.late] += eA * direct
        h[1][:, self.late] -= A[:, None] * eA * direct
        return h[0] / self.area, h[1] / self.area, h[2] / self.area
