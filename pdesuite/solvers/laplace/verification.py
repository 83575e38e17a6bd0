"""Convergence of the numerical inverse Laplace transforms in their number of nodes (tests/solvers/test_orders.py).

- `talbot_study`: F(s) = 1/(s + 1)² (f = t e^{-t}) or the heat kernel e^{-√s}, both analytic off the
  negative real axis, at 16 times in [0.5, 8]; Weideman & Trefethen's contour converges like 3.89^{-n}.
- `fourier_series_study`: the Gaussian injection's transform (f smooth, F decays like e^{-σ²y²/2} on
  the line) with the aliasing error tol = 1e-14, so the truncation error alone is seen.
Errors are max |f_n - f| / max |f|.
"""

from __future__ import annotations

import numpy as np

from pdesuite.problems.chromatography import Injection
from pdesuite.solvers.laplace.column import injection_transform
from pdesuite.solvers.laplace.inversion import FourierSeries, talbot

TIMES = np.linspace(0.5, 8.0, 16)
#: name -> (F, f): transforms analytic off the negative real axis, without delay.
TALBOT_CASES = {
    "t exp(-t)": (lambda s: 1.0 / (s + 1.0) ** 2, lambda t: t * np.exp(-t)),
    "heat kernel": (lambda s: np.exp(-np.sqrt(s)), lambda t: np.exp(-1.0 / (4.0 * t)) / (2.0 * np.sqrt(np.pi * t**3))),
}


def _relative(value: np.ndarray, exact: np.ndarray) -> float:
    return float(np.abs(value - exact).max() / np.abs(exact).max())


def talbot_study(case: str, nodes=(6, 10, 14, 18)) -> dict:
    F, f = TALBOT_CASES[case]
    errors = [_relative(talbot(F, TIMES, n), f(TIMES)) for n in nodes]
    return {"n": list(nodes), "errors": errors, "declared": talbot.convergence_order}


def fourier_series_study(terms=(32, 48, 64, 96), tol: float = 1e-14) -> dict:
    injection = Injection("gaussian", 0.4, 3.0)
    exact = injection.profile(TIMES)
    errors = []
    for n in terms:
        plan = FourierSeries(TIMES, n, tol=tol)
        errors.append(_relative(plan(injection_transform(plan.s, injection)), exact))
    return {"n": list(terms), "errors": errors, "declared": FourierSeries.convergence_order}
