"""Per-field statistics stored in dataset files, and `TrajectoryWindows`, the torch dataset of windows."""

import os
import shutil

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pdesuite.data import DatasetWriter, TrajectoryWindows, field_statistics, validate_dataset
from pdesuite.errors import BadInput

ATTRS = {"dataset": "toy", "problem": "toy", "solver": "none", "profile": "small", "seed": 0,
         "pdesuite_version": "test", "created": "2026-01-01T00:00:00", "params": {}}


def grid_file(path, n=(3, 2), n_t=10, fail_after=None, resume=False, fields=("a", "b")):
    """Two fields on a 5 × 4 grid, ``n`` train and valid samples of ``n_t`` frames, values of different
    scales per field; returns the arrays written."""
    rng = np.random.default_rng(1)
    data = {split: (rng.standard_normal((k, n_t, 5, 4, 2)) * [1.0, 30.0] + [0.5, -7.0]).astype(np.float32)
            for split, k in zip(("train", "valid"), n, strict=True)}
    with DatasetWriter(path, {**ATTRS, "fields": list(fields)}, resume=resume) as w:
        w.write_array("t", 0.5 * np.arange(n_t))
        w.write_array("x", np.linspace(0, 1, 5))
        w.write_array("y", np.linspace(0, 1, 4))
        written = 0
        for split, values in data.items():
            w.create_split(split, len(values), values.shape[1:], ["p", "q"])
            for i in w.todo(split):
                if written == fail_after:
                    raise KeyboardInterrupt
                w.write_sample(split, i, values[i], np.array([float(i), 10.0 + i]))
                written += 1
    return data


def mesh_file(path, n=3, n_t=10):
    """One field on 7 mesh nodes, a test split only (the statistics then come from it)."""
    rng = np.random.default_rng(2)
    points = rng.random((7, 2))
    values = rng.standard_normal((n, n_t, 7, 1)).astype(np.float32) * 3 + 1
    with DatasetWriter(path, {**ATTRS, "fields": ["u"]}) as w:
        w.write_array("t", np.linspace(0, 1, n_t))
        w.write_array("mesh/points", points)
        w.write_array("mesh/cells", np.array([[0, 1, 2], [2, 3, 4], [4, 5, 6]]), {"cell_type": "triangle"})
        w.create_split("test", n, values.shape[1:], ["k"])
        for i in range(n):
            w.write_sample("test", i, values[i], np.array([float(i)]))
    return {"test": values}


@pytest.fixture(params=["grid", "mesh"])
def dataset(request, tmp_path):
    """(path, arrays per split, the split the statistics are taken over) of a small grid or mesh file."""
    path = tmp_path / f"{request.param}.h5"
    if request.param == "grid":
        return path, grid_file(path), "train"
    return path, mesh_file(path), "test"


def numpy_stats(u):
    flat = u.astype(np.float64).reshape(-1, u.shape[-1])
    return {"mean": flat.mean(0), "std": flat.std(0), "min": flat.min(0), "max": flat.max(0)}


def assert_stats(stats, u, split):
    for key, value in numpy_stats(u).items():
        np.testing.assert_allclose(getattr(stats, key), value, rtol=1e-12, atol=1e-12, err_msg=key)
    assert stats.split == split and stats.samples == len(u) and stats.count == u[..., 0].size


def test_writer_stores_the_statistics(dataset):
    path, data, split = dataset
    with h5py.File(path) as f:
        assert f["stats/mean"].shape == (data[split].shape[-1],) and f["stats"].attrs["split"] == split
    stats = field_statistics(path)
    assert_stats(stats, data[split], split)
    assert stats.fields == (["a", "b"] if split == "train" else ["u"])
    summary = validate_dataset(path)
    assert summary["stats"]["split"] == split and summary["stats"]["std"] == pytest.approx(stats.std.tolist())


def test_a_resumed_write_counts_every_sample(tmp_path):
    path = tmp_path / "toy.h5"
    with pytest.raises(KeyboardInterrupt):
        grid_file(path, fail_after=2)
    data = grid_file(path, resume=True)
    assert_stats(field_statistics(path), data["train"], "train")


def test_files_without_stats_compute_them_read_only(tmp_path):
    path = tmp_path / "toy.h5"
    data = grid_file(path)
    old = tmp_path / "old.h5"
    shutil.copy(path, old)
    with h5py.File(old, "a") as f:
        del f["stats"]
    os.chmod(old, 0o444)
    computed = field_statistics(old)
    assert_stats(computed, data["train"], "train")
    np.testing.assert_array_equal(computed.std, field_statistics(path).std)  # the same computation
    with h5py.File(old) as f:
        assert "stats" not in f
    validate_dataset(old)  # /stats is optional
    assert_stats(field_statistics(path, "valid"), data["valid"], "valid")  # another split: computed
    with pytest.raises(BadInput, match="no split 'test'"):
        field_statistics(path, "test")


def test_the_well_export_takes_the_stored_statistics(tmp_path):
    """stats.yaml: a scalar field's mean and std are the file's; a vector field pools its components."""
    from pdesuite.data.export import export_the_well

    path = tmp_path / "toy.h5"
    u = grid_file(path, fields=("vx", "vy"))["train"].astype(np.float64)
    lines = (export_the_well(path, tmp_path / "well") / "stats.yaml").read_text().splitlines()
    assert lines[0] == "mean:" and lines[2] == "std:" and lines[1].startswith("  velocity:")
    assert float(lines[1].split()[-1]) == pytest.approx(u.mean(), rel=1e-12, abs=1e-12)
    assert float(lines[3].split()[-1]) == pytest.approx(u.std(), rel=1e-12)


@pytest.mark.parametrize(("damage", "message"), [("negative", "std is negative"), ("nan", "non-finite"),
                                                ("shape", "shape"), ("split", "names split")])
def test_validator_checks_the_stats(tmp_path, damage, message):
    path = tmp_path / "toy.h5"
    grid_file(path)
    with h5py.File(path, "a") as f:
        group = f["stats"]
        if damage == "negative":
            group["std"][...] = -1.0
        elif damage == "nan":
            group["mean"][0] = np.nan
        elif damage == "shape":
            del group["max"]
            group["max"] = np.ones(3)
        else:
            group.attrs["split"] = "test"
    with pytest.raises(BadInput, match=message):
        validate_dataset(path)


@pytest.mark.parametrize(("history", "horizon", "step"), [(1, 1, 1), (3, 1, 1), (2, 2, 2), (1, 3, 3)])
def test_windows_are_slices_of_the_stored_trajectories(dataset, history, horizon, step):
    path, data, split = dataset
    u = data[split]
    windows = TrajectoryWindows(path, split, history=history, horizon=horizon, step=step, normalize=False)
    n_starts = u.shape[1] - step * (history + horizon - 1)
    assert len(windows) == len(u) * n_starts and windows.n_starts == n_starts
    times = h5py.File(path)["t"][()]
    for k in range(len(windows)):
        item = windows[k]
        i, s = divmod(k, n_starts)
        assert (item["sample"], item["start"]) == (i, s)
        frames = s + step * np.arange(history + horizon)
        np.testing.assert_array_equal(item["input"].numpy(), u[i, frames[:history]])
        np.testing.assert_array_equal(item["target"].numpy(), u[i, frames[history:]])
        np.testing.assert_allclose(item["t"].numpy(), times[frames], rtol=1e-6)
        assert item["params"][0] == i
    with pytest.raises(IndexError):
        windows[len(windows)]


def test_normalisation_round_trip(dataset):
    path, data, split = dataset
    raw = TrajectoryWindows(path, split, history=2, normalize=False)
    windows = TrajectoryWindows(path, split, history=2)
    stats = field_statistics(path)
    np.testing.assert_array_equal(windows.stats.std, stats.std)
    item, plain = windows[3], raw[3]
    expected = (plain["input"].double().numpy() - stats.mean) / stats.std
    np.testing.assert_allclose(item["input"].numpy(), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(windows.denormalize(item["target"]), plain["target"], rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(windows.normalize(plain["target"]), item["target"])
    whole = windows.u.double().flatten(0, -2)  # the statistics' own split: mean 0, std 1 per field
    zeros = torch.zeros(whole.shape[-1], dtype=torch.float64)
    torch.testing.assert_close(whole.mean(0), zeros, atol=1e-5, rtol=0)
    torch.testing.assert_close(whole.std(0, correction=0), zeros + 1, atol=1e-5, rtol=0)


def test_gather_cuts_the_same_windows(dataset):
    path, _, split = dataset
    windows = TrajectoryWindows(path, split, history=2, horizon=2, step=1, dtype=torch.float64).to("cpu")
    generator = torch.Generator().manual_seed(0)
    samples = torch.randint(windows.n_samples, (7,), generator=generator)
    starts = torch.randint(windows.n_starts, (7,), generator=generator)
    batch = windows.gather(samples, starts)
    assert batch.shape == (7, 4, *windows.u.shape[2:]) and batch.dtype == torch.float64
    for b in range(7):
        item = windows[int(samples[b]) * windows.n_starts + int(starts[b])]
        torch.testing.assert_close(batch[b], torch.cat([item["input"], item["target"]]), rtol=0, atol=0)


def test_data_loader_batches(dataset):
    path, data, split = dataset
    loader = DataLoader(TrajectoryWindows(path, split, history=2), batch_size=4, shuffle=True, num_workers=0,
                        generator=torch.Generator().manual_seed(0))
    batches = [batch for batch, _ in zip(loader, range(2), strict=False)]
    spatial = data[split].shape[2:]
    assert len(batches) == 2
    for batch in batches:
        assert batch["input"].shape == (4, 2, *spatial) and batch["target"].shape == (4, 1, *spatial)
        assert batch["t"].shape == (4, 3) and batch["sample"].shape == (4,)


def test_bad_input_is_one_line(tmp_path):
    path = tmp_path / "toy.h5"
    grid_file(path)
    cases = [({"split": "test"}, "no split 'test'"), ({"history": 5, "horizon": 2, "step": 2}, "span 13 stored steps"),
             ({"history": 0}, "history must be a positive integer"), ({"step": -1}, "step must be"),
             ({"horizon": True}, "horizon must be"), ({"horizon": 1.5}, "horizon must be")]
    for kwargs, message in cases:
        with pytest.raises(BadInput, match=message) as info:
            TrajectoryWindows(path, **kwargs)
        assert "\n" not in str(info.value)


def test_a_user_model_trains_in_three_lines(tmp_path):
    path = tmp_path / "toy.h5"
    grid_file(path, n=(6, 1))
    torch.manual_seed(0)
    model = torch.nn.Linear(5 * 4 * 2, 5 * 4 * 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def epoch_loss() -> float:
        with torch.no_grad():
            return sum(float(torch.nn.functional.mse_loss(model(b["input"].flatten(1)), b["target"].flatten(1)))
                       for b in DataLoader(TrajectoryWindows(path, "train"), batch_size=16))

    before = epoch_loss()
    loader = DataLoader(TrajectoryWindows(path, "train"), batch_size=16, shuffle=True)
    for batch in loader:
        loss = torch.nn.functional.mse_loss(model(batch["input"].flatten(1)), batch["target"].flatten(1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert epoch_loss() < before


def test_autoregressive_surrogates_draw_their_pairs_as_windows(tiny_ks):
    """unet-mse & co. hold the training split once, as TrajectoryWindows whose tensor is the model's
    ``train_u`` buffer, and the windows follow the buffer when the model moves."""
    from pdesuite.surrogates.task import Task
    from pdesuite.surrogates.unet_mse import UNetMSE

    model = UNetMSE(Task.from_dataset(tiny_ks, physics=False), hidden=8, channel_mults=[1, 2], blocks_per_level=1,
                    val_trajectories=1, val_steps=4)
    assert model.train_u.data_ptr() == model.windows.u.data_ptr()
    assert model.windows.n_starts == model.n_starts and not model.windows.normalized
    model.double()  # replaces the buffers, as a move to another device does
    windows = model.training_windows()
    assert windows.u.dtype == torch.float64 and windows.u.data_ptr() == model.train_u.data_ptr()
    samples, starts = torch.tensor([0, 5, 2]), torch.tensor([3, 0, model.n_starts - 1])
    frames = starts[:, None] + model.time_step * torch.arange(model.history + 1)
    torch.testing.assert_close(windows.gather(samples, starts)[..., 0], model.train_u[samples[:, None], frames],
                               rtol=0, atol=0)
