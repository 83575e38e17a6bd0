"""trajectory.npz: one trajectory, strided to a browser's size, read back as written."""

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.validation.trajectory_sample import (
    FILENAME,
    MAX_FRAMES,
    MAX_POINTS,
    MAX_VALUES,
    load_trajectory_sample,
    save_trajectory_sample,
    strides,
)


@pytest.mark.parametrize("shape", [(10, 64, 1), (200, 300, 2), (7, 20, 30, 3), (100, 200, 50, 1), (64, 128, 128, 3)])
def test_round_trip_keeps_every_kth_frame_and_point(tmp_path, shape):
    rng = np.random.default_rng(0)
    reference = rng.normal(size=shape)
    prediction = reference + 0.1
    fields = [f"f{i}" for i in range(shape[-1])]
    times = np.linspace(0.0, 1.0, shape[0])
    x = np.linspace(-1.0, 1.0, shape[1])
    name = save_trajectory_sample(tmp_path, reference, prediction, fields, times=times, grid={"x": x},
                                  label="rollout")
    assert name == FILENAME
    data = load_trajectory_sample(tmp_path / name)
    kt, *ks = strides(shape)
    index = (slice(None, None, kt), *(slice(None, None, k) for k in ks), slice(None))
    np.testing.assert_allclose(data["reference"], reference[index], rtol=1e-6)
    np.testing.assert_allclose(data["prediction"], prediction[index], rtol=1e-6)
    np.testing.assert_allclose(data["times"], times[::kt], rtol=1e-6)
    np.testing.assert_allclose(data["x"], x[:: ks[0]], rtol=1e-6)
    assert data["reference"].shape[0] <= MAX_FRAMES and all(n <= MAX_POINTS for n in data["reference"].shape[1:-1])
    assert data["reference"].size <= MAX_VALUES + np.prod(data["reference"].shape[1:])  # one frame of slack
    assert list(data["fields"]) == fields and str(data["label"]) == "rollout"
    assert ("y" in data) == (len(shape) == 4)


def test_mesh_data_and_mismatched_shapes_are_not_saved(tmp_path):
    assert save_trajectory_sample(tmp_path, np.zeros((3, 4, 5, 6, 1)), np.zeros((3, 4, 5, 6, 1)), ["u"]) is None
    assert save_trajectory_sample(tmp_path, np.zeros((3, 4, 1)), np.zeros((3, 5, 1)), ["u"]) is None
    assert not (tmp_path / FILENAME).exists()


def test_a_foreign_file_is_bad_input(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInput, match="not a readable trajectory sample"):
        load_trajectory_sample(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", times=np.zeros(2))
    with pytest.raises(BadInput, match="missing"):
        load_trajectory_sample(tmp_path / "y.npz")
