"""The swirl: a ring advected by a reversing flow on a mesh moved by Monge-Ampère or by UM2N (zero-shot).

    u_t + b·∇u = 0 on [0, 1]², b = 1.5 a(t) (sin²(πx) sin(2πy), -sin²(πy) sin(2πx)), a = +1 for t < 0.5
    and -1 after; u0 = a ring of radius 0.2 and width σ = 0.05/3 around (0.5, 0.75); T = 1, Δt = 10⁻³.

The flow retraces its path, so u(T) = u0 exactly: the error is measured against it by quadrature (UM2N
measures against a fine-mesh solution; ``--reference N`` adds that error too, on an N × N mesh). DG1
with upwind fluxes and SSPRK3 (`pdesuite.solvers.fem.swirl`), on a structured 20 × 20 mesh (the
network never saw that mesh type, nor this PDE: it was trained on Helmholtz bumps on gmsh meshes).
Every ``--every`` steps (and at t = 0) the mesh is moved from the original mesh towards the current
solution's smoothed Hessian monitor, by Monge-Ampère or by trained UM2N networks (one per run folder of
`examples/um2n_helmholtz.py`), and the solution is transferred. Reported per mover: the L2 error at T,
ER = (e_uniform - e) / e_uniform, the wall time of the whole run and of the moves, tangled moves, and
the change of ∫u the transfers cause.

    .venv/bin/python examples/um2n_swirl.py --runs examples-output/um2n/um2n-s0 ... --out examples-output/um2n-swirl
        [--n 20] [--every 20] [--dt 1e-3] [--t-end 1] [--width 0.0167] [--reference 0]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from pdesuite.io import pyplot, save_figure
from pdesuite.problems.swirl import Swirl
from pdesuite.solvers.fem import unit_square
from pdesuite.solvers.fem.swirl import SwirlSolver, monge_ampere_mover, reference_error, reference_solution
from pdesuite.validation.tables import markdown, mean_std
from pdesuite.validation.validate import load_trained


def summarise(result, uniform_error: float | None, reference=None) -> dict:
    row = {"error": result.error_exact, "seconds": result.seconds, "mover_seconds": result.mover_seconds,
           "moves": result.moves, "tangled": result.tangled, "mass_change": result.mass_change,
           "max_inverted": max(result.inverted, default=0)}
    if uniform_error is not None:
        row["er"] = (uniform_error - result.error_exact) / uniform_error
    if reference is not None:
        row["reference_error"] = reference_error(result.solution, reference)
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, nargs="*", default=[], help="trained um2n run folders")
    parser.add_argument("--out", type=Path, default=Path("examples-output/um2n-swirl"))
    parser.add_argument("--n", type=int, default=20, help="mesh: n × n squares, two triangles each")
    parser.add_argument("--every", type=int, default=20, help="steps between mesh moves")
    parser.add_argument("--dt", type=float, default=1e-3)
    parser.add_argument("--t-end", type=float, default=1.0, help="final time (the flow reverses at half of it)")
    parser.add_argument("--width", type=float, default=0.05 / 3, help="ring width σ (UM2N: 0.05/3)")
    parser.add_argument("--reference", type=int, default=0, help="also the error against an N × N solution (0: off)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    problem = Swirl(t_end=args.t_end, reversal_time=args.t_end / 2, width=args.width)
    solver = SwirlSolver(problem, unit_square(args.n), dt=args.dt)
    reference = reference_solution(problem, args.reference, dt=args.dt) if args.reference else None

    results, finals = {}, {}
    uniform = solver.run(progress=True)
    results["uniform"] = summarise(uniform, None, reference)
    finals["uniform"] = (uniform.points, uniform.values)
    ma = solver.run(move_every=args.every, mover=monge_ampere_mover(), progress=True)
    results["Monge-Ampère"] = summarise(ma, uniform.error_exact, reference)
    finals["Monge-Ampère"] = (ma.points, ma.values)
    for folder in args.runs:
        surrogate, _ = load_trained(folder)
        surrogate.to("cpu")
        moved = solver.run(move_every=args.every, mover=surrogate.mover(), allow_tangled=True, progress=True)
        results[f"UM2N {folder.name}"] = summarise(moved, uniform.error_exact, reference)
        finals[f"UM2N {folder.name}"] = (moved.points, moved.values)
    cells = solver.domain.mesh.geometry.dofmaps[0]

    networks = [key for key in results if key.startswith("UM2N")]
    rows = [[name, f"{r['error']:.4g}", f"{r['er']:.3f}" if "er" in r else "-", f"{r['seconds']:.1f}",
             f"{r['mover_seconds']:.1f}", r["moves"], r["tangled"], f"{100 * r['mass_change']:+.2f} %"]
            for name, r in results.items()]
    if len(networks) > 1:
        pick = [results[k] for k in networks]
        rows.append([f"UM2N, {len(networks)} seeds", mean_std([r["error"] for r in pick], ".4g"),
                     mean_std([r["er"] for r in pick]), mean_std([r["seconds"] for r in pick], ".1f"),
                     mean_std([r["mover_seconds"] for r in pick], ".1f"), pick[0]["moves"],
                     sum(r["tangled"] for r in pick), mean_std([100 * r["mass_change"] for r in pick], "+.2f") + " %"])
    header = ["mover", "L2 error at T", "ER", "run s", "moving s", "moves", "tangled moves", "∫u change"]
    table = markdown(header, rows)
    if reference is not None:
        table += "\n\nagainst the " + f"{args.reference}² solution: " + ", ".join(
            f"{k} {r['reference_error']:.4g}" for k, r in results.items())
    command = "python " + shlex.join(["examples/um2n_swirl.py", *(argv if argv is not None else sys.argv[1:])])
    (args.out / "results.json").write_text(json.dumps({"results": results, "command": command,
                                                       "settings": vars(args) | {"runs": [str(r) for r in args.runs],
                                                                                 "out": str(args.out)}},
                                                      indent=2, default=float))
    (args.out / "table.md").write_text(f"{table}\n\n    {command}\n")

    plt = pyplot()
    fig, axes = plt.subplots(1, len(finals), figsize=(4 * len(finals), 4), squeeze=False, constrained_layout=True)
    for ax, (name, (points, values)) in zip(axes[0], finals.items(), strict=True):
        ax.tripcolor(points[:, 0], points[:, 1], cells, values, shading="gouraud", cmap="viridis", vmin=0, vmax=1)
        ax.triplot(points[:, 0], points[:, 1], cells, color="k", lw=0.2)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: e = {results[name]['error']:.3g}", fontsize=9)
    save_figure(fig, args.out / "swirl.png")
    print(table)
    return results


if __name__ == "__main__":
    main()
