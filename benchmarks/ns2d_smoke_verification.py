"""Verification figures of the `ns2d` and `smoke` solvers (the numbers quoted in docs/datasets/).

NS2D: Taylor-Green exact solution (time orders of the coupled, viscous and advective parts), spectral
self-convergence in space, inviscid enstrophy drift, mean vorticity, time error in the FNO regime and
speed. Smoke: projection of an analytic field, divergence after stepping, mass drift (refinement and
full PDEArena runs, both back-traces), mirror symmetry, speed.

Timings (seconds per step per sample) are the median and range of ``--repeats`` runs, with the load
average recorded. No ratios, so no baseline.

    .venv/bin/python benchmarks/ns2d_smoke_verification.py [--repeats 3] [-o FILE.json]

(about two minutes on one core) writes FILE.json and FILE.md (default
benchmarks/results/ns2d_smoke_verification.{json,md}).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _timing import spread, timed

from pdesuite.problems.ns2d import NS2D
from pdesuite.problems.smoke import Smoke
from pdesuite.solvers.fd.smoke import SmokeSolver
from pdesuite.solvers.spectral.ns2d import NS2DSolver

DEFAULT_OUTPUT = Path("benchmarks/results/ns2d_smoke_verification.json")


def rate(h, errors) -> float:
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def taylor_green(problem: NS2D, n: int, dt: float, t_end: float = 1.0) -> float:
    X, Y = NS2D.grid(n)
    w = NS2DSolver(problem, n, dt).solve(problem.exact_shell(X, Y, 0.0)[None], np.array([t_end]))[0, -1]
    exact = problem.exact_shell(X, Y, t_end)
    return float(np.max(np.abs(w - exact)) / np.max(np.abs(exact)))


def ns2d_figures(repeats: int = 3) -> dict:
    out = {}
    cases = {
        "viscous-forced (nu=0.05, A=1, U=0)": (NS2D(nu=0.05, forcing_amplitude=1.0), [0.025, 0.0125, 0.00625]),
        "advective (nu=0, A=0, U=(1, 0.5))": (NS2D(nu=0.0, forcing_amplitude=0.0, mean_flow=(1.0, 0.5)),
                                             [0.025, 0.0125, 0.00625]),
        "coupled (nu=0.02, A=1, U=(1, 0.5))": (NS2D(nu=0.02, forcing_amplitude=1.0, mean_flow=(1.0, 0.5)),
                                              [0.005, 0.0025, 0.00125]),
    }
    out["taylor_green"] = {}
    for name, (problem, dts) in cases.items():
        errors = [taylor_green(problem, 16, dt) for dt in dts]
        out["taylor_green"][name] = {"dt": dts, "max_rel_error": errors, "rate": rate(dts, errors)}

    problem = NS2D(nu=0.01, forcing_amplitude=0.1)

    def smooth(n):
        X, Y = NS2D.grid(n)
        w0 = np.exp(np.sin(2 * np.pi * X)) * np.cos(2 * np.pi * Y) + 0.5 * np.sin(2 * np.pi * (X + 2 * Y))
        return NS2DSolver(problem, n, 0.01).solve(w0[None], np.array([1.0]))[0, -1]

    reference = smooth(64)
    space = {}
    for n in (8, 12, 16, 24, 32, 48):
        w_hat, padded = np.fft.fft2(smooth(n)), np.zeros((64, 64), complex)
        keep, src = np.r_[0:n // 2, 64 - n // 2:64], np.r_[0:n // 2, n // 2:n]
        padded[np.ix_(keep, keep)] = w_hat[np.ix_(src, src)]
        space[n] = float(np.max(np.abs(np.fft.ifft2(padded).real * (64 / n) ** 2 - reference))
                         / np.max(np.abs(reference)))
    out["space_self_convergence_vs_64"] = space

    inviscid = NS2D(nu=0.0, forcing_amplitude=0.0)
    w0 = np.stack([inviscid.initial_vorticity(np.random.default_rng(i), 32) * 5 for i in range(2)])
    drifts = []
    for dt in (0.04, 0.02, 0.01):
        w = NS2DSolver(inviscid, 32, dt).solve(w0, np.array([0.0, 2.0]))
        z = (w**2).mean(axis=(2, 3))
        drifts.append(float(np.max(np.abs(z[:, 1] / z[:, 0] - 1))))
    out["inviscid_enstrophy_drift_t2"] = {"dt": [0.04, 0.02, 0.01], "drift": drifts,
                                          "rate": rate([0.04, 0.02, 0.01], drifts)}

    fno = NS2D(t_end=10.0)
    w0 = np.stack([fno.initial_vorticity(np.random.default_rng(i), 64) for i in range(2)])
    finest = NS2DSolver(fno, 64, 0.0025).solve(w0, np.array([0.0, 10.0]))
    out["fno_mean_vorticity_drift_t10"] = float(np.abs(finest.mean(axis=(2, 3))).max())
    errs = {}
    for dt in (0.04, 0.02, 0.01):
        w = NS2DSolver(fno, 64, dt).solve(w0, np.array([10.0]))[:, -1]
        errs[dt] = float(np.linalg.norm(w - finest[:, -1]) / np.linalg.norm(finest[:, -1]))
    out["fno_time_error_t10_vs_dt0.0025"] = errs

    speed = {}
    for n, batch, dt in ((64, 8, 0.01), (256, 4, 0.0025)):
        w0 = np.stack([fno.initial_vorticity(np.random.default_rng(i), n) for i in range(batch)])
        solver = NS2DSolver(fno, n, dt)
        seconds, _ = timed(lambda solver=solver, w0=w0, dt=dt: solver.solve(w0, np.array([20 * dt])), repeats)
        speed[f"{n}^2, batch {batch}"] = spread(np.asarray(seconds) / 20 / batch)
    out["ns2d_seconds_per_step_per_sample"] = speed
    return out


def smoke_figures(repeats: int = 3) -> dict:
    out = {}
    problem = Smoke()
    solver = SmokeSolver(problem, 32, 32, 1.5)
    s0 = np.stack([problem.initial_smoke(np.random.default_rng(i), 32, 32) for i in range(4)])
    result = solver.solve(s0, [64], buoyancy_y=np.linspace(0.2, 0.5, 4))
    ux, uy = result["ux"], result["uy"]
    gradient = max(np.abs(np.diff(ux, axis=1)).max() / solver.dx, np.abs(np.diff(uy, axis=2)).max() / solver.dy)
    out["divergence_after_64_steps_relative"] = float(np.abs(solver.divergence(ux, uy)).max() / gradient)

    refinement = {}
    for backtrace in ("midpoint", "euler"):
        rows = []
        for n, dt in ((16, 3.0), (32, 1.5), (64, 0.75), (128, 0.375)):
            s = np.stack([problem.initial_smoke(np.random.default_rng(i), n, n) for i in range(4)])
            res = SmokeSolver(problem, n, n, dt, backtrace=backtrace).solve(
                s, [0, int(round(24 / dt))], buoyancy_y=np.linspace(0.2, 0.5, 4))
            mass = res["s"].sum(axis=(2, 3))
            rows.append({"n": n, "dt": dt, "mean_rel_drift": float(np.mean(np.abs(mass[:, 1] / mass[:, 0] - 1)))})
        refinement[backtrace] = rows
    out["mass_drift_t24_dt_prop_dx"] = refinement

    full = {}
    for backtrace in ("midpoint", "euler"):
        for n in (32, 64, 128):
            s = np.stack([problem.initial_smoke(np.random.default_rng(i), n, n) for i in range(4)])
            seconds, res = timed(lambda s=s, n=n, backtrace=backtrace: SmokeSolver(
                problem, n, n, 1.5, backtrace=backtrace).solve(s, list(range(0, 65, 8)),
                                                               buoyancy_y=np.linspace(0.2, 0.5, 4)), repeats)
            mass = res["s"].sum(axis=(2, 3))
            full[f"{backtrace} {n}^2"] = {"max_rel_drift": float(np.abs(mass / mass[:, :1] - 1).max()),
                                          "seconds_per_step_per_sample": spread(np.asarray(seconds) / 64 / 4)}
    out["mass_drift_64_steps_dt1.5"] = full

    sym = problem.initial_smoke(np.random.default_rng(3), 32, 32)
    res = solver.solve((0.5 * (sym + sym[::-1]))[None], [64], buoyancy_y=0.4)
    s = res["s"][0, -1]
    out["mirror_asymmetry_after_64_steps"] = float(np.abs(s - s[::-1]).max() / np.abs(s).max())
    return out


def markdown(results: dict) -> str:
    ns, sm = results["ns2d"], results["smoke"]
    lines = ["# ns2d and smoke verification", "", "Generated by benchmarks/ns2d_smoke_verification.py.", "",
             "## ns2d: Taylor-Green (n = 16, t = 1, max relative error)", "",
             "| case | Δt | error | fitted order |", "|---|---|---|---|"]
    for name, row in ns["taylor_green"].items():
        cells = ", ".join(f"{e:.2e}" for e in row["max_rel_error"])
        lines.append(f"| {name} | {', '.join(map(str, row['dt']))} | {cells} | {row['rate']:.3f} |")
    lines += ["", "## ns2d: spatial self-convergence against n = 64 (Δt = 0.01, t = 1)", "",
              "| n | " + " | ".join(str(n) for n in ns["space_self_convergence_vs_64"]) + " |",
              "|---" * (len(ns["space_self_convergence_vs_64"]) + 1) + "|",
              "| error | " + " | ".join(f"{e:.1e}" for e in ns["space_self_convergence_vs_64"].values()) + " |",
              "", f"Inviscid enstrophy drift at t = 2: {ns['inviscid_enstrophy_drift_t2']['drift']} "
              f"(Δt = 0.04, 0.02, 0.01; order {ns['inviscid_enstrophy_drift_t2']['rate']:.2f}).", "",
              f"FNO setting, 64², t = 10: mean vorticity max {ns['fno_mean_vorticity_drift_t10']:.1e}; "
              f"relative L2 error against Δt = 0.0025: {ns['fno_time_error_t10_vs_dt0.0025']}.", "",
              "Seconds per step per sample (median [range] of " + str(results["repeats"]) + " runs): "
              + "; ".join(f"{k}: {_timing(v)}" for k, v in ns["ns2d_seconds_per_step_per_sample"].items()) + ".", "",
              "## smoke", "",
              f"Relative divergence after 64 steps (32²): {sm['divergence_after_64_steps_relative']:.1e}; "
              f"mirror asymmetry after 64 steps: {sm['mirror_asymmetry_after_64_steps']:.1e}.", "",
              "Mass drift at t = 24 with Δt ∝ Δx (mean over 4 samples):", "",
              "| back-trace | 16², Δt 3 | 32², Δt 1.5 | 64², Δt 0.75 | 128², Δt 0.375 |", "|---|---|---|---|---|"]
    for backtrace, rows in sm["mass_drift_t24_dt_prop_dx"].items():
        lines.append(f"| {backtrace} | " + " | ".join(f"{r['mean_rel_drift']:.2%}" for r in rows) + " |")
    lines += ["", "64 steps of Δt = 1.5 (the PDEArena run), max over 4 samples and 9 records:", "",
              "| run | max relative mass drift | s per step per sample (median [range]) |", "|---|---|---|"]
    for name, row in sm["mass_drift_64_steps_dt1.5"].items():
        lines.append(f"| {name} | {row['max_rel_drift']:.2%} | {_timing(row['seconds_per_step_per_sample'])} |")
    machine = results["machine"]
    lines += ["", f"Run {results['created']} on {machine['cpus']} CPUs, load average "
              f"{machine['load_average'][0]:.2f} at the start and {machine['load_average_end'][0]:.2f} at the end."]
    return "\n".join(lines) + "\n"


def _timing(t: dict) -> str:
    return f"{t['median']:.4f} [{t['min']:.4f}, {t['max']:.4f}]"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each speed measurement (median and "
                        "range reported; default 3)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help="result file (JSON; the Markdown summary goes beside it; default %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    results = {"benchmark": "benchmarks/ns2d_smoke_verification.py",
               "created": datetime.now(UTC).isoformat(timespec="seconds"), "repeats": args.repeats,
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()}}
    results["ns2d"] = ns2d_figures(args.repeats)
    results["smoke"] = smoke_figures(args.repeats)
    results["machine"]["load_average_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    text = markdown(results)
    args.output.with_suffix(".md").write_text(text)
    print(text)
    print(f"wrote {args.output} and {args.output.with_suffix('.md')}")
    return results


if __name__ == "__main__":
    main()
