"""Files for the chromatography commands: CSV, JSON and PNG written atomically, and the two plots.

Every file is written under a hidden temporary name beside its target and renamed onto it when
complete (`pdesuite.io`): a failed command leaves no partial file behind.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pdesuite.io import check_output_path, pyplot, save_figure, write_atomic


def check_outputs(paths: Sequence[Path], overwrite: bool) -> None:
    """BadInput, before any work, if a target exists without ``overwrite`` or cannot be written."""
    for path in paths:
        check_output_path(path, overwrite)


def write_csv(path: Path, header: Sequence[str], columns: Sequence[np.ndarray], comments: Sequence[str] = ()) -> Path:
    """Columns of numbers under a header line, after ``# comment`` lines."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            for line in comments:
                f.write(f"# {line}\n")
            w = csv.writer(f)
            w.writerow(header)
            for row in zip(*columns, strict=True):
                w.writerow([f"{v:.12g}" for v in row])

    return write_atomic(path, write)


def write_rows(path: Path, rows: Sequence[dict]) -> Path:
    """A table of dicts (same keys) as CSV."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for row in rows:
                w.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in row.items()})

    return write_atomic(path, write)


def write_json(path: Path, data: dict) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2, default=float)
            f.write("\n")

    return write_atomic(path, write)


def _figure(rows: int, height: float):
    plt = pyplot()
    if rows == 1:
        fig, ax = plt.subplots(figsize=(8, height), constrained_layout=True)
        return plt, fig, [ax]
    fig, axes = plt.subplots(rows, 1, figsize=(8, height), sharex=True, constrained_layout=True,
                             gridspec_kw={"height_ratios": [3, 1]})
    return plt, fig, list(axes)


def _save(plt, fig, path: Path) -> Path:  # noqa: ARG001 - the callers hold plt from _figure
    return save_figure(fig, path, dpi=100)


def plot_chromatogram(path: Path, t: np.ndarray, signal: np.ndarray, components: np.ndarray, names: Sequence[str],
                      title: str = "") -> Path:
    """The chromatogram and each analyte's outlet concentration."""
    plt, fig, (ax,) = _figure(1, 4.0)
    ax.plot(t, signal, color="k", lw=1.2, label="signal")
    for name, c in zip(names, components, strict=True):
        ax.plot(t, c, lw=0.9, ls="--", label=name)
    ax.set_xlabel("t (s)")
    ax.set_ylabel("outlet concentration")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_fit(path: Path, result, title: str = "") -> Path:
    """Data, fitted curve and peaks (top), residuals (bottom)."""
    plt, fig, (top, bottom) = _figure(2, 5.5)
    top.plot(result.t, result.signal, ".", ms=2, color="0.5", label="data")
    top.plot(result.t, result.fitted, color="C3", lw=1.2, label="Laplace fit")
    base = result.fitted - result.components.sum(axis=0)
    for peak, c in zip(result.peaks, result.components, strict=True):
        top.plot(result.t, base + c, lw=0.8, ls="--", label=peak.name)
    top.set_ylabel("signal")
    top.set_title(title, fontsize=10)
    top.legend(fontsize=8)
    bottom.plot(result.t, result.residuals, lw=0.7, color="k")
    bottom.axhline(0, color="C3", lw=0.8)
    bottom.set_xlabel("t (s)")
    bottom.set_ylabel("residual")
    return _save(plt, fig, path)
