"""Convergence studies of the pseudo-spectral solvers (used by tests/solvers/test_orders.py, the other
spectral tests and `benchmarks/spectral_convergence.py`)."""

from __future__ import annotations

import numpy as np

from pdesuite.problems.allen_cahn import AllenCahn
from pdesuite.problems.ks import KuramotoSivashinsky
from pdesuite.problems.ns2d import NS2D
from pdesuite.solvers.order import observed_rate
from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver
from pdesuite.solvers.spectral.burgers import BurgersSolver, cole_hopf_solution
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition
from pdesuite.solvers.spectral.ns2d import NS2DSolver

__all__ = ["COLE_HOPF", "allen_cahn_space_study", "allen_cahn_time_study", "burgers_error", "burgers_space_study",
           "burgers_time_study", "ks_space_study", "ks_time_study", "ns2d_space_study", "ns2d_time_study",
           "observed_rate", "periodic_interpolation", "smooth_allen_cahn_space_study", "taylor_green_error"]

#: Cole-Hopf data: φ0 = 3 + cos(x + 0.1) + 0.6 cos(2x + 1) + 0.3 cos(3x + 2).
COLE_HOPF = dict(c0=3.0, coefficients=[1.0, 0.6, 0.3], wavenumbers=[1, 2, 3], phases=[0.1, 1.0, 2.0])


def periodic_interpolation(u: np.ndarray, m: int) -> np.ndarray:
    """The trigonometric interpolant of periodic samples ``u`` (..., n) on m >= n points (zero-padding)."""
    n = u.shape[-1]
    v = np.fft.rfft(u, axis=-1)
    if n % 2 == 0:
        v[..., -1] *= 0.5  # the Nyquist mode is split between ±n/2 in the finer spectrum
    padded = np.zeros((*u.shape[:-1], m // 2 + 1), dtype=complex)
    padded[..., : v.shape[-1]] = v
    return np.fft.irfft(padded, n=m, axis=-1) * (m / n)


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


def _ks_initial(x: np.ndarray) -> np.ndarray:
    """One LPSDA-type initial condition (L = 64, seed 1) on the grid ``x`` (n,)."""
    rng = np.random.default_rng(1)
    return ks_initial_condition(x, 64.0, rng.uniform(-0.5, 0.5, 10), rng.uniform(0, 2 * np.pi, 10),
                                rng.integers(1, 3, 10))


def ks_time_study(t_end: float = 4.0, dt: float = 0.2, substeps=(1, 2, 4, 8), reference_substeps: int = 64,
                  scheme: str = "etdrk4") -> dict:
    """Self-convergence of ``scheme`` on one LPSDA-type KS trajectory (L = 64, ν = 1, N = 256); the
    reference is ETDRK4 with ``reference_substeps``."""
    solver = KSSolver.from_problem(KuramotoSivashinsky(length=64.0, nu=1.0, t_end=t_end), 256)
    x = solver.x[0]
    u0 = _ks_initial(x)[None]
    steps = int(round(t_end / dt))
    reference = solver.solve(u0, dt, steps, substeps=reference_substeps)[0, -1]
    errors = [float(np.abs(solver.solve(u0, dt, steps, substeps=m, scheme=scheme)[0, -1] - reference).max())
              for m in substeps]
    h = [dt / m for m in substeps]
    return {"h": h, "errors": errors, "rate": observed_rate(h, errors)}


def ks_space_study(resolutions=(24, 32, 48, 64), reference: int = 256, t_end: float = 4.0, dt: float = 0.05) -> dict:
    """Self-convergence in the grid size n of the same KS trajectory (T = 4): the trigonometric
    interpolants on ``reference`` points against the solve there, all with ETDRK4 at one Δt."""
    def final(n):
        solver = KSSolver.from_problem(KuramotoSivashinsky(length=64.0, nu=1.0, t_end=t_end), n)
        u0 = _ks_initial(solver.x[0])[None]
        return solver.solve(u0, dt, int(round(t_end / dt)))[0, -1]

    fine = final(reference)
    errors = [float(np.abs(periodic_interpolation(final(n), reference) - fine).max()) for n in resolutions]
    return {"n": list(resolutions), "errors": errors, "declared": KSSolver.convergence_order}


def allen_cahn_time_study(substeps=(4, 8, 16, 32), reference_substeps: int = 256) -> dict:
    solver = AllenCahnSolver(256)
    x = solver.x
    u0 = x**2 * np.cos(np.pi * x)
    reference = solver.solve(u0, 0.05, 20, substeps=reference_substeps)[0, -1]
    errors = [float(np.abs(solver.solve(u0, 0.05, 20, substeps=m)[0, -1] - reference).max()) for m in substeps]
    h = [0.05 / m for m in substeps]
    return {"h": h, "errors": errors, "rate": observed_rate(h, errors)}


def smooth_allen_cahn_space_study(resolutions=(64, 96, 128, 160), reference: int = 512, epsilon: float = 0.01,
                                  t_end: float = 0.5, dt: float = 0.005) -> dict:
    """Self-convergence in n of Allen-Cahn with wide interfaces (ε = 0.01: width ~ (ε/a)^½ ≈ 0.045)
    from the analytic periodic u0 = 0.8 sin πx + 0.3 cos(2πx + 0.5); trigonometric interpolants against
    ``reference``. (The benchmark's u0 = x² cos πx has a kink at the periodic boundary: sampling it
    aliases an O(n⁻²) error into the low modes, an algebraic floor that is the data's, not the solver's.)"""
    problem = AllenCahn(epsilon=epsilon, t_end=t_end)

    def final(n):
        solver = AllenCahnSolver.from_problem(problem, n)
        x = solver.x
        u0 = 0.8 * np.sin(np.pi * x) + 0.3 * np.cos(2 * np.pi * x + 0.5)
        return solver.solve(u0, dt, int(round(t_end / dt)))[0, -1]

    fine = final(reference)
    errors = [float(np.abs(periodic_interpolation(final(n), reference) - fine).max()) for n in resolutions]
    return {"n": list(resolutions), "errors": errors, "declared": AllenCahnSolver.convergence_order}


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


# -- 2D Navier-Stokes ---------------------------------------------------------------------------------
def taylor_green_error(problem: NS2D, n: int, dt: float, t_end: float = 1.0, amplitude: float = 1.0) -> float:
    """Max error relative to max|ω| at ``t_end`` against the exact Taylor-Green solution `NS2D.exact_shell`."""
    X, Y = NS2D.grid(n)
    w0 = problem.exact_shell(X, Y, 0.0, amplitude)[None]
    w = NS2DSolver(problem, n, dt).solve(w0, np.array([t_end]))[0, -1]
    exact = problem.exact_shell(X, Y, t_end, amplitude)
    return float(np.max(np.abs(w - exact)) / np.max(np.abs(exact)))


#: name -> (problem, time steps, the declared rate it measures)
NS2D_TIME_CASES = {
    # diffusion + forcing, vortex at rest: the Crank-Nicolson part decides (declared order 2)
    "viscous-forced": (NS2D(nu=0.05, forcing_amplitude=1.0), (0.025, 0.0125, 0.00625), "time"),
    # pure advection by a mean flow: the explicit Runge-Kutta part alone (order 3)
    "advective": (NS2D(nu=0.0, forcing_amplitude=0.0, mean_flow=(1.0, 0.5)), (0.025, 0.0125, 0.00625),
                  "time_explicit"),
    # everything together, in the asymptotic range: the declared order
    "coupled": (NS2D(nu=0.02, forcing_amplitude=1.0, mean_flow=(1.0, 0.5)), (0.005, 0.0025, 0.00125), "time"),
}


def ns2d_time_study(case: str, n: int = 16) -> dict:
    """Taylor-Green at n = 16 (space is exact for one Fourier shell): the error is the time error alone."""
    problem, steps, key = NS2D_TIME_CASES[case]
    errors = [taylor_green_error(problem, n, dt) for dt in steps]
    return {"dt": list(steps), "errors": errors, "rate": observed_rate(steps, errors), "key": key,
            "declared": NS2DSolver.convergence_order}


def ns2d_space_study(resolutions=(12, 16, 24, 32), reference: int = 64, dt: float = 0.02) -> dict:
    """A smooth, non-trivial field: self-convergence in n at a fixed Δt against ``reference`` points
    (trigonometric interpolation of each solution onto the reference grid), max error / max|ω|."""
    problem = NS2D(nu=0.01, forcing_amplitude=0.1)

    def solve(n):
        X, Y = NS2D.grid(n)
        w0 = np.exp(np.sin(2 * np.pi * X)) * np.cos(2 * np.pi * Y) + 0.5 * np.sin(2 * np.pi * (X + 2 * Y))
        return NS2DSolver(problem, n, dt).solve(w0[None], np.array([1.0]))[0, -1]

    fine = solve(reference)
    errors = []
    for n in resolutions:
        w_hat = np.fft.fft2(solve(n))
        padded = np.zeros((reference, reference), complex)
        keep = np.r_[0:n // 2, reference - n // 2:reference]
        padded[np.ix_(keep, keep)] = w_hat[np.ix_(np.r_[0:n // 2, n // 2:n], np.r_[0:n // 2, n // 2:n])]
        coarse = np.fft.ifft2(padded).real * (reference / n) ** 2
        errors.append(float(np.max(np.abs(coarse - fine)) / np.max(np.abs(fine))))
    return {"n": list(resolutions), "errors": errors, "declared": NS2DSolver.convergence_order}
