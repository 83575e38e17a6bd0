"""KS trajectory generation: pdesuite's batched ETDRK4 against LPSDA's method, at equal accuracy.

LPSDA (and so PDE-Refiner's data) integrates the pseudo-spectral semi-discretisation of
u_t + u u_x + u_xx + u_xxxx = 0 with scipy's `solve_ivp(method="Radau", rtol=atol=1e-9)`, one
trajectory at a time. pdesuite integrates the same system (with 2/3 dealiasing) by ETDRK4, a batch
of trajectories at once. Both solve the *same* trajectories (LPSDA's training setup: L = 64·U(0.9, 1.1),
T = 100·U(0.9, 1.1), 500 output times, 256 points) and are compared with a very fine reference
(ETDRK4 with 64 substeps per output step) over the stored last 140 outputs.

Reported: seconds per trajectory of each method, their ratio, and the relative L2 errors.

    .venv/bin/python benchmarks/ks_generation.py [--radau 2] [--etdrk4 32] [--substeps 4]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from pdesuite.recipes.base import Recipe
from pdesuite.recipes.generate import make_recipe
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition


def lpsda_rhs(length: float, n: int):
    """du/dt = -u u_x - u_xx - u_xxxx by spectral differentiation, without dealiasing (as LPSDA)."""
    k = 2 * np.pi * np.fft.rfftfreq(n, d=1.0 / n) / length
    ik = 1j * k
    ik[-1] = 0.0

    def rhs(t, u):
        v = np.fft.rfft(u)
        ux = np.fft.irfft(ik * v, n=n)
        return -u * ux - np.fft.irfft((-(k**2) + k**4) * v, n=n)

    return rhs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radau", type=int, default=2, help="trajectories for the Radau baseline")
    parser.add_argument("--etdrk4", type=int, default=32, help="trajectories for the batched ETDRK4")
    parser.add_argument("--substeps", type=int, nargs="+", default=[4, 32, 64],
                        help="ETDRK4 steps per output step to time (the ks recipe uses 4)")
    parser.add_argument("--reference-substeps", type=int, default=512)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/ks_generation.json"))
    args = parser.parse_args()

    recipe = make_recipe("ks")
    nt, keep, n = 500, 140, 256
    draws = [recipe.draw(Recipe.rng(0, "train", i), "train") for i in range(max(args.radau, args.etdrk4))]
    lengths = np.array([d["length"] for d in draws])
    dts = np.array([d["dt"] for d in draws])
    x = lengths[:, None] * np.arange(n)[None, :] / n
    u0 = np.stack([ks_initial_condition(x[b], d["length"], d["amplitudes"], d["phases"], d["wavenumbers"])
                   for b, d in enumerate(draws)])

    def etdrk4(count: int, substeps: int) -> np.ndarray:
        solver = KSSolver(n, lengths[:count], 1.0, batch=count)
        return solver.solve(u0[:count], dts[:count], nt - 1, substeps=substeps, keep_from=nt - keep)

    reference = etdrk4(max(args.radau, args.etdrk4), args.reference_substeps)

    radau, start = [], time.perf_counter()
    for b in range(args.radau):
        t_eval = np.arange(nt) * dts[b]
        sol = solve_ivp(lpsda_rhs(lengths[b], n), (0.0, t_eval[-1]), u0[b], method="Radau", t_eval=t_eval,
                        rtol=1e-9, atol=1e-9)
        assert sol.success, sol.message
        radau.append(sol.y.T[-keep:])
    radau_seconds = (time.perf_counter() - start) / args.radau

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    err_radau = [rel(radau[b], reference[b]) for b in range(args.radau)]
    rows = []
    for substeps in args.substeps:
        start = time.perf_counter()
        fast = etdrk4(args.etdrk4, substeps)
        seconds = (time.perf_counter() - start) / args.etdrk4
        errors = [rel(fast[b], reference[b]) for b in range(args.etdrk4)]
        # accuracy on the very trajectories Radau solved, for a like-for-like comparison
        rows.append({"substeps": substeps, "seconds_per_trajectory": seconds,
                     "relative_l2_error_median": float(np.median(errors)),
                     "relative_l2_error_max": float(max(errors)),
                     "relative_l2_error_max_on_radau_trajectories": float(max(errors[: args.radau])),
                     "speedup_vs_radau": radau_seconds / seconds})
    result = {
        "trajectory": "LPSDA KS training setup: L = 64·U(0.9,1.1), T = 100·U(0.9,1.1), 500 outputs, keep 140, N = 256",
        "etdrk4_batch": args.etdrk4, "etdrk4": rows,
        "radau": {"trajectories": args.radau, "rtol_atol": 1e-9, "seconds_per_trajectory": radau_seconds,
                  "relative_l2_error_median": float(np.median(err_radau)),
                  "relative_l2_error_max": float(max(err_radau))},
        "reference": f"ETDRK4, {args.reference_substeps} substeps per output step",
    }
    print(f"{'method':28s} {'s/trajectory':>13s} {'rel. L2 error median':>21s} {'max':>9s} {'speed-up':>9s}")
    for r in rows:
        print(f"{'ETDRK4 x' + str(args.etdrk4) + ', ' + str(r['substeps']) + ' substeps':28s} "
              f"{r['seconds_per_trajectory']:13.4f} {r['relative_l2_error_median']:21.2e} "
              f"{r['relative_l2_error_max']:9.2e} {r['speedup_vs_radau']:8.0f}x")
    print(f"{'Radau 1e-9 (LPSDA), serial':28s} {radau_seconds:13.4f} {np.median(err_radau):21.2e} "
          f"{max(err_radau):9.2e} {1:8.0f}x")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
