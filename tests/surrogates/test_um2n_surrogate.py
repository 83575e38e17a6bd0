"""The `um2n` surrogate: trains on Monge-Ampère meshes, resumes exactly, validates against MA (FEM error
reduction, tangling, move time), moves unseen meshes, and refuses what it cannot use."""

import json

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

from pdesuite.errors import BadInput  # noqa: E402
from pdesuite.training.trainer import make_config, train  # noqa: E402
from pdesuite.validation.validate import load_trained, validate_run  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_moved):
    run = tmp_path_factory.mktemp("um2n-run") / "run"
    config = make_config("um2n", tiny_moved, steps=150, overrides={"val_every": "50", "log_every": "1",
                                                                   "checkpoint_every": "50"})
    train(run, config, progress=False)
    return run


def test_training_lowers_the_loss_and_validation_error(trained):
    lines = [json.loads(line) for line in (trained / "log.jsonl").read_text().splitlines()]
    first, last = np.mean([r["loss"] for r in lines[:10]]), np.mean([r["loss"] for r in lines[-10:]])
    assert last < first / 3, (first, last)
    errors = [r["displacement_error"] for r in lines if "displacement_error" in r]
    assert len(errors) == 3 and errors[-1] < 1.0


def test_resume_continues_bit_for_bit(tmp_path, tiny_moved, same_checkpoints):
    overrides = {"val_every": "10", "checkpoint_every": "7"}
    straight = make_config("um2n", tiny_moved, steps=20, overrides=overrides)
    train(tmp_path / "straight", straight, progress=False)
    train(tmp_path / "resumed", straight, progress=False, stop_at=12)
    train(tmp_path / "resumed", None, progress=False, resume=True)
    same_checkpoints(tmp_path / "straight", tmp_path / "resumed")


def test_validation_compares_the_network_with_monge_ampere(trained, tiny_moved):
    evaluation = validate_run(trained)
    from pdesuite.data import open_dataset

    test = open_dataset(tiny_moved).split("test")
    er_ma = (test["error_uniform"] - test["error_moved"]) / test["error_uniform"]
    assert evaluation["er_ma"] == pytest.approx(er_ma.mean())
    assert evaluation["samples"] == 2 and evaluation["nodes"] == 169
    assert evaluation["failed"] == sum(t > 0 for t in evaluation["tangled_per_mesh"])
    if evaluation["failed"] < 2:
        assert np.isfinite(evaluation["er_network"])
    assert evaluation["ma_seconds"] > 0 and evaluation["network_seconds"] > 0
    assert evaluation["speedup"] == pytest.approx(evaluation["ma_seconds"] / evaluation["network_seconds"])
    assert (trained / "meshes.png").stat().st_size > 10_000
    assert "claim" in evaluation


def test_the_network_moves_a_mesh_of_another_type_and_keeps_boundary_nodes_on_their_sides(trained, tiny_moved):
    from pdesuite.data import open_dataset

    surrogate, _ = load_trained(trained)
    data = open_dataset(tiny_moved)
    points, cells = data.read("test/mesh/points")[:, :2], data.read("test/mesh/cells")
    monitor = data.split("test")["monitor"][0]
    x = surrogate.move(points, cells, monitor)
    assert x.shape == points.shape and np.all((x >= 0) & (x <= 1))
    for axis in (0, 1):
        for side in (0.0, 1.0):
            on = np.abs(points[:, axis] - side) < 1e-12
            np.testing.assert_array_equal(x[on, axis], side)
    with pytest.raises(BadInput, match="monitor has 5 values"):
        surrogate.move(points, cells, monitor[:5])
    folded = points.copy()
    inner = np.flatnonzero(np.all(np.abs(points - 0.5) < 1e-9, axis=1))[0]  # the node at (1/2, 1/2)
    folded[inner, 0] += 0.2  # across its right-hand neighbour
    with pytest.raises(BadInput, match="inverted cells"):
        surrogate.move(folded, cells, monitor)


def test_bad_data_and_settings_are_refused_in_one_line(tmp_path, trained, tiny_moved, cli):
    from pdesuite.recipes.generate import generate

    plain = generate("helmholtz-bumps", tmp_path / "bumps.h5", samples=1, progress=False,
                     overrides={"mesh_size": "0.2", "valid": "0", "test": "0"})
    code, _, err = cli("train", "um2n", "--data", plain, "-o", tmp_path / "r", "--steps", "2")
    assert code == 2 and "moved-mesh datasets" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("train", "um2n", "--data", plain, "-o", tmp_path / "r2", "--set", "size=huge")
    assert code == 2 and "unknown size" in err
    code, _, err = cli("validate", trained, "--data", plain)
    assert code == 2 and "moved-mesh datasets" in err
    code, _, err = cli("train", "um2n", "--data", tiny_moved, "-o", tmp_path / "r3", "--steps", "2",
                       "--set", 'feature_layout=["x", "y", "monitor"]')
    assert code == 2 and "reads features" in err


def test_extra_training_files_join_the_training_set(tmp_path, tiny_moved):
    from pdesuite.training.trainer import build

    config = make_config("um2n", tiny_moved, steps=1, overrides={"extra_train": f'["{tiny_moved}"]'})
    surrogate = build(config)
    assert len(surrogate.graphs("train")) == 6 and len(surrogate.graphs("valid")) == 1
    with pytest.raises(BadInput, match="extra_train"):
        build(make_config("um2n", tiny_moved, steps=1, overrides={"extra_train": '["/nonexistent.h5"]'}))
