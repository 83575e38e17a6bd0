"""A torch `Dataset` over one split of a dataset file."""

from __future__ import annotations

import os

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from pdesuite.data.reader import open_dataset
from pdesuite.errors import BadInput


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
