"""Fit the Laplace-transform chromatogram to a measured one: two kinetic parameters and an area per peak.

Model (D = 0, linear kinetics, hold-up time t0 and injection profile known):

    y(t) = b0 [+ b1 (t − t̄)] + Σ_i a_i h(t; A_i, k_d,i),     A_i = α k_a,i t0,

with h the unit-area outlet shape of `pdesuite.solvers.laplace.column.FittingBasis`. The unknowns are
ln A_i, ln k_d,i (positive by construction), the areas a_i and the baseline; `scipy.optimize.
least_squares` (Levenberg-Marquardt) minimises the residual with the exact Jacobian, itself an inverse
Laplace transform. Standard errors come from the Jacobian at the optimum, cov = s² (JᵀJ)⁻¹,
s² = RSS / (m − p), mapped to k_a, k_d by the delta method. Starting values come from the peaks found
in the signal: retention time t_R ⇒ k' = (t_R − t_inj − t0)/t0, width σ² ≈ 2 k' t0 / k_d + σ_inj².
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Injection
from pdesuite.solvers.laplace.column import FittingBasis, injection_transform, retention_kernel

BASELINES = ("constant", "linear", "none")


def read_chromatogram(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(time, signal) from a CSV file with a header naming the columns ``time`` and ``signal``.

    Raises:
        BadInput: unreadable file, missing columns, non-numeric or non-finite values, fewer than 10
            rows, or times that do not increase strictly.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BadInput(f"chromatogram file {path} does not exist")
    try:
        with open(path, newline="") as f:
            rows = [row for row in csv.reader(f) if row and not row[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    if not rows:
        raise BadInput(f"{path} is empty")
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in ("time", "signal") if name not in header]
    if missing:
        raise BadInput(f"{path}: missing column(s) {', '.join(missing)} in the header (found: {', '.join(header)})")
    it, iy = header.index("time"), header.index("signal")
    t, y = [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            t.append(float(row[it]))
            y.append(float(row[iy]))
        except (IndexError, ValueError):
            raise BadInput(f"{path}: line {line} has no numeric time and signal") from None
    t, y = np.array(t), np.array(y)
    check_chromatogram(t, y, path)
    return t, y


def check_chromatogram(t: np.ndarray, y: np.ndarray, what: str = "chromatogram") -> None:
    if len(t) < 10:
        raise BadInput(f"{what}: need at least 10 samples, got {len(t)}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise BadInput(f"{what}: contains NaN or infinite values")
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise BadInput(f"{what}: times must increase strictly (row {k + 2}: {t[k + 1]} after {t[k]})")


@dataclass
class PeakEstimate:
    """One analyte's fitted parameters with standard errors (se)."""

    name: str
    k_a: float
    k_a_se: float
    k_d: float
    k_d_se: float
    area: float
    area_se: float
    retention_factor: float
    retention_time: float

    def row(self) -> dict:
        return asdict(self)


@dataclass
class FitResult:
    """Estimates, standard errors, the fitted curve and the residuals.

    Attributes:
        peaks: One `PeakEstimate` per analyte, in order of elution.
        baseline: {"b0", "b0_se"} and for a linear one {"b1", "b1_se", "t_ref"}: b0 + b1 (t − t_ref).
        converged: Whether least squares met its tolerance; if not, the estimates are the best point found.
        message: The optimiser's message.
        noise: Residual standard deviation s.
        t, signal, fitted, residuals: (m,) arrays.
        components: (n_peaks, m) each peak's fitted contribution (without the baseline).
    """

    peaks: list[PeakEstimate]
    baseline: dict
    converged: bool
    message: str
    nfev: int
    noise: float
    t: np.ndarray = field(repr=False)
    signal: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    components: np.ndarray = field(repr=False, default=None)

    def to_dict(self) -> dict:
        return {"converged": self.converged, "message": self.message, "nfev": self.nfev, "noise": self.noise,
                "baseline": self.baseline, "peaks": [p.row() for p in self.peaks]}

    def table(self) -> str:
        lines = [f"{'analyte':14s} {'k_a (1/s)':>22s} {'k_d (1/s)':>22s} {'area':>22s} {'k_prime':>8s} {'t_R (s)':>9s}"]
        for p in self.peaks:
            lines.append(f"{p.name:14s} {_pm(p.k_a, p.k_a_se):>22s} {_pm(p.k_d, p.k_d_se):>22s} "
                         f"{_pm(p.area, p.area_se):>22s} {p.retention_factor:8.4g} {p.retention_time:9.4g}")
        base = ", ".join(f"{k} = {v:.4g}" for k, v in self.baseline.items() if not k.endswith("_se"))
        lines.append(f"baseline: {base or 'none'}; noise s = {self.noise:.3g}; "
                     f"{'converged' if self.converged else 'NOT CONVERGED (best point found)'} after {self.nfev} "
                     "evaluations")
        return "\n".join(lines)


def _pm(value: float, se: float) -> str:
    return f"{value:.5g} ± {se:.2g}"


# -- starting values -------------------------------------------------------------------------------------
def find_peaks(t: np.ndarray, y: np.ndarray, n_peaks: int | None = None, min_snr: float = 8.0) -> list[dict]:
    """Peaks in a noisy signal: [{"time", "height", "sigma"}] in order of elution.

    The baseline is the signal's median, the noise the robust spread of successive differences; peaks
    are maxima of a lightly smoothed signal whose prominence (height above the higher of the lowest
    points separating them from higher ground on either side) exceeds ``min_snr`` noise levels; the
    ``n_peaks`` most prominent ones if given. σ is the half width at half prominence / 1.1774.
    """
    from scipy.ndimage import gaussian_filter1d

    base = float(np.median(y))
    d = np.diff(y)
    noise = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    smooth = gaussian_filter1d(y - base, 2.0)
    scale = max(noise, 1e-12 * float(np.abs(y).max()) + 1e-300)
    maxima = np.flatnonzero((smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:])) + 1
    found = []
    for i in maxima:
        higher_left = np.flatnonzero(smooth[:i] > smooth[i])
        higher_right = np.flatnonzero(smooth[i + 1:] > smooth[i])
        lo = higher_left[-1] + 1 if len(higher_left) else 0
        hi = i + 1 + higher_right[0] if len(higher_right) else len(smooth)
        base_left, base_right = smooth[lo:i + 1].min(), smooth[i:hi].min()
        prominence = smooth[i] - max(base_left, base_right)
        if prominence > min_snr * scale:
            found.append((prominence, i, lo, hi))
    if not found:
        raise BadInput("no peak found in the signal: nothing stands out of the noise "
                       f"(noise ≈ {noise:.3g}, largest excursion {float(np.max(smooth)):.3g} above the median)")
    found.sort(reverse=True)
    if n_peaks is not None:
        if len(found) < n_peaks:
            raise BadInput(f"found only {len(found)} peak(s) in the signal, {n_peaks} requested")
        found = found[:n_peaks]
    peaks = []
    for prominence, i, lo, hi in sorted(found, key=lambda item: item[1]):
        half = smooth[i] - 0.5 * prominence
        left = np.flatnonzero(smooth[lo:i] < half)
        right = np.flatnonzero(smooth[i:hi] < half)
        t_left = _crossing(t, smooth, lo + left[-1], half) if len(left) else t[lo]
        t_right = _crossing(t, smooth, i + right[0] - 1, half) if len(right) else t[hi - 1]
        sigma = max(0.5 * (t_right - t_left) / 1.1774, float(np.median(np.diff(t))))
        peaks.append({"time": float(t[i]), "height": float(smooth[i]), "sigma": sigma})
    return peaks


def _crossing(t: np.ndarray, y: np.ndarray, k: int, level: float) -> float:
    """The time where y crosses ``level`` between samples k and k + 1 (linear interpolation)."""
    dy = y[k + 1] - y[k]
    return float(t[k] + (level - y[k]) / dy * (t[k + 1] - t[k])) if dy else float(t[k])


def initial_guess(peaks: list[dict], t0: float, injection: Injection) -> list[tuple[float, float, float]]:
    """(A, k_d, area) per peak from retention times and widths (moments of the D = 0 model)."""
    out = []
    for p in peaks:
        k_prime = (p["time"] - injection.mean_time - t0) / t0
        if k_prime <= 0:
            raise BadInput(f"a peak at t = {p['time']:.4g} s elutes before the hold-up time t0 = {t0:.4g} s "
                           "(+ injection): not a retained analyte, or t0 is wrong")
        var = max(p["sigma"] ** 2 - injection.variance, 0.25 * p["sigma"] ** 2)
        k_d = 2 * k_prime * t0 / var
        out.append((k_prime * k_d * t0, k_d, p["height"] * p["sigma"] * math.sqrt(2 * math.pi)))
    return out


def _terms(t_max: float, A, k_d, injection: Injection, tol: float) -> int:
    """Series length resolving every peak (the transforms at the line have decayed to tol)."""
    n = 512
    period = 2 * t_max
    while n < 1 << 16:  # at most 2^17 terms: a plug through a weakly retaining column decays only algebraically
        s = math.log(1 / tol) / (2 * period) + 1j * np.pi * np.arange(n // 2, n) / period
        fs = np.abs(injection_transform(s, injection))
        worst = max(float(np.max(np.abs(retention_kernel(s, a, kd)) * fs)) for a, kd in zip(A, k_d, strict=True))
        if worst < tol * injection.area:
            break
        n *= 2
    return 2 * n


# -- the fit ---------------------------------------------------------------------------------------------
def fit_chromatogram(t, y, t0: float, injection: Injection, alpha: float = 1.0, n_peaks: int | None = None,
                     names: list[str] | None = None, baseline: str = "constant", initial=None,
                     max_nfev: int = 200, tol: float = 1e-12) -> FitResult:
    """Least-squares fit of the Laplace chromatogram to (t, y).

    Args:
        t, y: Measured times (s, strictly increasing) and signal.
        t0: Hold-up time (s) of the column (L / ū).
        injection: The inlet profile (its shape, width and time are known).
        alpha: Phase ratio α, to report k_a = A / (α t0).
        n_peaks: Number of analytes (default: every peak found).
        names: Analyte names (default peak1, peak2, ...).
        baseline: "constant" (b0), "linear" (b0 + b1 (t − t̄)) or "none".
        initial: Optional starting values [(k_a, k_d, area), ...] instead of the peak-based ones.
        max_nfev: Evaluation budget; if spent, the result says converged = False.
        tol: Accuracy of the inverse transform.

    Raises:
        BadInput: invalid data or settings, no peak found.
    """
    from scipy.optimize import least_squares

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    check_chromatogram(t, y)
    if baseline not in BASELINES:
        raise BadInput(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if not (t0 > 0 and math.isfinite(t0)):
        raise BadInput(f"hold-up time t0 must be positive, got {t0}")
    if not (alpha > 0 and math.isfinite(alpha)):
        raise BadInput(f"phase ratio alpha must be positive, got {alpha}")
    if n_peaks is not None and (isinstance(n_peaks, bool) or int(n_peaks) != n_peaks or n_peaks < 1):
        raise BadInput(f"number of peaks must be a positive integer, got {n_peaks}")
    if initial is not None:
        guess = [(float(ka) * alpha * t0, float(kd), float(area)) for ka, kd, area in initial]
        if any(not (g[0] > 0 and g[1] > 0) for g in guess):
            raise BadInput("initial k_a and k_d must be positive")
    else:
        guess = initial_guess(find_peaks(t, y, n_peaks), t0, injection)
    n = len(guess)
    if names is None:
        names = [f"peak{i + 1}" for i in range(n)]
    if len(names) != n:
        raise BadInput(f"{len(names)} names for {n} peaks")
    n_base = {"constant": 1, "linear": 2, "none": 0}[baseline]
    if len(t) <= 3 * n + n_base:
        raise BadInput(f"{len(t)} samples cannot determine {3 * n + n_base} parameters")
    t_mid = float(t.mean())

    A0 = np.array([g[0] for g in guess])
    kd0 = np.array([g[1] for g in guess])
    x0 = np.concatenate([np.column_stack([np.log(A0), np.log(kd0), [g[2] for g in guess]]).ravel(),
                         [float(np.median(y))] * min(n_base, 1) + [0.0] * (n_base == 2)])
    state = {"basis": None, "terms": 0, "x": None, "parts": None}

    def basis_for(x):
        A, kd = np.exp(x[0:3 * n:3]), np.exp(x[1:3 * n:3])
        needed = _terms(float(t.max()), A, kd, injection, tol)
        if state["basis"] is None or needed > state["terms"]:
            state["terms"] = max(needed, 2 * state["terms"])
            state["basis"] = FittingBasis(t, t0, injection, state["terms"], tol)
        return state["basis"], A, kd

    def evaluate(x):
        if state["x"] is None or not np.array_equal(x, state["x"]):
            basis, A, kd = basis_for(x)
            state["x"], state["parts"] = x.copy(), basis.shapes(A, kd)
        return state["parts"]

    def model(x):
        h, _, _ = evaluate(x)
        areas = x[2:3 * n:3]
        out = areas @ h
        if n_base:
            out = out + x[3 * n]
        if n_base == 2:
            out = out + x[3 * n + 1] * (t - t_mid)
        return out

    def residual(x):
        return model(x) - y

    def jacobian(x):
        h, dA, dkd = evaluate(x)
        areas = x[2:3 * n:3]
        J = np.empty((len(t), len(x)))
        J[:, 0:3 * n:3] = (areas[:, None] * dA).T
        J[:, 1:3 * n:3] = (areas[:, None] * dkd).T
        J[:, 2:3 * n:3] = h.T
        if n_base:
            J[:, 3 * n] = 1.0
        if n_base == 2:
            J[:, 3 * n + 1] = t - t_mid
        return J

    result = least_squares(residual, x0, jac=jacobian, method="lm", x_scale="jac", max_nfev=max_nfev,
                           xtol=1e-12, ftol=1e-12, gtol=1e-10)
    x = result.x
    J = jacobian(x)
    res = residual(x)
    dof = max(len(t) - len(x), 1)
    s2 = float(res @ res) / dof
    try:
        cov = np.linalg.pinv(J.T @ J) * s2
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(x), np.nan)
    peaks = []
    for i in range(n):
        A, kd, area = math.exp(x[3 * i]), math.exp(x[3 * i + 1]), float(x[3 * i + 2])
        k_a = A / (alpha * t0)
        k_prime = A / (kd * t0)
        peaks.append(PeakEstimate(names[i], k_a, k_a * float(se[3 * i]), kd, kd * float(se[3 * i + 1]), area,
                                  float(se[3 * i + 2]), k_prime, t0 * (1 + k_prime) + injection.mean_time))
    base = {}
    if n_base:
        base.update(b0=float(x[3 * n]), b0_se=float(se[3 * n]))
    if n_base == 2:
        base.update(b1=float(x[3 * n + 1]), b1_se=float(se[3 * n + 1]), t_ref=t_mid)
    converged = bool(result.status > 0 and np.all(np.isfinite(x)))
    message = result.message if converged else f"no convergence within {result.nfev} evaluations ({result.message})"
    h = evaluate(x)[0]
    components = x[2:3 * n:3][:, None] * h
    return FitResult(peaks, base, converged, message, int(result.nfev), math.sqrt(s2), t, y, model(x), res,
                     components)
