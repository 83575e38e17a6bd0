"""Mesh datasets as graphs (`torch_geometric.data.Data`), for mesh surrogates (UM2N, mesh autoencoders).

A mesh dataset stores ``/mesh/points`` (n_nodes, dim) and ``/mesh/cells`` (n_cells, nodes_per_cell)
once, and the fields per sample on the nodes: ``/{split}/u`` (n, n_t, n_nodes, n_fields). The graph
of sample i has:

* ``pos`` (n_nodes, dim): node coordinates; ``x`` (n_nodes, n_t·n_fields): the sample's fields,
  all times, node-major (``u[i].transpose(1, 0, 2)`` flattened per node);
* ``edge_index`` (2, n_edges): every mesh edge in both directions (the edges of the cells: for
  simplices each pair of a cell's vertices, for quadrilaterals the four sides), sorted and unique;
* ``boundary`` (n_nodes,) bool: nodes on a boundary facet, a facet (cell side: an edge in 2D, a
  triangle of a tetrahedron in 3D) that belongs to exactly one cell;
* ``cells`` (n_cells, nodes_per_cell), ``params`` (1, n_params) and ``index``;
* any per-sample extra named in ``extras`` (e.g. a moved-mesh dataset's ``monitor`` and ``moved``),
  as a float32 tensor of the sample's shape.

A split may carry its own mesh (``/{split}/mesh/points`` and ``cells``) where the splits' meshes
differ (UM2N trains on one mesh and tests on another); it takes the place of ``/mesh``.

torch_geometric is imported here only. Use `mesh_graph` for the geometry alone, `load_graphs` for a
split's samples.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from pdesuite.data.reader import json_attr, open_dataset, open_h5
from pdesuite.errors import BadInput, MissingDependency

#: Simplex cell type -> nodes per cell.
SIMPLEX_CELLS = {"interval": 2, "triangle": 3, "tetrahedron": 4}


def cell_topology(cell_type: str, nodes_per_cell: int) -> tuple[list[tuple[int, ...]], list[tuple[int, int]]]:
    """Facets and edges of one cell in local vertex numbers."""
    if cell_type in SIMPLEX_CELLS:
        if nodes_per_cell != SIMPLEX_CELLS[cell_type]:
            raise BadInput(f"{cell_type} cells have {SIMPLEX_CELLS[cell_type]} nodes, the file gives {nodes_per_cell}")
        local = range(nodes_per_cell)
        return list(itertools.combinations(local, nodes_per_cell - 1)), list(itertools.combinations(local, 2))
    if cell_type == "quadrilateral" and nodes_per_cell == 4:  # dolfinx numbering: 0-1 / 2-3 rows
        sides = [(0, 1), (1, 3), (3, 2), (2, 0)]
        return sides, sides
    raise BadInput(f"graphs of {cell_type!r} cells ({nodes_per_cell} nodes) are not supported")


def mesh_topology(cells: np.ndarray, cell_type: str, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(edge_index (2, n_edges) both directions, boundary node mask (n_nodes,)) of a mesh."""
    cells = np.asarray(cells, dtype=np.int64)
    facets, edges = cell_topology(cell_type, cells.shape[1])
    pairs = np.concatenate([cells[:, list(e)] for e in edges])
    pairs = np.sort(pairs, axis=1)
    pairs = np.unique(pairs, axis=0)
    edge_index = np.concatenate([pairs, pairs[:, ::-1]]).T
    order = np.lexsort((edge_index[1], edge_index[0]))
    edge_index = edge_index[:, order]
    all_facets = np.sort(np.concatenate([cells[:, list(f)] for f in facets]), axis=1)
    unique, counts = np.unique(all_facets, axis=0, return_counts=True)
    boundary = np.zeros(n_nodes, dtype=bool)
    boundary[unique[counts == 1].ravel()] = True
    return edge_index, boundary


def _pyg():
    try:
        import torch
        from torch_geometric.data import Data
    except ImportError as exc:  # pragma: no cover - torch_geometric is a dependency
        raise MissingDependency(f"mesh graphs need torch_geometric ({exc})") from None
    return torch, Data


def mesh_graph(path: str | os.PathLike, split: str | None = None):
    """The mesh of a dataset file (of ``split`` where it has its own) as a graph without fields
    (``pos``, ``edge_index``, ``boundary``, ``cells``)."""
    torch, Data = _pyg()
    points, cells, cell_type = read_mesh(path, split)
    edge_index, boundary = mesh_topology(cells, cell_type, len(points))
    return Data(pos=torch.as_tensor(points, dtype=torch.float32), edge_index=torch.as_tensor(edge_index),
                boundary=torch.as_tensor(boundary), cells=torch.as_tensor(cells), num_nodes=len(points))


def load_graphs(path: str | os.PathLike, split: str, indices: list[int] | None = None,
                extras: tuple[str, ...] = ()) -> list:
    """The samples of ``split`` (all, or ``indices``) as graphs (see the module docstring)."""
    torch, Data = _pyg()
    base = mesh_graph(path, split)
    meta = open_dataset(path)
    with open_h5(path) as f:
        if split not in f:
            raise BadInput(f"{path} has no split {split!r} (has: {meta.splits})")
        group = f[split]
        n = group["u"].shape[0]
        chosen = list(range(n)) if indices is None else list(indices)
        if any(not 0 <= i < n for i in chosen):
            raise BadInput(f"sample indices out of range: {split} of {path} has {n} samples")
        names = json_attr(group["params"].attrs, "names", [])
        missing = [name for name in extras if name not in group]
        if missing:
            raise BadInput(f"{path}: split {split} has no {', '.join(missing)} (a dataset of another kind?)")
        graphs = []
        for i in chosen:
            u = np.asarray(group["u"][i], dtype=np.float32)  # (n_t, n_nodes, n_fields)
            if u.ndim != 3 or u.shape[1] != base.num_nodes:
                raise BadInput(f"{path}: u of shape {u.shape} is not (n_t, {base.num_nodes} nodes, n_fields)")
            graph = Data(pos=base.pos, edge_index=base.edge_index, boundary=base.boundary, cells=base.cells,
                         x=torch.as_tensor(u.transpose(1, 0, 2).reshape(base.num_nodes, -1)),
                         params=torch.as_tensor(group["params"][i], dtype=torch.float64)[None],
                         param_names=list(names), index=i, num_nodes=base.num_nodes)
            for name in extras:
                graph[name] = torch.as_tensor(np.asarray(group[name][i], dtype=np.float32))
            graphs.append(graph)
    return graphs


def read_mesh(path, split: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(points, cells, cell type) of the file's mesh: ``/{split}/mesh`` where that split has its own."""
    with open_h5(path) as f:
        where = f"{split}/mesh" if split is not None and split in f and "mesh" in f[split] else "mesh"
        if where not in f:
            if any(s in f and "mesh" in f[s] for s in ("train", "valid", "test")):
                raise BadInput(f"{path} stores one mesh per split: name the split")
            raise BadInput(f"{path} holds grid data, not a mesh (load it with pdesuite.data.trajectories)")
        mesh = f[where]
        return mesh["points"][()], mesh["cells"][()], str(json_attr(mesh["cells"].attrs, "cell_type", "?"))


def sliding_constraints(points: np.ndarray, boundary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which coordinates of each node a mesh mover may change, and the box it must stay in.

    As `pdesuite.solvers.fem.MongeAmpereMover`: a boundary node on a vertical side of the bounding
    box keeps its x, on a horizontal side its y (corners keep both), any other boundary node (a curved
    part) keeps both. Returns ``free`` (n, 2) in {0, 1}, ``lower`` and ``upper`` (n, 2): the box.
    """
    points = np.asarray(points, dtype=np.float64)[:, :2]
    lo, hi = points.min(axis=0), points.max(axis=0)
    tol = 1e-10 * float(np.max(hi - lo))
    on_side = (np.abs(points - lo) < tol) | (np.abs(points - hi) < tol)  # (n, 2): on an x- or y-side
    free = np.ones_like(points)
    free[boundary & on_side[:, 0], 0] = 0.0
    free[boundary & on_side[:, 1], 1] = 0.0
    curved = boundary & ~on_side.any(axis=1)
    free[curved] = 0.0
    return free, np.broadcast_to(lo, points.shape).copy(), np.broadcast_to(hi, points.shape).copy()


def mover_graphs(points: np.ndarray, cells: np.ndarray, monitors, targets=None, cell_type: str = "triangle") -> list:
    """The input graphs of a mesh-movement network (`pdesuite.nn.um2n.UM2N`) for several monitors on one
    mesh: per graph ``pos`` (n, 2), ``monitor`` (n, 1), ``boundary`` (n,), ``free``/``lower``/``upper``
    (n, 2) (see `sliding_constraints`), ``edge_index``, ``cells``, and the target coordinates ``moved``
    (n, 2) where ``targets`` are given. The mesh's topology is computed once and shared by the graphs.

    ``monitors``: (n_graphs, n) values at the nodes; ``targets``: (n_graphs, n, 2) or None.
    """
    torch, Data = _pyg()
    points = np.asarray(points, dtype=np.float64)[:, :2]
    monitors = np.asarray(monitors, dtype=np.float64).reshape(len(monitors), -1)
    if monitors.shape[1] != points.shape[0]:
        raise BadInput(f"the monitor has {monitors.shape[1]} values for a mesh of {points.shape[0]} nodes")
    edge_index, boundary = mesh_topology(cells, cell_type, len(points))
    free, lower, upper = sliding_constraints(points, boundary)
    f32 = torch.float32
    shared = dict(pos=torch.as_tensor(points, dtype=f32), boundary=torch.as_tensor(boundary),
                  free=torch.as_tensor(free, dtype=f32), lower=torch.as_tensor(lower, dtype=f32),
                  upper=torch.as_tensor(upper, dtype=f32), edge_index=torch.as_tensor(edge_index),
                  cells=torch.as_tensor(np.asarray(cells, dtype=np.int64)), num_nodes=len(points))
    graphs = []
    for i, monitor in enumerate(monitors):
        graph = Data(monitor=torch.as_tensor(monitor[:, None], dtype=f32), **shared)
        if targets is not None:
            graph.moved = torch.as_tensor(np.asarray(targets[i], dtype=np.float64)[:, :2], dtype=f32)
        graphs.append(graph)
    return graphs


def mover_graph(points: np.ndarray, cells: np.ndarray, monitor: np.ndarray, target: np.ndarray | None = None,
                cell_type: str = "triangle"):
    """`mover_graphs` for one monitor (n,) (and target (n, 2))."""
    monitor = np.asarray(monitor, dtype=np.float64).reshape(-1)
    return mover_graphs(points, cells, monitor[None], None if target is None else [target], cell_type)[0]
