"""The Deep Conjugate Direction Method (Kaneda et al., ICML 2023) as a PETSc KSP of type python.

For A x = b (A symmetric positive definite, e.g. an assembled Poisson matrix), each iteration asks
a network f for a search direction from the normalised residual, d = f(r/‖r‖), A-orthogonalises it
against the two previous directions and steps by exact line search (the iteration and its
safeguard are `pdesuite.solvers.fem.conjugate_directions.ConjugateDirections`). The network is
trained beforehand without any solution, so that A f(r) ∥ r (`pdesuite.surrogates.dcdm_training`).

Select it like any PETSc solver, e.g. from `PoissonSolver`:

    PoissonSolver(problem, unit_square(64), petsc_options={
        "ksp_type": "python", "ksp_python_type": "pdesuite.surrogates.dcdm.DCDMSolver",
        "dcdm_weights": "dcdm-64.pt", "ksp_rtol": 1e-6})

Options (after the KSP's prefix): ``dcdm_weights`` (a file from `save_network`; required unless a
network is given to the constructor), ``dcdm_grid`` ("n_x,n_y": the vector is a C-ordered
n_x × n_y grid; otherwise the dof coordinates an FEM solver composes onto the matrix must form a
complete uniform lattice), ``dcdm_device`` (cpu | cuda | auto; default cpu), and the iteration's
``dcdm_on_bad_direction`` (fallback | stop), ``dcdm_descent_tol``, ``dcdm_memory``. Serial only.

How the network sees a residual (the same in training and in the solver, `network_direction`): the
residual is scaled to unit root-mean-square over the coupled (non-Dirichlet) dofs, scattered onto the
grid (zero elsewhere), and the network's output is gathered back and zeroed on the Dirichlet dofs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from petsc4py import PETSc

from pdesuite.errors import BadInput
from pdesuite.io import save_torch
from pdesuite.nn.dcdm_cnn import DCDMNet2d
from pdesuite.resources import resolve_device
from pdesuite.solvers.fem.conjugate_directions import ConjugateDirections, dof_coordinates

FORMAT = "pdesuite-dcdm"
#: Stored network kinds: the grid CNN (`DCDMNet2d`) and the mesh graph network (`DCDMGraphNet`).
NETWORKS = ("cnn2d", "gnn")


@dataclass
class GridMap:
    """Where each entry of a vector sits on an n_x × n_y grid: ``flat[k]`` = i n_y + j for entry k."""

    flat: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def lexicographic(cls, n_x: int, n_y: int) -> GridMap:
        return cls(np.arange(n_x * n_y), (n_x, n_y))

    @classmethod
    def from_coordinates(cls, points: np.ndarray, who: str = "dcdm") -> GridMap:
        """The map for dofs at ``points`` (n, 2 or 3) that form a complete uniform lattice; BadInput otherwise."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] < 2 or (points.shape[1] > 2 and np.ptp(points[:, 2:]) > 0):
            raise BadInput(f"{who}: the grid network needs 2D dof coordinates")
        index, shape = [], []
        for axis in (0, 1):
            values = points[:, axis]
            lo, extent = values.min(), np.ptp(values)
            n = np.unique(np.round((values - lo) / max(extent, 1e-300), 9)).size
            step = extent / max(n - 1, 1)
            i = np.rint((values - lo) / step).astype(np.int64) if n > 1 else np.zeros(values.size, np.int64)
            if n > 1 and np.max(np.abs(values - lo - i * step)) > 1e-6 * step:
                n = -1
            index.append(i)
            shape.append(n)
        flat = index[0] * shape[1] + index[1]
        if min(shape) < 1 or shape[0] * shape[1] != len(points) or np.unique(flat).size != len(points):
            raise BadInput(f"{who}: the {len(points)} dofs are not the nodes of a structured grid, which the "
                           "CNN needs (use a structured mesh such as unit_square(n) with P1 elements)")
        return cls(flat, (shape[0], shape[1]))

    def to_grid(self, vectors: torch.Tensor) -> torch.Tensor:
        """(batch, n) -> (batch, 1, n_x, n_y), zero where no entry sits."""
        grid = vectors.new_zeros(vectors.shape[0], self.shape[0] * self.shape[1])
        grid[:, torch.as_tensor(self.flat, device=vectors.device)] = vectors
        return grid.reshape(vectors.shape[0], 1, *self.shape)

    def to_vector(self, grids: torch.Tensor) -> torch.Tensor:
        """(batch, 1, n_x, n_y) -> (batch, n)."""
        return grids.reshape(grids.shape[0], -1)[:, torch.as_tensor(self.flat, device=grids.device)]

    def apply(self, network: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        """A grid network on per-entry ``inputs`` (batch, n, c): (batch, n)."""
        batch, n, channels = inputs.shape
        flat = torch.as_tensor(self.flat, device=inputs.device)
        pictures = inputs.new_zeros(batch, channels, self.shape[0] * self.shape[1])
        pictures[:, :, flat] = inputs.transpose(1, 2)
        return network(pictures.reshape(batch, channels, *self.shape)).reshape(batch, -1)[:, flat]


def operator_features(diagonal: np.ndarray, active: np.ndarray) -> torch.Tensor:
    """The operator feature of a two-channel network, (n,): log(A_ii / median_active A_jj) on the active
    (coupled) rows, zero elsewhere."""
    values = np.zeros(diagonal.size)
    if active.any():
        values[active] = np.log(diagonal[active] / np.median(diagonal[active]))
    return torch.as_tensor(values, dtype=torch.float32)


def network_direction(network: torch.nn.Module, layout: GridMap | Any, r: torch.Tensor, active: torch.Tensor,
                      features: torch.Tensor | None = None) -> torch.Tensor:
    """f(r) for residuals ``r`` (batch, n): scaled to unit RMS over the ``active`` (bool, (n,)) entries,
    through the network on its ``layout`` (a `GridMap` for the CNN, a `MeshGraph` for the graph
    network), with the operator's ``features`` (n,) as a second input channel when the network has
    one, and zero on the inactive entries."""
    norms = torch.linalg.vector_norm(r * active, dim=1, keepdim=True).clamp_min(1e-300)
    inputs = (r * active * (math.sqrt(max(int(active.sum()), 1)) / norms))[..., None]
    if getattr(network, "in_channels", 1) > 1:
        if features is None:
            raise BadInput("dcdm: the network needs the operator feature channel")
        inputs = torch.cat([inputs, features.to(inputs).expand(inputs.shape[0], -1)[..., None]], dim=-1)
    if isinstance(layout, GridMap):
        return layout.apply(network, inputs) * active
    return network(inputs, layout) * active


def network_class(kind: str) -> type[torch.nn.Module]:
    """The class of a stored network kind (the graph network imports torch_geometric, on demand)."""
    if kind == "gnn":
        from pdesuite.nn.dcdm_gnn import DCDMGraphNet

        return DCDMGraphNet
    return DCDMNet2d


def network_kind(network: torch.nn.Module) -> str | None:
    if type(network) is DCDMNet2d:
        return "cnn2d"
    return "gnn" if type(network).__name__ == "DCDMGraphNet" else None


def save_network(path: str | os.PathLike, network: torch.nn.Module, **extra: Any) -> Path:
    """Write ``network`` (a `DCDMNet2d` or `DCDMGraphNet`) with its configuration and ``extra``
    (JSON-able facts: training settings, the matrix it was trained on) to ``path``, atomically."""
    kind = network_kind(network)
    if kind is None:
        raise BadInput(f"dcdm: cannot save a {type(network).__name__} (known networks: {', '.join(NETWORKS)})")
    state = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    return save_torch({"format": FORMAT, "format_version": 1, "network": kind, "config": network.config,
                       "state_dict": state, "extra": extra}, path)


def load_network(path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """The network stored by `save_network` at ``path`` (in eval mode, float32) and its ``extra`` facts."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"dcdm: weights file {path} does not exist")
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's bad input
        raise BadInput(f"dcdm: cannot read weights file {path} ({type(exc).__name__})") from None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("network") not in NETWORKS:
        raise BadInput(f"dcdm: {path} is not a DCDM weights file (written by pdesuite.surrogates.dcdm.save_network)")
    try:
        network = network_class(stored["network"])(**stored["config"])
        network.load_state_dict(stored["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError):  # a missing or foreign config or state
        raise BadInput(f"dcdm: the weights in {path} do not fit its network configuration") from None
    return network.eval(), dict(stored.get("extra", {}))


def mesh_graph(A: PETSc.Mat | Any, points: np.ndarray, levels: int):
    """The `MeshGraph` of a PETSc matrix or SciPy sparse matrix whose rows sit at ``points``."""
    from pdesuite.nn.dcdm_gnn import MeshGraph

    if isinstance(A, PETSc.Mat):
        indptr, indices, values = A.getValuesCSR()
    else:
        csr = A.tocsr()
        indptr, indices, values = csr.indptr, csr.indices, csr.data
    if len(points) != indptr.size - 1:
        raise BadInput(f"dcdm: {len(points)} dof coordinates for a matrix with {indptr.size - 1} rows")
    return MeshGraph.build(indptr, indices, values, points, levels)


class DCDMSolver(ConjugateDirections):
    """PETSc python-KSP context: conjugate directions with the DCDM network's search direction.

    Args:
        network: A trained (or any) grid network; else loaded from the ``dcdm_weights`` option.
        grid: Where the vector's entries sit on the grid; else from ``dcdm_grid`` or the dof coordinates.
    """

    option_prefix = "dcdm_"
    name = "dcdm"

    def __init__(self, network: torch.nn.Module | None = None, grid: GridMap | None = None):
        super().__init__()
        self.network, self.given_grid, self.grid, self.weights = network, grid, grid, None
        self.grid_option: tuple[int, int] | None = None
        self.device = torch.device("cpu")

    def setFromOptions(self, ksp: PETSc.KSP) -> None:  # noqa: N802 - PETSc's name
        super().setFromOptions(ksp)  # reads only; `prepare` checks and loads
        opts = self.options(ksp)
        self.raw_options.update(weights=opts.getString("weights", ""), grid=opts.getString("grid", ""),
                                device=opts.getString("device", "cpu"))

    def check_options(self) -> None:
        super().check_options()
        raw = getattr(self, "raw_options", {})
        if raw.get("weights") and raw["weights"] != self.weights:
            self.network, _ = load_network(raw["weights"])
            self.weights = raw["weights"]
        if raw.get("grid"):
            try:
                n_x, n_y = (int(v) for v in raw["grid"].split(","))
            except ValueError:
                raise BadInput(f"dcdm: option grid must be 'n_x,n_y', got {raw['grid']!r}") from None
            if n_x < 1 or n_y < 1:
                raise BadInput(f"dcdm: option grid must be positive, got {raw['grid']!r}")
            self.grid_option = (n_x, n_y)
        self.device = resolve_device(raw.get("device", "cpu"), what="dcdm_device")

    def prepare(self, ksp: PETSc.KSP, A: PETSc.Mat) -> None:
        if self.network is None:
            raise BadInput("dcdm: no network: give its weights file with the PETSc option dcdm_weights "
                           "(written by pdesuite.surrogates.dcdm.save_network)")
        if A.getComm().getSize() > 1:
            raise BadInput("dcdm: the grid network runs in serial only (one MPI process)")
        n = A.getSize()[0]
        self.active = torch.as_tensor(~self.decoupled, device=self.device)
        self.features = operator_features(self.diagonal, ~self.decoupled).to(self.device)
        self.network = self.network.to(self.device).float().eval()
        if network_kind(self.network) == "gnn":
            if self.grid_option is not None or self.given_grid is not None:
                raise BadInput("dcdm: a grid (dcdm_grid) is for the CNN; the graph network builds its graph from "
                               "the matrix and the dof coordinates")
            points = dof_coordinates(A)
            if points is None:
                raise BadInput("dcdm: the graph network needs the dof coordinates, which an FEM solver "
                               "composes onto its matrix (pdesuite.solvers.fem.conjugate_directions)")
            self.grid = mesh_graph(A, points, self.network.levels).to(self.device)
            return
        if self.grid_option is not None:
            self.grid = GridMap.lexicographic(*self.grid_option)
        elif self.given_grid is not None:
            self.grid = self.given_grid
        else:
            points = dof_coordinates(A)
            if points is None:
                raise BadInput("dcdm: the matrix carries no dof coordinates; give the grid with the PETSc "
                               "option dcdm_grid n_x,n_y (entries in C order)")
            self.grid = GridMap.from_coordinates(points)
        if self.grid.flat.size != n:
            raise BadInput(f"dcdm: the grid {self.grid.shape[0]} × {self.grid.shape[1]} has {self.grid.flat.size} "
                           f"points but the matrix has {n} rows")

    def direction(self, r: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            residual = torch.tensor(r, dtype=torch.float32, device=self.device)[None]
            d = network_direction(self.network, self.grid, residual, self.active, self.features)
        return d[0].double().cpu().numpy()
