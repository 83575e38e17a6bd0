"""Plots of evaluations: a field prediction against its reference, and rollout diagnostics
(space-time, correlation over time, error spectra). Every figure is written atomically
(`pdesuite.io.save_figure`); matplotlib runs on the Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.io import pyplot as _pyplot
from pdesuite.io import save_figure as _save
from pdesuite.validation.metrics import DEFAULT_THRESHOLDS, check_threshold, finite_array


def plot_space_time(reference: np.ndarray, prediction: np.ndarray, path, x: np.ndarray | None = None,
                    t: np.ndarray | None = None, title: str = "") -> Path:
    """Space-time plots of one trajectory: reference, prediction and error (prediction - reference).

    Reference and prediction share one colour scale; the error uses a symmetric diverging scale.

    Args:
        reference: Reference trajectory.
        prediction: Predicted trajectory, same shape.
        path: Output image file (format from the suffix, PNG by default); written atomically.
        x: Spatial coordinates (length N), default grid indices.
        t: Times (length T), default step numbers 1..T.
        title: Figure title.

    Returns:
        ``path`` as a `Path`.

    Raises:
        BadInput: Shapes differ or are not 2D, non-finite values, or wrong x/t lengths.

    Shapes:
        reference, prediction: ``(T, N)``
    """
    ref = finite_array("reference", reference, min_ndim=2)
    pred = finite_array("prediction", prediction, min_ndim=2)
    if ref.ndim != 2 or pred.shape != ref.shape:
        raise BadInput(f"plot_space_time needs two (T, N) arrays of one shape, got {pred.shape} and {ref.shape}")
    steps, n = ref.shape
    xs = np.arange(n, dtype=float) if x is None else finite_array("x", x, 1)
    ts = np.arange(1, steps + 1, dtype=float) if t is None else finite_array("t", t, 1)
    if xs.shape != (n,) or ts.shape != (steps,):
        raise BadInput(f"x must have length {n} and t length {steps}, got {xs.shape} and {ts.shape}")

    plt = _pyplot()
    error = pred - ref
    vmin, vmax = min(ref.min(), pred.min()), max(ref.max(), pred.max())
    emax = float(np.abs(error).max()) or 1.0
    extent = [xs[0], xs[-1], ts[0], ts[-1]]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True, constrained_layout=True)
    panels = [(ref, "reference", "viridis", vmin, vmax), (pred, "prediction", "viridis", vmin, vmax),
              (error, "error", "RdBu_r", -emax, emax)]
    for ax, (values, name, cmap, lo, hi) in zip(axes, panels, strict=True):
        image = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(name)
        ax.set_xlabel("x")
        fig.colorbar(image, ax=ax)
    axes[0].set_ylabel("t")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_correlation(curves: dict[str, np.ndarray], path, step_seconds: float | None = None,
                     thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> Path:
    """Correlation with the reference over rollout time, one line per model, thresholds dashed.

    Element t of a curve is drawn at step t + 1 (times ``(t + 1) * step_seconds`` if given), following
    the module's convention that index 0 is the first predicted state.

    Args:
        curves: Model name -> correlation curve; a ``(B, T)`` array is averaged over the batch first.
        path: Output image file; written atomically.
        step_seconds: Physical time per model step, or None for a step axis.
        thresholds: Horizontal reference lines, each in (0, 1).

    Returns:
        ``path`` as a `Path`.

    Raises:
        BadInput: No curves, a curve that is not 1D/2D, non-finite values or a bad threshold.

    Shapes:
        each curve: ``(T,)`` or ``(B, T)``; lengths may differ between models
    """
    if not curves:
        raise BadInput("plot_correlation needs at least one curve")
    levels = [check_threshold(th) for th in thresholds]
    prepared = {}
    for name, curve in curves.items():
        values = finite_array(f"correlation curve {name!r}", curve, min_ndim=1)
        if values.ndim > 2:
            raise BadInput(f"correlation curve {name!r} must have shape (T,) or (B, T), got {values.shape}")
        prepared[name] = values.mean(axis=0) if values.ndim == 2 else values

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    scale = 1.0 if step_seconds is None else float(step_seconds)
    for name, values in prepared.items():
        ax.plot(np.arange(1, values.size + 1) * scale, values, label=name)
    for level in levels:
        ax.axhline(level, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("model steps" if step_seconds is None else "time [s]")
    ax.set_ylabel("Pearson correlation")
    ax.set_ylim(min(0.0, min(float(v.min()) for v in prepared.values())), 1.02)
    ax.legend()
    return _save(fig, path)


def plot_error_spectra(spectra: dict[str, tuple[np.ndarray, np.ndarray]], path,
                       reference_energy: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None) -> Path:
    """Error energy against wavenumber index, log energy axis, one line per model.

    Non-positive energies (e.g. an exactly zero mean error) are left out of the log plot.

    Args:
        spectra: Model name -> ``(k, error_energy)``, e.g. the first two outputs of `error_spectrum`.
        path: Output image file; written atomically.
        reference_energy: The reference's own spectrum, drawn in black for scale: an array over
            k = 0, 1, ... or a ``(k, energy)`` pair. None to omit.

    Returns:
        ``path`` as a `Path`.

    Raises:
        BadInput: No spectra, k and energy of different lengths, or non-finite values.

    Shapes:
        k, error_energy, reference_energy: ``(K,)``
    """
    if not spectra:
        raise BadInput("plot_error_spectra needs at least one spectrum")

    def pair(name: str, item) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise BadInput(f"spectrum {name!r} must be a (k, energy) pair")
        k = finite_array(f"wavenumbers of {name!r}", item[0], 1)
        energy = finite_array(f"energy of {name!r}", item[1], 1)
        if k.ndim != 1 or k.shape != energy.shape:
            raise BadInput(f"spectrum {name!r}: k {k.shape} and energy {energy.shape} must be 1D of one length")
        return k, np.where(energy > 0, energy, np.nan)

    lines = {name: pair(name, item) for name, item in spectra.items()}
    reference = None
    if reference_energy is not None:
        if isinstance(reference_energy, (tuple, list)):
            reference = pair("reference", reference_energy)
        else:
            energy = finite_array("reference_energy", reference_energy, 1)
            reference = pair("reference", (np.arange(energy.size), energy))

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for name, (k, energy) in lines.items():
        ax.semilogy(k, energy, label=name)
    if reference is not None:
        ax.semilogy(*reference, color="black", linestyle=":", label="reference")
    ax.set_xlabel("wavenumber index k")
    ax.set_ylabel("energy per wavenumber")
    ax.legend()
    return _save(fig, path)


def plot_prediction(task, prediction: np.ndarray, png, title: str = "") -> Path:
    """Reference, prediction and error of one sample side by side (space-time for 1D, images for 2D;
    the last time for time-dependent 2D data). ``task`` is the `Task` the prediction is for."""
    plt = _pyplot()
    reference = task.reference
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    panels = [(reference, "reference"), (prediction, "prediction"), (prediction - reference, "error")]
    if len(task.axes) == 2:
        (a0, a1) = task.axes
        g0, g1 = task.grids[a0], task.grids[a1]
        extent = [g1[0], g1[-1], g0[0], g0[-1]]
        for ax, (values, name) in zip(axes, panels, strict=True):
            image = ax.imshow(values[..., 0], origin="lower", aspect="auto", extent=extent,
                              cmap="RdBu_r" if name == "error" else "viridis")
            ax.set_xlabel(a1)
            ax.set_ylabel(a0)
            ax.set_title(name)
            fig.colorbar(image, ax=ax)
    else:  # (t, x, y, f): the last time
        for ax, (values, name) in zip(axes, panels, strict=True):
            image = ax.imshow(values[-1, ..., 0].T, origin="lower", cmap="RdBu_r" if name == "error" else "viridis")
            ax.set_title(f"{name} (t = {task.grids['t'][-1]:.3g})" if "t" in task.axes else name)
            fig.colorbar(image, ax=ax)
    fig.suptitle(title, fontsize=10)
    return _save(fig, png)


def plot_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path, xlabel: str, ylabel: str, title: str = "",
                log: bool = False, reference: tuple[np.ndarray, np.ndarray] | None = None) -> Path:
    """Named curves y(x) on one axis (e.g. error or peak height over time); ``reference`` dashed black."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for name, (x, y) in curves.items():
        ax.plot(x, y, label=name)
    if reference is not None:
        ax.plot(*reference, "k--", lw=1, label="reference")
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return _save(fig, path)
