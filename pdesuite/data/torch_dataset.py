"""Torch datasets over one split of a dataset file: whole samples (`FieldDataset`) and windows of
trajectories (`TrajectoryWindows`), for grid and mesh data alike."""

from __future__ import annotations

import os
from functools import cached_property

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from pdesuite.data.reader import json_attr, open_dataset, open_h5
from pdesuite.data.statistics import FieldStatistics, field_statistics
from pdesuite.errors import BadInput

#: The standard deviation below which a field is only shifted by its mean when normalised.
MIN_STD = 1e-8


class FieldDataset(Dataset):
    """Samples of ``/{split}/u`` as tensors, read lazily (one chunk per sample).

    Each item is a dict with ``u`` (n_t, *spatial, n_fields) and ``params`` (n_params,), plus the
    split's extra per-sample arrays (strings, e.g. prompts, as Python str). The HDF5 handle is opened
    per worker process.

    Args:
        path: Dataset file.
        split: "train", "valid" or "test".
        dtype: Tensor dtype of the floating-point arrays.
    """

    def __init__(self, path: str | os.PathLike, split: str = "train", dtype: torch.dtype = torch.float32):
        self.meta = open_dataset(path)
        if split not in self.meta.splits:
            raise BadInput(f"{path} has no split {split!r} (has: {self.meta.splits})")
        self.path, self.split, self.dtype = str(path), split, dtype
        with h5py.File(self.path, "r") as f:
            group = f[split]
            self._len = group["u"].shape[0]
            self._keys = [k for k in group if group[k].ndim >= 1 and group[k].shape[0] == self._len]
        self._file: h5py.File | None = None

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self._len:
            raise IndexError(index)
        if self._file is None:
            self._file = h5py.File(self.path, "r")
        group = self._file[self.split]
        item = {}
        for key in self._keys:
            value = group[key][index]
            kind = getattr(getattr(value, "dtype", None), "kind", "")
            if isinstance(value, bytes | str) or kind in "OSU" and kind:
                item[key] = value.decode() if isinstance(value, bytes) else str(value)  # a prompt, a label
                continue
            value = np.asarray(value)
            if np.issubdtype(value.dtype, np.floating):
                item[key] = torch.as_tensor(value, dtype=self.dtype)
            elif np.issubdtype(value.dtype, np.number):
                item[key] = torch.as_tensor(value)
        return item

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_file"] = None  # h5py handles do not pickle; each DataLoader worker reopens
        return state


class TrajectoryWindows(Dataset):
    """Windows of the trajectories of one split, for training models that step in time.

    Item k is window (sample i, start s), k = i · n_starts + s: ``history`` input frames s, s + step,
    ..., and the ``horizon`` frames after them at the same stride, where ``step`` counts stored time
    steps; every start whose last frame is stored counts (n_starts = n_t - step·(history + horizon - 1)).
    Each item is a dict:

    * ``input`` (history, *spatial, F) and ``target`` (horizon, *spatial, F) — normalised per field
      with the file's stored statistics (`field_statistics`: (u - mean) / std) when ``normalize``;
    * ``params`` (n_params,), ``t`` (history + horizon,) the frames' times, ``sample`` i, ``start`` s.

    ``*spatial`` is the grid, or (n_nodes,) for mesh data. The split is read into memory once, as one
    tensor ``u`` (n, n_t, *spatial, F); `to` moves it to a device, and `gather` then cuts whole batches
    of windows there, without a DataLoader. Three lines train on a file::

        loader = DataLoader(TrajectoryWindows("ks.h5", "train", history=4), batch_size=32, shuffle=True)
        for batch in loader:
            loss = criterion(model(batch["input"]), batch["target"])

    Args:
        path: Dataset file.
        split: "train", "valid" or "test".
        history, horizon: Input and target frames per window.
        step: Stored time steps between consecutive frames.
        normalize: Normalise the fields with the file's statistics (those of its training split).
        dtype: Tensor dtype of ``u``, ``params`` and ``t``.
        values: The split's ``u`` when the caller has read it already (its shape is checked against the
            file's); a float32 array of ``dtype`` float32 is then shared, not copied or read again.
    """

    def __init__(self, path: str | os.PathLike, split: str = "train", history: int = 1, horizon: int = 1,
                 step: int = 1, normalize: bool = True, dtype: torch.dtype = torch.float32,
                 values: np.ndarray | None = None):
        for name, value in (("history", history), ("horizon", horizon), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise BadInput(f"TrajectoryWindows: {name} must be a positive integer, got {value!r}")
        meta = open_dataset(path)
        with open_h5(path) as f:
            if split not in meta.splits:
                raise BadInput(f"{path} has no split {split!r} (has: {meta.splits})")
            group = f[split]
            u = group["u"]
            if u.ndim < 4:
                raise BadInput(f"{path}: /{split}/u has shape {u.shape}, not (samples, t, *space, fields)")
            n_t = u.shape[1]
            span = step * (history + horizon - 1) + 1
            if span > n_t:
                raise BadInput(f"history {history} + horizon {horizon} frames, {step} stored step(s) apart, "
                               f"span {span} stored steps; the {split} trajectories of {path} have {n_t}")
            if values is None:
                values = u[()]
            elif np.shape(values) != u.shape:
                raise BadInput(f"TrajectoryWindows: values of shape {np.shape(values)} for /{split}/u of shape "
                               f"{u.shape} in {path}")
            params = group["params"][()]
            self.param_names: list[str] = list(json_attr(group["params"].attrs, "names", []) or [])
            times = group["t"][()] if "t" in group and group["t"].ndim == 2 else f["t"][()]
        self.path, self.split, self.dtype = str(path), split, dtype
        self.history, self.horizon, self.step = int(history), int(horizon), int(step)
        self.fields = meta.fields
        self.normalized = bool(normalize)
        #: The split's values (n, n_t, *spatial, F), normalised when ``normalize``.
        self.u = torch.as_tensor(values, dtype=dtype)
        if self.normalized:
            mean, std = self._moments(self.u)
            self.u.sub_(mean).div_(std)  # in place: the split is held once
        self.params = torch.as_tensor(params, dtype=dtype)
        self.t = torch.as_tensor(np.array(np.broadcast_to(times, (len(values), n_t))), dtype=dtype)

    # -- sizes ---------------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return self.u.shape[0]

    @property
    def n_starts(self) -> int:
        """Windows per trajectory."""
        return self.u.shape[1] - self.step * (self.history + self.horizon - 1)

    def __len__(self) -> int:
        return self.n_samples * self.n_starts

    # -- normalisation ---------------------------------------------------------------------------------
    @cached_property
    def stats(self) -> FieldStatistics:
        """The file's per-field statistics (`field_statistics`; its training split's)."""
        return field_statistics(self.path)

    def _moments(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.as_tensor(self.stats.mean, dtype=like.dtype, device=like.device)
        std = torch.as_tensor(np.maximum(self.stats.std, MIN_STD), dtype=like.dtype, device=like.device)
        return mean, std

    def normalize(self, u: torch.Tensor) -> torch.Tensor:
        """(u - mean) / std per field (the last axis), with the file's statistics (std floored at 1e-8)."""
        mean, std = self._moments(u)
        return (u - mean) / std

    def denormalize(self, u: torch.Tensor) -> torch.Tensor:
        """The inverse of `normalize`: values in the file's units."""
        mean, std = self._moments(u)
        return u * std + mean

    # -- windows ---------------------------------------------------------------------------------------
    def frames(self, starts: torch.Tensor) -> torch.Tensor:
        """Stored time indices (b, history + horizon) of the windows starting at ``starts`` (b,)."""
        offsets = self.step * torch.arange(self.history + self.horizon, device=starts.device)
        return starts[:, None] + offsets

    def gather(self, samples, starts) -> torch.Tensor:
        """Windows (b, history + horizon, *spatial, F) of samples (b,) at starts (b,), on the device of
        ``u``: the frames of ``input`` followed by those of ``target``, as `__getitem__` gives them."""
        device = self.u.device
        samples = torch.as_tensor(samples, dtype=torch.long, device=device)
        starts = torch.as_tensor(starts, dtype=torch.long, device=device)
        return self.u[samples[:, None], self.frames(starts)]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(index)
        sample, start = divmod(index, self.n_starts)
        frames = self.frames(torch.tensor([start]))[0]
        window = self.u[sample, frames.to(self.u.device)]
        return {"input": window[: self.history], "target": window[self.history :], "params": self.params[sample],
                "t": self.t[sample, frames.to(self.t.device)], "sample": sample, "start": start}

    def to(self, device: torch.device | str) -> TrajectoryWindows:
        """Move the split's tensors to ``device`` (in place); returns the dataset."""
        self.u, self.params, self.t = self.u.to(device), self.params.to(device), self.t.to(device)
        return self
