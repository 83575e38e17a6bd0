"""Atomic, resumable writer for dataset files.

The file is built under a hidden temporary name beside the target (``.NAME.partial``) and renamed
onto the target only when every sample is written, so the target is either absent or complete.
If the job is interrupted, the partial file keeps the samples written so far together with the
run's parameters; the same command run again continues from there (`resume=True`). Just before the
rename, the per-field statistics of ``u`` are read back from the file into ``/stats``
(`pdesuite.data.statistics`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from pdesuite.data.format import COMPRESSION, FORMAT, FORMAT_VERSION
from pdesuite.data.statistics import write_statistics
from pdesuite.errors import BadInput
from pdesuite.io import FileLock, check_output_path


def partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def check_partial(path: Path, resume: bool, overwrite: bool) -> None:
    """Decide what to do with the partial file of an interrupted run, before any work.

    ``resume`` requires one; without ``resume`` an existing one is an error unless ``overwrite``
    (which discards it), so finished samples are never thrown away silently.
    """
    partial = partial_path(path)
    if resume and not partial.exists():
        raise BadInput(f"nothing to resume: no partial file {partial} from an interrupted run")
    if partial.exists() and not resume and not overwrite:
        raise BadInput(f"an interrupted run left {partial}: pass --resume to continue it, "
                       "or --overwrite to start again")


class DatasetWriter:
    """Write a dataset file sample by sample.

    Args:
        path: Target file.
        attrs: Root attributes (provenance); ``params`` and ``fields`` may be dicts/lists (stored as JSON).
        overwrite: Replace an existing target on success.
        resume: Continue the partial file of an interrupted run (same dataset, ``params`` and seed).

    The target path is locked (`pdesuite.io.FileLock`) from construction to the end of the
    with-block: another process writing it is refused with its PID.

    Usage:
        with DatasetWriter(path, attrs) as w:
            w.write_array("t", t)
            w.create_split("train", n, sample_shape, param_names)
            for i in w.todo("train"):
                w.write_sample("train", i, u, params)
    """

    def __init__(self, path: str | os.PathLike, attrs: dict, overwrite: bool = False, resume: bool = False):
        self.path = check_output_path(path, overwrite)
        self.partial = partial_path(self.path)
        self.lock = FileLock(self.path)  # held from here to the end of the with-block (re-entrant)
        self.lock.__enter__()
        try:
            check_output_path(path, overwrite)  # again under the lock: another writer may have just finished
            check_partial(self.path, resume, overwrite)
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise
        self.attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, **attrs}
        self.resume = resume
        self.file: h5py.File | None = None
        self.resumed_samples = 0

    def _identity(self) -> str:
        return json.dumps([self.attrs.get("dataset"), self.attrs.get("params"), self.attrs.get("seed")],
                          sort_keys=True, default=str)

    def __enter__(self) -> DatasetWriter:
        try:
            return self._open()
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise

    def _open(self) -> DatasetWriter:
        if self.resume:
            try:
                f = h5py.File(self.partial, "a")
            except OSError:
                raise BadInput(f"the partial file {self.partial} is unreadable; "
                               "use --overwrite to start again") from None
            if f.attrs.get("_identity") != self._identity():
                f.close()
                raise BadInput(f"the partial file {self.partial} was written with other parameters or seed; "
                               "use --overwrite to start again")
            self.file = f
            self.resumed_samples = sum(int(np.sum(g["_done"][()])) for g in f.values()
                                       if isinstance(g, h5py.Group) and "_done" in g)
        else:
            self.partial.unlink(missing_ok=True)
            self.file = h5py.File(self.partial, "w")
            self.file.attrs["_identity"] = self._identity()
        for key, value in self.attrs.items():
            if isinstance(value, dict | list):
                value = json.dumps(value)
            self.file.attrs[key] = "" if value is None else value
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._finish(exc_type)
        finally:
            self.lock.__exit__(None, None, None)

    def _finish(self, exc_type) -> None:
        assert self.file is not None
        if exc_type is None:
            groups = [g for g in self.file.values() if isinstance(g, h5py.Group) and "_done" in g]
            try:
                for group in groups:
                    if not np.all(group["_done"][()]):
                        raise RuntimeError(f"split {group.name} is incomplete")
                # per-field statistics, read back from the file (a resumed run's earlier samples included)
                write_statistics(self.file)
            except BaseException:
                self.file.close()  # the partial file stays, for resuming
                raise
            for group in groups:
                del group["_done"]
            del self.file.attrs["_identity"]
            self.file.close()
            os.replace(self.partial, self.path)
        else:
            self.file.close()
            # An interruption keeps the partial file for resuming; any other failure removes it.
            if not issubclass(exc_type, KeyboardInterrupt):
                self.partial.unlink(missing_ok=True)

    # -- structure ------------------------------------------------------------------------------
    def write_array(self, name: str, data, attrs: dict | None = None) -> None:
        """A whole array at path ``name`` (coordinates, mesh), replaced if present."""
        if name in self.file:
            del self.file[name]
        dset = self.file.create_dataset(name, data=np.asarray(data))
        for key, value in (attrs or {}).items():
            dset.attrs[key] = json.dumps(value) if isinstance(value, dict | list) else value

    def create_split(self, split: str, n_samples: int, sample_shape: tuple[int, ...],
                     param_names: list[str], dtype=np.float32,
                     extras: dict[str, tuple[tuple[int, ...], object]] | None = None) -> None:
        """Make ``/{split}/u`` (n_samples, *sample_shape), ``params`` and optional extra arrays.

        Extras map name -> (per-sample shape, dtype). Existing splits (resume) are kept; the group
        itself may exist already, holding the split's own mesh.
        """
        group = self.file.require_group(split)
        if "u" in group:
            return
        chunk = (1, *sample_shape)
        group.create_dataset("u", shape=(n_samples, *sample_shape), dtype=dtype, chunks=chunk, **COMPRESSION)
        params = group.create_dataset("params", shape=(n_samples, len(param_names)), dtype=np.float64)
        params.attrs["names"] = json.dumps(list(param_names))
        for name, (shape, extra_dtype) in (extras or {}).items():
            group.create_dataset(name, shape=(n_samples, *shape), dtype=extra_dtype,
                                 chunks=(1, *shape) if shape else None, **(COMPRESSION if shape else {}))
        group.create_dataset("_done", data=np.zeros(n_samples, dtype=bool))

    def todo(self, split: str) -> list[int]:
        """Indices of the samples of ``split`` not written yet."""
        return [int(i) for i in np.flatnonzero(~self.file[split]["_done"][()])]

    def write_sample(self, split: str, index: int, u: np.ndarray, params: np.ndarray,
                     extras: dict[str, np.ndarray] | None = None) -> None:
        group = self.file[split]
        if u.shape != group["u"].shape[1:]:
            raise ValueError(f"sample shape {u.shape} != {group['u'].shape[1:]}")
        group["u"][index] = u
        group["params"][index] = params
        for name, value in (extras or {}).items():
            group[name][index] = value
        group["_done"][index] = True
        self.file.flush()
