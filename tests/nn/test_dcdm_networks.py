"""The DCDM networks: the CNN on any grid size and level count, the graph network and its cluster levels."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pdesuite.nn.dcdm_cnn import DCDMNet2d


@pytest.mark.parametrize(("shape", "levels"), [((9, 9), 1), ((16, 12), 1), ((33, 33), 3), ((1, 5), 2)])
def test_cnn_keeps_the_grid_size(shape, levels):
    net = DCDMNet2d(channels=4, fine_blocks=1, coarse_blocks=1, up_blocks=1, in_channels=2, levels=levels)
    out = net(torch.randn(3, 2, *shape))
    assert out.shape == (3, 1, *shape)


def test_cnn_rejects_bad_settings_and_inputs():
    with pytest.raises(ValueError, match="levels"):
        DCDMNet2d(levels=0)
    with pytest.raises(ValueError, match="expects"):
        DCDMNet2d(in_channels=2)(torch.randn(1, 1, 8, 8))


def test_paper_network_size():
    """16 channels, one level: 2 + 2·(2 + 3 + 2) 3 × 3 convolutions and a 1 × 1 projection."""
    net = DCDMNet2d()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 + 2 * (2 + 3 + 2) + 1
    assert sum(p.numel() for p in net.parameters()) == 160 + 15 * (16 * 16 * 9 + 16) + 17


def grid_graph(m: int, levels: int):
    pytest.importorskip("torch_geometric")
    from pdesuite.nn.dcdm_gnn import MeshGraph

    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    A = (sp.kron(T, sp.eye(m)) + sp.kron(sp.eye(m), T)).tocsr()
    points = np.stack(np.meshgrid(np.arange(m), np.arange(m), indexing="ij"), -1).reshape(-1, 2) / m
    return MeshGraph.build(A.indptr, A.indices, A.data, points, levels)


def test_mesh_graph_levels():
    graph = grid_graph(8, 2)
    assert graph.sizes == [64, 16, 4]  # 2 × 2 then 4 × 4 blocks of grid points
    assert graph.edges[0].shape == (2, 4 * 8 * 7) and graph.edge_features[0].shape == (4 * 8 * 7, 3)
    np.testing.assert_allclose(graph.edge_features[0][:, 0], -0.25)  # A_ij / √(A_ii A_jj) = -1/4
    assert torch.bincount(graph.clusters[0]).tolist() == [4] * 16
    assert graph.edges[1].shape[1] == 4 * 4 * 3  # the coarse grid's neighbours


def test_graph_network_shapes_and_batching():
    from pdesuite.nn.dcdm_gnn import DCDMGraphNet

    graph = grid_graph(8, 2)
    torch.manual_seed(0)
    net = DCDMGraphNet(width=8, levels=2)
    x = torch.randn(3, 64, 2)
    out = net(x, graph)
    assert out.shape == (3, 64)
    torch.testing.assert_close(net(x[1:2], graph), out[1:2])  # samples do not mix
    with pytest.raises(ValueError, match="pooling levels"):
        DCDMGraphNet(levels=3)(x, graph)
