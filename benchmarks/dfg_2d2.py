"""DFG benchmark 2D-2: periodic vortex shedding behind a cylinder at Re = 100 (Schäfer & Turek 1996).

Runs `NavierStokesIPCS` (P2/P1, BDF2) from rest with the constant parabolic inflow U_m = 1.5 m/s,
then measures on the last, fully periodic part of the run:

    max c_D, max c_L     the largest drag/lift coefficients (peaks refined by a parabola),
    St = D f / Ū         the Strouhal number, f the lift frequency (from its upward zero
                         crossings), D = 0.1 m, Ū = 1 m/s.

It prints them against DFG_2D2_REFERENCE and writes into benchmarks/results/ (gitignored), or
beside ``-o FILE.json``: dfg_2d2_<tag>.png (c_D(t) and c_L(t)), .json (settings, mesh, numbers, timing)
and .csv (t, c_D, c_L). The wall time is of one run by default (tens of minutes); ``--repeats R``
runs it R times and reports the median and range (the numbers are the same every run).

    python benchmarks/dfg_2d2.py                 # h = 0.003 at the cylinder, dt = 0.0025, t = 0..8 s
    python benchmarks/dfg_2d2.py --quick         # coarse check, about a minute
    python benchmarks/dfg_2d2.py --dt 0.00125 --h-cylinder 0.0025 --t-end 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULTS = {"h_cylinder": 0.003, "h_max": 0.015, "grading": 0.05, "dt": 0.0025, "t_end": 8.0, "window": 2.0}
QUICK = {"h_cylinder": 0.01, "h_max": 0.04, "grading": 0.15, "dt": 0.005, "t_end": 8.0, "window": 2.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"coarse settings {QUICK}")
    p.add_argument("--dt", type=float, help=f"time step in s (default {DEFAULTS['dt']})")
    p.add_argument("--h-cylinder", type=float,
                   help=f"cell size on the cylinder in m (default {DEFAULTS['h_cylinder']})")
    p.add_argument("--h-max", type=float, help=f"largest cell size in m (default {DEFAULTS['h_max']})")
    p.add_argument("--grading", type=float,
                   help=f"cell-size growth per metre from the cylinder (default {DEFAULTS['grading']})")
    p.add_argument("--t-end", type=float, help=f"final time in s (default {DEFAULTS['t_end']})")
    p.add_argument("--window", type=float,
                   help=f"length of the final time window analysed, in s (default {DEFAULTS['window']})")
    p.add_argument("--output-dir", type=Path, default=RESULTS,
                   help=f"where to write results (default {RESULTS})")
    p.add_argument("-o", "--output", type=Path, help="result file (JSON; .csv and .png beside it); overrides "
                   "--output-dir and the tagged name")
    p.add_argument("--repeats", type=int, default=1, help="runs of the whole simulation (median and range of "
                   "the wall time; default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


# --- analysis -----------------------------------------------------------------------------------
def peak(t: np.ndarray, y: np.ndarray) -> float:
    """Maximum of a sampled smooth signal, refined by the parabola through the top three samples."""
    i = int(np.argmax(y))
    if 0 < i < len(y) - 1:
        y0, y1, y2 = y[i - 1], y[i], y[i + 1]
        denominator = y0 - 2 * y1 + y2
        if denominator < 0:
            return float(y1 - 0.125 * (y2 - y0) ** 2 / denominator)
    return float(y[i])


def upward_zero_crossings(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Times where y crosses its mean upwards (linear interpolation between samples)."""
    y = y - y.mean()
    i = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    return t[i] - y[i] * (t[i + 1] - t[i]) / (y[i + 1] - y[i])


def analyse(times, drag, lift, problem, window: float) -> dict:
    """Max c_D, max c_L and St over the last ``window`` seconds, cut to whole lift periods."""
    mask = times >= times[-1] - window
    t, c_l = times[mask], lift[mask]
    crossings = upward_zero_crossings(t, c_l)
    result = {"window": [float(t[0]), float(t[-1])], "periods": max(0, len(crossings) - 1)}
    amplitude = 0.5 * (c_l.max() - c_l.min())
    if len(crossings) < 3 or amplitude < 0.1:
        result.update(periodic=False, max_drag=float("nan"), max_lift=float("nan"), strouhal=float("nan"),
                      lift_amplitude=float(amplitude))
        return result
    period = (crossings[-1] - crossings[0]) / (len(crossings) - 1)
    whole = (times >= crossings[0]) & (times <= crossings[-1])
    # Period-to-period change of the lift maximum: small once the shedding is periodic.
    maxima = [peak(times[(times >= a) & (times <= b)], lift[(times >= a) & (times <= b)])
              for a, b in zip(crossings[:-1], crossings[1:], strict=True)]
    result.update(
        periodic=True,
        max_drag=peak(times[whole], drag[whole]),
        max_lift=peak(times[whole], lift[whole]),
        min_lift=-peak(times[whole], -lift[whole]),
        mean_drag=float(np.mean(drag[whole])),
        frequency=float(1.0 / period),
        strouhal=float(2 * problem.radius / (period * problem.mean_inflow)),
        lift_amplitude=float(amplitude),
        lift_maxima_spread=float(np.ptp(maxima) / np.mean(maxima)),
    )
    return result


def table(numbers: dict, reference: dict) -> str:
    rows = [f"{'quantity':<10} {'computed':>10} {'reference':>15} {'deviation':>10}  in range"]
    for key, label in (("max_drag", "max c_D"), ("max_lift", "max c_L"), ("strouhal", "St")):
        lo, hi = reference[key]
        value = numbers[key]
        middle = 0.5 * (lo + hi)
        deviation = (value - middle) / middle
        inside = "yes" if lo <= value <= hi else "no"
        rows.append(f"{label:<10} {value:>10.4f} {f'{lo:.3f} - {hi:.3f}':>15} {deviation:>+9.2%}  {inside}")
    return "\n".join(rows)


def plot(path: Path, times, drag, lift, numbers: dict, reference: dict, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    panels = ((axes[0], drag, "max_drag", "$c_D$"), (axes[1], lift, "max_lift", "$c_L$"))
    for ax, values, key, label in panels:
        ax.plot(times, values, lw=0.8)
        lo, hi = reference[key]
        ax.axhspan(lo, hi, color="tab:green", alpha=0.3, label=f"reference max {label}")
        ax.axvspan(*numbers["window"], color="0.9", zorder=0, label="analysed window")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylim(max(0.0, drag[len(drag) // 4:].min() - 0.2), drag[len(drag) // 4:].max() + 0.1)
    axes[1].set_xlabel("t (s)")
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- main -----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    from mpi4py import MPI  # noqa: F401 - before dolfinx

    from pdesuite.errors import BadInput, SolverError
    from pdesuite.problems.navier_stokes import DFG_2D2_REFERENCE, DFGCylinderFlow
    from pdesuite.solvers.fem import NavierStokesIPCS, dfg_channel

    comm = MPI.COMM_WORLD
    problem = DFGCylinderFlow(max_inflow=1.5, t_end=args.t_end)
    walls = []
    try:
        for _ in range(args.repeats):
            started = time.perf_counter()
            domain = dfg_channel(args.h_cylinder, args.h_max, problem, grading=args.grading)
            solver = NavierStokesIPCS(problem, domain, dt=args.dt)
            if comm.rank == 0:
                print(f"DFG 2D-2: Re = {problem.reynolds:.0f}, mesh {domain.num_cells} cells "
                      f"(h = {args.h_cylinder} at the cylinder, {args.h_max} max), dt = {args.dt}, "
                      f"t_end = {args.t_end}", flush=True)
            result = solver.run(t_end=args.t_end, progress=not args.no_progress)
            walls.append(time.perf_counter() - started)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"solver failed: {exc}", file=sys.stderr)
        return 1
    wall = float(np.median(walls))
    numbers = analyse(result.times, result.drag, result.lift, problem, args.window)
    if comm.rank != 0:
        return 0

    tag = f"h{args.h_cylinder:g}-{args.h_max:g}_dt{args.dt:g}_t{args.t_end:g}"
    stem = args.output.with_suffix("") if args.output else args.output_dir / f"dfg_2d2_{tag}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    print()
    if numbers["periodic"]:
        print(table(numbers, DFG_2D2_REFERENCE))
        print(f"(deviation: from the middle of the reference range; {numbers['periods']} lift periods in "
              f"t = {numbers['window'][0]:.2f}..{numbers['window'][1]:.2f} s; period-to-period spread of "
              f"max c_L {numbers['lift_maxima_spread']:.1e})")
    else:
        print(f"no periodic shedding in the last {args.window} s (lift amplitude "
              f"{numbers['lift_amplitude']:.3g}): run longer (--t-end)")
    print(f"wall time {wall:.0f} s (median of {len(walls)} run(s), range {min(walls):.0f}-{max(walls):.0f} s) "
          f"for {result.info['steps']} steps, "
          f"{result.info['dofs_velocity'] + result.info['dofs_pressure']} dofs, {comm.size} process(es)")

    record = {
        "benchmark": "DFG 2D-2 (Schaefer & Turek 1996)", "reynolds": problem.reynolds,
        "settings": {k: getattr(args, k)
                     for k in ("h_cylinder", "h_max", "grading", "dt", "t_end", "window", "quick")},
        "scheme": "IPCS, BDF2, Taylor-Hood P2/P1; forces by the volume (residual) formulation",
        "mesh": domain.description, "dofs_velocity": result.info["dofs_velocity"],
        "dofs_pressure": result.info["dofs_pressure"], "steps": result.info["steps"],
        "mean_iterations": result.info["mean_iterations"], "wall_seconds": wall, "wall_seconds_runs": walls,
        "processes": comm.size,
        "results": numbers, "reference": {k: list(v) for k, v in DFG_2D2_REFERENCE.items()},
        "relative_deviation_from_reference_middle": {
            k: (numbers[k] - 0.5 * sum(v)) / (0.5 * sum(v)) for k, v in DFG_2D2_REFERENCE.items()},
    }
    Path(f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    np.savetxt(Path(f"{stem}.csv"), np.column_stack([result.times, result.drag, result.lift]),
               delimiter=",", header="t,c_D,c_L", comments="", fmt="%.8g")
    title = (f"DFG 2D-2, Re=100: IPCS P2/P1, {domain.num_cells} cells, dt={args.dt:g}  |  "
             f"max c_D={numbers['max_drag']:.4f}, max c_L={numbers['max_lift']:.4f}, "
             f"St={numbers['strouhal']:.4f}")
    plot(Path(f"{stem}.png"), result.times, result.drag, result.lift, numbers, DFG_2D2_REFERENCE, title)
    print(f"wrote {stem}.json, .csv, .png")
    return 0 if numbers["periodic"] else 1


if __name__ == "__main__":
    sys.exit(main())
