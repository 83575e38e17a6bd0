"""Triangle-mesh quality checks in plain numpy (no dolfinx): signed areas, inverted and folded cells.

A moved mesh is *tangled* when some cell's orientation has flipped relative to the mesh it was moved
from (`count_inverted`). A single mesh without a reference is checked by its interior edges
(`folded_edges`): the two cells sharing an edge must lie on opposite sides of it; on a folded mesh
they overlap. This does not depend on the vertex order of the cells (dolfinx's structured meshes mix
clockwise and counter-clockwise cells).

Shapes: points (n_nodes, ≥2) (only x and y are used); cells (n_cells, 3) node indices.
"""

from __future__ import annotations

import numpy as np


def signed_areas(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """½ (b - a) × (c - a) per triangle (a, b, c) = ``cells`` rows: positive when counter-clockwise."""
    points, cells = np.asarray(points), np.asarray(cells)
    a, b, c = (points[cells[:, i], :2] for i in range(3))
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def count_inverted(points: np.ndarray, cells: np.ndarray, reference: np.ndarray) -> int:
    """Cells whose signed area over ``points`` is zero or of the opposite sign from over ``reference``."""
    new, old = signed_areas(points, cells), signed_areas(reference, cells)
    return int(np.count_nonzero(new * np.sign(old) <= 0.0))


def folded_edges(points: np.ndarray, cells: np.ndarray) -> int:
    """Interior edges whose two cells lie on the same side of the edge (or degenerate onto it)."""
    points, cells = np.asarray(points, dtype=float), np.asarray(cells, dtype=np.int64)
    local = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]  # (edge start, edge end, opposite vertex)
    starts = np.concatenate([cells[:, i] for i, _, _ in local])
    ends = np.concatenate([cells[:, j] for _, j, _ in local])
    opposite = np.concatenate([cells[:, k] for _, _, k in local])
    lo, hi = np.minimum(starts, ends), np.maximum(starts, ends)
    p, q, r = points[lo, :2], points[hi, :2], points[opposite, :2]
    side = (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])
    order = np.lexsort((hi, lo))
    lo, hi, side = lo[order], hi[order], side[order]
    pair = (lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1])  # an interior edge: two consecutive entries
    return int(np.count_nonzero(pair & (side[1:] * side[:-1] >= 0.0)))
