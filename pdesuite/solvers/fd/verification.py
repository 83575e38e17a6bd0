"""Refinement studies of the finite-difference solvers (used by tests/solvers/test_orders.py).

Each study returns the refined quantity, the errors per declared rate, the fitted rates and the
solver's own declaration (``declared``: its `convergence_order`).

- `NonlinearDiffusionSolver`: manufactured solutions of u_t = α∇·(u∇u) + f. In space a smooth,
  non-polynomial u (error in h at a small Δt); in time a u bilinear in space, for which u² has
  degree 2 per axis, the 5-point Δ_h(u²) is exact, and the error is the time discretisation's alone.
- `ColumnFD`: outlet curves of a Gaussian injection (smooth, D = 0) against the exact Laplace
  solution; max error relative to the peak, cells doubled.
- `SmokeSolver`: a Gaussian blob of smoke rising in the 32 × 32 box (b_y = 0.2, t = 4), RMS error of
  the smoke against a run with a much smaller Δt on the same grid (time), or against a 256² run at the
  same Δt averaged onto the coarse cells (space).
"""

from __future__ import annotations

import numpy as np

from pdesuite.problems.base import NUMPY
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.problems.pig import NonlinearDiffusion
from pdesuite.problems.smoke import Smoke
from pdesuite.solvers.fd.chromatography import ColumnFD
from pdesuite.solvers.fd.nonlinear_diffusion import NonlinearDiffusionSolver
from pdesuite.solvers.fd.smoke import SmokeSolver
from pdesuite.solvers.order import observed_rate

ALPHA = 0.05


# -- nonlinear diffusion: a smooth, non-polynomial manufactured solution (order in space) -----------
def _s(x, m):
    return m.sin(m.pi * x[0]) * m.cos(0.5 * m.pi * x[1]) + 0.5 * m.cos(0.5 * m.pi * x[0]) * m.sin(m.pi * x[1])


def _s_x(x, m):
    return (m.pi * m.cos(m.pi * x[0]) * m.cos(0.5 * m.pi * x[1])
            - 0.25 * m.pi * m.sin(0.5 * m.pi * x[0]) * m.sin(m.pi * x[1]))


def _s_y(x, m):
    return (-0.5 * m.pi * m.sin(m.pi * x[0]) * m.sin(0.5 * m.pi * x[1])
            + 0.5 * m.pi * m.cos(0.5 * m.pi * x[0]) * m.cos(m.pi * x[1]))


def smooth_exact(x, t, m):
    """u = 1 + e^{-t} s(x, y) / 2 with s a sum of sines and cosines (Δs = -(5/4)π² s)."""
    return 1.0 + 0.5 * m.exp(-t) * _s(x, m)


def smooth_source(x, t, m):
    """f = u_t - α(|∇u|² + u Δu) for `smooth_exact`."""
    e = 0.5 * m.exp(-t)
    grad2 = e * e * (_s_x(x, m) ** 2 + _s_y(x, m) ** 2)
    return -e * _s(x, m) - ALPHA * (grad2 - smooth_exact(x, t, m) * e * 1.25 * m.pi**2 * _s(x, m))


# -- a solution bilinear in space (order in time) --------------------------------------------------
def bilinear_exact(x, t, m):
    return 2.0 + 0.5 * m.sin(2 * t) * x[0] + 0.3 * m.cos(3 * t) * x[1] + 0.4 * m.sin(t + 1) * x[0] * x[1]


def bilinear_source(x, t, m):
    """f = u_t - α|∇u|² for `bilinear_exact` (Δu = 0)."""
    u_t = m.cos(2 * t) * x[0] - 0.9 * m.sin(3 * t) * x[1] + 0.4 * m.cos(t + 1) * x[0] * x[1]
    u_x = 0.5 * m.sin(2 * t) + 0.4 * m.sin(t + 1) * x[1]
    u_y = 0.3 * m.cos(3 * t) + 0.4 * m.sin(t + 1) * x[0]
    return u_t - ALPHA * (u_x**2 + u_y**2)


def nonlinear_diffusion_error(problem: NonlinearDiffusion, cells: int, substeps: int, t_end: float = 1.0) -> float:
    """Max nodal error at ``t_end`` of ``substeps`` SDIRK2 steps on a ``cells``² grid."""
    solver = NonlinearDiffusionSolver(problem, cells)
    u = solver.solve(np.array([0.0, t_end]), substeps=substeps)[-1]
    return float(np.abs(u - problem.exact(solver.points, t_end, NUMPY)).max())


def nonlinear_diffusion_space_study(cells=(8, 16, 32, 64), substeps: int = 32) -> dict:
    problem = NonlinearDiffusion(alpha=ALPHA, exact=smooth_exact, source=smooth_source)
    errors = [nonlinear_diffusion_error(problem, n, substeps) for n in cells]
    h = [2.0 / n for n in cells]
    return {"h": h, "errors": errors, "rate": observed_rate(h, errors),
            "declared": NonlinearDiffusionSolver.convergence_order}


def nonlinear_diffusion_time_study(steps=(4, 8, 16, 32), cells: int = 8) -> dict:
    problem = NonlinearDiffusion(alpha=ALPHA, exact=bilinear_exact, source=bilinear_source)
    errors = [nonlinear_diffusion_error(problem, cells, n) for n in steps]
    dt = [1.0 / n for n in steps]
    return {"dt": dt, "errors": errors, "rate": observed_rate(dt, errors),
            "declared": NonlinearDiffusionSolver.convergence_order}


# -- the chromatography column ----------------------------------------------------------------------
def single_analyte(k_a: float, k_d: float, injection: Injection, **kw) -> Chromatography:
    """A one-analyte column of length 1 m at 0.1 m/s (t0 = 10 s), phase ratio 1."""
    return Chromatography(length=1.0, velocity=0.1, alpha=1.0, analytes=(Analyte("a", k_a, k_d, 1.0),),
                          injection=injection, **kw)


def column_peak_error(problem: Chromatography, cells: int, scheme: str, rtol: float, n_t: int = 201) -> float:
    """max |c_FD - c_exact| / max |c_exact| at the outlet over n_t times up to the problem's end time."""
    from pdesuite.solvers.laplace.column import LaplaceColumn

    t = np.linspace(0.0, problem.end_time(), n_t)
    exact = LaplaceColumn(problem).outlet(t)
    value = ColumnFD(problem, cells, scheme, rtol=rtol, atol=rtol * 1e-3).solve(t)
    return float(np.abs(value - exact).max() / np.abs(exact).max())


#: scheme -> (problem, cells, rtol): smooth Gaussian injections, D = 0; the limited schemes and kappa3
#: on a more retained analyte at coarser grids (their errors reach the time tolerance sooner).
COLUMN_CASES = {
    "upwind": (single_analyte(1.0, 1.0, Injection("gaussian", 2.0, 8.0)), (100, 200, 400), 1e-7),
    "vanleer": (single_analyte(4.0, 2.0, Injection("gaussian", 1.0, 4.0)), (20, 40, 80), 1e-6),
    "vanalbada": (single_analyte(4.0, 2.0, Injection("gaussian", 1.0, 4.0)), (20, 40, 80), 1e-6),
    "koren": (single_analyte(4.0, 2.0, Injection("gaussian", 1.0, 4.0)), (20, 40, 80), 1e-6),
    "kappa3": (single_analyte(4.0, 2.0, Injection("gaussian", 1.0, 4.0)), (40, 80, 160), 1e-8),
}


def column_space_study(scheme: str) -> dict:
    problem, cells, rtol = COLUMN_CASES[scheme]
    errors = [column_peak_error(problem, n, scheme, rtol) for n in cells]
    h = [1.0 / n for n in cells]
    return {"h": h, "cells": list(cells), "errors": errors, "rate": observed_rate(h, errors),
            "declared": ColumnFD(problem, cells[0], scheme).convergence_order}


# -- advection: the Gaussian pulse at a fixed Courant number --------------------------------------------
def advection_space_study(scheme: str, interpolation: str = "cubic", nodes=(101, 201, 401)) -> dict:
    """u_t + 0.5 u_x = 0, pulse σ = 0.2 from -0.5 to 0.5 (t = 2), Courant number 0.5: relative L2 error of
    `AdvectionFD` against the exact pulse as the grid is refined (Δt ∝ h)."""
    from pdesuite.problems.advection import Advection
    from pdesuite.solvers.fd.advection import AdvectionFD

    problem = Advection(a=0.5, mu=-0.5, sigma=0.2, t_end=2.0)
    errors, h = [], []
    for n in nodes:
        solver = AdvectionFD(n, problem.a, scheme=scheme, interpolation=interpolation)
        dt = 0.5 * solver.h / problem.a
        steps = round(problem.t_end / dt)
        u = solver.solve(problem.initial([solver.x], NUMPY), dt, steps)[-1]
        exact = problem.exact([solver.x], steps * dt, NUMPY)
        errors.append(float(np.linalg.norm(u - exact) / np.linalg.norm(exact)))
        h.append(solver.h)
    return {"h": h, "nodes": list(nodes), "errors": errors, "rate": observed_rate(h, errors),
            "declared": AdvectionFD(nodes[0], problem.a, scheme=scheme, interpolation=interpolation).convergence_order}


# -- smoke --------------------------------------------------------------------------------------------
def _smoke_run(n: int, dt: float, t_end: float = 4.0, buoyancy: float = 0.2, backtrace: str = "midpoint"):
    """The smoke at ``t_end`` from the blob exp(-|x - (16, 12)|² / 50) at rest, (n, n)."""
    problem = Smoke()
    x, y = problem.cell_centres(n, n)
    X, Y = np.meshgrid(x, y, indexing="ij")
    s0 = np.exp(-((X - 16.0) ** 2 + (Y - 12.0) ** 2) / (2 * 5.0**2))[None]
    steps = int(round(t_end / dt))
    solver = SmokeSolver(problem, n, n, dt, backtrace=backtrace)
    return solver.solve(s0, [steps], buoyancy_y=buoyancy)["s"][0, -1], solver


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def smoke_time_study(dts=(2.0, 1.0, 0.5, 0.25), n: int = 64, reference_dt: float = 2.0 / 64) -> dict:
    reference, solver = _smoke_run(n, reference_dt)
    errors = [_rms(_smoke_run(n, dt)[0], reference) for dt in dts]
    return {"dt": list(dts), "errors": errors, "rate": observed_rate(dts, errors), "declared": solver.convergence_order}


def smoke_space_study(resolutions=(16, 32, 64, 128), reference: int = 256, dt: float = 0.25) -> dict:
    fine, solver = _smoke_run(reference, dt)
    errors = []
    for n in resolutions:
        r = reference // n
        errors.append(_rms(_smoke_run(n, dt)[0], fine.reshape(n, r, n, r).mean(axis=(1, 3))))
    h = [32.0 / n for n in resolutions]
    return {"h": h, "n": list(resolutions), "errors": errors, "rate": observed_rate(h, errors),
            "declared": solver.convergence_order}
