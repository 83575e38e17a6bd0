"""Where a result came from: software versions, the machine and device, the command line.

Dataset files carry `software_versions` in their attributes; a run's ``config.json`` and the
``metrics.json`` of ``pdesuite validate`` carry `environment` and the command that wrote them, so a
report (``pdesuite report``) can say which GPU, which torch and which commit made each number.
"""

from __future__ import annotations

import functools
import platform
import shlex
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Distributions whose versions a dataset file records.
DISTRIBUTIONS = ("pdesuite", "numpy", "scipy", "h5py", "dolfinx-solver-real", "fenics-basix", "fenics-ffcx",
                 "fenics-ufl", "gmsh", "torch")


def package_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``; pdesuite run from a checkout (PYTHONPATH, as on
    the GPU machines) reports its own ``__version__``."""
    try:
        return version(dist)
    except PackageNotFoundError:
        if dist == "pdesuite":
            from pdesuite import __version__

            return __version__
        return None


def software_versions() -> dict[str, str]:
    """Python, the platform and the versions of `DISTRIBUTIONS` that are installed."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in DISTRIBUTIONS:
        found = package_version(dist)
        if found is not None:
            out[dist] = found
    return out


@functools.cache
def git_commit() -> str | None:
    """The commit of the pdesuite checkout this code runs from (None outside a git checkout)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


@functools.cache
def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what `platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_name(device) -> str:
    """A person's name for a torch device: the GPU's model for CUDA, the CPU's model otherwise."""
    import torch

    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        return f"CPU: {cpu_name()}"
    return str(device)


def environment(device="cpu") -> dict[str, object]:
    """Versions (pdesuite and its commit, Python, torch, dolfinx) and the device that computed a result."""
    import torch

    return {"pdesuite": package_version("pdesuite"), "commit": git_commit(), "python": platform.python_version(),
            "torch": torch.__version__, "dolfinx": package_version("dolfinx-solver-real")
            or package_version("fenics-dolfinx"), "device": str(device), "device_name": device_name(device)}


def command_line(argv: list[str]) -> str:
    """The shell command ``pdesuite ARGV...``, quoted so that it can be pasted back."""
    return shlex.join(["pdesuite", *argv])
