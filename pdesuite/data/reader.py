"""Read dataset files into numpy arrays."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pdesuite.data.format import SPLITS
from pdesuite.errors import BadInput


def open_h5(path: str | os.PathLike) -> h5py.File:
    """Open an HDF5 file for reading; a missing, truncated or non-HDF5 file is BadInput."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"dataset file not found: {path}")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        reason = str(exc).split(";")[0].split("(")[0].strip() or "unreadable"
        raise BadInput(f"{path} is not a readable HDF5 file (corrupt or truncated: {reason})") from None


def decode_json(value):
    """An HDF5 attribute value: bytes decoded, JSON text parsed (other text returned as is)."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def json_attr(attrs, key, default=None):
    """``attrs[key]`` decoded (`decode_json`), or ``default``."""
    return decode_json(attrs.get(key, default))


@dataclass
class DatasetFile:
    """A dataset file's metadata, with arrays read on demand.

    Attributes:
        path: The file.
        attrs: Root attributes, JSON values decoded (``params`` is a dict, ``fields`` a list).
    """

    path: Path
    attrs: dict

    @property
    def name(self) -> str:
        return self.attrs["dataset"]

    @property
    def fields(self) -> list[str]:
        return list(self.attrs["fields"])

    @property
    def params(self) -> dict:
        return dict(self.attrs["params"])

    @property
    def splits(self) -> list[str]:
        with h5py.File(self.path, "r") as f:
            return [s for s in SPLITS if s in f]

    def read(self, name: str) -> np.ndarray:
        """Any array by its path in the file (``"t"``, ``"mesh/points"``, ``"train/u"``)."""
        with h5py.File(self.path, "r") as f:
            if name not in f:
                raise BadInput(f"{self.path} has no array {name!r}")
            return f[name][()]

    def split(self, split: str = "train") -> dict[str, np.ndarray]:
        """All arrays of one split: ``u``, ``params`` (+ ``param_names``), extras."""
        with h5py.File(self.path, "r") as f:
            if split not in f:
                raise BadInput(f"{self.path} has no split {split!r} (has: {[s for s in SPLITS if s in f]})")
            group = f[split]
            out = {key: group[key][()] for key in group if isinstance(group[key], h5py.Dataset)}
            out["param_names"] = json_attr(group["params"].attrs, "names", [])
        return out

    def shape(self, name: str) -> tuple[int, ...] | None:
        """The shape of the array at ``name`` (e.g. "train/u") without reading it; None if absent."""
        with h5py.File(self.path, "r") as f:
            return tuple(f[name].shape) if name in f else None

    def coordinates(self, split: str | None = None) -> dict[str, np.ndarray]:
        """Root coordinates present: t, x, y, z and mesh points/cells (``split``'s own mesh where it has one)."""
        out = {}
        with h5py.File(self.path, "r") as f:
            for key in ("t", "x", "y", "z", "mesh/points", "mesh/cells"):
                where = f"{split}/{key}" if split and key.startswith("mesh/") and f"{split}/{key}" in f else key
                if where in f:
                    out[key.replace("mesh/", "mesh_")] = f[where][()]
        return out


def open_dataset(path: str | os.PathLike) -> DatasetFile:
    """Open a dataset file (validated lightly: readable, with decodable root attributes)."""
    with open_h5(path) as f:
        attrs = {key: json_attr(f.attrs, key) for key in f.attrs}
    if attrs.get("format") != "pdesuite-dataset":
        raise BadInput(f"{path} is not a pdesuite dataset (format attribute {attrs.get('format')!r})")
    return DatasetFile(Path(path), attrs)
