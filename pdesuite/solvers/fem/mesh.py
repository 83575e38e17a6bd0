"""Meshes for the FEM solvers: structured boxes, and reading/writing `.msh` and XDMF files.

A `Domain` bundles a dolfinx mesh with its facet markers (named boundary parts), which the
solvers use for boundary conditions. Unstructured gmsh geometries live in `unstructured.py`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from mpi4py import MPI

import dolfinx
import numpy as np
from dolfinx.mesh import CellType, Mesh, MeshTags

from pdesuite.errors import BadInput

CELL_TYPES = {"triangle": CellType.triangle, "quadrilateral": CellType.quadrilateral}


@dataclass
class Domain:
    """A mesh with optional facet markers.

    Attributes:
        mesh: The dolfinx mesh.
        facet_tags: Facet markers, or None for structured meshes (solvers then locate boundaries
            geometrically).
        markers: Boundary-part name -> facet tag value (e.g. {"inlet": 2, "cylinder": 5}).
        description: How the mesh was made (stored as provenance in datasets).
    """

    mesh: Mesh
    facet_tags: MeshTags | None = None
    markers: dict[str, int] = field(default_factory=dict)
    description: dict = field(default_factory=dict)
    _exterior_facets: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def comm(self) -> MPI.Comm:
        return self.mesh.comm

    @property
    def num_cells(self) -> int:
        """Global number of cells."""
        index_map = self.mesh.topology.index_map(self.mesh.topology.dim)
        return index_map.size_global

    @property
    def num_vertices(self) -> int:
        return self.mesh.topology.index_map(0).size_global

    def hmax(self) -> float:
        """Largest cell diameter (global)."""
        tdim = self.mesh.topology.dim
        n_local = self.mesh.topology.index_map(tdim).size_local
        h = dolfinx.cpp.mesh.h(self.mesh._cpp_object, tdim, np.arange(n_local, dtype=np.int32))
        return self.comm.allreduce(float(h.max()) if h.size else 0.0, op=MPI.MAX)

    def boundary_facets(self, name: str | None = None) -> np.ndarray:
        """Local indices of boundary facets; all of them, or those tagged ``name``."""
        fdim = self.mesh.topology.dim - 1
        if name is None:
            if self._exterior_facets is None:  # the mesh never changes: compute once
                self.mesh.topology.create_connectivity(fdim, fdim + 1)
                self._exterior_facets = dolfinx.mesh.exterior_facet_indices(self.mesh.topology)
            return self._exterior_facets
        if self.facet_tags is None or name not in self.markers:
            raise BadInput(f"mesh has no boundary part {name!r} (known: {sorted(self.markers)})")
        return self.facet_tags.find(self.markers[name])


def _check_resolution(*n: int) -> None:
    for value in n:
        if int(value) != value or value < 1:
            raise BadInput(f"mesh resolution must be a positive integer, got {value}")


def rectangle(
    p0: tuple[float, float],
    p1: tuple[float, float],
    n: tuple[int, int],
    cell: str = "triangle",
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> Domain:
    """Structured mesh of the rectangle [p0, p1] with n = (nx, ny) cells per direction.

    Triangles use the 'right' diagonal; ``cell`` is "triangle" or "quadrilateral".
    """
    _check_resolution(*n)
    if cell not in CELL_TYPES:
        raise BadInput(f"unknown cell type {cell!r} (known: {', '.join(CELL_TYPES)})")
    if not (p1[0] > p0[0] and p1[1] > p0[1]):
        raise BadInput(f"rectangle corners must satisfy p1 > p0, got {p0}, {p1}")
    mesh = dolfinx.mesh.create_rectangle(comm, [np.asarray(p0, float), np.asarray(p1, float)],
                                         [int(n[0]), int(n[1])], cell_type=CELL_TYPES[cell])
    return Domain(mesh, description={"kind": "rectangle", "p0": list(p0), "p1": list(p1),
                                     "n": [int(n[0]), int(n[1])], "cell": cell})


def require_affine_triangles(domain, who: str) -> None:
    """BadInput unless ``domain`` is a `Domain` of 2D triangles with an affine (degree-1) geometry."""
    if not isinstance(domain, Domain):
        raise BadInput(f"{who} needs a Domain (see pdesuite.solvers.fem.mesh), got {type(domain).__name__}")
    mesh = domain.mesh
    if mesh.topology.cell_type != CellType.triangle or mesh.geometry.dim != 2:
        raise BadInput(f"{who} needs a 2D triangle mesh")
    if mesh.geometry.cmaps[0].degree != 1:
        raise BadInput(f"{who} needs an affine (degree-1) mesh geometry")


def from_arrays(points: np.ndarray, cells: np.ndarray, description: dict | None = None) -> Domain:
    """A serial (MPI.COMM_SELF) triangle mesh from ``points`` (n, 2) and ``cells`` (n_cells, 3), e.g.
    a dataset's mesh or a moved copy of it. dolfinx may renumber the nodes: ``Domain.input_order``
    gives, for each geometry node, its row in ``points``."""
    import basix.ufl
    import ufl

    points, cells = np.asarray(points, dtype=np.float64), np.asarray(cells, dtype=np.int64)
    if points.ndim != 2 or points.shape[1] != 2 or cells.ndim != 2 or cells.shape[1] != 3:
        raise BadInput(f"a triangle mesh needs points (n, 2) and cells (n_cells, 3), got {points.shape}, {cells.shape}")
    if cells.size and (cells.min() < 0 or cells.max() >= len(points)):
        raise BadInput("cells index nodes outside the points")
    element = ufl.Mesh(basix.ufl.element("Lagrange", "triangle", 1, shape=(2,)))
    mesh = dolfinx.mesh.create_mesh(MPI.COMM_SELF, cells, element, points)
    domain = Domain(mesh, description=dict(description or {"kind": "arrays"}))
    domain.description["num_vertices"] = len(points)
    return domain


def input_order(domain: Domain) -> np.ndarray:
    """For each geometry node of a mesh made by `from_arrays`, its row in the input points."""
    return np.asarray(domain.mesh.geometry.input_global_indices, dtype=np.int64)


def unit_square(n: int, cell: str = "triangle", comm: MPI.Comm = MPI.COMM_WORLD) -> Domain:
    """Structured mesh of [0, 1]² with n × n cells (triangles: 2 n² of them)."""
    _check_resolution(n)
    domain = rectangle((0.0, 0.0), (1.0, 1.0), (n, n), cell, comm)
    domain.description["kind"] = "unit_square"
    return domain


def write_mesh(domain: Domain, path: str | os.PathLike) -> Path:
    """Write a mesh (and its facet tags) to XDMF (``.xdmf``; ``.h5`` and ``.markers.json`` go beside it).

    Gmsh `.msh` files are written by `unstructured.py` while the gmsh model is alive.
    """
    path = Path(path)
    if path.suffix != ".xdmf":
        raise BadInput(f"write_mesh writes .xdmf files, got {path.name!r}")
    mesh = domain.mesh
    with dolfinx.io.XDMFFile(mesh.comm, str(path), "w") as xdmf:
        mesh.name = "mesh"
        xdmf.write_mesh(mesh)
        if domain.facet_tags is not None:
            mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
            domain.facet_tags.name = "facet_tags"
            xdmf.write_meshtags(domain.facet_tags, mesh.geometry)
    if domain.markers and mesh.comm.rank == 0:  # XDMF has no place for the names of the tags
        _markers_path(path).write_text(json.dumps(domain.markers))
    return path


def _markers_path(path: Path) -> Path:
    return path.with_suffix(".markers.json")


def read_mesh(path: str | os.PathLike, comm: MPI.Comm = MPI.COMM_WORLD, markers: dict | None = None) -> Domain:
    """Read a mesh from ``.msh`` (gmsh, physical groups become markers) or ``.xdmf``."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"mesh file not found: {path}")
    if path.suffix == ".msh":
        data = dolfinx.io.gmsh.read_from_msh(str(path), comm, 0, gdim=2)
        found = {name: group.tag for name, group in data.physical_groups.items() if group.dim == 1}
        return Domain(data.mesh, data.facet_tags, markers or found,
                      {"kind": "file", "path": str(path)})
    if path.suffix == ".xdmf":
        with dolfinx.io.XDMFFile(comm, str(path), "r") as xdmf:
            mesh = xdmf.read_mesh(name="mesh")
            mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
            try:
                tags = xdmf.read_meshtags(mesh, name="facet_tags")
            except RuntimeError:
                tags = None
        if markers is None and _markers_path(path).is_file():
            markers = json.loads(_markers_path(path).read_text())
        return Domain(mesh, tags, markers or {}, {"kind": "file", "path": str(path)})
    raise BadInput(f"unknown mesh format {path.suffix!r} (use .msh or .xdmf)")
