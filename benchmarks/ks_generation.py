"""KS trajectory generation: pdesuite's batched generator against LPSDA's method, at equal accuracy.

LPSDA (and so PDE-Refiner's data) integrates the pseudo-spectral semi-discretisation of
u_t + u u_x + u_xx + u_xxxx = 0 with scipy's `solve_ivp(method="Radau", rtol=atol=1e-9)`, one
trajectory at a time. pdesuite integrates the same system (with 2/3 dealiasing) by exponential time
stepping, a batch of trajectories at once. Both solve the *same* trajectories (LPSDA's training
setup: L = 64·U(0.9, 1.1), T = 100·U(0.9, 1.1), 500 output times, 256 points); errors are relative
L2 over the stored last 140 outputs.

The reference. KS is chaotic: over T ≈ 100 a perturbation grows by ~1e4, so float64 round-off
alone makes two float64 "references" (ETDRK4 with 512 and 1024 substeps) disagree by up to ~2e-8 —
more than Radau's own error. The reference is therefore ETDRK4 in x87 extended precision
(np.longdouble, eps 1.1e-19) with many substeps; its uncertainty is reported as its distance to the
same computation with half the substeps.

pdesuite's generator is timed at each SCHEME:SUBSTEPS of ``--runs``: ETDRK4 and the exponential
Adams methods (one nonlinear evaluation per step against ETDRK4's four), within each scheme's
stability limit as the `ks` recipe checks it. Equal accuracy, per scheme: the cheapest setting whose
error, on every trajectory Radau solved, is no larger than Radau's on that trajectory. Reported:
seconds per trajectory (median and range over ``--repeats`` timed runs), errors, the speed-up. Timings
come from one run on one machine (the load average is recorded with them).

With ``--device`` the same settings also run with torch on that device (a GPU: the whole batch at
once), timed in the same run against numpy on the CPU (``--cpu-batch`` trajectories), and the two
results are compared (relative difference, float64 both). ``--radau 0`` skips the Radau baseline and
the extended-precision reference (minutes of CPU), e.g. on a lent GPU machine.

    .venv/bin/python benchmarks/ks_generation.py [--radau 3] [--batch 64] [--runs etdrk4:96 etd-adams5:32 ...]
        [--repeats 3] [-o FILE]
    python3 benchmarks/ks_generation.py --radau 0 --device cuda --batch 1024 --cpu-batch 64   # GPU vs numpy
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _timing import spread, timed
from scipy.integrate import solve_ivp

from pdesuite.errors import BadInput
from pdesuite.io import write_json
from pdesuite.recipes.base import Recipe
from pdesuite.recipes.generate import make_recipe
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition

NT, KEEP, N = 500, 140, 256  # LPSDA's KS training trajectories: 500 output times, the last 140 kept
#: Generator settings timed by default (SCHEME:SUBSTEPS); each within its scheme's stability limit.
DEFAULT_RUNS = ["etdrk4:16", "etdrk4:32", "etdrk4:64", "etdrk4:96", "etd-adams4:32", "etd-adams4:64",
                "etd-adams4:96", "etd-adams5:32", "etd-adams5:48", "etd-adams6:64"]


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


def trajectories(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `ks` recipe's first ``count`` training draws: lengths (B,), output steps (B,), u0 (B, N)."""
    recipe = make_recipe("ks")
    draws = [recipe.draw(Recipe.rng(0, "train", i), "train") for i in range(count)]
    lengths = np.array([d["length"] for d in draws])
    x = lengths[:, None] * np.arange(N)[None, :] / N
    u0 = np.stack([ks_initial_condition(x[b], d["length"], d["amplitudes"], d["phases"], d["wavenumbers"])
                   for b, d in enumerate(draws)])
    return lengths, np.array([d["dt"] for d in draws]), u0


def batched(lengths, dts, u0, substeps: int, dtype=np.float64, device: str | None = None,
            scheme: str = "etdrk4") -> np.ndarray:
    """pdesuite's generator: the whole batch with ``substeps`` steps of ``scheme`` per output step."""
    solver = KSSolver(N, lengths, 1.0, batch=len(lengths), dtype=dtype)
    return solver.solve(u0, dts, NT - 1, substeps=substeps, keep_from=NT - KEEP, device=device, scheme=scheme)


def parse_run(text: str) -> tuple[str, int]:
    """"etd-adams5:32" -> ("etd-adams5", 32), checked by the `ks` recipe (scheme known, substep within
    the scheme's stability limit): the benchmark reports only settings the generator accepts."""
    scheme, _, substeps = text.partition(":")
    try:
        make_recipe("ks", overrides={"scheme": scheme, "substeps": substeps})
    except BadInput as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    return scheme, int(substeps)


def radau(length: float, dt: float, u0: np.ndarray) -> np.ndarray:
    t_eval = np.arange(NT) * dt
    sol = solve_ivp(lpsda_rhs(length, N), (0.0, t_eval[-1]), u0, method="Radau", t_eval=t_eval,
                    rtol=1e-9, atol=1e-9)
    if not sol.success:
        raise RuntimeError(f"Radau failed: {sol.message}")
    return sol.y.T[-KEEP:]


def relative_errors(values: np.ndarray, reference: np.ndarray) -> list[float]:
    """Relative L2 error per trajectory, (B, T, N) against (B, T, N)."""
    reference = reference.astype(np.float64)
    return [float(np.linalg.norm(v - r) / np.linalg.norm(r)) for v, r in zip(values, reference, strict=True)]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radau", type=int, default=3,
                        help="trajectories for the Radau baseline and the extended-precision reference (0: skip "
                             "both and compare the device with numpy only)")
    parser.add_argument("--etdrk4", "--batch", type=int, default=64, dest="batch",
                        help="trajectories per batch of pdesuite's generator (timing)")
    parser.add_argument("--cpu-batch", type=int, help="with --device: trajectories of the numpy (CPU) baseline "
                        "timed in the same run (default: --batch)")
    parser.add_argument("--runs", type=parse_run, nargs="+", default=[parse_run(r) for r in DEFAULT_RUNS],
                        help="SCHEME:SUBSTEPS settings of the generator to time (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions of each setting (median and "
                        "range reported; default 3)")
    parser.add_argument("--reference-substeps", type=int, default=256,
                        help="substeps of the extended-precision reference (checked against half as many)")
    parser.add_argument("--device", help="also run the batches with torch on this device (e.g. cuda; with a "
                        "batch of ~1024: --batch 1024), against numpy on the CPU in the same run")
    parser.add_argument("-o", "--json", type=Path, default=Path("benchmarks/results/ks_generation.json"),
                        help="result file (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.radau < 0 or args.repeats < 1 or args.batch < 1:
        parser.error("--radau must be >= 0, --repeats and --batch >= 1")
    cpu_batch = args.cpu_batch or args.batch
    if max(args.radau, cpu_batch if args.device else 0) > args.batch:
        parser.error("--batch must be at least --radau and --cpu-batch (errors compare the same trajectories)")
    if not args.device:
        cpu_batch = args.batch

    lengths, dts, u0 = trajectories(args.batch)
    r = args.radau
    result = {
        "benchmark": "benchmarks/ks_generation.py",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "trajectory": "LPSDA KS training setup: L = 64·U(0.9,1.1), T = 100·U(0.9,1.1), 500 outputs, keep 140, N = 256",
        "repeats": args.repeats, "batch": args.batch, "cpu_batch": cpu_batch, "device": args.device or "numpy (CPU)",
    }
    radau_seconds = None
    if r:
        print(f"reference: ETDRK4 in extended precision, {args.reference_substeps} and "
              f"{args.reference_substeps // 2} substeps, {r} trajectories ...", flush=True)
        ld = (lengths[:r].astype(np.longdouble), dts[:r].astype(np.longdouble), u0[:r].astype(np.longdouble))
        reference = batched(*ld, args.reference_substeps, dtype=np.longdouble)
        reference_check = relative_errors(batched(*ld, args.reference_substeps // 2, dtype=np.longdouble), reference)
        float64_pair = relative_errors(batched(lengths[:r], dts[:r], u0[:r], 512),
                                       batched(lengths[:r], dts[:r], u0[:r], 1024))
        print(f"Radau (rtol = atol = 1e-9), {r} trajectories one at a time ...", flush=True)
        per_trajectory, radau_runs = [], []
        for b in range(r):
            seconds, run = timed(lambda b=b: radau(lengths[b], dts[b], u0[b]), 1)
            per_trajectory += seconds
            radau_runs.append(run)
        radau_time = spread(per_trajectory, 1)
        radau_seconds = radau_time["median"]
        radau_errors = relative_errors(np.stack(radau_runs), reference)
        result["reference"] = {"method": f"ETDRK4 in np.longdouble, {args.reference_substeps} substeps",
                               "relative_change_with_half_the_substeps": reference_check,
                               "float64_etdrk4_512_vs_1024_substeps": float64_pair}
        result["radau"] = {"trajectories": r, "rtol_atol": 1e-9, "seconds_per_trajectory": radau_seconds,
                           "seconds_spread": radau_time, "errors": radau_errors}

    rows = []
    for scheme, substeps in args.runs:
        print(f"{scheme}, {substeps} substeps: numpy, {cpu_batch} trajectories x {args.repeats} ...", flush=True)
        cpu_times, cpu_u = timed(lambda s=scheme, n=substeps: batched(lengths[:cpu_batch], dts[:cpu_batch],
                                                                      u0[:cpu_batch], n, scheme=s), args.repeats)
        cpu = spread(cpu_times, cpu_batch)
        row = {"scheme": scheme, "substeps": substeps, "seconds_per_trajectory": cpu["median"], "cpu": cpu}
        if args.device:
            print(f"{scheme}, {substeps} substeps: torch on {args.device}, {args.batch} trajectories ...", flush=True)
            batched(lengths[:2], dts[:2], u0[:2], substeps, device=args.device, scheme=scheme)  # warm-up
            device_times, device_u = timed(lambda s=scheme, n=substeps: batched(
                lengths, dts, u0, n, device=args.device, scheme=s), args.repeats)
            on_device = spread(device_times, args.batch)
            row["device"] = {"name": args.device, **on_device}
            row["seconds_per_trajectory"] = on_device["median"]
            row["device_speedup_vs_numpy"] = cpu["median"] / on_device["median"]
            row["device_vs_numpy_relative_difference"] = max(relative_errors(device_u[:cpu_batch], cpu_u))
        if r:
            row["errors"] = relative_errors(cpu_u[:r], reference)
            row["speedup_vs_radau"] = radau_seconds / row["seconds_per_trajectory"]
            row["as_accurate_as_radau"] = all(e <= er for e, er in zip(row["errors"], radau_errors, strict=True))
        rows.append(row)
    result["runs"] = rows
    if r:  # per scheme, the cheapest setting as accurate as Radau on every trajectory
        equal = {}
        accurate = [row for row in rows if row["as_accurate_as_radau"]]
        for row in sorted(accurate, key=lambda row: row["seconds_per_trajectory"]):
            equal.setdefault(row["scheme"], {"substeps": row["substeps"], "speedup_vs_radau": row["speedup_vs_radau"]})
        result["equal_accuracy"] = equal

    fmt = "  ".join
    if r:
        print(f"\nreference check (half the substeps): {fmt(f'{e:.1e}' for e in reference_check)}; "
              f"float64 ETDRK4 512 vs 1024 substeps: {fmt(f'{e:.1e}' for e in float64_pair)}")
    header = f"{'setting':26s} {'numpy s/traj (median, range)':>32s}"
    if args.device:
        header += f" {args.device + ' s/traj':>24s} {'speed-up':>9s} {'vs numpy':>9s}"
    if r:
        header += "   relative L2 error per trajectory   vs Radau"
    print(header)
    for row in rows:
        c = row["cpu"]
        line = f"{row['scheme'] + ', ' + str(row['substeps']):26s} {c['median']:12.5f} [{c['min']:.5f}, {c['max']:.5f}]"
        if args.device:
            d = row["device"]
            line += (f" {d['median']:12.3e} [{d['max'] / d['min']:.2f}x] {row['device_speedup_vs_numpy']:8.1f}x"
                     f" {row['device_vs_numpy_relative_difference']:9.1e}")
        if r:
            mark = "  <= Radau" if row["as_accurate_as_radau"] else ""
            line += f"   {fmt(f'{e:.2e}' for e in row['errors']):33s} {row['speedup_vs_radau']:7.0f}x{mark}"
        print(line)
    if r:
        print(f"{'Radau 1e-9 (LPSDA), serial':26s} {radau_seconds:12.4f}   "
              f"{fmt(f'{e:.2e}' for e in radau_errors)}")
        for scheme, best in result["equal_accuracy"].items():
            print(f"{scheme} at equal accuracy ({best['substeps']} substeps): "
                  f"{best['speedup_vs_radau']:.0f}x faster per trajectory")
        if not result["equal_accuracy"]:
            print("no setting tried is as accurate as Radau on every trajectory; add more substeps")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(result, args.json)
    return result


if __name__ == "__main__":
    main()
