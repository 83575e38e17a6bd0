"""Dataset writer (atomic, resumable), reader, validator and torch dataset, without any solver."""

import json

import h5py
import numpy as np
import pytest

from pdesuite.data import DatasetWriter, open_dataset, validate_dataset
from pdesuite.data.writer import partial_path
from pdesuite.errors import BadInput

ATTRS = {"dataset": "toy", "problem": "toy", "solver": "none", "profile": "small", "seed": 3,
         "pdesuite_version": "test", "created": "2026-01-01T00:00:00", "params": {"a": 1}, "fields": ["u", "v"]}


def write_toy(path, n=4, fail_after=None, attrs=ATTRS, resume=False):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, 2, 5, 3, 2)).astype(np.float32)
    with DatasetWriter(path, attrs, resume=resume) as w:
        w.write_array("t", np.array([0.0, 1.0]))
        w.write_array("x", np.linspace(0, 1, 5))
        w.write_array("y", np.linspace(0, 1, 3))
        w.create_split("train", n, (2, 5, 3, 2), ["p"])
        for written, i in enumerate(w.todo("train")):
            if fail_after is not None and written == fail_after:
                raise KeyboardInterrupt
            w.write_sample("train", i, data[i], np.array([float(i)]))
    return data


def test_roundtrip_and_layout(tmp_path):
    path = tmp_path / "toy.h5"
    data = write_toy(path)
    meta = open_dataset(path)
    assert meta.fields == ["u", "v"] and meta.params == {"a": 1} and meta.splits == ["train"]
    split = meta.split("train")
    np.testing.assert_array_equal(split["u"], data)
    assert split["param_names"] == ["p"] and "_done" not in split
    with h5py.File(path) as f:
        assert f["train/u"].chunks == (1, 2, 5, 3, 2) and f["train/u"].compression == "gzip"
        assert json.loads(f.attrs["params"]) == {"a": 1} and f.attrs["format_version"] == 1
    summary = validate_dataset(path)
    assert summary["splits"]["train"]["per_field"]["v"][1] == pytest.approx(data[..., 1].max())


def test_failure_leaves_nothing(tmp_path):
    path = tmp_path / "toy.h5"
    with pytest.raises(RuntimeError):
        with DatasetWriter(path, ATTRS) as w:
            w.write_array("t", np.zeros(1))
            raise RuntimeError("solver blew up")
    assert not path.exists() and not partial_path(path).exists()


def test_interrupted_job_keeps_partial_file(tmp_path):
    path = tmp_path / "toy.h5"
    with pytest.raises(KeyboardInterrupt):
        write_toy(path, n=6, fail_after=3)
    assert not path.exists() and partial_path(path).exists()
    with h5py.File(partial_path(path)) as f:
        assert int(f["train/_done"][()].sum()) == 3


def test_incomplete_split_is_not_published(tmp_path):
    path = tmp_path / "toy.h5"
    with pytest.raises(KeyboardInterrupt):
        write_toy(path, n=6, fail_after=3)
    with pytest.raises(RuntimeError, match="incomplete"):
        with DatasetWriter(path, ATTRS, resume=True):
            pass
    assert not path.exists()


def test_resume_completes_identically(tmp_path):
    reference = write_toy(tmp_path / "ref.h5", n=6)
    path = tmp_path / "toy.h5"
    with pytest.raises(KeyboardInterrupt):
        write_toy(path, n=6, fail_after=2)
    with pytest.raises(BadInput, match="--resume"):  # finished samples are never dropped silently
        write_toy(path, n=6)
    write_toy(path, n=6, resume=True)
    np.testing.assert_array_equal(open_dataset(path).split("train")["u"], reference)
    assert not partial_path(path).exists()


def test_resume_checks_the_partial_file(tmp_path):
    path = tmp_path / "toy.h5"
    with pytest.raises(BadInput, match="nothing to resume"):
        DatasetWriter(path, ATTRS, resume=True)
    with pytest.raises(KeyboardInterrupt):
        write_toy(path, n=6, fail_after=2)
    with pytest.raises(BadInput, match="other parameters"):
        with DatasetWriter(path, {**ATTRS, "seed": 4}, resume=True):
            pass
    with DatasetWriter(path, {**ATTRS, "seed": 4}, overwrite=True) as w:  # --overwrite starts again
        assert w.resumed_samples == 0
        w.write_array("t", np.zeros(1))
        w.write_array("x", np.zeros(1))
        w.create_split("train", 1, (1, 1, 2), ["p"])
        w.write_sample("train", 0, np.zeros((1, 1, 2)), np.zeros(1))
    assert not partial_path(path).exists()


def test_existing_output_is_never_clobbered(tmp_path):
    path = tmp_path / "toy.h5"
    path.write_bytes(b"precious")
    with pytest.raises(BadInput, match="exists"):
        DatasetWriter(path, ATTRS)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_are_bad_input(tmp_path, damage):
    path = tmp_path / "toy.h5"
    write_toy(path)
    raw = path.read_bytes()
    path.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"\x00not hdf5" * 100, "empty": b""}[damage])
    with pytest.raises(BadInput) as info:
        validate_dataset(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("edit,message", [
    (lambda f: f.attrs.__setitem__("format", "other"), "not a pdesuite dataset"),
    (lambda f: f.attrs.__setitem__("format_version", 9), "format_version"),
    (lambda f: f.attrs.__delitem__("seed"), "missing root attribute"),
    (lambda f: f.__delitem__("t"), "missing /t"),
    (lambda f: f.__delitem__("y"), "expected"),
    (lambda f: f.attrs.__setitem__("fields", json.dumps(["u"])), "expected"),
    (lambda f: f["train/params"].attrs.__setitem__("names", json.dumps(["p", "q"])), "params"),
    (lambda f: f["train/u"].__setitem__((0, 0, 0, 0, 0), np.nan), "non-finite"),
])
def test_layout_violations_are_reported(tmp_path, edit, message):
    path = tmp_path / "toy.h5"
    write_toy(path)
    with h5py.File(path, "a") as f:
        edit(f)
    with pytest.raises(BadInput, match=message):
        validate_dataset(path)


def test_torch_dataset(tmp_path):
    torch = pytest.importorskip("torch")
    from pdesuite.data.torch_dataset import FieldDataset

    path = tmp_path / "toy.h5"
    data = write_toy(path)
    ds = FieldDataset(path, "train", dtype=torch.float64)
    assert len(ds) == 4
    item = ds[2]
    assert item["u"].dtype == torch.float64 and item["u"].shape == (2, 5, 3, 2)
    np.testing.assert_allclose(item["u"].numpy(), data[2])
    assert float(item["params"][0]) == 2.0
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["u"].shape == (4, 2, 5, 3, 2)
    with pytest.raises(BadInput):
        FieldDataset(path, "test")
