"""What this machine can hold: checks of memory and disk before a `generate` or `train` starts.

A command estimates what its settings need (bytes of memory and of disk) and calls `check`; an
estimate over the limit is bad input, one line naming both, before any work and before any file is
written. The limits are what is available *now*: memory is the smallest of the kernel's available
memory (``MemAvailable``), the cgroup's limit minus its use (containers, CI) and the process's
address-space/data ulimit; disk is the free space of the output's file system. Estimates are meant
to be generous upper bounds; a machine known to be bigger than it looks (swap, a later free-up) can
skip the check with ``--force`` or ``PDESUITE_FORCE=1``.
"""

from __future__ import annotations

import os
import resource
import shutil
from pathlib import Path

from pdesuite.errors import BadInput

#: Environment variable that skips the checks (as ``--force``).
FORCE_ENV = "PDESUITE_FORCE"


def human(n: float) -> str:
    """Bytes as "1.2 GB" (powers of 1024 with the usual short names)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} PB"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def available_memory() -> int:
    """Bytes of memory this process may still use (see the module docstring)."""
    limits = []
    meminfo = _read("/proc/meminfo")
    if meminfo:
        for line in meminfo.splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    cgroup_max, cgroup_now = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if cgroup_max and cgroup_max != "max" and cgroup_now:
        limits.append(int(cgroup_max) - int(cgroup_now))
    for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        soft, _ = resource.getrlimit(which)
        if soft not in (resource.RLIM_INFINITY, -1):
            limits.append(soft - _resident())
    if not limits:  # not Linux: take the physical memory
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        limits.append(pages * size)
    return max(0, min(limits))


def _resident() -> int:
    status = _read("/proc/self/statm")
    return int(status.split()[1]) * os.sysconf("SC_PAGE_SIZE") if status else 0


def free_disk(path: str | os.PathLike) -> int:
    """Free bytes on the file system that will hold ``path`` (its nearest existing parent)."""
    folder = Path(path).resolve()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def forced(force: bool = False) -> bool:
    return force or os.environ.get(FORCE_ENV, "") not in ("", "0")


def check(what: str, memory: float = 0.0, disk: float = 0.0, path: str | os.PathLike | None = None,
          force: bool = False) -> None:
    """BadInput when ``memory`` (bytes) exceeds the available memory or ``disk`` the free space at
    ``path``, unless ``force`` (or PDESUITE_FORCE=1)."""
    if forced(force):
        return
    if memory:
        limit = available_memory()
        if memory > limit:
            raise BadInput(f"{what} needs about {human(memory)} of memory, {human(limit)} is available "
                           f"(reduce the size, or --force / {FORCE_ENV}=1 on a bigger machine)")
    if disk and path is not None:
        limit = free_disk(path)
        if disk > limit:
            raise BadInput(f"{what} needs about {human(disk)} of disk, {human(limit)} is free at {Path(path).parent} "
                           f"(reduce the size, or --force / {FORCE_ENV}=1)")


def resolve_device(device: str, what: str = "--device"):
    """The torch device for "auto" (CUDA when present), "cpu" or "cuda"; BadInput for anything else or
    for "cuda" without a CUDA device. ``what`` names the option in the message."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise BadInput(f"{what} must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"{what} cuda requested but no CUDA device is available")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
