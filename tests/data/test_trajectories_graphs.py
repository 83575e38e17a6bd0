"""The data layer beyond single samples: whole splits with string extras, mesh graphs, user references."""

import h5py
import numpy as np
import pytest
import torch

from pdesuite.data import validate_dataset
from pdesuite.data.graphs import load_graphs, mesh_graph, mesh_topology
from pdesuite.data.reference import write_reference
from pdesuite.data.torch_dataset import FieldDataset
from pdesuite.data.trajectories import load_trajectories
from pdesuite.data.writer import DatasetWriter
from pdesuite.errors import BadInput
from pdesuite.problems.convection import Convection


def grid_file(path, prompts=("a rising plume", "two vortices shed")):
    attrs = {"dataset": "toy", "problem": "convection", "solver": "none", "profile": "small", "seed": 0,
             "params": {}, "fields": ["u"]}
    with DatasetWriter(path, attrs) as w:
        w.write_array("t", np.linspace(0, 1, 3))
        w.write_array("x", np.linspace(0, 1, 4, endpoint=False))
        w.create_split("train", 2, (3, 4, 1), ["c"], extras={"prompt": ((), h5py.string_dtype())})
        for i in range(2):
            w.write_sample("train", i, np.full((3, 4, 1), i, np.float32), np.array([10.0 * i]),
                           {"prompt": prompts[i]})
    return path


def test_trajectories_keep_string_extras(tmp_path):
    data = load_trajectories(grid_file(tmp_path / "g.h5"), "train")
    assert data.u.shape == (2, 3, 4, 1) and data.params["c"].tolist() == [0.0, 10.0]
    assert data.extras["prompt"] == ["a rising plume", "two vortices shed"]
    one = load_trajectories(tmp_path / "g.h5", "train", index=1)
    assert one.u.shape == (1, 3, 4, 1) and one.extras["prompt"] == ["two vortices shed"]
    item = FieldDataset(tmp_path / "g.h5", "train")[1]
    assert item["prompt"] == "two vortices shed" and item["u"].dtype == torch.float32
    with pytest.raises(BadInput, match="no split 'test'"):
        load_trajectories(tmp_path / "g.h5", "test")


def square_mesh_file(path, n=3):
    """A mesh dataset on `square_mesh`, two samples u = (i + 1) x."""
    points, cells = square_mesh(n)
    attrs = {"dataset": "toy-mesh", "problem": "poisson", "solver": "none", "profile": "small", "seed": 0,
             "params": {}, "fields": ["u"]}
    with DatasetWriter(path, attrs) as w:
        w.write_array("t", np.zeros(1))
        w.write_array("mesh/points", points)
        w.write_array("mesh/cells", cells, {"cell_type": "triangle"})
        w.create_split("test", 2, (1, len(points), 1), ["k"])
        for i in range(2):
            w.write_sample("test", i, (points[:, :1] * (i + 1))[None].astype(np.float32), np.array([float(i)]))
    return path, points, cells


def test_mesh_topology_of_a_triangulated_square():
    points, cells = square_mesh(4)
    edge_index, boundary = mesh_topology(cells, "triangle", len(points))
    n = 4
    undirected = 2 * n * (n - 1) + (n - 1) ** 2  # rows, columns and one diagonal per cell
    assert edge_index.shape == (2, 2 * undirected)
    assert set(map(tuple, edge_index.T)) == {(b, a) for a, b in edge_index.T}  # both directions
    on_edge = (points[:, 0] % 1 == 0) | (points[:, 1] % 1 == 0)
    assert np.array_equal(boundary, on_edge) and boundary.sum() == 4 * (n - 1)


def square_mesh(n):
    """n × n nodes on the unit square, two triangles per cell: 2(n-1)² triangles."""
    xs = np.linspace(0, 1, n)
    points = np.array([(x, y) for y in xs for x in xs])
    cells = []
    for j in range(n - 1):
        for i in range(n - 1):
            a, b, c, d = j * n + i, j * n + i + 1, (j + 1) * n + i, (j + 1) * n + i + 1
            cells += [(a, b, d), (a, d, c)]
    return points, np.array(cells)


def test_mesh_dataset_as_pyg_graphs(tmp_path):
    path, points, _ = square_mesh_file(tmp_path / "m.h5")
    graph = mesh_graph(path)
    assert graph.num_nodes == 9 and graph.boundary.sum() == 8 and not graph.boundary[4]
    graphs = load_graphs(path, "test")
    assert len(graphs) == 2 and graphs[1].x.shape == (9, 1)
    assert torch.allclose(graphs[1].x[:, 0], torch.as_tensor(2 * points[:, 0], dtype=torch.float32))
    assert graphs[1].params.tolist() == [[1.0]] and graphs[0].edge_index.shape[0] == 2
    with pytest.raises(BadInput, match="grid data"):
        mesh_graph(grid_file(tmp_path / "g.h5"))
    with pytest.raises(BadInput, match="out of range"):
        load_graphs(path, "test", [5])


def test_user_reference_file_is_a_valid_dataset(tmp_path):
    problem = Convection(c=3.0, nu=0.0)
    t, x = np.linspace(0, 1, 11), 2 * np.pi * np.arange(16) / 16
    path = write_reference(tmp_path / "ref.h5", problem, {"t": t, "x": x})
    summary = validate_dataset(path)
    assert summary["attrs"]["problem"] == "convection" and summary["splits"]["test"]["samples"] == 1
    data = load_trajectories(path, "test")
    exact = np.sin(x[None, :] - 3.0 * t[:, None])
    assert np.allclose(data.u[0, ..., 0], exact, atol=1e-6) and data.params["c"].tolist() == [3.0]
    with pytest.raises(BadInput, match="order"):
        write_reference(tmp_path / "bad.h5", problem, {"x": x, "t": t})
    with pytest.raises(BadInput, match="exists"):
        write_reference(path, problem, {"t": t, "x": x})
