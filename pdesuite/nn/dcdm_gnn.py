"""A graph network for the Deep Conjugate Direction Method on unstructured meshes.

The DCDM paper (Kaneda et al., ICML 2023) uses a CNN on a regular grid; this is its analogue on the
graph of an assembled matrix (for P1 elements, the mesh's vertices and edges), with the CNN's
average-pool / upsample levels replaced by clusters of nearby vertices:

    h_0 = W_in x                                          (per node: residual, operator features)
    h_ℓ ← h_ℓ + relu(U [h_ℓ, mean_j relu(M [h_i, h_j, e_ij])])   (``blocks`` edge-conditioned
                                                          message-passing blocks per level)
    h_{ℓ+1} = mean of h_ℓ over each cluster                (pool), ...,  then back up:
    h_ℓ ← h_ℓ + h_{ℓ+1}[cluster(i)], blocks                (unpool and skip)
    d = W_out h_0

Edge features e_ij: the normalised coupling A_ij / √(A_ii A_jj) (it carries the coefficient and the
shape of the cells) and the displacement x_j − x_i in units of the level's cluster size. Level ℓ + 1
clusters the vertices of level ℓ by a uniform grid of cells 2^(ℓ+1) h̄ wide (h̄: the mean edge length);
two clusters are joined when a finer edge joins their members, with the mean of those edges' couplings.
`MeshGraph.build` does this once per matrix; the network then runs on any mesh (it has no notion of
the number of vertices).

Shapes:
    x: (batch, n_nodes, in_channels); output: (batch, n_nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.nn import MessagePassing

EDGE_FEATURES = 3


@dataclass
class MeshGraph:
    """The levels of a mesh graph: per level its edges (2, E) and edge features (E, 3), and the cluster
    of every node of the finer level (``clusters[ℓ]`` maps level ℓ to level ℓ + 1)."""

    edges: list[torch.Tensor]
    edge_features: list[torch.Tensor]
    clusters: list[torch.Tensor]
    sizes: list[int]

    @classmethod
    def build(cls, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, points: np.ndarray,
              levels: int = 2) -> MeshGraph:
        """From a symmetric matrix in CSR form (its non-zero off-diagonal entries are the edges) and the
        coordinates (n, dim) of its rows."""
        n = indptr.size - 1
        points = np.asarray(points, dtype=float)[:, :2]
        rows = np.repeat(np.arange(n), np.diff(indptr))
        diagonal = np.zeros(n)
        on_diagonal = rows == indices
        diagonal[rows[on_diagonal]] = values[on_diagonal]
        keep = (~on_diagonal) & (values != 0.0)
        src, dst, coupling = rows[keep], indices[keep], values[keep]
        coupling = coupling / np.sqrt(np.abs(diagonal[src] * diagonal[dst]))
        h = float(np.mean(np.linalg.norm(points[dst] - points[src], axis=1))) if src.size else 1.0
        edges, features, clusters, sizes = [], [], [], [n]
        for level in range(levels + 1):
            scale = h * 2.0**level
            edges.append(torch.as_tensor(np.vstack([src, dst]), dtype=torch.long))
            features.append(torch.as_tensor(np.column_stack([coupling, (points[dst] - points[src]) / scale]),
                                            dtype=torch.float32))
            if level == levels:
                break
            cell = np.floor((points - points.min(axis=0)) / (2.0 * scale)).astype(np.int64)
            _, cluster = np.unique(cell[:, 0] * (cell[:, 1].max() + 1) + cell[:, 1], return_inverse=True)
            k = int(cluster.max()) + 1
            counts = np.bincount(cluster, minlength=k)
            points = np.column_stack([np.bincount(cluster, points[:, d], k) / counts for d in range(2)])
            a, b = cluster[src], cluster[dst]
            between = a != b
            pairs, pair_of = np.unique(a[between] * k + b[between], return_inverse=True)
            coupling = np.bincount(pair_of, coupling[between]) / np.bincount(pair_of)
            src, dst = pairs // k, pairs % k
            clusters.append(torch.as_tensor(cluster, dtype=torch.long))
            sizes.append(k)
        return cls(edges, features, clusters, sizes)

    def to(self, device) -> MeshGraph:
        return MeshGraph([e.to(device) for e in self.edges], [f.to(device) for f in self.edge_features],
                         [c.to(device) for c in self.clusters], list(self.sizes))


class EdgeBlock(MessagePassing):
    """h_i + relu(U [h_i, mean_j relu(M [h_i, h_j, e_ij])]): one residual message-passing block.

    M is applied as M_i h_i + M_j h_j + M_e e_ij, with the node terms computed once per node rather
    than once per edge.
    """

    def __init__(self, width: int):
        super().__init__(aggr="mean", node_dim=-2)
        self.receiver = nn.Linear(width, width)
        self.sender = nn.Linear(width, width, bias=False)
        self.edge = nn.Linear(EDGE_FEATURES, width, bias=False)
        self.update_net = nn.Linear(2 * width, width)

    def forward(self, h: torch.Tensor, edges: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        aggregated = self.propagate(edges, receiver=self.receiver(h), sender=self.sender(h),
                                    edge_term=self.edge(features))
        return h + F.relu(self.update_net(torch.cat([h, aggregated], dim=-1)))

    def message(self, receiver_i: torch.Tensor, sender_j: torch.Tensor, edge_term: torch.Tensor) -> torch.Tensor:
        return F.relu(receiver_i + sender_j + edge_term)


def pool(h: torch.Tensor, cluster: torch.Tensor, size: int) -> torch.Tensor:
    """Mean of (batch, n, c) node features over clusters -> (batch, size, c)."""
    total = h.new_zeros(h.shape[0], size, h.shape[-1]).index_add_(1, cluster, h)
    counts = torch.bincount(cluster, minlength=size).clamp_min(1).to(h.dtype)
    return total / counts[None, :, None]


class DCDMGraphNet(nn.Module):
    """Edge-conditioned message passing with cluster pooling levels, residual → search direction.

    Args:
        width: Node feature channels.
        blocks: Message-passing blocks on each level on the way down (and at the coarsest level).
        up_blocks: Blocks on each level on the way up.
        levels: Pooling levels (``MeshGraph.build`` must be given at least as many).
        in_channels: Node inputs: 1 (the residual) or 2 (and the operator feature, as for the CNN).
    """

    def __init__(self, width: int = 32, blocks: int = 2, up_blocks: int = 1, levels: int = 2, in_channels: int = 2):
        super().__init__()
        for name, value in (("width", width), ("blocks", blocks), ("in_channels", in_channels)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, value in (("up_blocks", up_blocks), ("levels", levels)):
            if int(value) != value or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        self.config = {"width": int(width), "blocks": int(blocks), "up_blocks": int(up_blocks),
                       "levels": int(levels), "in_channels": int(in_channels)}
        self.in_channels, self.levels = int(in_channels), int(levels)
        self.encode = nn.Linear(in_channels, width)
        self.down = nn.ModuleList(nn.ModuleList(EdgeBlock(width) for _ in range(blocks)) for _ in range(levels + 1))
        self.up = nn.ModuleList(nn.ModuleList(EdgeBlock(width) for _ in range(up_blocks)) for _ in range(levels))
        self.decode = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor, graph: MeshGraph) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.in_channels or x.shape[1] != graph.sizes[0]:
            raise ValueError(f"DCDMGraphNet expects (batch, {graph.sizes[0]}, {self.in_channels}), "
                             f"got {tuple(x.shape)}")
        if len(graph.clusters) < self.levels:
            raise ValueError(f"the graph has {len(graph.clusters)} pooling levels, the network needs {self.levels}")
        h = self.encode(x)
        skips = []
        for level in range(self.levels + 1):
            for block in self.down[level]:
                h = block(h, graph.edges[level], graph.edge_features[level])
            if level < self.levels:
                skips.append(h)
                h = pool(h, graph.clusters[level], graph.sizes[level + 1])
        for level in reversed(range(self.levels)):
            h = skips[level] + h[:, graph.clusters[level]]
            for block in self.up[level]:
                h = block(h, graph.edges[level], graph.edge_features[level])
        return self.decode(h)[..., 0]
