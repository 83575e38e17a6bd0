"""Unstructured triangle meshes made with gmsh (OpenCASCADE kernel).

The geometry and the mesh are built on one MPI rank (rank 0) with the gmsh Python API and then
distributed by `dolfinx.io.gmsh.model_to_mesh`. Meshes are reproducible: gmsh runs with a fixed
random seed and a fixed algorithm (Frontal-Delaunay), and every parameter that shaped the mesh is
recorded in `Domain.description` (stored as provenance in datasets).

    from pdesuite.solvers.fem.unstructured import dfg_channel
    domain = dfg_channel(h_cylinder=0.01, h_max=0.04)
    domain.markers   # {'inlet': 1, 'outlet': 2, 'walls': 3, 'cylinder': 4}
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mpi4py import MPI

import dolfinx
import dolfinx.io.gmsh

from pdesuite.errors import BadInput
from pdesuite.solvers.fem.mesh import Domain

#: gmsh's Frontal-Delaunay 2D algorithm: well-shaped triangles, deterministic for a fixed seed.
ALGORITHM = 6
#: Seed for gmsh's random perturbations, fixed so that the same parameters give the same mesh.
RANDOM_SEED = 1
#: The tag of the physical group holding the fluid/domain surface.
SURFACE_TAG = 100
#: Refuse meshes estimated to have more cells than this (a typo like h=1e-5 would hang gmsh).
MAX_CELLS = 5_000_000

RECTANGLE_MARKERS = {"left": 1, "right": 2, "bottom": 3, "top": 4}
DFG_MARKERS = {"inlet": 1, "outlet": 2, "walls": 3, "cylinder": 4}


def _gmsh():
    try:
        import gmsh
    except ImportError as exc:  # pragma: no cover - gmsh is a declared dependency
        from pdesuite.errors import MissingDependency

        raise MissingDependency(
            f"unstructured meshes need the gmsh Python module: pip install gmsh ({exc})") from exc
    return gmsh


class _Options:
    """Sets gmsh options and remembers the old values, so a caller's gmsh session is left as found."""

    def __init__(self, gmsh):
        self._gmsh = gmsh
        self._saved: dict[str, float] = {}

    def set(self, name: str, value: float) -> None:
        if name not in self._saved:
            self._saved[name] = self._gmsh.option.getNumber(name)
        self._gmsh.option.setNumber(name, value)

    def restore(self) -> None:
        for name, value in self._saved.items():
            self._gmsh.option.setNumber(name, value)


#: gmsh's 2D meshing algorithms by name (``Mesh.Algorithm``); UM2N's "mesh types" are these numbers.
ALGORITHMS = {"meshadapt": 1, "automatic": 2, "delaunay": 5, "frontal-delaunay": 6}


@contextmanager
def _gmsh_model(name: str, algorithm: int = ALGORITHM) -> Iterator:
    """A fresh gmsh model with quiet, reproducible settings.

    Yields ``(gmsh, options)``. gmsh is finalized afterwards if it was started here; otherwise the
    model is removed and the options changed through ``options`` get their old values back.
    """
    gmsh = _gmsh()
    started_here = not gmsh.isInitialized()
    if started_here:
        gmsh.initialize(interruptible=False)  # no SIGINT handler: safe outside the main thread
    options = _Options(gmsh)
    try:
        options.set("General.Terminal", 0)
        options.set("Mesh.RandomSeed", RANDOM_SEED)
        options.set("Mesh.Algorithm", algorithm)
        gmsh.model.add(name)
        try:
            yield gmsh, options
        finally:
            gmsh.model.remove()
    finally:
        if started_here:
            gmsh.finalize()
        else:
            options.restore()


def _write_msh(gmsh, msh_path: str | os.PathLike | None) -> str | None:
    if msh_path is None:
        return None
    path = Path(msh_path)
    if path.suffix != ".msh":
        raise BadInput(f"gmsh meshes are written as .msh files, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    gmsh.write(str(path))
    return str(path)


def _finish(comm: MPI.Comm, gmsh_or_none, description: dict) -> Domain:
    """Distribute the gmsh model (alive on rank 0) and wrap it in a Domain."""
    model = gmsh_or_none.model if gmsh_or_none is not None else None
    data = dolfinx.io.gmsh.model_to_mesh(model, comm, 0, gdim=2)
    markers = {name: group.tag for name, group in data.physical_groups.items() if group.dim == 1}
    domain = Domain(data.mesh, data.facet_tags, markers, description)
    description["num_cells"] = domain.num_cells
    description["num_vertices"] = domain.num_vertices
    return domain


def _positive(value: float, name: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise BadInput(f"{name} must be a positive number, got {value}")
    return float(value)


def _estimated_cells(area: float, h: float) -> float:
    """Roughly how many triangles of side h tile an area (equilateral: √3/4 h² each)."""
    return area / (math.sqrt(3.0) / 4.0 * h * h)


def unstructured_rectangle(
    h: float,
    p0: tuple[float, float] = (0.0, 0.0),
    p1: tuple[float, float] = (1.0, 1.0),
    comm: MPI.Comm = MPI.COMM_WORLD,
    msh_path: str | os.PathLike | None = None,
    algorithm: str = "frontal-delaunay",
) -> Domain:
    """Unstructured triangle mesh of the rectangle [p0, p1] with target cell size ``h``.

    Args:
        h: Target edge length (same units as the coordinates); at most the shorter side.
        p0: Lower-left corner.
        p1: Upper-right corner.
        comm: Communicator the mesh is distributed over (gmsh runs on its rank 0).
        msh_path: If given, also write the gmsh mesh there (``.msh``, format 4.1).
        algorithm: gmsh's 2D algorithm, one of `ALGORITHMS` (default Frontal-Delaunay): the same
            size gives differently shaped meshes (UM2N tests on meshes of other algorithms).

    Returns:
        A Domain with facet markers "left", "right", "bottom", "top".

    Raises:
        BadInput: h <= 0, h larger than the shorter side, too many cells, p1 <= p0, or an unknown
            algorithm.
    """
    h = _positive(h, "mesh size h")
    if algorithm not in ALGORITHMS:
        raise BadInput(f"unknown gmsh algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})")
    (x0, y0), (x1, y1) = (float(v) for v in p0), (float(v) for v in p1)
    width, height = x1 - x0, y1 - y0
    if not (width > 0 and height > 0):
        raise BadInput(f"rectangle corners must satisfy p1 > p0, got {tuple(p0)}, {tuple(p1)}")
    if h > min(width, height):
        raise BadInput(f"mesh size h={h} is larger than the rectangle's shorter side {min(width, height)}")
    if _estimated_cells(width * height, h) > MAX_CELLS:
        raise BadInput(f"mesh size h={h} would give more than {MAX_CELLS} cells")

    description = {"kind": "unstructured_rectangle", "h": h, "p0": [x0, y0], "p1": [x1, y1],
                   "algorithm": ALGORITHMS[algorithm], "algorithm_name": algorithm, "random_seed": RANDOM_SEED,
                   "msh_path": None}
    with _gmsh_model("rectangle", ALGORITHMS[algorithm]) as (gmsh, options):
        if comm.rank == 0:
            occ = gmsh.model.occ
            surface = occ.addRectangle(x0, y0, 0.0, width, height)
            occ.synchronize()
            sides: dict[str, list[int]] = {name: [] for name in RECTANGLE_MARKERS}
            tol = 1e-8 * max(width, height)
            for _, curve in gmsh.model.getEntities(1):
                cx, cy, _ = gmsh.model.occ.getCenterOfMass(1, curve)
                if abs(cx - x0) < tol:
                    sides["left"].append(curve)
                elif abs(cx - x1) < tol:
                    sides["right"].append(curve)
                elif abs(cy - y0) < tol:
                    sides["bottom"].append(curve)
                else:
                    sides["top"].append(curve)
            gmsh.model.addPhysicalGroup(2, [surface], SURFACE_TAG, name="domain")
            for name, tag in RECTANGLE_MARKERS.items():
                gmsh.model.addPhysicalGroup(1, sides[name], tag, name=name)
            options.set("Mesh.MeshSizeMin", h)
            options.set("Mesh.MeshSizeMax", h)
            gmsh.model.mesh.generate(2)
            description["msh_path"] = _write_msh(gmsh, msh_path)
            description["gmsh_version"] = gmsh.__version__
        description = comm.bcast(description, root=0)
        return _finish(comm, gmsh if comm.rank == 0 else None, description)


def dfg_channel(
    h_cylinder: float = 0.01,
    h_max: float = 0.04,
    problem=None,
    comm: MPI.Comm = MPI.COMM_WORLD,
    msh_path: str | os.PathLike | None = None,
    grading: float = 0.15,
) -> Domain:
    """The DFG benchmark channel [0, L] × [0, H] minus the cylinder, refined towards the cylinder.

    The cell size is ``h_cylinder`` on the cylinder and grows linearly with the distance d from it,
    h(d) = min(h_cylinder + grading · d, h_max), so it reaches ``h_max`` at
    d = (h_max - h_cylinder) / grading (gmsh Distance + Threshold fields).

    Args:
        h_cylinder: Cell size on the cylinder (m); at most the radius.
        h_max: Largest cell size, away from the cylinder (m); at most H/2.
        problem: A `DFGCylinderFlow` giving L, H, centre and radius (default: the benchmark's
            2.2 × 0.41 channel with a disc of radius 0.05 at (0.2, 0.2)).
        comm: Communicator the mesh is distributed over.
        msh_path: If given, also write the gmsh mesh there (``.msh``).
        grading: Growth of the cell size per unit distance from the cylinder (dimensionless).

    Returns:
        A Domain with facet markers "inlet" (x = 0), "outlet" (x = L), "walls" (y = 0 and y = H)
        and "cylinder"; `description` records every parameter.

    Raises:
        BadInput: non-positive sizes, h_cylinder > h_max, or sizes too large for the geometry.
    """
    from pdesuite.problems.navier_stokes import DFGCylinderFlow

    if problem is None:
        problem = DFGCylinderFlow()
    h_cylinder = _positive(h_cylinder, "h_cylinder")
    h_max = _positive(h_max, "h_max")
    grading = _positive(grading, "grading")
    length, height, radius = problem.length, problem.height, problem.radius
    cx, cy = (float(v) for v in problem.center)
    if h_cylinder > h_max:
        raise BadInput(f"h_cylinder={h_cylinder} must not exceed h_max={h_max}")
    if h_cylinder > radius:
        raise BadInput(f"h_cylinder={h_cylinder} is larger than the cylinder radius {radius}")
    if h_max > height / 2:
        raise BadInput(f"h_max={h_max} is larger than half the channel height {height / 2}")
    if not (radius < cx < length - radius and radius < cy < height - radius):
        raise BadInput(f"the cylinder (centre {problem.center}, radius {radius}) must lie inside the channel")
    ring = 2 * math.pi * radius * (h_max - h_cylinder) / grading  # area where h < h_max, roughly
    if _estimated_cells(length * height, h_max) + _estimated_cells(ring, h_cylinder) > MAX_CELLS:
        raise BadInput(f"h_cylinder={h_cylinder}, h_max={h_max} would give more than {MAX_CELLS} cells")

    dist_max = (h_max - h_cylinder) / grading
    description = {"kind": "dfg_channel", "h_cylinder": h_cylinder, "h_max": h_max, "grading": grading,
                   "refinement_distance": dist_max, "length": length, "height": height,
                   "center": [cx, cy], "radius": radius, "algorithm": ALGORITHM,
                   "random_seed": RANDOM_SEED, "msh_path": None}
    with _gmsh_model("dfg_channel") as (gmsh, options):
        if comm.rank == 0:
            occ = gmsh.model.occ
            channel = occ.addRectangle(0.0, 0.0, 0.0, length, height)
            disc = occ.addDisk(cx, cy, 0.0, radius, radius)
            fluid, _ = occ.cut([(2, channel)], [(2, disc)])
            occ.synchronize()
            parts: dict[str, list[int]] = {name: [] for name in DFG_MARKERS}
            tol = 1e-8 * length
            for _, curve in gmsh.model.getEntities(1):
                mx, my, _ = occ.getCenterOfMass(1, curve)
                if abs(mx) < tol:
                    parts["inlet"].append(curve)
                elif abs(mx - length) < tol:
                    parts["outlet"].append(curve)
                elif abs(my) < tol or abs(my - height) < tol:
                    parts["walls"].append(curve)
                else:
                    parts["cylinder"].append(curve)
            gmsh.model.addPhysicalGroup(2, [tag for _, tag in fluid], SURFACE_TAG, name="fluid")
            for name, tag in DFG_MARKERS.items():
                gmsh.model.addPhysicalGroup(1, parts[name], tag, name=name)

            field = gmsh.model.mesh.field
            distance = field.add("Distance")
            field.setNumbers(distance, "CurvesList", parts["cylinder"])
            field.setNumber(distance, "Sampling", 400)
            threshold = field.add("Threshold")
            field.setNumber(threshold, "InField", distance)
            field.setNumber(threshold, "SizeMin", h_cylinder)
            field.setNumber(threshold, "SizeMax", h_max)
            field.setNumber(threshold, "DistMin", 0.0)
            field.setNumber(threshold, "DistMax", dist_max)
            field.setAsBackgroundMesh(threshold)
            for option in ("Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature",
                           "Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeMin"):
                options.set(option, 0)
            options.set("Mesh.MeshSizeMax", h_max)
            gmsh.model.mesh.generate(2)
            description["msh_path"] = _write_msh(gmsh, msh_path)
            description["gmsh_version"] = gmsh.__version__
        description = comm.bcast(description, root=0)
        return _finish(comm, gmsh if comm.rank == 0 else None, description)
