"""Solution objects returned by the FEM solvers: point evaluation, arrays, norms and export."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mpi4py import MPI

import dolfinx
import numpy as np
import ufl

from pdesuite.solvers.fem.expressions import UFL, spatial


def _p1_space(V: dolfinx.fem.FunctionSpace) -> dolfinx.fem.FunctionSpace:
    """Degree-1 Lagrange space on V's mesh, with V's value shape."""
    shape = V.ufl_element().reference_value_shape
    return dolfinx.fem.functionspace(V.mesh, ("Lagrange", 1, shape) if shape else ("Lagrange", 1))


def nodal_values(u: dolfinx.fem.Function) -> np.ndarray:
    """Values of ``u`` at the (process-local) mesh geometry nodes, shape (n_nodes, value_size).

    Higher-degree functions are interpolated to P1 first; node order is ``mesh.geometry.x``'s,
    which is also the order of ``/mesh/points`` in datasets.
    """
    mesh = u.function_space.mesh
    V1 = _p1_space(u.function_space)
    u1 = dolfinx.fem.Function(V1)
    u1.interpolate(u)
    bs = V1.dofmap.index_map_bs
    geometry_dofs = mesh.geometry.dofmaps[0]
    dofs = V1.dofmap.list
    if geometry_dofs.shape[1] != dofs.shape[1]:
        raise NotImplementedError("nodal values need an affine (degree-1) mesh geometry")
    values = np.empty((mesh.geometry.x.shape[0], bs), dtype=u1.x.array.dtype)
    blocked = u1.x.array.reshape(-1, bs)
    values[geometry_dofs.ravel()] = blocked[dofs.ravel()]
    return values


@dataclass
class FEMSolution:
    """A finite-element solution u_h.

    Attributes:
        function: The dolfinx Function holding u_h.
        time: The time it belongs to (None for steady problems).
        info: Solver diagnostics (iterations, residual norms, timings).
    """

    function: dolfinx.fem.Function
    time: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        return self.function.function_space.mesh

    @property
    def value_size(self) -> int:
        return int(np.prod(self.function.function_space.ufl_element().reference_value_shape, dtype=int))

    def eval(self, points) -> np.ndarray:
        """Evaluate u_h at physical points.

        Args:
            points: Array of shape (n, gdim) (or (gdim,) for one point), the same on every rank.

        Returns:
            Array of shape (n, value_size); NaN for points outside the mesh.

        Collective in parallel: each rank evaluates the points in its cells, and the results are
        combined so every rank returns the full array.
        """
        mesh = self.mesh
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        n, gdim = pts.shape
        padded = np.zeros((n, 3))
        padded[:, :gdim] = pts
        tree = dolfinx.geometry.bb_tree(mesh, mesh.topology.dim)
        candidates = dolfinx.geometry.compute_collisions_points(tree, padded)
        colliding = dolfinx.geometry.compute_colliding_cells(mesh, candidates, padded)
        found = np.zeros(n, dtype=np.float64)
        values = np.zeros((n, self.value_size))
        index, cells = [], []
        n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
        for i in range(n):
            links = colliding.links(i)
            owned = links[links < n_owned]
            if owned.size:
                index.append(i)
                cells.append(owned[0])
        if index:
            values[index] = self.function.eval(padded[index], np.asarray(cells, dtype=np.int32))
            found[index] = 1.0
        comm = mesh.comm
        if comm.size > 1:
            values = comm.allreduce(values, op=MPI.SUM)
            found = comm.allreduce(found, op=MPI.SUM)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = values / found[:, None]  # points on a shared face are averaged
        return values

    def nodal_values(self) -> np.ndarray:
        """Values at the mesh's geometry nodes, shape (n_nodes, value_size) (process-local)."""
        return nodal_values(self.function)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for a dataset: ``points`` (n_nodes, gdim), ``cells`` (n_cells, nodes_per_cell), ``values``."""
        mesh = self.mesh
        return {
            "points": mesh.geometry.x[:, : mesh.geometry.dim].copy(),
            "cells": mesh.geometry.dofmaps[0].copy(),
            "values": self.nodal_values(),
        }

    def errornorm(self, exact, norm: str = "L2", degree_raise: int = 3) -> float:
        """‖u_h - u‖ in L2 or the H1 seminorm, with ``exact`` an expression ``(x, m)`` (or a UFL object).

        The exact solution enters as a UFL expression of the spatial coordinate, integrated with a
        quadrature raised by ``degree_raise`` over u_h's degree, so it is not interpolated first.
        """
        mesh = self.mesh
        u_exact = exact(spatial(mesh), UFL) if callable(exact) else exact
        if isinstance(u_exact, tuple | list):
            u_exact = ufl.as_vector(u_exact)
        e = self.function - u_exact
        integrand = {"L2": ufl.inner(e, e), "H1": ufl.inner(ufl.grad(e), ufl.grad(e))}.get(norm)
        if integrand is None:
            raise ValueError(f"unknown norm {norm!r} (use 'L2' or 'H1')")
        degree = self.function.function_space.ufl_element().embedded_superdegree + degree_raise
        form = dolfinx.fem.form(integrand * ufl.dx(metadata={"quadrature_degree": 2 * degree}))
        local = dolfinx.fem.assemble_scalar(form)
        return float(np.sqrt(mesh.comm.allreduce(local, op=MPI.SUM)))

    def norm(self, norm: str = "L2") -> float:
        """‖u_h‖ in L2 or the H1 seminorm."""
        return self.errornorm(lambda x, m: 0.0 * x[0] if self.value_size == 1 else
                              tuple(0.0 * x[0] for _ in range(self.value_size)), norm)

    def export_xdmf(self, path: str | os.PathLike, name: str | None = None) -> Path:
        """Write u_h for ParaView as XDMF (+ .h5). Higher degrees are interpolated to P1 first."""
        return TimeSeries([self]).export_xdmf(path, name)


@dataclass
class TimeSeries:
    """Solutions at several times, sharing one function space."""

    solutions: list[FEMSolution]
    info: dict = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        return np.array([s.time if s.time is not None else 0.0 for s in self.solutions])

    def __getitem__(self, i: int) -> FEMSolution:
        return self.solutions[i]

    def __len__(self) -> int:
        return len(self.solutions)

    def nodal_values(self) -> np.ndarray:
        """Shape (n_t, n_nodes, value_size)."""
        return np.stack([s.nodal_values() for s in self.solutions])

    def export_xdmf(self, path: str | os.PathLike, name: str | None = None) -> Path:
        """Write every time to one XDMF file (P1 interpolation for higher degrees)."""
        path = Path(path)
        if path.suffix != ".xdmf":
            path = path.with_suffix(".xdmf")
        first = self.solutions[0].function
        mesh = first.function_space.mesh
        V1 = _p1_space(first.function_space)
        out = dolfinx.fem.Function(V1, name=name or first.name or "u")
        with dolfinx.io.XDMFFile(mesh.comm, str(path), "w") as xdmf:
            xdmf.write_mesh(mesh)
            for sol in self.solutions:
                out.interpolate(sol.function)
                xdmf.write_function(out, 0.0 if sol.time is None else float(sol.time))
        return path
