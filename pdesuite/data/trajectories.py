"""Whole splits of a dataset file as arrays: trajectories with their per-sample coordinates,
parameters and extras (strings such as prompts included).

This is what data-driven surrogates train on (a physics-informed one learns one sample: see
`pdesuite.surrogates.task.Task`). Grid data only; mesh data come as graphs from `pdesuite.data.graphs`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pdesuite.data.reader import decode_json, open_dataset, open_h5
from pdesuite.errors import BadInput


@dataclass
class Trajectories:
    """One split of a grid dataset.

    Attributes:
        path, split: Where they come from.
        problem: The dataset's problem name; ``fields`` its field names.
        u: (n, n_t, *spatial, n_fields) float32 values.
        params: Parameter name -> (n,) float64 per-sample values.
        t: (n, n_t) per-sample times, or None where the times are the file's (``times``).
        x: (n, n_x) per-sample x, or None where the grid is the file's (``grid``).
        times: The file's /t; ``grid``: the file's /x, /y, /z that exist.
        extras: Other per-sample arrays of the split (numbers as arrays; strings, e.g. prompts, as lists).

    Shapes:
        n samples, n_t stored times, spatial grid dimensions, n_fields fields.
    """

    path: Path
    split: str
    problem: str
    fields: list[str]
    u: np.ndarray
    params: dict[str, np.ndarray]
    t: np.ndarray | None
    x: np.ndarray | None
    times: np.ndarray
    grid: dict[str, np.ndarray]
    extras: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.u.shape[0]

    @property
    def spatial_dims(self) -> int:
        return self.u.ndim - 3


def splits(path: str | os.PathLike) -> list[str]:
    """The splits present in a dataset file (train, valid, test order)."""
    return open_dataset(path).splits


def load_trajectories(path: str | os.PathLike, split: str, index: int | None = None) -> Trajectories:
    """Split ``split`` of the grid dataset ``path`` (only sample ``index`` when given).

    Raises BadInput for a missing split, an index out of range or mesh data.
    """
    meta = open_dataset(path)
    with open_h5(path) as f:
        present = [s for s in ("train", "valid", "test") if s in f]
        if split not in f:
            raise BadInput(f"{path} has no split {split!r} (has: {present})")
        if "mesh" in f:
            raise BadInput(f"{path} holds mesh data; load it with pdesuite.data.graphs")
        group = f[split]
        n = group["u"].shape[0]
        if index is not None and not 0 <= index < n:
            raise BadInput(f"sample {index} out of range: {split} of {path} has {n} samples")
        select = slice(None) if index is None else slice(index, index + 1)
        names = decode_json(group["params"].attrs.get("names", "[]"))
        params = group["params"][select]
        u = group["u"][select].astype(np.float32)
        if not np.all(np.isfinite(u)):
            raise BadInput(f"{path}: the {split} split contains {int(np.sum(~np.isfinite(u)))} NaN/inf value(s); "
                           f"reference data must be finite (pdesuite inspect {path} checks a file)")
        per_sample = {key: group[key] for key in group if key not in ("u", "params") and group[key].shape[:1] == (n,)}
        t = per_sample.pop("t")[select] if "t" in per_sample and per_sample["t"].ndim == 2 else None
        x = per_sample.pop("x")[select] if "x" in per_sample and per_sample["x"].ndim == 2 else None
        extras = {}
        for key, dataset in per_sample.items():
            values = dataset[select]
            if values.dtype.kind in "OSU":  # variable-length or fixed strings
                extras[key] = [v.decode() if isinstance(v, bytes) else str(v) for v in values.ravel()]
            else:
                extras[key] = values
        times = f["t"][()]
        grid = {axis: f[axis][()] for axis in ("x", "y", "z") if axis in f}
    return Trajectories(Path(path), split, meta.attrs.get("problem", ""), meta.fields, u,
                        {name: params[:, i].astype(np.float64) for i, name in enumerate(names)},
                        t, x, times, grid, extras)
