"""UM2N-style mesh-movement network: graph-transformer encoder + GAT deformer that moves mesh nodes.

Modelled on UM2N (M. Zhang, C. Wang, S. Kramer, J. G. Wallwork, S. Li, J. Liu, X. Chen, M. D. Piggott,
"Towards Universal Mesh Movement Networks", NeurIPS 2024; code github.com/mesh-adaptation/UM2N). The
network reads a mesh (node coordinates, a monitor function sampled at the nodes, a boundary mask) and
returns moved node coordinates, with the connectivity unchanged. Architecture only; no training loop.

Structure (all shapes per node, n nodes, E directed edges):

    features  f_i = [x_i, y_i, m_i, b_i]                           (n, 4)  (``UM2N.feature_layout``)
    lift      h_i = W_in f_i + b_in                                (n, hidden)
    encoder   h ← GraphTransformerLayer(h)   × transformer_layers  (n, hidden)
    bridge    g_i = SELU(W_g h_i + b_g)                            (n, deformer_hidden)
    deformer  x⁰ = pos;  for l = 1..deformer_loops:
                  x̃, g ← GATDeformerLayer_l(g, x^{l-1})            x̃_i = Σ_j α_ij x_j^{l-1}  (convex)
                  x^l  = clamp(pos + free ⊙ (x̃ - pos), lower, upper)
    output    x^L                                                  (n, 2)

Boundary rule. ``free`` is 1 where a coordinate may move: a node on a vertical side keeps its x, a
node on a horizontal side keeps its y, corners keep both. Applying x = pos + free ⊙ (x̃ - pos) after
every loop makes boundary nodes slide along their side *exactly* (the fixed coordinate equals pos
bit for bit). Each x̃_i is a convex combination of current neighbour positions (self-loop included),
so on a convex domain nodes stay inside it; the clamp to [lower, upper] enforces the bounding box
anyway (for non-convex domains it is only a box, not the domain).

Differences from the authors' model (read for structure and sizes only):

* Their released checkpoint (``pretrain_model/config.yaml``: ``model_used: M2N_T``) is a dense
  transformer over *all* nodes of a mesh (``nn.MultiheadAttention``, embed 64, 4 heads, 1 layer,
  output 16), a local edge-MLP feature extractor, and a deformer of 4 *distinct* M2N-style GAT layers
  (widths 508 → 250 → 120 → 20, 6 heads, head-averaged) that each move a node to the attention-weighted
  mean of its neighbours; about 1.84 M parameters. Their ``MRTransformer`` variant instead applies one
  shared GATv2Conv (hidden 512, 6 heads) ``num_deformer_loop`` times and predicts coordinates with a
  linear head (not a convex combination).
* Here the transformer attends over mesh edges (plus self-loops), not over all node pairs: memory is
  O(E), graphs of different sizes batch together, and the output of a graph does not depend on the
  others in a batch; the price is a receptive field of ``transformer_layers + deformer_loops`` hops
  instead of the whole mesh. No dropout, no per-head scale or residual weights.
* The deformer follows the convex-combination idea of the released model but with GATv2 scoring on
  [g_i, g_j, x_j - x_i] (relative position divided by a per-node mesh length), a self-loop (so
  "stay put" is representable) and ``deformer_loops`` layers of *equal* width. Weights are **not**
  shared across loops by default (as in the released M2N_T deformer); ``shared_deformer=True``
  reuses one layer for every loop (as in MRTransformer).
* The boundary rule above replaces their in-place fixing of nodes at x, y ∈ {0, 1}; it works for any
  axis-aligned box and is differentiable.
* Losses are plain torch (no PyTorch3D): squared-distance chamfer via ``torch.cdist``; the element
  area loss here is a normalised mean *squared* difference (theirs: scaled sum of absolute differences).

Parameter counts (checked by ``tests/nn/test_um2n_network.py``): ``UM2N(**SIZES["small"])`` has 55,344 and
``UM2N(**SIZES["paper"])`` 1,854,204 parameters.

Batching: every operation is per node or per edge neighbourhood, so a ``Batch`` of graphs gives the
same per-graph output as running each alone. Triangles (``cells``, (n_cells, 3)) are not needed by
the network; loss helpers take them explicitly, and ``stack_cells`` offsets the cells of several graphs
into the node numbering of ``Batch.from_data_list`` of the same list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import add_remaining_self_loops, remove_self_loops, scatter, softmax, to_dense_batch

from pdesuite.errors import BadInput

__all__ = [
    "SIZES",
    "UM2N",
    "GATDeformerLayer",
    "GraphTransformerLayer",
    "chamfer_distance",
    "coordinate_loss",
    "count_inverted",
    "element_area_loss",
    "signed_areas",
    "stack_cells",
]


def _check_heads(channels: int, heads: int) -> int:
    if heads < 1 or channels % heads:
        raise ValueError(f"channels ({channels}) must be a positive multiple of heads ({heads})")
    return channels // heads


class GraphTransformerLayer(MessagePassing):
    """Multi-head attention over mesh edges, then a feed-forward block; pre-norm residuals.

    For node i with neighbours N(i) (edges j → i in ``edge_index``; self-loops added when
    ``add_self_loops``), per head k with C = channels / heads:

        u = LayerNorm(h)
        q_i = W_q u_i,  k_j = W_k u_j,  v_j = W_v u_j                       (split into heads)
        α_ij^k = softmax_{j ∈ N(i)} ( q_i^k · k_j^k / √C )
        a_i = concat_k Σ_j α_ij^k v_j^k                                     (``attend``)
        h ← h + W_o a_i
        h ← h + W_2 GELU(W_1 LayerNorm(h))                                   (width ff_mult · channels)

    ``attend`` equals ``torch_geometric.nn.TransformerConv(channels, C, heads, root_weight=False)``
    with the same query/key/value weights (tested).

    Shapes: h (n, channels), edge_index (2, E) -> (n, channels).
    """

    def __init__(self, channels: int, heads: int = 4, ff_mult: int = 4, add_self_loops: bool = True):
        super().__init__(aggr="add", node_dim=0)
        self.channels, self.heads = channels, heads
        self.head_dim = _check_heads(channels, heads)
        self.add_self_loops = add_self_loops
        self.norm_attn = nn.LayerNorm(channels)
        self.query = nn.Linear(channels, channels)
        self.key = nn.Linear(channels, channels)
        self.value = nn.Linear(channels, channels)
        self.out = nn.Linear(channels, channels)
        self.norm_ff = nn.LayerNorm(channels)
        self.ff = nn.Sequential(
            nn.Linear(channels, ff_mult * channels), nn.GELU(), nn.Linear(ff_mult * channels, channels)
        )

    def attend(self, u: Tensor, edge_index: Tensor) -> Tensor:
        """The attention aggregate a (n, channels) of already-normalised features u (n, channels)."""
        if self.add_self_loops:
            edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=u.shape[0])
        shape = (-1, self.heads, self.head_dim)
        q, k, v = self.query(u).view(shape), self.key(u).view(shape), self.value(u).view(shape)
        out = self.propagate(edge_index, q=q, k=k, v=v, size=None)
        return out.reshape(-1, self.channels)

    def message(self, q_i: Tensor, k_j: Tensor, v_j: Tensor, index: Tensor, ptr: Tensor | None, size_i: int | None):
        # q_i, k_j, v_j: (E, heads, C); softmax over the edges that share a target node i
        score = (q_i * k_j).sum(-1) / math.sqrt(self.head_dim)
        alpha = softmax(score, index, ptr, size_i)  # (E, heads)
        return v_j * alpha.unsqueeze(-1)

    def forward(self, h: Tensor, edge_index: Tensor) -> Tensor:
        h = h + self.out(self.attend(self.norm_attn(h), edge_index))
        return h + self.ff(self.norm_ff(h))


class GlobalTransformerLayer(nn.Module):
    """Multi-head self-attention over *all* nodes of each graph (not only mesh neighbours), then a
    feed-forward block; pre-norm residuals, as the authors' encoder (a dense transformer per mesh).

        u = LayerNorm(h);  h ← h + MHA(u, u, u) within each graph;  h ← h + W_2 GELU(W_1 LayerNorm(h))

    A node sees every node of its own mesh in one layer, so the features can carry information from
    far away (Monge-Ampère's displacement depends on the monitor everywhere: a few hops of local
    attention cannot see that). Graphs of a batch are padded to a dense (B, N_max, C) block with a key
    mask, so a graph's output does not depend on the others. Memory O(Σ N_g²) per layer.

    Shapes: h (n, channels), batch (n,) graph index of each node -> (n, channels). The same parameter
    count as `GraphTransformerLayer` (query, key, value and output projections, feed-forward).
    """

    def __init__(self, channels: int, heads: int = 4, ff_mult: int = 4):
        super().__init__()
        _check_heads(channels, heads)
        self.norm_attn = nn.LayerNorm(channels)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.norm_ff = nn.LayerNorm(channels)
        self.ff = nn.Sequential(
            nn.Linear(channels, ff_mult * channels), nn.GELU(), nn.Linear(ff_mult * channels, channels)
        )

    def forward(self, h: Tensor, batch: Tensor) -> Tensor:
        dense, mask = to_dense_batch(self.norm_attn(h), batch)  # (B, N_max, C), (B, N_max) True = a node
        out, _ = self.attention(dense, dense, dense, key_padding_mask=~mask, need_weights=False)
        h = h + out[mask]
        return h + self.ff(self.norm_ff(h))


class GATDeformerLayer(MessagePassing):
    """GATv2-style attention that moves each node to a convex combination of its neighbours.

    Inputs g (n, channels) node features, x (n, 2) current coordinates, edge_index (2, E) (j → i),
    optional scale (n,) a per-node length (e.g. mean incident edge length of the initial mesh; the
    relative position is divided by it so attention sees mesh-size-independent geometry).
    Per head k (C = channels / heads), with r_ij = (x_j - x_i) / scale_i:

        e_ij^k = a_k · LeakyReLU_{0.2}( W_t^k g_i + W_s^k g_j + W_r^k r_ij )
        α_ij^k = softmax_{j ∈ N(i)} e_ij^k                   (N(i) includes i when add_self_loops)
        x̃_i  = Σ_j ᾱ_ij x_j,     ᾱ_ij = mean_k α_ij^k          (weights ≥ 0, sum 1: convex)
        g_i' = g_i + SELU( concat_k Σ_j α_ij^k W_s^k g_j + b )

    Returns (x̃ (n, 2), g' (n, channels)); with ``return_attention`` also α (E', heads) and the
    edge_index (2, E') it refers to (self-loops included).
    """

    def __init__(self, channels: int, heads: int = 4, negative_slope: float = 0.2, add_self_loops: bool = True):
        super().__init__(aggr="add", node_dim=0)
        self.channels, self.heads = channels, heads
        self.head_dim = _check_heads(channels, heads)
        self.negative_slope = negative_slope
        self.add_self_loops = add_self_loops
        self.lin_source = nn.Linear(channels, channels)
        self.lin_target = nn.Linear(channels, channels)
        self.lin_rel = nn.Linear(2, channels, bias=False)
        self.att = nn.Parameter(torch.empty(1, heads, self.head_dim))
        self.bias = nn.Parameter(torch.zeros(channels))
        nn.init.xavier_uniform_(self.att)
        self._alpha: Tensor | None = None

    def forward(
        self, g: Tensor, x: Tensor, edge_index: Tensor, scale: Tensor | None = None, return_attention: bool = False
    ):
        n = g.shape[0]
        if self.add_self_loops:
            edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=n)
        if scale is None:
            scale = torch.ones(n, dtype=x.dtype, device=x.device)
        shape = (-1, self.heads, self.head_dim)
        zs, zt = self.lin_source(g).view(shape), self.lin_target(g).view(shape)
        out = self.propagate(edge_index, zs=zs, zt=zt, x=x, scale=scale.view(-1, 1), size=None)
        alpha, self._alpha = self._alpha, None
        x_new = out[:, self.channels :]
        g_new = g + F.selu(out[:, : self.channels] + self.bias)
        if return_attention:
            return x_new, g_new, alpha, edge_index
        return x_new, g_new

    def message(
        self,
        zs_j: Tensor,
        zt_i: Tensor,
        x_i: Tensor,
        x_j: Tensor,
        scale_i: Tensor,
        index: Tensor,
        ptr: Tensor | None,
        size_i: int | None,
    ) -> Tensor:
        rel = self.lin_rel((x_j - x_i) / scale_i).view(-1, self.heads, self.head_dim)
        e = F.leaky_relu(zs_j + zt_i + rel, self.negative_slope)
        alpha = softmax((e * self.att).sum(-1), index, ptr, size_i)  # (E, heads)
        self._alpha = alpha
        feat = (zs_j * alpha.unsqueeze(-1)).reshape(-1, self.channels)
        coord = x_j * alpha.mean(-1, keepdim=True)
        return torch.cat([feat, coord], dim=-1)  # one aggregation for features and coordinates


def _mean_edge_length(pos: Tensor, edge_index: Tensor) -> Tensor:
    """Per-node mean length of incident edges (self-loops ignored; 1 for an isolated node), (n,)."""
    ei, _ = remove_self_loops(edge_index)
    length = (pos[ei[0]] - pos[ei[1]]).norm(dim=-1)
    n = pos.shape[0]
    total = scatter(length, ei[1], dim=0, dim_size=n, reduce="sum")
    count = scatter(torch.ones_like(length), ei[1], dim=0, dim_size=n, reduce="sum")
    return torch.where(count > 0, total / count.clamp(min=1), torch.ones_like(total))


class UM2N(nn.Module):
    """Mesh-movement network: ``forward(data) -> (n, 2)`` moved coordinates (see the module docstring).

    Args:
        hidden: encoder width (the authors' transformer embedding, 64).
        heads: encoder attention heads (theirs 4).
        transformer_layers: GraphTransformerLayers in the encoder (theirs 1).
        deformer_loops: GATDeformerLayers applied one after another (5 in their config).
        in_features: must be ``len(feature_layout)`` = 4.
        deformer_hidden: deformer feature width (default ``hidden``).
        deformer_heads: deformer attention heads (default ``heads``).
        shared_deformer: reuse one deformer layer for every loop (default False: one layer per loop,
            like the released M2N_T checkpoint's distinct deformer layers).
        attention: "global" (default, as the authors): the encoder attends over all nodes of each mesh
            (`GlobalTransformerLayer`); "local": over mesh edges only (`GraphTransformerLayer`,
            receptive field ``transformer_layers + deformer_loops`` hops).

    ``data`` (PyG ``Data`` or ``Batch``) must carry pos (n, 2), monitor (n, 1), boundary (n,) bool,
    free (n, 2) in {0, 1}, lower (n, 2), upper (n, 2), edge_index (2, E) with both directions;
    otherwise ``BadInput``. The output satisfies out = pos where free = 0 and lower ≤ out ≤ upper.

    Without ``shared_deformer`` the last deformer layer's feature bias receives no gradient (the
    features it updates are not used afterwards): pass ``find_unused_parameters=True`` under DDP.
    """

    feature_layout: tuple[str, ...] = ("x", "y", "monitor", "boundary")

    def __init__(
        self,
        hidden: int = 64,
        heads: int = 4,
        transformer_layers: int = 1,
        deformer_loops: int = 5,
        in_features: int = 4,
        *,
        deformer_hidden: int | None = None,
        deformer_heads: int | None = None,
        shared_deformer: bool = False,
        attention: str = "global",
    ):
        super().__init__()
        if attention not in ("global", "local"):
            raise BadInput(f"UM2N attention must be 'global' or 'local', got {attention!r}")
        self.attention = attention
        if in_features != len(self.feature_layout):
            raise BadInput(
                f"UM2N takes {len(self.feature_layout)} node features {self.feature_layout}, not {in_features}"
            )
        if deformer_loops < 1 or transformer_layers < 0:
            raise ValueError("need deformer_loops >= 1 and transformer_layers >= 0")
        deformer_hidden = deformer_hidden or hidden
        deformer_heads = deformer_heads or heads
        self.deformer_loops = deformer_loops
        self.shared_deformer = shared_deformer
        self.lift = nn.Linear(in_features, hidden)
        # self-loops are added once in forward, so the layers do not add them again
        self.encoder = nn.ModuleList(
            GlobalTransformerLayer(hidden, heads) if attention == "global"
            else GraphTransformerLayer(hidden, heads, add_self_loops=False) for _ in range(transformer_layers)
        )
        self.bridge = nn.Linear(hidden, deformer_hidden)
        n_layers = 1 if shared_deformer else deformer_loops
        self.deformer = nn.ModuleList(
            GATDeformerLayer(deformer_hidden, deformer_heads, add_self_loops=False) for _ in range(n_layers)
        )

    @staticmethod
    def _inputs(data) -> dict[str, Tensor]:
        got = {}
        for name in ("pos", "edge_index", "monitor", "boundary", "free", "lower", "upper"):
            value = getattr(data, name, None)
            if not isinstance(value, Tensor):
                raise BadInput(
                    f"UM2N input lacks '{name}' (needs pos, edge_index, monitor, boundary, free, lower, upper)"
                )
            got[name] = value
        pos = got["pos"]
        if pos.dim() != 2 or pos.shape[1] != 2:
            raise BadInput(f"UM2N input 'pos' must be (n, 2), got {tuple(pos.shape)}")
        n = pos.shape[0]
        widths = {"monitor": 1, "free": 2, "lower": 2, "upper": 2}
        for name, width in widths.items():
            if tuple(got[name].shape) != (n, width):
                raise BadInput(f"UM2N input '{name}' must be ({n}, {width}), got {tuple(got[name].shape)}")
        if tuple(got["boundary"].shape) not in ((n,), (n, 1)):
            raise BadInput(f"UM2N input 'boundary' must be ({n},), got {tuple(got['boundary'].shape)}")
        ei = got["edge_index"]
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise BadInput(f"UM2N input 'edge_index' must be (2, E), got {tuple(ei.shape)}")
        return got

    def forward(self, data) -> Tensor:
        d = self._inputs(data)
        pos, edge_index = d["pos"], d["edge_index"]
        n = pos.shape[0]
        free, lower, upper = d["free"].to(pos.dtype), d["lower"].to(pos.dtype), d["upper"].to(pos.dtype)
        feats = torch.cat([pos, d["monitor"].to(pos.dtype), d["boundary"].reshape(n, 1).to(pos.dtype)], dim=1)
        scale = _mean_edge_length(pos, edge_index)
        edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=n)

        h = self.lift(feats)
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(n, dtype=torch.long, device=pos.device)
        for layer in self.encoder:
            h = layer(h, batch) if self.attention == "global" else layer(h, edge_index)
        g = F.selu(self.bridge(h))
        x = pos
        for loop in range(self.deformer_loops):
            layer = self.deformer[0 if self.shared_deformer else loop]
            candidate, g = layer(g, x, edge_index, scale)
            x = pos + free * (candidate - pos)
            x = torch.minimum(torch.maximum(x, lower), upper)
        return x


SIZES: dict[str, dict] = {
    # about 55 k parameters: quick experiments and tests
    "small": dict(hidden=48, heads=4, transformer_layers=1, deformer_loops=5),
    # encoder as the authors' config (embed 64, 4 heads, 1 layer), 5 deformer loops, deformer width
    # chosen so the total (1.85 M) matches their released model's ~1.84 M
    "paper": dict(hidden=64, heads=4, transformer_layers=1, deformer_loops=5, deformer_hidden=420, deformer_heads=6),
}


# ----------------------------------------------------------------------------------------------------
# Losses and mesh-quality helpers (plain torch)


def coordinate_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared node distance: (1/n) Σ_i |pred_i - target_i|²; pred, target (n, 2) -> scalar."""
    return (pred - target).pow(2).sum(-1).mean()


def signed_areas(coords: Tensor, cells: Tensor) -> Tensor:
    """Signed triangle areas (n_cells,): A = ½[(x₁-x₀)(y₂-y₀) - (x₂-x₀)(y₁-y₀)], > 0 counter-clockwise.

    coords (n, 2), cells (n_cells, 3) node indices.
    """
    p0, p1, p2 = coords[cells[:, 0]], coords[cells[:, 1]], coords[cells[:, 2]]
    d1, d2 = p1 - p0, p2 - p0
    return 0.5 * (d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1])


def element_area_loss(pred: Tensor, target: Tensor, cells: Tensor) -> Tensor:
    """Normalised squared area mismatch: mean_c (A_c(pred) - A_c(target))² / (mean_c |A_c(target)|)².

    pred, target (n, 2), cells (n_cells, 3) -> scalar (0 iff every signed area matches).
    """
    a_pred, a_target = signed_areas(pred, cells), signed_areas(target, cells)
    return (a_pred - a_target).pow(2).mean() / a_target.abs().mean().pow(2)


def _chamfer_one(a: Tensor, b: Tensor) -> Tensor:
    d2 = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist").pow(2)  # exact 0 for equal points
    return d2.min(dim=1).values.mean() + d2.min(dim=0).values.mean()


def chamfer_distance(a: Tensor, b: Tensor, batch_a: Tensor | None = None, batch_b: Tensor | None = None) -> Tensor:
    """Symmetric chamfer distance with squared distances (as PyTorch3D's default):

        CD(A, B) = mean_{a ∈ A} min_{b ∈ B} |a - b|² + mean_{b ∈ B} min_{a ∈ A} |a - b|²

    a (n_a, d), b (n_b, d) -> scalar. With ``batch_a``/``batch_b`` (graph index per point, both or
    neither) CD is computed per graph and averaged over graphs; memory O(n_a n_b) per graph.
    """
    if (batch_a is None) != (batch_b is None):
        raise ValueError("give both batch_a and batch_b, or neither")
    if batch_a is None:
        return _chamfer_one(a, b)
    n_graphs = int(max(batch_a.max(), batch_b.max())) + 1
    per_graph = [_chamfer_one(a[batch_a == g], b[batch_b == g]) for g in range(n_graphs)]
    return torch.stack(per_graph).mean()


def count_inverted(coords: Tensor, cells: Tensor, reference: Tensor | None = None) -> int:
    """Number of inverted cells: signed area ≤ 0, or, given ``reference`` (n, 2) coordinates of the
    same mesh, A_c(coords) · sign(A_c(reference)) ≤ 0 (orientation flipped or collapsed)."""
    area = signed_areas(coords, cells)
    if reference is not None:
        area = area * torch.sign(signed_areas(reference, cells))
    return int((area <= 0).sum())


def stack_cells(cells: Sequence[Tensor], num_nodes: Sequence[int]) -> Tensor:
    """Concatenate per-graph cells (n_cells_g, 3), offset by the node counts of the preceding graphs,
    i.e. into the node numbering of ``Batch.from_data_list`` over the same graphs in the same order."""
    offsets, total = [], 0
    for count in num_nodes:
        offsets.append(total)
        total += int(count)
    return torch.cat([c + off for c, off in zip(cells, offsets, strict=True)], dim=0)
