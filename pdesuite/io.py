"""Atomic file writes and run-folder paths: the one place pdesuite writes results from.

Every result file (JSON, torch checkpoints, arrays, figures, text) is written under a hidden
temporary name beside its target (``.NAME.tmp``) and renamed over it only when complete
(`os.replace` is atomic on POSIX), so a reader sees the old file or the new one, never half of
either, and an interrupted write leaves the target as it was. Dataset files have their own resumable
writer (`pdesuite.data.writer.DatasetWriter`), built on the same rule.

A run folder (`RunFolder`) holds a trained surrogate: ``config.json``, ``checkpoint.pt``,
``best.pt``, ``log.jsonl`` and, after validation, ``metrics.json`` (docs/training.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pdesuite.errors import BadInput


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Fail early (BadInput) when ``path`` exists without ``overwrite`` or its folder is not writable."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"output {path} is a directory; give a file name")
    if path.exists() and not overwrite:
        raise BadInput(f"output {path} exists; pass --overwrite to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BadInput(f"output folder {folder} does not exist")
    check_writable_folder(folder)
    return path


def check_writable_folder(folder: Path, what: str = "output folder") -> None:
    """BadInput unless a file can be created in ``folder`` (os.access is no guide for root or
    read-only mounts, so this tries)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".pdesuite-probe-"):
            pass
    except OSError:
        raise BadInput(f"{what} {folder} is not writable") from None


def temporary_path(path: Path) -> Path:
    """The hidden temporary name a write to ``path`` goes through (keeps the suffix: matplotlib and
    numpy choose the format from it)."""
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path to write; on success it replaces ``path``, on failure it is removed.

    An unwritable destination (missing permission, a parent that is a file) is `BadInput` naming it.
    """
    path = Path(path)
    tmp = temporary_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: str | os.PathLike, overwrite: bool = False):
    """Yield an empty temporary folder beside ``path``; when the block succeeds it takes ``path``'s place,
    otherwise it is removed. An existing non-empty ``path`` is `BadInput` unless ``overwrite``; it is
    replaced only once the new folder is complete."""
    path = Path(path)
    if path.exists() and not overwrite and (not path.is_dir() or any(path.iterdir())):
        raise BadInput(f"{path} exists and is not empty (use --overwrite to replace it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise BadInput(f"cannot create a folder beside {path}: {exc.strerror or exc}") from None
    old = tmp.with_name(tmp.name + ".old")
    try:
        yield tmp
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_atomic(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` and rename the result over ``path``; returns ``path``."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """JSON with 2-space indentation; values JSON cannot hold (paths, numpy scalars) become strings."""
    return write_text(json.dumps(obj, indent=2, default=json_value), path)


def json_value(value: Any) -> Any:
    """What ``json.dumps(default=...)`` makes of values JSON cannot hold: numpy/torch scalars become
    numbers, arrays lists, anything else its string."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    if hasattr(value, "tolist"):  # arrays, tensors
        return value.tolist()
    return str(value)


def save_torch(obj: Any, path: str | os.PathLike) -> Path:
    import torch

    return write_atomic(path, lambda tmp: torch.save(obj, tmp))


def save_array(array, path: str | os.PathLike) -> Path:
    """One numpy array as ``.npy``."""
    import numpy as np

    return write_atomic(path, lambda tmp: np.save(tmp, array))


def save_figure(fig, path: str | os.PathLike, dpi: int = 90, close: bool = True) -> Path:
    """A matplotlib figure (format from the suffix, PNG by default), closed afterwards unless told not to."""
    path = Path(path)
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi))
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True)
class RunFolder:
    """The files of one training run (see the module docstring)."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    @property
    def best(self) -> Path:
        return self.path / "best.pt"

    @property
    def log(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    def weights(self) -> Path:
        """The weights evaluation uses: best.pt, else the last checkpoint."""
        return self.best if self.best.is_file() else self.checkpoint

    def read_config(self) -> dict:
        if not self.config.is_file():
            raise BadInput(f"{self.path} is not a run folder (no config.json)")
        try:
            config = json.loads(self.config.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"{self.config} is not valid JSON ({exc})") from None
        if not isinstance(config, dict) or not {"surrogate", "data", "settings"} <= set(config):
            raise BadInput(f"{self.config} is not a pdesuite run configuration")
        return config

    def read_log(self) -> list[dict]:
        """The logged steps (lines that are not complete JSON, e.g. cut by a kill, are skipped)."""
        if not self.log.is_file():
            return []
        records = []
        for line in self.log.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records


class FileLock:
    """An exclusive lock on a path for the whole of a write: ``.NAME.lock`` beside it, held with
    `fcntl.flock` (released by the kernel when the process dies, even by kill -9, so a crashed writer
    never blocks the next one) and holding the owner's PID for the message a second writer gets.

    Re-entrant within a process (the dataset writer and the command that checks its output before
    starting hold the same lock). A second process is refused at once with `BadInput`:
    "``path`` is being written by process PID".

    Args:
        path: The file, or with ``folder`` the folder (a run), being written.
        what: How the message calls it (default: the path).
        folder: Lock a folder: the lock file is ``path/.lock`` (the folder is created).
    """

    _held: ClassVar[dict[Path, list]] = {}

    def __init__(self, path: str | os.PathLike, what: str = "", folder: bool = False):
        self.path = Path(path).resolve()
        self.what = what or str(path)
        if folder:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInput(f"cannot create the folder {path}: {exc.strerror or exc}") from None
            self.lock_path = self.path / ".lock"
        else:
            self.lock_path = self.path.with_name(f".{self.path.name}.lock")

    def __enter__(self) -> FileLock:
        held = self._held.get(self.lock_path)
        if held is not None:
            held[1] += 1
            return self
        import fcntl

        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise BadInput(f"cannot create the lock file {self.lock_path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise BadInput(f"{self.what} is being written by process {owner}") from None
            try:  # the file we locked may have been removed by its last owner meanwhile: lock the new one
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._held[self.lock_path] = [fd, 1]
        return self

    def __exit__(self, *exc) -> None:
        held = self._held[self.lock_path]
        held[1] -= 1
        if held[1]:
            return
        del self._held[self.lock_path]
        self.lock_path.unlink(missing_ok=True)  # while still holding it: no one else can be inside
        os.close(held[0])
