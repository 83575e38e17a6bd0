"""Poisson P1 on the unit square: pdesuite's PoissonSolver against a plain dolfinx script.

Both solve -Δu = f (f = 2π² sin(πx) sin(πy), u = 0 on ∂Ω) with P1 elements, conjugate gradients and
PETSc's algebraic multigrid (GAMG, rtol 1e-10), on the same mesh, in the same process. Each is run
``--repeats`` times after a warm-up (form compilation excluded), alternating. Reported: the median
and range of the seconds, time per dof, the ratio pdesuite / plain of the medians (overhead; the
fastest runs' ratio too), the L2 error (both must agree to solver tolerance) and the load average.

    .venv/bin/python benchmarks/fem_poisson.py                  # 1e5 and 1e6 dofs
    .venv/bin/python benchmarks/fem_poisson.py --sizes 100 300  # cells per side
    .venv/bin/python benchmarks/fem_poisson.py --repeats 5 -o benchmarks/results/fem_poisson.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from mpi4py import MPI

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl

from pdesuite.problems import Poisson
from pdesuite.solvers.fem import PoissonSolver, unit_square
from pdesuite.solvers.fem.base import CG_AMG


def exact(x, m):
    return m.sin(m.pi * x[0]) * m.sin(m.pi * x[1])


def source(x, m):
    return 2 * m.pi**2 * m.sin(m.pi * x[0]) * m.sin(m.pi * x[1])


def plain_dolfinx(mesh) -> dolfinx.fem.Function:
    """What a user would write with dolfinx alone (the baseline)."""
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(mesh)
    f = 2 * ufl.pi**2 * ufl.sin(ufl.pi * x[0]) * ufl.sin(ufl.pi * x[1])
    mesh.topology.create_connectivity(1, 2)
    facets = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    bc = dolfinx.fem.dirichletbc(0.0, dolfinx.fem.locate_dofs_topological(V, 1, facets), V)
    problem = dolfinx.fem.petsc.LinearProblem(
        ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, f * v * ufl.dx, bcs=[bc],
        petsc_options=CG_AMG, petsc_options_prefix="plain_")
    return problem.solve()


def with_pdesuite(domain):
    solver = PoissonSolver(Poisson(source=source, dirichlet_value=0.0), domain, degree=1,
                           petsc_options=CG_AMG)
    return solver.solve().function


def l2_error(uh) -> float:
    x = ufl.SpatialCoordinate(uh.function_space.mesh)
    e = uh - exact(x, ufl)
    return float(np.sqrt(dolfinx.fem.assemble_scalar(dolfinx.fem.form(e * e * ufl.dx))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[316, 1000], help="cells per side")
    parser.add_argument("--repeats", "--repeat", type=int, default=3, dest="repeats",
                        help="alternating timed runs of each (median and range reported; default 3)")
    parser.add_argument("-o", "--json", type=Path, help="write the results (JSON) here")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    load_start = os.getloadavg()

    warm = unit_square(8)
    plain_dolfinx(warm.mesh), with_pdesuite(warm)  # compile the forms once
    rows = []
    for n in args.sizes:
        domain = unit_square(n)
        dofs = (n + 1) ** 2
        times = {"plain": [], "pdesuite": []}
        results = {}
        for _ in range(args.repeats):
            for name in ("plain", "pdesuite"):
                MPI.COMM_WORLD.barrier()
                start = time.perf_counter()
                results[name] = plain_dolfinx(domain.mesh) if name == "plain" else with_pdesuite(domain)
                times[name].append(time.perf_counter() - start)
        median = {k: float(np.median(v)) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        row = {"cells_per_side": n, "dofs": dofs, "plain_s": median["plain"], "pdesuite_s": median["pdesuite"],
               "plain_range_s": [best["plain"], max(times["plain"])],
               "pdesuite_range_s": [best["pdesuite"], max(times["pdesuite"])], "runs_s": times,
               "plain_us_per_dof": 1e6 * median["plain"] / dofs, "pdesuite_us_per_dof": 1e6 * median["pdesuite"] / dofs,
               "ratio": median["pdesuite"] / median["plain"], "ratio_fastest": best["pdesuite"] / best["plain"],
               "l2_error_plain": l2_error(results["plain"]), "l2_error_pdesuite": l2_error(results["pdesuite"])}
        rows.append(row)
    if MPI.COMM_WORLD.rank == 0:
        print(f"{'dofs':>9} {'plain s (median [range])':>26} {'pdesuite s (median [range])':>29} "
              f"{'plain µs/dof':>13} {'pdesuite µs/dof':>16} {'ratio':>6} {'fastest':>8} {'L2 error':>10}")
        for r in rows:
            plain = f"{r['plain_s']:.3f} [{r['plain_range_s'][0]:.3f}, {r['plain_range_s'][1]:.3f}]"
            ours = f"{r['pdesuite_s']:.3f} [{r['pdesuite_range_s'][0]:.3f}, {r['pdesuite_range_s'][1]:.3f}]"
            print(f"{r['dofs']:>9} {plain:>26} {ours:>29} {r['plain_us_per_dof']:>13.2f} "
                  f"{r['pdesuite_us_per_dof']:>16.2f} {r['ratio']:>6.3f} {r['ratio_fastest']:>8.3f} "
                  f"{r['l2_error_pdesuite']:>10.2e}")
        load_end = os.getloadavg()
        print(f"{args.repeats} alternating runs each; load average {load_start[0]:.2f} at the start, "
              f"{load_end[0]:.2f} at the end, on {os.cpu_count()} CPUs")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "benchmark": "benchmarks/fem_poisson.py", "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "processes": MPI.COMM_WORLD.size, "repeats": args.repeats,
                "machine": {"cpus": os.cpu_count(), "load_average": load_start, "load_average_end": load_end},
                "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
