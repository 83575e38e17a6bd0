"""Numerical inverse Laplace transform: three independent methods.

For F(s) = ∫_0^∞ e^{−st} f(t) dt, analytic for Re s > γ_0, the Bromwich integral

    f(t) = 1/(2πi) ∫_{γ−i∞}^{γ+i∞} e^{st} F(s) ds = (e^{γt}/π) ∫_0^∞ Re[F(γ + iy) e^{iyt}] dy   (γ > γ_0, f real)

is evaluated

- `talbot`: on Talbot's contour deformed into the left half-plane, with the Weideman-Trefethen
  optimal parameters z(θ) = (N/t)(−0.6122 + 0.5017 θ cot(0.6407 θ) + 0.2645 i θ), midpoint rule in
  θ (Weideman & Trefethen, Math. Comp. 76, 2007). Error about e^{−1.36 N} for transforms analytic
  off the negative real axis and without delays; it fails for delayed or narrow-peaked f (the
  contour's reach ~N/t must cover the transform's bandwidth), so callers split delays off.
- `fourier_series`: the trapezoidal rule on the vertical line Re s = γ with spacing π/T (the
  Fourier-series method of Dubner-Abate and Crump, without acceleration). It computes f at all
  times from one set of abscissae (an FFT for uniform times) and suits narrow peaks; its error is the
  aliasing e^{−2γT} f(t + 2T) plus the truncation of the series, chosen adaptively.
- `bromwich`: the line integral by global adaptive Gauss-Kronrod quadrature (scipy `quad_vec`, all
  times at once) with QUADPACK's QAWF Fourier quadrature for a slowly decaying tail. This is what
  the GC paper does (global adaptive quadrature of the inversion integral); slow but independent.

Declared orders (`convergence_order`, checked in tests/solvers/test_orders.py): `talbot` converges
geometrically in its nodes n, error ~ exp(-1.358 n) (Weideman & Trefethen's rate 3.89^{-n});
`FourierSeries` spectrally in its terms for smooth f (transforms decaying faster than any power on
the line), down to the aliasing error tol. `fourier_series` and `bromwich` adapt to a tolerance and
declare no order.

Shapes:
    F: called with complex arrays of any shape, returns the same shape.
    t: (n_t,) positive times -> f: (n_t,) real.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from pdesuite.errors import BadInput, SolverError
from pdesuite.solvers.order import SPECTRAL, ConvergenceOrder, Rate, declares

Transform = Callable[[np.ndarray], np.ndarray]

# Weideman-Trefethen (2007) optimal Talbot contour parameters
_WT_SIGMA, _WT_MU, _WT_ALPHA, _WT_NU = -0.6122, 0.5017, 0.6407, 0.2645


def _times(t) -> np.ndarray:
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise BadInput("inverse Laplace transform: times must be finite and > 0")
    return t


@declares(ConvergenceOrder(nodes=Rate(SPECTRAL, "n", "max / max|f|", "F analytic off the negative real axis, "
                                      "no delay", geometric=1.358)))
def talbot(F: Transform, t, n: int = 32) -> np.ndarray:
    """f(t) by the fixed Talbot contour with N = ``n`` nodes (even; 24-40 reach ~1e-13)."""
    t = _times(t)
    if n < 4 or n % 2:
        raise BadInput(f"talbot: n must be an even integer >= 4, got {n}")
    theta = (np.arange(n // 2) + 0.5) * 2 * np.pi / n  # the positive midpoints; the others are conjugates
    at = _WT_ALPHA * theta
    cot = np.cos(at) / np.sin(at)
    shape = _WT_SIGMA + _WT_MU * theta * cot + 1j * _WT_NU * theta
    dshape = _WT_MU * (cot - at / np.sin(at) ** 2) + 1j * _WT_NU
    scale = (n / t)[:, None]
    z = scale * shape[None, :]
    values = np.exp(z * t[:, None]) * F(z) * scale * dshape[None, :]
    return (2.0 / n) * np.imag(values.sum(axis=1))


class FourierSeries:
    """The trapezoidal Bromwich rule at fixed abscissae, for repeated inversions at the same times.

    Abscissae s_k = γ + i k π / T, k = 0..n_terms−1, with T = ``period`` (>= 2 t_max by default, so
    the roundoff amplification e^{γt} stays below tol^{-1/4}) and γ = ln(1/tol) / (2T), so the alias
    f(t + 2T) enters with weight ``tol``.

        f(t) ≈ (e^{γt}/T) [F(γ)/2 + Σ_{k>=1} Re(F(s_k) e^{ikπt/T})]

    Uniformly spaced times are summed by one FFT; other times directly, in blocks.

    Shapes:
        s: (n_terms,) complex; __call__(values (..., n_terms)) -> (..., n_t).
    """

    #: Spectral in the number of terms for smooth f, until the aliasing error ``tol``.
    convergence_order = ConvergenceOrder(terms=Rate(SPECTRAL, "n", "max / max|f|",
                                                    "F decays faster than any power on the line"))

    def __init__(self, t, n_terms: int, tol: float = 1e-12, period: float | None = None):
        self.t = _times(t)
        t_max = float(self.t.max())
        self.period = float(period) if period is not None else 2.0 * t_max
        if self.period < t_max:
            raise BadInput(f"fourier_series: the half-period {self.period} must be >= the largest time {t_max}")
        self.tol = float(tol)
        self.gamma = math.log(1.0 / self.tol) / (2.0 * self.period)
        self.n_terms = int(n_terms)
        self._fft = None
        if len(self.t) > 8:
            # evenly spaced to 1e-6 of a step (times read from a file carry rounding): one FFT, with
            # the time error that small (its effect < 1e-6 Δt max|f'|)
            dt = (self.t[-1] - self.t[0]) / (len(self.t) - 1)
            grid = self.t[0] + dt * np.arange(len(self.t))
            if dt > 0 and np.all(np.abs(self.t - grid) <= 1e-6 * dt):
                # FFT length M with M Δt = 2T: take the next length >= 2T/Δt and stretch T to match
                m = _fast_length(max(int(np.ceil(2 * self.period / dt)), 16))
                self.period = 0.5 * m * dt
                self.gamma = math.log(1.0 / self.tol) / (2.0 * self.period)
                self._fft = (m, float(self.t[0]), float(dt))
        self.y = np.pi * np.arange(self.n_terms) / self.period
        self.s = self.gamma + 1j * self.y

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=complex)
        weights = values.copy()
        weights[..., 0] *= 0.5
        damp = np.exp(self.gamma * self.t) / self.period
        if self._fft is not None:
            m, t0, _ = self._fft
            shifted = weights * np.exp(1j * self.y * t0)
            if self.n_terms > m:  # fold: e^{2πikj/m} has period m in k
                pad = (-self.n_terms) % m
                shifted = np.concatenate([shifted, np.zeros((*shifted.shape[:-1], pad), complex)], axis=-1)
                shifted = shifted.reshape(*shifted.shape[:-1], -1, m).sum(axis=-2)
            total = np.fft.ifft(shifted, n=m, axis=-1)[..., : len(self.t)] * m
            return damp * total.real
        out = np.empty((*values.shape[:-1], len(self.t)))
        block = max(1, int(4_000_000 // max(self.n_terms, 1)))
        for start in range(0, len(self.t), block):
            tt = self.t[start:start + block]
            phase = np.exp(1j * np.outer(self.y, tt))
            out[..., start:start + block] = (weights @ phase).real
        return damp * out


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def fourier_series(F: Transform, t, tol: float = 1e-12, max_terms: int = 1 << 20, min_terms: int = 256,
                   period: float | None = None) -> np.ndarray:
    """f(t) by the trapezoidal Bromwich rule (`FourierSeries`), the number of terms n doubled until
    the sums with n and n/2 terms differ by less than ``tol`` of max |f| at every time.

    Raises:
        SolverError: no convergence within ``max_terms`` (a transform decaying too slowly on the line,
            e.g. a kink in f: use `talbot` or `bromwich`).
    """
    t = _times(t)
    n = int(min_terms)
    plan = FourierSeries(t, n, tol, period)
    values = F(plan.s)
    previous = None
    while True:
        if not np.all(np.isfinite(values)):
            raise SolverError("fourier_series: the transform is not finite on the inversion line")
        f = plan(values)
        if previous is not None and np.abs(f - previous).max() <= tol * max(float(np.abs(f).max()), 1e-300):
            return f
        if 2 * n > max_terms:
            raise SolverError(f"fourier_series: no convergence with {n} terms (the transform decays slowly: "
                              "a jump or kink in f); use talbot or bromwich")
        previous = f
        plan = FourierSeries(t, 2 * n, tol, period)
        values = np.concatenate([values, F(plan.s[n:])])
        n *= 2


def bromwich(F: Transform, t, gamma: float | None = None, tol: float = 1e-11, max_cycles: float = 500.0,
             limit: int = 20000) -> np.ndarray:
    """f(t) by adaptive quadrature along Re s = γ (default γ = 1 / t_max).

    [0, Y] is integrated for all times at once by `scipy.integrate.quad_vec` (Gauss-Kronrod 21, global
    error control, absolute tolerance ``tol`` times ∫|F| dy), with Y the point beyond which |F| stays
    below ``tol`` of its maximum, but at most ``max_cycles`` periods of e^{iyt_max}. Any remaining tail
    [Y, ∞) is added per time by QUADPACK's QAWF Fourier-integral routine (`quad`, weight cos/sin).
    """
    from scipy.integrate import quad, quad_vec

    t = _times(t)
    gamma = 1.0 / float(t.max()) if gamma is None else float(gamma)

    def line(y):
        return F(gamma + 1j * np.asarray(y, dtype=float))

    ys = np.concatenate([[0.0], np.geomspace(1e-4 * gamma, 1e9 / t.min(), 600)])
    mags = np.abs(line(ys))
    if not np.all(np.isfinite(mags)):
        raise SolverError("bromwich: the transform is not finite on the inversion line")
    peak = mags.max()
    y_cap = 2 * np.pi * max_cycles / t.max()
    above = np.nonzero(mags > tol * peak)[0]
    y_cut = ys[min(above[-1] + 1, len(ys) - 1)] if len(above) else ys[1]
    y_max = float(min(y_cut, y_cap))
    inside = ys <= y_max
    size = float(np.trapezoid(mags[inside], ys[inside])) + peak * gamma  # ≈ ∫_0^Y |F| dy

    def integrand(y):
        return (line(y) * np.exp(1j * y * t)).real

    body, _ = quad_vec(integrand, 0.0, y_max, epsabs=tol * size, epsrel=0.0, limit=limit, norm="max")
    if abs(line(y_max)) > tol * peak:
        tails = np.empty_like(t)
        for j, tj in enumerate(t):
            cos_part = quad(lambda y: line(y).real, y_max, np.inf, weight="cos", wvar=tj,
                            epsabs=tol * size, limlst=500)[0]
            sin_part = quad(lambda y: line(y).imag, y_max, np.inf, weight="sin", wvar=tj,
                            epsabs=tol * size, limlst=500)[0]
            tails[j] = cos_part - sin_part
        body = body + tails
    return np.exp(gamma * t) / np.pi * body


METHODS = {"talbot": talbot, "fourier": fourier_series, "bromwich": bromwich}


def invert(F: Transform, t, method: str = "fourier", **options) -> np.ndarray:
    """f(t) by ``method`` ("talbot", "fourier" or "bromwich")."""
    if method not in METHODS:
        raise BadInput(f"unknown inversion method {method!r} (known: {', '.join(METHODS)})")
    return METHODS[method](F, t, **options)
