"""Grid solvers of u_t + a u_x = 0 on [x_min, x_max] with zero inflow data: INSR's baselines.

The grid has ``n`` equally spaced nodes, ends included (h = L/(n - 1)); u = 0 is imposed at the inflow
node (x_min for a > 0) and, where the scheme needs a value there, at the outflow node (the pulse of the
INSR case never reaches either). One output step Δt may be split into substeps. Schemes:

* ``upwind``: explicit first-order upwind, u_i ← u_i - c (u_i - u_{i-1}), c = a τ/h ≤ 0.9 per substep
  τ (the output step is split as needed); first order in h at a fixed Courant number, numerically
  diffusive (the pulse's peak decays).
* ``crank-nicolson``: central differences in space, the trapezoidal rule in time,
  (I - τ/2 A) u^{n+1} = (I + τ/2 A) u^n with A = -a D₀; second order in h and τ, unconditionally
  stable, dispersive (wiggles behind the pulse) but not diffusive.
* ``semi-lagrangian``: u^{n+1}(x_i) = u^n(x_i - a τ) by interpolation between nodes (``cubic``:
  cubic Hermite with centred slopes, Catmull-Rom; ``linear``), zero beyond the inflow end. Stable at any
  τ; at a fixed Courant number its error is O(h^p / τ) per unit time (p = 4 cubic, 2 linear), so
  order 3 (cubic) or 1 (linear) in h.

All three are the classical choices for pure advection on a grid (LeVeque, *Finite Volume Methods*,
2002, ch. 4 and 8; Staniforth & Côté 1991 for semi-Lagrangian).

Shapes:
    u0: (n,) -> solution (n_steps + 1, n).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_banded

from pdesuite.errors import BadInput
from pdesuite.solvers.order import ConvergenceOrder, Rate

SCHEMES = ("upwind", "crank-nicolson", "semi-lagrangian")
#: Order in h at a fixed Courant number (the module docstring).
ORDER = {"upwind": 1, "crank-nicolson": 2, "semi-lagrangian": 3, "semi-lagrangian-linear": 1}


class AdvectionFD:
    """u_t + a u_x = 0 on ``n`` nodes of [x_min, x_max], zero inflow data (see the module docstring).

    Args:
        n: Nodes, ends included (>= 3).
        a: Speed (either sign).
        x_min, x_max: The interval.
        scheme: "upwind", "crank-nicolson" or "semi-lagrangian".
        interpolation: Semi-Lagrangian only: "cubic" (default) or "linear".
        courant: Upwind only: the largest Courant number a τ/h per substep (<= 1).
    """

    def __init__(self, n: int, a: float, x_min: float = -2.0, x_max: float = 2.0, scheme: str = "crank-nicolson",
                 interpolation: str = "cubic", courant: float = 0.9):
        if isinstance(n, bool) or not isinstance(n, int) or n < 3:
            raise BadInput(f"the advection grid needs at least 3 nodes, got {n!r}")
        if scheme not in SCHEMES:
            raise BadInput(f"unknown advection scheme {scheme!r} (known: {', '.join(SCHEMES)})")
        if interpolation not in ("cubic", "linear"):
            raise BadInput(f"semi-Lagrangian interpolation is cubic or linear, got {interpolation!r}")
        if not (math.isfinite(a) and x_min < x_max and 0 < courant <= 1):
            raise BadInput(f"need a finite speed, x_min < x_max and 0 < courant <= 1; got {a}, {x_min}, {x_max}, "
                           f"{courant}")
        self.n, self.a, self.scheme, self.interpolation, self.courant = n, float(a), scheme, interpolation, courant
        self.x = np.linspace(x_min, x_max, n)
        self.h = (x_max - x_min) / (n - 1)

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """This scheme's order in h at a fixed Courant number (`ORDER`), relative L2 error of a smooth pulse."""
        key = "semi-lagrangian-linear" if self.scheme == "semi-lagrangian" and self.interpolation == "linear" \
            else self.scheme
        return ConvergenceOrder(space=Rate(ORDER[key], "h", "L2", "a smooth pulse, a fixed Courant number"))

    def solve(self, u0: np.ndarray, dt: float, n_steps: int, substeps: int = 1) -> np.ndarray:
        """``n_steps`` output steps of ``dt``, each of ``substeps`` substeps (upwind adds more if its Courant
        limit needs them); returns u at the n_steps + 1 output times."""
        u = np.asarray(u0, dtype=np.float64).copy()
        if u.shape != (self.n,):
            raise BadInput(f"initial field of shape {u.shape}, expected ({self.n},)")
        if not dt > 0 or int(n_steps) != n_steps or n_steps < 1 or int(substeps) != substeps or substeps < 1:
            raise BadInput(f"need dt > 0 and positive integer step counts, got {dt}, {n_steps}, {substeps}")
        if self.scheme == "upwind":
            substeps = max(substeps, math.ceil(abs(self.a) * dt / (self.courant * self.h)))
        tau = dt / substeps
        step = {"upwind": self._upwind, "crank-nicolson": self._crank_nicolson(tau),
                "semi-lagrangian": self._semi_lagrangian}[self.scheme]
        inflow = 0 if self.a >= 0 else -1
        out = np.empty((n_steps + 1, self.n))
        out[0] = u
        for k in range(1, n_steps + 1):
            for _ in range(substeps):
                u = step(u, tau)
                u[inflow] = 0.0
            out[k] = u
        return out

    # -- schemes -------------------------------------------------------------------------------------------
    def _upwind(self, u: np.ndarray, tau: float) -> np.ndarray:
        c = self.a * tau / self.h
        new = u.copy()
        if c >= 0:
            new[1:] = u[1:] - c * (u[1:] - u[:-1])
        else:
            new[:-1] = u[:-1] - c * (u[1:] - u[:-1])
        return new

    def _crank_nicolson(self, tau: float):
        """(I - τ/2 A) u⁺ = (I + τ/2 A) u, A u_i = -a (u_{i+1} - u_{i-1})/(2h) on the interior, u = 0 at both
        ends; a tridiagonal solve per substep."""
        r = self.a * tau / (4 * self.h)
        bands = np.zeros((3, self.n))
        bands[0, 2:] = r       # super-diagonal (row i, column i + 1), interior rows
        bands[1, :] = 1.0
        bands[2, :-2] = -r     # sub-diagonal (row i, column i - 1), interior rows
        bands[1, [0, -1]] = 1.0

        def step(u: np.ndarray, tau: float) -> np.ndarray:  # noqa: ARG001 - τ is built into the bands
            rhs = u.copy()
            rhs[1:-1] = u[1:-1] - r * (u[2:] - u[:-2])
            rhs[[0, -1]] = 0.0
            return solve_banded((1, 1), bands, rhs)

        return step

    def _semi_lagrangian(self, u: np.ndarray, tau: float) -> np.ndarray:
        s = (self.x - self.a * tau - self.x[0]) / self.h  # departure points in grid units
        j = np.floor(s).astype(int)
        w = s - j
        padded = np.concatenate([[0.0, 0.0], u, [0.0, 0.0]])  # zero beyond both ends

        def at(i):  # u at node i (outside the grid: 0)
            return padded[np.clip(i, -2, self.n + 1) + 2]

        if self.interpolation == "linear":
            return (1 - w) * at(j) + w * at(j + 1)
        p0, p1, p2, p3 = at(j - 1), at(j), at(j + 1), at(j + 2)  # Catmull-Rom: Hermite with centred slopes
        return p1 + 0.5 * w * (p2 - p0 + w * (2 * p0 - 5 * p1 + 4 * p2 - p3 + w * (3 * (p1 - p2) + p3 - p0)))
