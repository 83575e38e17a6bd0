"""INSR against a Stable-Fluids grid at equal unknowns on 2D incompressible Euler (Chen et al., ICML 2023).

    ∂u/∂t + (u·∇)u = -∇p,   ∇·u = 0   in [-1, 1]², u·n = 0 on the walls;
    single Taylor-Green vortex u0 = (sin X cos Y, -cos X sin Y)/π, X = π(x + 1), Y = π(y + 1):
    steady, so u(t) = u0 exactly; or the authors' multi-scale field (reference: pseudo-spectral, ν = 0).

INSR (`pdesuite.surrogates.insr_fluid`) keeps the velocity and the pressure as two SIRENs (3 × 32:
3330 + 3297 = 6627 parameters) and takes each step as three optimisations: semi-Lagrangian advection,
a pressure Poisson solve with Neumann walls, the projection. The baseline, in the same run, is Stam's
Stable Fluids on an n × n MAC grid (`pdesuite.solvers.fd.stable_fluids`: the same splitting, bilinear
back-tracing, exact DCT projection) with 3n² unknowns (u, v, p per cell): n = 47 gives 6627, the
networks' parameters ("equal unknowns"); n = 41 matches the velocity network alone (2n² ≈ 3330).

Every method is scored on the reference's cell centres (128² in every profile): the networks directly,
the grid by bilinear interpolation of its face velocities (its own representation). Reported per
method: relative L2 error of the velocity over all steps and at the end, the kinetic energy ½⟨|u|²⟩
over time against the reference's (Euler conserves it; a loss is numerical dissipation), the RMS
divergence at the end (central differences on the reference grid for every method, so the numbers
compare; the reference's own row is the floor), and seconds per time step (INSR: all three
optimisations of a step).

    .venv/bin/python examples/insr_taylor_green.py --out examples-output/insr-tg [--cases single multi]
        [--seeds 0] [--profile small] [--iterations N] [--grids 47 41]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _runs import generate_once, train_once

from pdesuite.data.trajectories import load_trajectories
from pdesuite.problems.taylor_green import CASES, TaylorGreen
from pdesuite.solvers.fd.stable_fluids import StableFluids
from pdesuite.validation.plots import plot_curves
from pdesuite.validation.tables import markdown, mean_std, over_time
from pdesuite.validation.validate import load_trained


def fd_divergence(u: np.ndarray, h: float) -> float:
    """RMS of ∂u/∂x + ∂v/∂y by central differences (one-sided at the edges) of a (n, n, 2) field."""
    div = np.gradient(u[..., 0], h, axis=0) + np.gradient(u[..., 1], h, axis=1)
    return float(np.sqrt(np.mean(div**2)))


def scores(u: np.ndarray, ref: np.ndarray, h: float) -> dict:
    """Error, kinetic energy and divergence of a march u (n_t, n, n, 2) against ref."""
    per_time = [float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(u, ref, strict=True)]
    return {"relative_l2": float(np.linalg.norm(u - ref) / np.linalg.norm(ref)), "final_relative_l2": per_time[-1],
            "per_time_relative_l2": per_time, "kinetic_energy": (0.5 * (u**2).sum(-1)).mean(axis=(1, 2)).tolist(),
            "final_divergence": fd_divergence(u[-1], h)}


def grid_run(n: int, problem: TaylorGreen, data) -> dict:
    """Stable Fluids on n × n cells with the reference's Δt, sampled on the reference grid."""
    t, ref = data.times, data.u[0]
    x, y = np.meshgrid(data.grid["x"], data.grid["y"], indexing="ij")
    solver = StableFluids(problem, n, float(t[1] - t[0]))
    started = time.perf_counter()
    u = solver.march(len(t) - 1, x, y)
    seconds = (time.perf_counter() - started) / (len(t) - 1)
    h = float(data.grid["x"][1] - data.grid["x"][0])
    return {**scores(u, ref, h), "seconds_per_step": seconds, "unknowns": StableFluids.unknowns(n)}


def insr_run(folder: Path, data_path: Path, data, args, seed: int, commands: list[str]) -> dict:
    train = ["train", "insr-fluid", "--data", str(data_path), "-o", str(folder), "--profile", args.profile,
             "--seed", str(seed), "--device", "cpu", "-q"]
    train += ["--steps", str(args.iterations)] if args.iterations else []
    m = train_once(folder, train, commands)
    # the divergence by the same finite differences as the grid's (metrics.json has INSR's by autograd)
    final = load_trained(folder)[0].predict_grid()[-1]
    h = float(data.grid["x"][1] - data.grid["x"][0])
    return {"relative_l2": m["relative_l2"], "final_relative_l2": m["final_relative_l2"],
            "per_time_relative_l2": m["per_time_relative_l2"], "kinetic_energy": m["kinetic_energy"],
            "final_divergence": fd_divergence(final, h), "autograd_divergence": m["divergence_rms"][-1],
            "seconds_per_step": m["seconds_per_step"], "unknowns": m["parameters"]}


def tables(case: str, rows: list[dict], data, reference_energy: list[float]) -> str:
    e0 = reference_energy[0]
    h = float(data.grid["x"][1] - data.grid["x"][0])
    summary = [[row["method"], row["unknowns"], mean_std([r["relative_l2"] for r in row["runs"]], ".2e"),
                mean_std([r["final_relative_l2"] for r in row["runs"]], ".2e"),
                mean_std([r["kinetic_energy"][-1] / e0 for r in row["runs"]], ".4f"),
                mean_std([r["final_divergence"] for r in row["runs"]], ".1e"),
                mean_std([r["seconds_per_step"] for r in row["runs"]], ".2g")] for row in rows]
    floor = fd_divergence(data.u[0][-1], h)  # the reference's own: what the stencil gives on the true flow
    summary.append(["reference", "", "", "", f"{reference_energy[-1] / e0:.4f}", f"{floor:.1e}", ""])
    columns = {f"error {row['method']}": row["runs"][0]["per_time_relative_l2"] for row in rows}
    columns |= {f"KE {row['method']}": np.asarray(row["runs"][0]["kinetic_energy"]) / e0 for row in rows}
    columns["KE reference"] = np.asarray(reference_energy) / e0
    formats = {name: ".2e" if name.startswith("error") else ".4f" for name in columns}
    return "\n".join([f"### {case}", "", markdown(["method", "unknowns", "rel. L2 (all steps)", "rel. L2 (final)",
                                                 "KE(T)/KE_ref(0)", "RMS ∇·u (final)", "s / step"], summary), "",
                      "Over time (first run of each method): relative L2 error | kinetic energy / KE_ref(0)", "",
                      over_time(data.times, columns, formats)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/insr-tg"))
    parser.add_argument("--cases", nargs="+", default=["single"], choices=CASES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--profile", default="small", help="dataset and INSR profile (small, gpu, paper)")
    parser.add_argument("--iterations", type=int, help="INSR iterations per sub-step (default: the profile's)")
    parser.add_argument("--grids", type=int, nargs="+", default=[47, 41], help="Stable-Fluids grids n (3n² unknowns)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results, texts, commands = {}, [], []
    for case in args.cases:
        data_path = args.out / f"taylor-green-{case}-{args.profile}.h5"
        generate_once(data_path, ["generate", "taylor-green", "-o", str(data_path), "--profile", args.profile, "--set",
                                  f"case={case}", "-q"], commands)
        data = load_trajectories(data_path, "test")
        problem = TaylorGreen(multiscale=float(CASES.index(case)))
        h = float(data.grid["x"][1] - data.grid["x"][0])
        runs = [insr_run(args.out / f"insr-{case}-s{seed}", data_path, data, args, seed, commands)
                for seed in args.seeds]
        rows = [{"method": "INSR 3x32 + 3x32", "unknowns": runs[0]["unknowns"], "runs": runs}]
        for n in args.grids:
            rows.append({"method": f"Stable Fluids {n}x{n}", "unknowns": StableFluids.unknowns(n),
                         "runs": [grid_run(n, problem, data)]})
        reference_energy = (0.5 * (data.u[0] ** 2).sum(-1)).mean(axis=(1, 2)).tolist()
        results[case] = {"rows": rows, "reference_kinetic_energy": reference_energy, "times": data.times.tolist(),
                         "reference_final_divergence": fd_divergence(data.u[0][-1], h)}
        texts.append(tables(case, rows, data, reference_energy))
        plot_curves({row["method"]: (data.times, row["runs"][0]["kinetic_energy"]) for row in rows},
                    args.out / f"energy-{case}.png", "t", "kinetic energy", title=f"Taylor-Green ({case})",
                    reference=(data.times, reference_energy))
        plot_curves({row["method"]: (data.times, row["runs"][0]["per_time_relative_l2"]) for row in rows},
                    args.out / f"error-{case}.png", "t", "relative L2", title=f"Taylor-Green ({case})", log=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    t = data.times
    footer = (f"\n\n{len(t) - 1} steps of Δt = {t[1] - t[0]:g} (t = {t[-1]:g}); seeds {args.seeds}; profile "
              f"{args.profile}\n\nCommands:\n\n" + "\n".join(f"    {c}" for c in commands) + "\n")
    table = "\n\n".join(texts)
    (args.out / "table.md").write_text(table + footer)
    print(table)


if __name__ == "__main__":
    main()
