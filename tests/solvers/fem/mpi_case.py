"""Solves run identically with 1 or N MPI processes (used by test_mpi.py): prints JSON results."""

import json

from mpi4py import MPI

from pdesuite.problems import Heat, Poisson
from pdesuite.solvers.fem import HeatSolver, PoissonSolver, unit_square, unstructured_rectangle

POINTS = [[0.1, 0.2], [0.5, 0.5], [0.77, 0.31], [0.93, 0.88]]


def monge_ampere() -> dict:
    """Move an unstructured mesh towards a bump monitor; the nodes in input order, gathered on every rank."""
    import numpy as np

    from pdesuite.solvers.fem.monge_ampere import ExpressionMonitor, MongeAmpereMover

    domain = unstructured_rectangle(0.08)
    monitor = ExpressionMonitor(lambda x, m: 1 + 10 * m.exp(-((x[0] - 0.3) ** 2 + (x[1] - 0.6) ** 2) / 0.02))
    result = MongeAmpereMover(domain, monitor, rtol=1e-6).move()
    geometry = domain.mesh.geometry
    owned = geometry.index_map().size_local
    ids = np.asarray(geometry.input_global_indices[:owned])
    comm = MPI.COMM_WORLD
    ids, points = np.concatenate(comm.allgather(ids)), np.concatenate(comm.allgather(result.points[:owned]))
    return {"iterations": result.iterations, "points": points[np.argsort(ids)].ravel().tolist()}


def main():
    exact = lambda x, m: m.sin(m.pi * x[0]) * m.cos(2.0 * x[1]) + x[0] * x[1]  # noqa: E731
    out = {"size": MPI.COMM_WORLD.size}
    problem = Poisson(kappa=lambda x, m: 1 + x[0] ** 2, exact=exact, dirichlet_boundary=lambda x: x[0] < 1e-12)
    u = PoissonSolver(problem, unit_square(16), degree=2).solve()
    out["poisson"] = {"L2": u.norm("L2"), "error": u.errornorm(exact), "values": u.eval(POINTS)[:, 0].tolist()}

    u = PoissonSolver(Poisson(source=1.0), unstructured_rectangle(0.1), degree=1).solve()
    out["poisson_unstructured"] = {"L2": u.norm("L2"), "values": u.eval(POINTS)[:, 0].tolist()}

    heat = Heat(kappa=0.1, velocity=(1.0, 0.0), initial=lambda x, m: m.sin(m.pi * x[0]) * m.sin(m.pi * x[1]),
                t_end=0.1)
    series = HeatSolver(heat, unit_square(12), degree=1, dt=0.02).solve()
    out["heat"] = {"L2": series[-1].norm("L2"), "values": series[-1].eval(POINTS)[:, 0].tolist()}
    out["monge_ampere"] = monge_ampere()
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
