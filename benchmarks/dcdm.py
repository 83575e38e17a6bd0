"""DCDM (Kaneda et al., ICML 2023) against CG, Jacobi-PCG, ICC-PCG and GAMG-PCG, in one run.

The systems: P1 finite elements for -∇·(κ∇u) = f on the unit square, u = 0 on the boundary, with

    κ(x, y) = exp(1.5 sin(2πx) sin(2πy))      (a contrast of e³ ≈ 20),
    f(x, y) = 1 + 10 exp(-20 ((x - 0.3)² + (y - 0.6)²)),

on structured n × n meshes (n = 64, 128, 256 by default) and an unstructured gmsh mesh (h = 0.0125).
The DCDM CNN (`DCDMNet2d`, with the operator channel) is trained once at ``--train-n`` on Ritz-vector
right-hand sides, without solutions, and applied unchanged at every structured size (it is fully
convolutional); the graph network (`DCDMGraphNet`) is trained on a coarser unstructured mesh
(``--gnn-train-h``) and applied to the finer one. Training times are reported apart. Every method
starts from x = 0 and stops at ‖b − Ax‖ ≤ tol ‖b‖ (the unpreconditioned residual for all; tol = 1e-4,
the paper's, and 1e-6). Each solve is repeated ``--repeats`` times (median and range); set-up (ICC
factorisation, GAMG hierarchy, DCDM's checks) and iterations are timed apart. Every solution is
compared with a direct solve (MUMPS LU). CPU only. DCDM-m20 (not in the paper) A-orthogonalises
against the last 20 directions instead of 2.

    .venv/bin/python benchmarks/dcdm.py -o benchmarks/results/dcdm.json      # the full run
    .venv/bin/python benchmarks/dcdm.py --quick -o /tmp/dcdm-quick.json       # seconds
    .venv/bin/python benchmarks/dcdm.py --weights dcdm-64.pt --sizes 64 128 --unstructured   # a trained CNN
    .venv/bin/python benchmarks/dcdm.py --sizes --unstructured 0.0125 -o benchmarks/results/dcdm-gnn.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import spread  # noqa: E402

DCDM_TYPE = "pdesuite.surrogates.dcdm.DCDMSolver"
BASE = {"ksp_norm_type": "unpreconditioned", "ksp_atol": 0.0, "ksp_max_it": 20000}
METHODS = {
    "CG": {"ksp_type": "cg", "pc_type": "none"},
    "Jacobi-PCG": {"ksp_type": "cg", "pc_type": "jacobi"},
    "ICC-PCG": {"ksp_type": "cg", "pc_type": "icc"},
    "GAMG-PCG": {"ksp_type": "cg", "pc_type": "gamg"},
    "DCDM": {"ksp_type": "python", "ksp_python_type": DCDM_TYPE},
    # not in the paper: A-orthogonal to the last 20 directions (flexible-CG style truncation)
    "DCDM-m20": {"ksp_type": "python", "ksp_python_type": DCDM_TYPE, "dcdm_memory": 20},
}


def poisson_solver(domain):
    """The benchmark problem's `PoissonSolver` on ``domain``."""
    from pdesuite.problems.poisson import oscillating_coefficient_poisson
    from pdesuite.solvers.fem import PoissonSolver

    return PoissonSolver(oscillating_coefficient_poisson(), domain)


def system(domain):
    """(A, b, solver) of the benchmark problem on ``domain``: A with the dof coordinates composed on it."""
    import dolfinx.fem.petsc
    from petsc4py import PETSc

    from pdesuite.solvers.fem.conjugate_directions import attach_dof_coordinates

    solver = poisson_solver(domain)
    a, L = (dolfinx.fem.form(form) for form in solver.forms())
    bcs = solver.boundary_conditions()
    A = dolfinx.fem.petsc.assemble_matrix(a, bcs=bcs)
    A.assemble()
    b = dolfinx.fem.petsc.assemble_vector(L)
    dolfinx.fem.petsc.apply_lifting(b, [a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(b, bcs)
    attach_dof_coordinates(A, solver.V)
    return A, b, solver


def run_ksp(A, b, options: dict, prefix: str) -> dict:
    """One solve with a fresh KSP: iterations, reason, set-up and solve seconds, the solution, fallbacks."""
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(A.getComm())
    ksp.setOperators(A)
    ksp.setOptionsPrefix(prefix)
    opts = PETSc.Options()
    for key, value in options.items():
        opts[prefix + key] = value
    try:
        ksp.setFromOptions()
    finally:
        for key in options:
            del opts[prefix + key]
    x = A.createVecRight()
    start = time.perf_counter()
    ksp.setUp()
    setup = time.perf_counter() - start
    start = time.perf_counter()
    ksp.solve(b, x)
    solve = time.perf_counter() - start
    context = ksp.getPythonContext() if ksp.getType() == "python" else None
    result = {"iterations": ksp.getIterationNumber(), "reason": int(ksp.getConvergedReason()),
              "setup_seconds": setup, "solve_seconds": solve, "x": x.getArray().copy(),
              "fallbacks": getattr(context, "fallbacks", None)}
    ksp.destroy()
    x.destroy()
    return result


def train_network(args, out_dir: Path, graph: bool = False) -> tuple[Path, dict]:
    """Train the CNN on the structured ``--train-n`` mesh, or the graph network on the unstructured
    ``--gnn-train-h`` mesh; returns the weights file and the training facts."""
    import torch

    from pdesuite.nn.dcdm_cnn import DCDMNet2d
    from pdesuite.solvers.fem import unit_square, unstructured_rectangle
    from pdesuite.surrogates.dcdm import GridMap, mesh_graph, save_network
    from pdesuite.surrogates.dcdm_training import assembled_operator, train_dcdm

    domain = unstructured_rectangle(args.gnn_train_h) if graph else unit_square(args.train_n)
    A, points = assembled_operator(poisson_solver(domain))  # SciPy CSR: no PETSc objects left behind
    if graph:
        from pdesuite.nn.dcdm_gnn import DCDMGraphNet

        network, layout, steps = DCDMGraphNet(levels=args.gnn_levels), None, args.gnn_steps
        layout = mesh_graph(A, points, args.gnn_levels)
    else:
        network, layout, steps = DCDMNet2d(in_channels=2, levels=args.levels), GridMap.from_coordinates(points), \
            args.train_steps
    start = time.perf_counter()
    network, history = train_dcdm(A, layout, steps=steps, lr=args.lr, batch=args.batch,
                                  ritz=min(args.ritz, A.shape[0] - 1), samples=args.samples, seed=args.seed,
                                  network=network, log_every=max(1, steps // 20),
                                  log=lambda e: print(f"  step {e['step']}: loss {e['loss']:.4g}", file=sys.stderr))
    seconds = time.perf_counter() - start
    facts = {"network": type(network).__name__, "config": network.config, "mesh": domain.description if graph
             else f"unit_square({args.train_n})", "dofs": A.shape[0], "steps": steps, "lr": args.lr,
             "batch": args.batch, "ritz": min(args.ritz, A.shape[0] - 1), "samples": args.samples, "seed": args.seed,
             "seconds": seconds, "final_loss": history[-1]["loss"], "torch_threads": torch.get_num_threads()}
    name = f"dcdm-gnn-h{args.gnn_train_h:g}.pt" if graph else f"dcdm-{args.train_n}.pt"
    return save_network(out_dir / name, network, training=facts, problem="benchmarks/dcdm.py"), facts


def benchmark_size(label: str, domain, weights: Path, args) -> dict:
    from pdesuite.solvers.fem.base import DIRECT

    A, b, solver = system(domain)
    direct = run_ksp(A, b, DIRECT, "direct_")["x"]
    rows = []
    for tol in args.tols:
        for name, options in METHODS.items():
            options = {**BASE, **options, "ksp_rtol": tol}
            if name.startswith("DCDM"):
                options["dcdm_weights"] = str(weights)
            runs = [run_ksp(A, b, options, f"{name.lower().replace('-', '_')}_") for _ in range(args.repeats)]
            last = runs[-1]
            r, xv = A.createVecLeft(), A.createVecRight()
            xv.setArray(last["x"])
            A.mult(xv, r)
            r.aypx(-1.0, b)
            relative_residual = r.norm() / b.norm()
            r.destroy()
            xv.destroy()
            row = {"method": name, "tol": tol, "iterations": last["iterations"], "reason": last["reason"],
                   "setup_seconds": spread([run["setup_seconds"] for run in runs]),
                   "solve_seconds": spread([run["solve_seconds"] for run in runs]),
                   "seconds_per_iteration": float(np.median([run["solve_seconds"] for run in runs]))
                   / max(last["iterations"], 1),
                   "relative_residual": relative_residual,
                   "error_vs_direct": float(np.linalg.norm(last["x"] - direct) / np.linalg.norm(direct)),
                   "fallbacks": last["fallbacks"]}
            rows.append(row)
            print(f"  {label} tol {tol:g} {name}: {row['iterations']} its, "
                  f"{row['solve_seconds']['median']:.3g} s (+ set-up {row['setup_seconds']['median']:.3g} s), "
                  f"error vs LU {row['error_vs_direct']:.1e}", file=sys.stderr)
    dofs = solver.V.dofmap.index_map.size_global
    A.destroy()
    b.destroy()
    return {"mesh": label, "dofs": dofs, "rows": rows}


def growth(results: list[dict], method: str, tol: float) -> float | None:
    """Fitted p in iterations ∝ dofs^p over the structured sizes."""
    points = [(r["dofs"], row["iterations"]) for r in results if r["mesh"].startswith("structured")
              for row in r["rows"] if row["method"] == method and row["tol"] == tol and row["reason"] > 0]
    if len(points) < 2:
        return None
    dofs, its = np.log(np.array(points, dtype=float)).T
    return float(np.polyfit(dofs, its, 1)[0])


def markdown(record: dict) -> str:
    """One table per tolerance: a row per mesh and method."""
    lines = []
    repeats = record["settings"]["repeats"]
    for tol in record["settings"]["tols"]:
        lines += [f"\n**Relative residual {tol:g}** (seconds: median of {repeats} [min, max])\n",
                  "| mesh | dofs | method | iterations | solve s | set-up s | ms / iteration | error vs LU |",
                  "|---|---|---|---|---|---|---|---|"]
        for result in record["results"]:
            for row in (r for r in result["rows"] if r["tol"] == tol):
                its = f"{row['iterations']}" + ("" if row["reason"] > 0 else " (not converged)")
                if row["fallbacks"]:
                    its += f" ({row['fallbacks']} fallbacks)"
                solve = row["solve_seconds"]
                lines.append(f"| {result['mesh']} | {result['dofs']} | {row['method']} | {its} | "
                             f"{solve['median']:.3g} [{solve['min']:.3g}, {solve['max']:.3g}] | "
                             f"{row['setup_seconds']['median']:.2g} | {1e3 * row['seconds_per_iteration']:.3g} | "
                             f"{row['error_vs_direct']:.1e} |")
        lines.append("\nIterations ∝ dofs^p over the structured meshes, fitted p: " + ", ".join(
            f"{name} {p:.2f}" for name in METHODS if (p := growth(record["results"], name, tol)) is not None))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", help="cells per side of the structured meshes "
                        "(default 64 128 256; none: skip them)")
    parser.add_argument("--unstructured", type=float, nargs="*", help="gmsh mesh sizes h of unstructured unit "
                        "squares, solved with the graph network (default 0.0125; none: skip)")
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-6], help="relative residuals")
    parser.add_argument("--repeats", "--repeat", type=int, default=3, dest="repeats",
                        help="timed solves of each method (median and range reported; default 3)")
    parser.add_argument("--weights", type=Path, help="a trained DCDM network (else one is trained first)")
    parser.add_argument("--train-n", type=int, default=64, help="cells per side of the training mesh")
    parser.add_argument("--train-steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--ritz", type=int, default=800, help="Lanczos steps for the Ritz vectors")
    parser.add_argument("--samples", type=int, default=4000, help="training right-hand sides")
    parser.add_argument("--levels", type=int, default=1, help="pooling levels of the CNN (1: the paper's)")
    parser.add_argument("--gnn-weights", type=Path, help="a trained DCDM graph network (else one is trained)")
    parser.add_argument("--gnn-train-h", type=float, default=0.05, help="mesh size of the graph network's "
                        "training mesh")
    parser.add_argument("--gnn-steps", type=int, default=1500)
    parser.add_argument("--gnn-levels", type=int, default=3, help="cluster-pooling levels of the graph network")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="toy sizes (16, 32), 100 steps, 1 repeat")
    parser.add_argument("-o", "--json", type=Path, help="write the results (JSON) here, and the table beside it (.md)")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [16, 32] if args.sizes is None else args.sizes
        args.unstructured = [0.1] if args.unstructured is None else args.unstructured
        args.train_n, args.train_steps, args.repeats, args.ritz, args.samples, args.lr = 16, 150, 1, 225, 500, 1e-2
        args.gnn_train_h, args.gnn_steps = 0.1, 100
    args.sizes = [64, 128, 256] if args.sizes is None else args.sizes
    args.unstructured = [0.0125] if args.unstructured is None else args.unstructured
    if args.repeats < 1 or min(args.sizes, default=2) < 2 or args.train_steps < 1 or args.gnn_steps < 1:
        parser.error("--repeats, --train-steps, --gnn-steps must be >= 1 and --sizes >= 2")
    if min(args.unstructured, default=0.5) <= 0 or min(args.unstructured, default=0.5) > 1:
        parser.error("--unstructured mesh sizes must be in (0, 1]")

    from mpi4py import MPI  # noqa: F401 - before dolfinx

    import torch

    from pdesuite.solvers.fem import unit_square, unstructured_rectangle

    torch.set_num_threads(int(os.environ.get("PDESUITE_THREADS", "1")))
    load_start = os.getloadavg()
    out_dir = (args.json.parent if args.json else Path("benchmarks/results"))
    training, results = {}, []
    if args.sizes:
        if args.weights is None:
            print(f"training the DCDM CNN at {args.train_n}² ({args.train_steps} steps)", file=sys.stderr)
            args.weights, training["cnn"] = train_network(args, out_dir)
        for n in args.sizes:
            results.append(benchmark_size(f"structured {n}²", unit_square(n), args.weights, args))
    if args.unstructured:
        if args.gnn_weights is None:
            print(f"training the DCDM graph network at h = {args.gnn_train_h} ({args.gnn_steps} steps)",
                  file=sys.stderr)
            args.gnn_weights, training["gnn"] = train_network(args, out_dir, graph=True)
        for h in args.unstructured:
            results.append(benchmark_size(f"unstructured h {h:g}", unstructured_rectangle(h), args.gnn_weights, args))
    record = {"benchmark": "dcdm", "created": datetime.now(UTC).isoformat(timespec="seconds"),
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "json"},
              "training": training, "results": results, "load_average": {"start": load_start, "end": os.getloadavg()},
              "torch_threads": torch.get_num_threads(), "omp_threads": os.environ.get("OMP_NUM_THREADS")}
    table = markdown(record)
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1))
        args.json.with_suffix(".md").write_text(table)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
