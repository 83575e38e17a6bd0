"""One trajectory of an evaluation, small enough to explore in a browser: ``trajectory.npz``.

The rollout, time-stepping and generation evaluators save the first evaluated trajectory, reference
and prediction, beside their figures; ``pdesuite report`` turns it into a chart with a slider over
time. The file holds (all float32 but the names):

    times      (T,)                 time of each kept frame (or the frame index where times are unknown)
    reference  (T, *spatial, F)     F fields on a 1D (n_x) or 2D (n_x, n_y) grid
    prediction (T, *spatial, F)
    x, y       (n_x,), (n_y,)       grid coordinates (y only in 2D)
    fields     (F,) str             field names
    label      () str               what the prediction is ("rollout", "generated", ...)

At most `MAX_FRAMES` frames, `MAX_POINTS` points per axis and `MAX_VALUES` values per array are kept
(evenly strided; `strides`), so the file and the report page that embeds it stay small (a few MB of
JSON at most): it is a picture, not data for further analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.io import write_atomic

FILENAME = "trajectory.npz"
MAX_FRAMES = 48
MAX_POINTS = 96
MAX_VALUES = 2**18


def strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The stride along each axis of a (T, *spatial, F) trajectory that `save_trajectory_sample` keeps."""
    space = [max(1, -(-n // MAX_POINTS)) for n in shape[1:-1]]
    per_frame = int(np.prod([-(-n // k) for n, k in zip(shape[1:-1], space, strict=True)])) * shape[-1]
    frames = max(2, min(MAX_FRAMES, MAX_VALUES // max(per_frame, 1)))
    return (max(1, -(-shape[0] // frames)), *space)


def save_trajectory_sample(output: Path, reference: np.ndarray, prediction: np.ndarray, fields: list[str],
                           times: np.ndarray | None = None, grid: dict[str, np.ndarray] | None = None,
                           label: str = "prediction") -> str | None:
    """Write `FILENAME` into ``output`` from one trajectory (T, *spatial, F) pair; returns the file name.

    ``grid`` maps "x" (and "y") to coordinates; missing ones become point indices. Mesh data and 3D
    grids are not saved (returns None): their evaluators draw pictures instead.
    """
    reference, prediction = np.asarray(reference), np.asarray(prediction)
    if reference.shape != prediction.shape or reference.ndim not in (3, 4) or reference.shape[-1] != len(fields):
        return None
    n_t, spatial = reference.shape[0], reference.shape[1:-1]
    times = np.arange(n_t, dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
    step_t, *step_space = strides(reference.shape)
    keep_t = slice(None, None, step_t)
    if len(times) != n_t:
        raise BadInput(f"{len(times)} times for a trajectory of {n_t} frames")
    axes = ("x", "y")[: len(spatial)]
    space = tuple(slice(None, None, k) for k in step_space)
    coordinates = {}
    for axis, n, keep in zip(axes, spatial, space, strict=True):
        values = (grid or {}).get(axis)
        values = np.arange(n, dtype=np.float64) if values is None or len(values) != n else np.asarray(values)
        coordinates[axis] = values[keep].astype(np.float32)
    index = (keep_t, *space, slice(None))
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, times=times[keep_t].astype(np.float32), label=np.array(label),
                                reference=reference[index].astype(np.float32),
                                prediction=prediction[index].astype(np.float32),
                                fields=np.array(list(fields)), **coordinates)

    write_atomic(output / FILENAME, write)
    return FILENAME


def load_trajectory_sample(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a `FILENAME` file (see the module docstring); BadInput when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {key: f[key] for key in f.files}
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} is not a readable trajectory sample: {exc}") from None
    missing = [k for k in ("times", "reference", "prediction", "fields", "x") if k not in data]
    if missing or data["reference"].shape != data["prediction"].shape:
        raise BadInput(f"{path} is not a trajectory sample (missing {', '.join(missing) or 'matching shapes'})")
    return data
