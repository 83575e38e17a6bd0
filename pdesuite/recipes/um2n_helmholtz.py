"""`um2n-helmholtz`: UM2N's training data, meshes moved by Monge-Ampère towards the bump problem.

Per sample, on the split's mesh (the same sampling of bumps as `helmholtz-bumps`):

1. solve -Δu + u = f (u_exact = Σ Gaussian bumps, Dirichlet u = u_exact) with P1 on the mesh ξ;
2. move the mesh by `MongeAmpereMover` with the Hessian monitor m = 1 + α ‖H(u_h)‖²_F / max (UM2N:
   α = 5, rtol 1e-3, at most 500 iterations), the monitor re-solved on the moving mesh;
3. solve again on the moved mesh; record both L2 errors against u_exact (exact quadrature of the
   Gaussian expression, no interpolation) and the error reduction ER = (e_ξ - e_x) / e_ξ.

The training/validation splits use one mesh (``mesh``, ``mesh_size``), the test split another
(``test_mesh``, ``test_mesh_size``): UM2N trains on unstructured meshes of lc 0.05 and tests on other
gmsh algorithms ("mesh types") and lc 0.028. Where the two differ, each split stores its own mesh
(``/{split}/mesh/points``, ``cells``). Mesh types: gmsh's ``frontal-delaunay`` (UM2N's type 6),
``delaunay``, ``meshadapt``, ``automatic`` (type 2), and ``structured`` (n × n squares cut by the
right diagonal, n = round(1 / mesh_size)).

Stored per sample: ``u`` (1, n_nodes, 1) the solution on ξ; extras ``monitor`` (n_nodes,) on ξ (the
mover's input), ``moved`` (n_nodes, 2) the MA coordinates, ``u_moved`` (n_nodes,), ``error_uniform``,
``error_moved``, ``ma_iterations``, ``ma_seconds`` (wall time of the move, on the generating CPU)
and ``ma_max_tangled`` (inverted cells seen at any MA iteration; the final mesh has none, or the
sample fails with an error naming it). ``params`` as in `helmholtz-bumps`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.recipes.helmholtz_bumps import MAX_BUMPS, PARAM_NAMES, bump_problem, draw_bumps, exact_solution
from pdesuite.registry import DATASETS

MESH_TYPES = ("frontal-delaunay", "delaunay", "meshadapt", "automatic", "structured")

__all__ = ["MESH_TYPES", "MovedMeshHelmholtz", "exact_solution", "make_mesh", "solve_bumps"]


def make_mesh(kind: str, h: float):
    """A serial mesh of the unit square of type ``kind`` (see `MESH_TYPES`) and size ``h``."""
    from mpi4py import MPI

    from pdesuite.solvers.fem import unit_square, unstructured_rectangle

    if kind not in MESH_TYPES:
        raise BadInput(f"unknown mesh type {kind!r} (known: {', '.join(MESH_TYPES)})")
    if kind == "structured":
        return unit_square(max(1, round(1.0 / h)), comm=MPI.COMM_SELF)
    return unstructured_rectangle(float(h), comm=MPI.COMM_SELF, algorithm=kind)


class BumpCase:
    """The bump problem, its P1 solver and a Monge-Ampère mover on one mesh (built once, reused)."""

    def __init__(self, domain, alpha: float = 5.0, rtol: float = 1e-3, maxiter: int = 500, mover: bool = True):
        from pdesuite.solvers.fem import HessianMonitor, MongeAmpereMover

        self.domain = domain
        self.theta, self.problem, self.solver = bump_problem(domain)
        self.mover = MongeAmpereMover(domain, HessianMonitor(lambda: self.solver.solve().function, alpha=alpha),
                                      rtol=rtol, maxiter=maxiter) if mover else None

    def set_params(self, params: np.ndarray) -> None:
        self.theta.set(np.asarray(params[1:], dtype=float).reshape(MAX_BUMPS, 5))

    def solve(self):
        """(nodal u_h in geometry order, L2 error) on the mesh's current coordinates."""
        solution = self.solver.solve()
        return solution.nodal_values()[:, 0], solution.errornorm(self.problem.exact)


def solve_bumps(points: np.ndarray, cells: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve one sample's bump problem on the mesh (``points``, ``cells``), e.g. one moved by a network:
    (u_h at ``points`` in their order, L2 error against u_exact)."""
    from pdesuite.solvers.fem import from_arrays, input_order

    domain = from_arrays(points, cells)
    case = BumpCase(domain, mover=False)
    case.set_params(params)
    values, error = case.solve()
    ordered = np.empty_like(values)
    ordered[input_order(domain)] = values
    return ordered, error


@DATASETS.register("um2n-helmholtz")
class MovedMeshHelmholtz(Recipe):
    name: ClassVar[str] = "um2n-helmholtz"
    problem: ClassVar[str] = "reaction-diffusion"
    solver: ClassVar[str] = "ReactionDiffusionSolver (P1, MUMPS LU) + MongeAmpereMover (relaxation)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = ("-Δu + u = f with Gaussian bumps; meshes moved by Monge-Ampère to a Hessian "
                                  "monitor (UM2N training data)")

    def validate(self) -> None:
        p = self.params
        for key in ("mesh", "test_mesh"):
            self.require(p[key] in MESH_TYPES,
                         f"unknown mesh type {p[key]!r} for {key} (known: {', '.join(MESH_TYPES)})")
        for key in ("mesh_size", "test_mesh_size"):
            h = p[key]
            self.require(isinstance(h, float | int) and 0.01 <= h <= 0.5, f"{key} must lie in [0.01, 0.5], got {h}")
        self.require_positive("rtol")
        self.require_int("maxiter", 1)
        self.require(isinstance(p["alpha"], int | float) and p["alpha"] >= 0, f"alpha must be >= 0, got {p['alpha']}")

    def mesh_of(self, split: str) -> tuple[str, float]:
        p = self.params
        return (p["test_mesh"], float(p["test_mesh_size"])) if split == "test" else (p["mesh"], float(p["mesh_size"]))

    def prepare(self) -> None:
        p = self.params
        self.cases: dict[tuple[str, float], BumpCase] = {}
        for split in ("train", "valid", "test"):
            key = self.mesh_of(split)
            if p[split] and key not in self.cases:
                self.cases[key] = BumpCase(make_mesh(*key), alpha=float(p["alpha"]), rtol=float(p["rtol"]),
                                           maxiter=int(p["maxiter"]))

    def layout(self) -> Layout:
        arrays, attrs, shapes, extras = {}, {}, {}, {}
        splits = [s for s in ("train", "valid", "test") if self.params[s]]
        shared = len({self.mesh_of(s) for s in splits}) == 1
        for split in splits:
            domain = self.cases[self.mesh_of(split)].domain
            prefix = "mesh" if shared else f"{split}/mesh"
            points = domain.mesh.geometry.x[:, :2].copy()
            arrays[f"{prefix}/points"] = points
            arrays[f"{prefix}/cells"] = domain.mesh.geometry.dofmaps[0].astype(np.int64)
            attrs[f"{prefix}/cells"] = {"cell_type": "triangle", "mesh": domain.description}
            n = len(points)
            shapes[split] = (1, n, 1)
            for name, shape in (("monitor", (n,)), ("moved", (n, 2)), ("u_moved", (n,))):
                extras.setdefault(name, ({}, np.float64))[0][split] = shape
        for name, dtype in (("error_uniform", np.float64), ("error_moved", np.float64), ("ma_iterations", np.int32),
                            ("ma_seconds", np.float64), ("ma_max_tangled", np.int32)):
            extras[name] = ((), dtype)
        arrays["t"] = np.zeros(1)
        return Layout(arrays=arrays, array_attrs=attrs, sample_shape=shapes, param_names=PARAM_NAMES, extras=extras)

    def extra_attrs(self) -> dict:
        return {"mesh_mover": "monge-ampere relaxation (McRae et al. 2018)", "monitor": "hessian",
                "meshes": {s: list(self.mesh_of(s)) for s in ("train", "valid", "test")}}

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        case = self.cases[self.mesh_of(split)]
        theta = draw_bumps(rng)
        params = np.concatenate([[np.count_nonzero(theta[:, 0])], theta.ravel()])
        case.set_params(params)
        u, error_uniform = case.solve()
        result = case.mover.move()
        try:
            u_moved, error_moved = case.solve()
            if export_dir is not None:
                case.solver.solve().export_xdmf(export_dir / f"{tag}_moved.xdmf")
        finally:
            case.mover.restore()
        if export_dir is not None:
            case.solver.solve().export_xdmf(export_dir / f"{tag}.xdmf")
        extras = {"monitor": result.initial_monitor, "moved": result.points, "u_moved": u_moved,
                  "error_uniform": np.float64(error_uniform), "error_moved": np.float64(error_moved),
                  "ma_iterations": np.int32(result.iterations), "ma_seconds": np.float64(result.seconds),
                  "ma_max_tangled": np.int32(result.max_tangled)}
        return Sample(u[None, :, None], params, extras)

