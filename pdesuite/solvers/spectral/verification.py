"""Convergence studies of the pseudo-spectral solvers (used by tests and `benchmarks/spectral_convergence.py`)."""

from __future__ import annotations

import numpy as np

from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver
from pdesuite.solvers.spectral.burgers import BurgersSolver, cole_hopf_solution
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition

#: Cole-Hopf data: φ0 = 3 + cos(x + 0.1) + 0.6 cos(2x + 1) + 0.3 cos(3x + 2).
COLE_HOPF = dict(c0=3.0, coefficients=[1.0, 0.6, 0.3], wavenumbers=[1, 2, 3], phases=[0.1, 1.0, 2.0])


def observed_rate(h, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(np.asarray(h, float)), np.log(np.asarray(errors, float)), 1)[0])


def burgers_error(n: int, dt: float, nu: float = 0.1, t_end: float = 1.0, scheme: str = "etdrk4") -> float:
    """Max error at t_end against the Cole-Hopf solution."""
    solver = BurgersSolver(n, nu=nu)
    x = solver.x[0]
    u = solver.solve(cole_hopf_solution(x, [0.0], nu, **COLE_HOPF), dt=dt, n_steps=int(round(t_end / dt)),
                     scheme=scheme)
    return float(np.abs(u[0, -1] - cole_hopf_solution(x, [t_end], nu, **COLE_HOPF)[0]).max())


def burgers_space_study(resolutions=(16, 32, 64, 128)) -> dict:
    return {"n": list(resolutions), "errors": [burgers_error(n, 0.01) for n in resolutions]}


def burgers_time_study(dts=(0.2, 0.1, 0.05, 0.025), scheme: str = "etdrk4") -> dict:
    errors = [burgers_error(128, dt, t_end=2.0, scheme=scheme) for dt in dts]
    return {"dt": list(dts), "errors": errors, "rate": observed_rate(dts, errors)}


def ks_time_study(t_end: float = 4.0, dt: float = 0.2, substeps=(1, 2, 4, 8), reference_substeps: int = 64,
                  scheme: str = "etdrk4") -> dict:
    """Self-convergence of ``scheme`` on one LPSDA-type KS trajectory (L = 64, ν = 1, N = 256); the
    reference is ETDRK4 with ``reference_substeps``."""
    rng = np.random.default_rng(1)
    solver = KSSolver(256, 64.0, nu=1.0)
    x = solver.x[0]
    u0 = ks_initial_condition(x, 64.0, rng.uniform(-0.5, 0.5, 10), rng.uniform(0, 2 * np.pi, 10),
                              rng.integers(1, 3, 10))[None]
    steps = int(round(t_end / dt))
    reference = solver.solve(u0, dt, steps, substeps=reference_substeps)[0, -1]
    errors = [float(np.abs(solver.solve(u0, dt, steps, substeps=m, scheme=scheme)[0, -1] - reference).max())
              for m in substeps]
    h = [dt / m for m in substeps]
    return {"h": h, "errors": errors, "rate": observed_rate(h, errors)}


def allen_cahn_time_study(substeps=(4, 8, 16, 32), reference_substeps: int = 256) -> dict:
    solver = AllenCahnSolver(256)
    x = solver.x
    u0 = x**2 * np.cos(np.pi * x)
    reference = solver.solve(u0, 0.05, 20, substeps=reference_substeps)[0, -1]
    errors = [float(np.abs(solver.solve(u0, 0.05, 20, substeps=m)[0, -1] - reference).max()) for m in substeps]
    h = [0.05 / m for m in substeps]
    return {"h": h, "errors": errors, "rate": observed_rate(h, errors)}


def allen_cahn_space_study(resolutions=(512, 1024, 2048)) -> dict:
    """Max difference at t = 1 (on the 512-point grid) from the finest resolution."""
    finals = {}
    for n in resolutions:
        solver = AllenCahnSolver(n)
        x = solver.x
        finals[n] = solver.solve(x**2 * np.cos(np.pi * x), 0.005, 200, substeps=4)[0, -1][:: n // 512]
    finest = finals[resolutions[-1]]
    return {"n": list(resolutions[:-1]), "errors": [float(np.abs(finals[n] - finest).max()) for n in resolutions[:-1]],
            "final": finest}
