"""`um2n-helmholtz`: Monge-Ampère-moved meshes of the bump problem, one mesh per split where they differ."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

from pdesuite.data import open_dataset, validate_dataset  # noqa: E402
from pdesuite.data.graphs import load_graphs  # noqa: E402
from pdesuite.errors import BadInput  # noqa: E402
from pdesuite.recipes.um2n_helmholtz import solve_bumps  # noqa: E402
from pdesuite.solvers.mesh_quality import count_inverted  # noqa: E402


@pytest.fixture
def moved(tiny_moved):
    return tiny_moved


def test_each_split_has_its_mesh_and_the_file_validates(moved):
    summary = validate_dataset(moved)
    data = open_dataset(moved)
    train, test = data.split("train"), data.split("test")
    assert summary["splits"]["train"]["mesh"]["cell_type"] == "triangle"
    n_test = data.read("test/mesh/points").shape[0]
    assert n_test == 13 * 13 and train["u"].shape[2] == data.read("train/mesh/points").shape[0] != n_test
    assert test["moved"].shape == (2, n_test, 2) and test["monitor"].shape == (2, n_test)
    assert np.all(test["monitor"] >= 1.0) and np.allclose(test["monitor"].max(axis=1), 6.0)  # 1 + α at the max


@pytest.mark.parametrize("split", ["train", "test"])
def test_moved_meshes_are_untangled_slide_on_the_boundary_and_lower_the_error(moved, split):
    data = open_dataset(moved)
    arrays = data.split(split)
    points, cells = data.read(f"{split}/mesh/points"), data.read(f"{split}/mesh/cells")
    for x in arrays["moved"]:
        assert count_inverted(x, cells, points) == 0
        for axis in (0, 1):
            for side in (0.0, 1.0):
                on = np.abs(points[:, axis] - side) < 1e-12
                np.testing.assert_array_equal(x[on, axis], side)
    assert np.all(arrays["ma_iterations"] > 0) and np.all(arrays["ma_iterations"] < 500)
    reduction = 1 - arrays["error_moved"] / arrays["error_uniform"]
    assert reduction.mean() > 0.05, reduction


def test_the_stored_error_is_reproduced_on_a_mesh_rebuilt_from_the_file(moved):
    data = open_dataset(moved)
    test = data.split("test")
    cells = data.read("test/mesh/cells")
    for i in range(2):
        u, error = solve_bumps(test["moved"][i], cells, test["params"][i])
        assert error == pytest.approx(test["error_moved"][i], rel=1e-9)
        np.testing.assert_allclose(u, test["u_moved"][i], atol=1e-10)
        _, uniform = solve_bumps(data.read("test/mesh/points"), cells, test["params"][i])
        assert uniform == pytest.approx(test["error_uniform"][i], rel=1e-9)


def test_graphs_carry_the_moved_mesh_and_monitor(moved):
    graphs = load_graphs(moved, "test", extras=("monitor", "moved"))
    assert len(graphs) == 2 and graphs[0].num_nodes == 169
    assert graphs[0].moved.shape == (169, 2) and graphs[0].monitor.shape == (169,)
    with pytest.raises(BadInput, match="has no drag"):
        load_graphs(moved, "test", extras=("drag",))


@pytest.mark.parametrize("setting, message", [("mesh=hexagonal", "unknown mesh type"),
                                              ("test_mesh_size=0.001", "test_mesh_size must lie"),
                                              ("rtol=0", "rtol must be positive")])
def test_bad_settings_exit_2_with_one_line(tmp_path, setting, message):
    result = subprocess.run([sys.executable, "-m", "pdesuite", "generate", "um2n-helmholtz", "--set", setting,
                             "-o", str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_move_that_does_not_converge_fails_in_one_line_and_leaves_no_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pdesuite", "generate", "um2n-helmholtz", "--set", "maxiter=2",
                             "--set", "train=1", "--set", "valid=0", "--set", "test=0", "--set", "mesh_size=0.2",
                             "-o", str(tmp_path / "x.h5")], capture_output=True, text=True)
    # a numerical failure (exit 1, `SolverError`), not bad input: it names the sample, iteration and residual
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "train sample 0" in result.stderr and "did not converge in 2 iterations (residual" in result.stderr
    assert list(tmp_path.iterdir()) == []
