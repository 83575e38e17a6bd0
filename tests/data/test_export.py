"""`pdesuite export --to the-well`: The Well's own loader (the_well.data.WellDataset, from PyPI) reads our
smoke and KS files and yields the same arrays, grids and boundary types; bad input exits 2."""

import h5py
import numpy as np
import pytest

from pdesuite.data.trajectories import load_trajectories

pytest.importorskip("the_well", reason="the_well is a dev dependency (make test installs it)")

SMOKE_TINY = {"resolution": "8", "n_skip": "1", "n_frames": "4", "frame_every": "1", "train": "3", "valid": "1",
              "test": "2", "batch_size": "4"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    from pdesuite.recipes.generate import generate

    return generate("smoke", tmp_path_factory.mktemp("export") / "smoke.h5", seed=3, progress=False,
                    overrides=SMOKE_TINY)


def test_smoke_loads_with_the_wells_dataset_class(smoke, tmp_path, cli):
    from the_well.data import WellDataset

    out = tmp_path / "well"
    code, _, err = cli("export", smoke, "--to", "the-well", "-o", out)
    assert code == 0, err
    ours = load_trajectories(smoke, "test")
    well = WellDataset(path=str(out), well_split_name="test", n_steps_input=1, n_steps_output=3)
    assert len(well) == 2  # 2 trajectories x 1 window of 4 frames
    assert well.metadata.field_names == {0: ["s"], 1: ["velocity_x", "velocity_y"], 2: []}
    assert well.metadata.boundary_condition_types == ["WALL"]
    for i in range(2):
        sample = well[i]
        frames = np.concatenate([sample["input_fields"].numpy(), sample["output_fields"].numpy()])
        np.testing.assert_array_equal(frames, ours.u[i])  # (s, vx, vy) in our order
        assert float(sample["constant_scalars"][0]) == pytest.approx(ours.params["buoyancy_y"][i])
    grid = well[0]["space_grid"].numpy()
    np.testing.assert_allclose(grid[:, 0, 0], ours.grid["x"])
    np.testing.assert_allclose(grid[0, :, 1], ours.grid["y"])
    stats = (out / "stats.yaml").read_text()
    assert "mean:" in stats and "  velocity:" in stats and "std_delta:" in stats


def test_ks_per_sample_grids_and_periodic_boundaries(tiny_ks, tmp_path):
    from the_well.data import WellDataset

    from pdesuite.data.export import export_the_well

    out = export_the_well(tiny_ks, tmp_path / "ks-well")
    ours = load_trajectories(tiny_ks, "train")
    well = WellDataset(path=str(out), well_split_name="train", n_steps_input=2, n_steps_output=1,
                       normalize_time_grid=False)
    windows = ours.u.shape[1] - 2
    assert len(well) == len(ours) * windows
    assert well.metadata.boundary_condition_types == ["PERIODIC"]
    i, t = 1, 5
    sample = well[i * windows + t]
    np.testing.assert_array_equal(sample["input_fields"].numpy(), ours.u[i, t: t + 2])
    np.testing.assert_allclose(sample["space_grid"].numpy()[:, 0], ours.x[i])  # KS: each trajectory its own L
    np.testing.assert_allclose(sample["input_time_grid"].numpy(), ours.t[i, t: t + 2])


def test_bad_input_exits_2(smoke, tmp_path, cli):
    out = tmp_path / "taken"
    out.mkdir()
    code, _, err = cli("export", smoke, "--to", "the-well", "-o", out)
    assert code == 2 and "exists" in err
    code, _, err = cli("export", smoke, "--to", "pdebench-zip", "-o", tmp_path / "x")
    assert code == 2 and "invalid choice" in err
    mesh = tmp_path / "mesh.h5"
    mesh.write_bytes(smoke.read_bytes())
    with h5py.File(mesh, "a") as f:
        f.create_group("mesh")
    code, _, err = cli("export", mesh, "--to", "the-well", "-o", tmp_path / "m")
    assert code == 2 and "mesh data" in err and not (tmp_path / "m").exists()
