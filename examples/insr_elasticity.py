"""INSR against dolfinx P1 at equal unknowns on a 2D hyperelastic body (Chen et al., ICML 2023, 2D elasticity).

    q_{k+1} = argmin_q ∫_Ω₀ [ ρ/(2Δt²) |q − q_k − Δt v_k|² + Ψ(∇q) − ρ g·q ] dX,   v_{k+1} = (q_{k+1} − q_k)/Δt,
    Ψ(F) = μ/2 (tr FᵀF − 2 − 2 ln J) + λ/2 (ln J)²   (plane strain, compressible neo-Hookean),

``sag``: a beam [−1, 1] × [−¼, ¼] clamped at the left end, released in gravity, 20 steps of Δt = 0.1;
``stretch``: the square [−1, 1]² clamped at the left end with its right end moved by 2, one static step
(Ψ alone); ``collide``: the free square [−1, 1]² launched with v_0 = (0.5, −1) in gravity onto the floor
y = −1.5, the step energy plus the contact penalty κ/2 ∫_∂Ω₀ max(0, −1.5 − q_y)² dS (κ = 1e4), 20 steps
of Δt = 0.1.

INSR (`pdesuite.surrogates.insr_elastic`): the displacement is a 3 × 68 SIREN (14418 parameters), each
step an Adam minimisation of the Monte-Carlo step energy, Dirichlet data exact through a factor
vanishing on the clamped ends (collide: no factor; the contact term sampled on the boundary). The
reference (`pdesuite.recipes.hyperelastic`) is the same energy
minimised by Newton on fine P2 elements. The baselines, solved in the same run by the same code
(`pdesuite.solvers.fem.hyperelastic`): P1 with 2 × nodes ≈ the SIREN's parameters ("equal unknowns"),
and P1 with about a quarter of that.

Every method is scored at the reference's material points: relative L2 of the displacement over all
steps and at the end, the elastic energy ∫Ψ dX per time (each by its own representation: the FEM by
quadrature, INSR by the midpoint rule on 200 cells per unit length with autograd ∇u; the reference's
from the file), and wall seconds per time step (INSR: the step's optimisation; FEM: Newton, one core).

    .venv/bin/python examples/insr_elasticity.py --out examples-output/insr-elastic [--cases sag stretch]
        [--seeds 0 1 2] [--profile small] [--iterations N]     (--cases collide for the collision)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _runs import generate_once, train_once

from pdesuite.data.reader import open_dataset
from pdesuite.data.trajectories import load_trajectories
from pdesuite.problems.hyperelastic import CASES, Hyperelastic
from pdesuite.validation.plots import plot_curves
from pdesuite.validation.tables import markdown, mean_std, over_time


def scores(u: np.ndarray, ref: np.ndarray) -> dict:
    """Relative L2 of a march u (n_t, nx, ny, 2) against ref, over all steps, at the end, per time."""
    # at t = 0 the reference is u = 0: the absolute norm of u there (as `pdesuite.validation.metrics`)
    per_time = [float(np.linalg.norm(a - b) / (np.linalg.norm(b) or 1.0)) for a, b in zip(u, ref, strict=True)]
    return {"relative_l2": float(np.linalg.norm(u - ref) / np.linalg.norm(ref)), "final_relative_l2": per_time[-1],
            "per_time_relative_l2": per_time}


def fem_cells(problem: Hyperelastic, dofs: int) -> tuple[int, int]:
    """P1 cells (nx, ny) in the body's aspect with 2 (nx + 1)(ny + 1) closest to ``dofs``."""
    x0, x1, y0, y1 = problem.body
    aspect = (x1 - x0) / (y1 - y0)
    best = None
    for ny in range(1, 400):
        nx = max(1, round(aspect * ny))
        gap = abs(2 * (nx + 1) * (ny + 1) - dofs)
        if best is None or gap < best[0]:
            best = (gap, nx, ny)
    return best[1], best[2]


def fem_run(problem: Hyperelastic, nx: int, ny: int, data, load_steps: int) -> dict:
    from pdesuite.solvers.fem.hyperelastic import HyperelasticSolver

    ref = data.u[0]
    X, Y = np.meshgrid(data.grid["x"], data.grid["y"], indexing="ij")
    points = np.stack([X.ravel(), Y.ravel()], axis=1)
    solver = HyperelasticSolver(problem, nx, ny, degree=1, load_steps=load_steps)
    energy = [0.0]
    started = time.perf_counter()
    u = solver.march(len(data.times) - 1, points, lambda k, s: energy.append(s.elastic_energy()))
    total = time.perf_counter() - started
    return {**scores(u.reshape(ref.shape), ref), "elastic_energy": energy,
            "seconds_per_step": float(np.median([i["seconds"] for i in solver.info])), "seconds_total": total,
            "newton_iterations": [i["newton_iterations"] for i in solver.info], "unknowns": solver.dofs,
            "mesh": [nx, ny]}


def insr_run(folder: Path, data_path: Path, args, seed: int, commands: list[str]) -> dict:
    train = ["train", "insr-elastic", "--data", str(data_path), "-o", str(folder), "--profile", args.profile,
             "--seed", str(seed), "--device", "cpu", "-q"]
    train += ["--steps", str(args.iterations)] if args.iterations else []
    m = train_once(folder, train, commands)
    # metrics.json scores the network on the reference's grid (relative L2 as `scores`) and holds its own
    # ∫Ψ dX per step (the evaluator's energy curve)
    return {key: m[key] for key in ("relative_l2", "final_relative_l2", "per_time_relative_l2", "elastic_energy",
                                    "seconds_per_step")} | {"unknowns": m["parameters"]}


def tables(case: str, rows: list[dict], times: np.ndarray, reference_energy: list[float], attrs: dict) -> str:
    summary = [[row["method"], row["unknowns"], mean_std([r["relative_l2"] for r in row["runs"]], ".2e"),
                mean_std([r["final_relative_l2"] for r in row["runs"]], ".2e"),
                mean_std([r["elastic_energy"][-1] / reference_energy[-1] for r in row["runs"]], ".4f"),
                mean_std([r["seconds_per_step"] for r in row["runs"]], ".2g")] for row in rows]
    text = [f"### {case} (reference: P{attrs['fem_degree']} on {attrs['fem_mesh'][0]} x {attrs['fem_mesh'][1]} "
            f"cells, {attrs['fem_dofs']} unknowns)", "",
            markdown(["method", "unknowns", "rel. L2 (all steps)", "rel. L2 (final)", "∫Ψ(T) / ∫Ψ_ref(T)", "s / step"],
                     summary)]
    if len(times) > 2:
        columns = {f"error {row['method']}": row["runs"][0]["per_time_relative_l2"] for row in rows}
        columns |= {f"∫Ψ {row['method']}": row["runs"][0]["elastic_energy"] for row in rows}
        columns["∫Ψ reference"] = reference_energy
        formats = {name: ".2e" if name.startswith("error") else ".4g" for name in columns}
        text += ["", "Over time (first run of each method): relative L2 of u | elastic energy ∫Ψ dX", "",
                 over_time(times, columns, formats)]
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/insr-elastic"))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--profile", default="small", help="dataset and INSR profile (small, gpu, paper)")
    parser.add_argument("--iterations", type=int, help="INSR iterations per step (default: the profile's)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results, texts, commands = {}, [], []
    for case in args.cases:
        data_path = args.out / f"hyperelastic-{case}-{args.profile}.h5"
        generate_once(data_path, ["generate", "hyperelastic", "-o", str(data_path), "--profile", args.profile, "--set",
                                  f"case={case}", "-q"], commands)
        data = load_trajectories(data_path, "test")
        attrs = open_dataset(data_path).attrs
        params = attrs["params"]
        # files written before the collide case lack its parameters: the problem's defaults then
        collide = {key: params[key] for key in ("kappa", "floor", "vx", "vy") if key in params}
        problem = Hyperelastic(dynamic=float(CASES.index(case)), mu=params["mu"], lam=params["lam"],
                               rho=params["rho"], gravity=params["gravity"], stretch=params["stretch"],
                               dt=params["dt"], **collide)
        runs = [insr_run(args.out / f"insr-{case}-s{seed}", data_path, args, seed, commands)
                for seed in args.seeds]
        rows = [{"method": "INSR 3x68", "unknowns": runs[0]["unknowns"], "runs": runs}]
        for share, label in ((1.0, "equal"), (0.25, "1/4")):
            nx, ny = fem_cells(problem, round(share * runs[0]["unknowns"]))
            r = fem_run(problem, nx, ny, data, int(params["load_steps"]))
            rows.append({"method": f"P1 {nx}x{ny} ({label})", "unknowns": r["unknowns"], "runs": [r]})
        reference_energy = list(attrs["elastic_energy"])
        results[case] = {"rows": rows, "reference_elastic_energy": reference_energy, "times": data.times.tolist(),
                         "reference": {k: attrs[k] for k in ("fem_mesh", "fem_degree", "fem_dofs",
                                                             "newton_iterations", "seconds_per_step")}}
        texts.append(tables(case, rows, data.times, reference_energy, attrs))
        if len(data.times) > 2:
            plot_curves({row["method"]: (data.times, row["runs"][0]["elastic_energy"]) for row in rows},
                        args.out / f"energy-{case}.png", "t", "elastic energy", title=f"hyperelastic ({case})",
                        reference=(data.times, reference_energy))
            plot_curves({row["method"]: (data.times[1:], row["runs"][0]["per_time_relative_l2"][1:])
                         for row in rows}, args.out / f"error-{case}.png", "t", "relative L2 of u",
                        title=f"hyperelastic ({case})", log=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=lambda o: np.asarray(o).tolist()))
    footer = (f"\n\nseeds {args.seeds}; profile {args.profile}; one CPU core\n\nCommands:\n\n"
              + "\n".join(f"    {c}" for c in commands) + "\n")
    table = "\n\n".join(texts)
    (args.out / "table.md").write_text(table + footer)
    print(table)


if __name__ == "__main__":
    main()
