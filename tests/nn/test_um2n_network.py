"""UM2N mesh-movement network: sizes, the boundary rule, batching, a short overfit, and the loss helpers."""

import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GATv2Conv, TransformerConv

from pdesuite.errors import BadInput
from pdesuite.nn.um2n import (
    SIZES,
    UM2N,
    GATDeformerLayer,
    GraphTransformerLayer,
    chamfer_distance,
    coordinate_loss,
    count_inverted,
    element_area_loss,
    signed_areas,
    stack_cells,
)

PARAMETER_COUNTS = {"small": 55_344, "paper": 1_854_204}  # as stated in the module docstring


def unit_square_mesh(k: int, seed: int = 0) -> Data:
    """(k+1)² nodes on the unit square, two counter-clockwise triangles per square, random monitor."""
    i, j = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="xy")
    pos = np.stack([i.ravel() / k, j.ravel() / k], axis=1)
    node = lambda a, b: b * (k + 1) + a  # noqa: E731
    cells = []
    for b in range(k):
        for a in range(k):
            v00, v10, v01, v11 = node(a, b), node(a + 1, b), node(a, b + 1), node(a + 1, b + 1)
            cells += [(v00, v10, v11), (v00, v11, v01)]
    cells = np.array(cells)
    edges = {(int(c[p]), int(c[q])) for c in cells for p in range(3) for q in range(3) if p != q}
    edge_index = np.array(sorted(edges)).T
    on_vertical = (pos[:, 0] == 0) | (pos[:, 0] == 1)
    on_horizontal = (pos[:, 1] == 0) | (pos[:, 1] == 1)
    free = np.stack([~on_vertical, ~on_horizontal], axis=1)
    rng = np.random.default_rng(seed)
    monitor = rng.uniform(0.2, 2.0, size=(len(pos), 1))
    monitor /= monitor.mean()
    n = len(pos)
    return Data(
        pos=torch.tensor(pos, dtype=torch.float32),
        monitor=torch.tensor(monitor, dtype=torch.float32),
        boundary=torch.tensor(on_vertical | on_horizontal),
        free=torch.tensor(free, dtype=torch.float32),
        lower=torch.zeros(n, 2),
        upper=torch.ones(n, 2),
        edge_index=torch.tensor(edge_index, dtype=torch.long),
        cells=torch.tensor(cells, dtype=torch.long),
    )


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("size", "low", "high"), [("small", 30_000, 80_000), ("paper", 1_400_000, 2_200_000)])
def test_parameter_counts(size, low, high):
    net = UM2N(**SIZES[size])
    count = n_params(net)
    assert low <= count <= high
    assert count == PARAMETER_COUNTS[size]
    with torch.no_grad():
        assert net(unit_square_mesh(3)).shape == (16, 2)


def test_shared_deformer_has_one_deformer_layer():
    shared, separate = UM2N(**SIZES["small"], shared_deformer=True), UM2N(**SIZES["small"])
    assert len(shared.deformer) == 1 and len(separate.deformer) == SIZES["small"]["deformer_loops"]
    assert n_params(separate) - n_params(shared) == 4 * n_params(separate.deformer[0])
    data = unit_square_mesh(4)
    assert shared(data).shape == (25, 2)


@pytest.mark.parametrize("shared", [False, True])
def test_boundary_rule_and_box(shared):
    torch.manual_seed(0)
    net = UM2N(**SIZES["small"], shared_deformer=shared)
    data = unit_square_mesh(6)
    with torch.no_grad():
        out = net(data)
    pos = data.pos
    assert out.shape == pos.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    for axis, value in [(0, 0.0), (0, 1.0), (1, 0.0), (1, 1.0)]:
        on_side = pos[:, axis] == value
        assert torch.equal(out[on_side, axis], pos[on_side, axis])  # exactly, not approximately
    corners = (data.free == 0).all(dim=1)
    assert int(corners.sum()) == 4
    assert torch.equal(out[corners], pos[corners])
    assert (out >= 0).all() and (out <= 1).all()
    interior = ~data.boundary
    assert (out[interior] - pos[interior]).abs().max() > 0  # the untrained net does move nodes
    boundary_moves = (out[data.boundary] - pos[data.boundary]).abs().sum(dim=1)
    assert (boundary_moves > 0).any()  # boundary nodes slide along their sides


@pytest.mark.parametrize("attention", ["global", "local"])
def test_batch_matches_single_graphs(attention):
    torch.manual_seed(1)
    net = UM2N(**SIZES["small"], attention=attention)
    graphs = [unit_square_mesh(5, seed=1), unit_square_mesh(7, seed=2)]
    with torch.no_grad():
        alone = [net(g) for g in graphs]
        batched = net(Batch.from_data_list(graphs))
    assert batched.shape == (36 + 64, 2)
    torch.testing.assert_close(batched[:36], alone[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(batched[36:], alone[1], rtol=0, atol=1e-5)


def test_overfits_one_smooth_displacement():
    torch.manual_seed(0)
    data = unit_square_mesh(8)
    x, y = data.pos[:, 0], data.pos[:, 1]
    target = data.pos.clone()
    target[:, 0] += 0.05 * torch.sin(math.pi * x) * torch.sin(math.pi * y)
    net = UM2N(**SIZES["small"])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    with torch.no_grad():
        initial = float(coordinate_loss(net(data), target))
    for _ in range(150):
        opt.zero_grad()
        loss = coordinate_loss(net(data), target)
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = float(coordinate_loss(net(data), target))
    assert final < initial / 10, (initial, final)
    assert final < float(coordinate_loss(data.pos, target)) / 10  # and well below not moving at all


def test_attention_matches_transformer_conv():
    torch.manual_seed(0)
    data = unit_square_mesh(4)
    layer = GraphTransformerLayer(16, heads=4, add_self_loops=False)
    ref = TransformerConv(16, 4, heads=4, root_weight=False)
    with torch.no_grad():
        for mine, theirs in [(layer.query, ref.lin_query), (layer.key, ref.lin_key), (layer.value, ref.lin_value)]:
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
        u = torch.randn(data.num_nodes, 16)
        torch.testing.assert_close(layer.attend(u, data.edge_index), ref(u, data.edge_index))
        assert layer(u, data.edge_index).shape == (data.num_nodes, 16)


def test_deformer_attention_is_gatv2_and_moves_to_convex_combination():
    torch.manual_seed(0)
    data = unit_square_mesh(4)
    layer = GATDeformerLayer(12, heads=3, add_self_loops=True)
    ref = GATv2Conv(12, 4, heads=3, add_self_loops=True)
    g = torch.randn(data.num_nodes, 12)
    x = data.pos + 0.02 * torch.randn(data.num_nodes, 2)
    with torch.no_grad():
        layer.lin_rel.weight.zero_()  # without the geometry term the score is GATv2's
        ref.lin_l.weight.copy_(layer.lin_source.weight)
        ref.lin_l.bias.copy_(layer.lin_source.bias)
        ref.lin_r.weight.copy_(layer.lin_target.weight)
        ref.lin_r.bias.copy_(layer.lin_target.bias)
        ref.att.copy_(layer.att)
        x_new, g_new, alpha, ei = layer(g, x, data.edge_index, return_attention=True)
        _, (ei_ref, alpha_ref) = ref(g, data.edge_index, return_attention_weights=True)
    # same edges (order may differ): compare α keyed by (source, target)
    key = lambda e: (e[0] * 1000 + e[1]).argsort()  # noqa: E731
    torch.testing.assert_close(alpha[key(ei)], alpha_ref[key(ei_ref)])
    # coordinates: convex combination of neighbour (and own) positions
    weights = alpha.mean(dim=1)
    sums = torch.zeros(data.num_nodes).index_add_(0, ei[1], weights)
    torch.testing.assert_close(sums, torch.ones(data.num_nodes))
    expected = torch.zeros(data.num_nodes, 2).index_add_(0, ei[1], weights[:, None] * x[ei[0]])
    torch.testing.assert_close(x_new, expected)
    assert g_new.shape == g.shape


def test_chamfer_distance():
    torch.manual_seed(0)
    a, b = torch.rand(30, 2), torch.rand(20, 2)
    assert float(chamfer_distance(a, a)) == 0.0
    assert float(chamfer_distance(a, b)) > 0
    torch.testing.assert_close(chamfer_distance(a, b), chamfer_distance(b, a))
    # brute force for one pair of points sets
    d2 = ((a[:, None] - b[None]) ** 2).sum(-1)
    torch.testing.assert_close(chamfer_distance(a, b), d2.min(1).values.mean() + d2.min(0).values.mean())
    # per graph, then averaged
    batch_a = torch.tensor([0] * 10 + [1] * 20)
    batch_b = torch.tensor([0] * 5 + [1] * 15)
    per_graph = [chamfer_distance(a[:10], b[:5]), chamfer_distance(a[10:], b[5:])]
    torch.testing.assert_close(chamfer_distance(a, b, batch_a, batch_b), (per_graph[0] + per_graph[1]) / 2)
    with pytest.raises(ValueError):
        chamfer_distance(a, b, batch_a)
    # coincident points (fixed boundary nodes) give a finite gradient
    a.requires_grad_(True)
    chamfer_distance(a, a.detach().clone()).backward()
    assert torch.isfinite(a.grad).all()


def test_area_loss_and_signed_areas():
    data = unit_square_mesh(4)
    areas = signed_areas(data.pos, data.cells)
    torch.testing.assert_close(areas, torch.full((32,), 0.5 / 16))
    assert float(element_area_loss(data.pos, data.pos, data.cells)) == 0.0
    moved = data.pos.clone()
    moved[6] += torch.tensor([0.05, 0.02])
    assert float(element_area_loss(moved, data.pos, data.cells)) > 0


def test_count_inverted_counts_one_flipped_triangle():
    data = unit_square_mesh(4)
    pos, cells = data.pos, data.cells
    assert count_inverted(pos, cells) == 0 and count_inverted(pos, cells, reference=pos) == 0
    node = 6  # interior node (1, 1)/4; move it across the edge opposite it in one of its triangles
    tri = next(c for c in cells.tolist() if node in c)
    a, b = [v for v in tri if v != node]
    mid = (pos[a] + pos[b]) / 2
    moved = pos.clone()
    moved[node] = mid + 0.1 * (mid - pos[node])  # just beyond edge (a, b)
    assert count_inverted(moved, cells) == 1
    assert count_inverted(moved, cells, reference=pos) == 1
    # with a clockwise reference orientation the count is relative to it
    flipped_cells = cells[:, [0, 2, 1]]
    assert count_inverted(pos, flipped_cells) == 32
    assert count_inverted(moved, flipped_cells, reference=pos) == 1


def test_stack_cells_matches_batch_numbering():
    graphs = [unit_square_mesh(3), unit_square_mesh(5)]
    batch = Batch.from_data_list(graphs)
    cells = stack_cells([g.cells for g in graphs], [g.num_nodes for g in graphs])
    assert cells.shape == (18 + 50, 3)
    expected = torch.cat([signed_areas(g.pos, g.cells) for g in graphs])
    torch.testing.assert_close(signed_areas(batch.pos, cells), expected)


def _without(data: Data, name: str) -> Data:
    data = data.clone()
    del data[name]
    return data


@pytest.mark.parametrize("missing", ["monitor", "free", "lower", "upper"])
def test_bad_input_missing_field(missing):
    net = UM2N(**SIZES["small"])
    with pytest.raises(BadInput, match=missing):
        net(_without(unit_square_mesh(3), missing))


@pytest.mark.parametrize(("name", "value"), [("monitor", torch.ones(16, 2)), ("free", torch.ones(16, 1))])
def test_bad_input_wrong_width(name, value):
    net = UM2N(**SIZES["small"])
    data = unit_square_mesh(3)
    data[name] = value
    with pytest.raises(BadInput, match=name) as info:
        net(data)
    assert "\n" not in str(info.value)


def test_feature_layout_and_in_features():
    assert UM2N.feature_layout == ("x", "y", "monitor", "boundary")
    with pytest.raises(BadInput):
        UM2N(in_features=5)


@pytest.mark.parametrize(("attention", "sees_far"), [("global", True), ("local", False)])
def test_global_attention_sees_the_monitor_across_the_mesh_and_local_does_not(attention, sees_far):
    """On a 20 × 20 mesh, a change of the monitor at one corner moves the opposite corner's neighbour
    only when the encoder attends over the whole mesh (local: 1 + 5 hops, far less than 40)."""
    torch.manual_seed(0)
    net = UM2N(**{**SIZES["small"], "attention": attention}).eval()
    data = unit_square_mesh(20)
    far = int(torch.argmin((data.pos - torch.tensor([0.95, 0.95])).norm(dim=1)))
    with torch.no_grad():
        before = net(data)[far]
        data.monitor[0] += 5.0  # the node at (0, 0)
        after = net(data)[far]
    assert (not torch.equal(before, after)) == sees_far
