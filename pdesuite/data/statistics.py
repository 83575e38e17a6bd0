"""Per-field statistics of a dataset's ``u``: the ``/stats`` group of a file (see docs/dataset-format.md).

`DatasetWriter` stores them when it finishes a file; `field_statistics` reads them back, or computes
them the same way for older files without the group. They are taken over the training split (the
first split present where there is none), over all its samples, times and points, accumulated in
float64 one sample at a time, so a split never has to fit in memory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import h5py
import numpy as np

from pdesuite.data.format import SPLITS
from pdesuite.data.reader import json_attr, open_dataset, open_h5
from pdesuite.errors import BadInput

#: The group holding the statistics, and its per-field arrays.
STATS_GROUP = "stats"
STATS_KEYS = ("mean", "std", "min", "max")


@dataclass(frozen=True)
class FieldStatistics:
    """Statistics of ``/{split}/u`` per field.

    Attributes:
        mean, std, min, max: (n_fields,) float64; ``std`` is the population standard deviation.
        split: The split they were taken over; ``fields`` the field names.
        samples: Samples of that split; ``count`` the values per field (samples × times × points).
    """

    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    split: str
    fields: list[str]
    samples: int
    count: int

    def as_dict(self) -> dict:
        """Plain lists and numbers (JSON-ready)."""
        out = {key: getattr(self, key).tolist() for key in STATS_KEYS}
        return {**out, "split": self.split, "fields": list(self.fields), "samples": self.samples, "count": self.count}


def default_split(f: h5py.File) -> str | None:
    """The split statistics are taken over: train when it has values, else the first split that has."""
    present = [s for s in SPLITS if s in f and "u" in f[s] and f[s]["u"].size > 0]
    return "train" if "train" in present else (present[0] if present else None)


def compute_statistics(f: h5py.File, split: str) -> FieldStatistics:
    """Statistics of ``/{split}/u`` of an open file, streamed one sample at a time (Chan et al.'s
    pairwise update of count, mean and summed squared deviations, in float64)."""
    u = f[split]["u"]
    n_fields = u.shape[-1]
    count, mean, m2 = 0, np.zeros(n_fields), np.zeros(n_fields)
    low, high = np.full(n_fields, np.inf), np.full(n_fields, -np.inf)
    for i in range(u.shape[0]):
        x = np.asarray(u[i], dtype=np.float64).reshape(-1, n_fields)
        k = x.shape[0]
        if k == 0:
            continue
        sample_mean = x.mean(axis=0)
        sample_m2 = np.square(x - sample_mean).sum(axis=0)
        total = count + k
        delta = sample_mean - mean
        mean = mean + delta * (k / total)
        m2 = m2 + sample_m2 + np.square(delta) * (count * k / total)
        count = total
        low, high = np.minimum(low, x.min(axis=0)), np.maximum(high, x.max(axis=0))
    if count == 0:
        raise BadInput(f"{f.filename}: the {split} split has no values to take statistics over")
    fields = json_attr(f.attrs, "fields", None)
    if not isinstance(fields, list) or len(fields) != n_fields:
        fields = [f"field{k}" for k in range(n_fields)]
    return FieldStatistics(mean, np.sqrt(m2 / count), low, high, split, [str(name) for name in fields],
                           int(u.shape[0]), int(count))


def write_statistics(f: h5py.File) -> FieldStatistics | None:
    """Compute the statistics of a file open for writing and store them in ``/stats`` (replacing any);
    None (nothing written) when no split has samples."""
    split = default_split(f)
    if split is None:
        return None
    stats = compute_statistics(f, split)
    if STATS_GROUP in f:
        del f[STATS_GROUP]
    group = f.create_group(STATS_GROUP)
    for key in STATS_KEYS:
        group.create_dataset(key, data=getattr(stats, key))
    group.attrs.update({"split": stats.split, "fields": json.dumps(stats.fields), "samples": stats.samples,
                        "count": stats.count})
    return stats


def read_statistics(f: h5py.File) -> FieldStatistics:
    """The ``/stats`` group of an open file."""
    group = f[STATS_GROUP]
    attrs = {key: json_attr(group.attrs, key) for key in ("split", "fields", "samples", "count")}
    arrays = {key: np.asarray(group[key][()], dtype=np.float64) for key in STATS_KEYS}
    return FieldStatistics(**arrays, split=str(attrs["split"]), fields=list(attrs["fields"]),
                           samples=int(attrs["samples"]), count=int(attrs["count"]))


def field_statistics(path: str | os.PathLike, split: str | None = None) -> FieldStatistics:
    """Per-field mean, std, min and max of the dataset file ``path`` (see `FieldStatistics`).

    Read from the file's ``/stats`` group when it holds them for ``split`` (default: the split they
    were stored for); otherwise computed in memory the same way, without writing to the file (older
    files, read-only ones, another split).
    """
    meta = open_dataset(path)
    with open_h5(path) as f:
        if split is not None and split not in f:
            raise BadInput(f"{path} has no split {split!r} (has: {meta.splits})")
        if STATS_GROUP in f and (split is None or json_attr(f[STATS_GROUP].attrs, "split") == split):
            return read_statistics(f)
        split = split or default_split(f)
        if split is None:
            raise BadInput(f"{path} has no split with samples to take statistics over")
        return compute_statistics(f, split)
