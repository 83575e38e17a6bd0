"""Metrics for long autoregressive rollouts (PDE-Refiner, Lippe et al. 2023).

The paper judges a one-step surrogate of the Kuramoto-Sivashinsky equation by how long its rollout
stays correlated with the reference: the Pearson correlation over space is computed per trajectory
and step, averaged over the test batch, and the "high-correlation time" is the number of model steps
before that mean curve first drops below 0.8 (also 0.9, 0.95). Error spectra show which wavenumbers
go wrong, and the spread of several stochastic rollouts gives an uncertainty estimate.

Conventions (all functions):
    * Rollout arrays have shape ``(B, T, *space)``: batch of trajectories, model steps, then the
      spatial axes (for 1D KS: ``(B, T, N)``; a channel axis may be part of ``*space``).
    * The time axis holds the *predicted* states only, not the given initial condition: element
      ``t`` is the state after ``t + 1`` model steps. A high-correlation time of ``n`` steps thus
      means the first ``n`` predicted states are good; in seconds that is ``n * step_seconds``
      (0.8 s per model step for the PDE-Refiner KS data: 4 raw solver steps of about 0.2 s).
    * Invalid input (mismatched shapes, NaN/inf, thresholds outside (0, 1)) raises
      `pdesuite.errors.BadInput` with a one-line message.

Only numpy is needed at import time; scipy (rank correlation) and matplotlib (plots) are imported
inside the functions that use them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from pdesuite.errors import BadInput

DEFAULT_THRESHOLDS = (0.8, 0.9, 0.95)


# --------------------------------------------------------------------------------------------------
# input checks


def _finite_array(name: str, values, min_ndim: int = 0) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim < min_ndim:
        raise BadInput(f"{name} needs at least {min_ndim} dimensions, got shape {array.shape}")
    if array.size == 0:
        raise BadInput(f"{name} is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise BadInput(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    return array


def _rollout_pair(prediction, reference, min_ndim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    pred = _finite_array("prediction", prediction, min_ndim)
    ref = _finite_array("reference", reference, min_ndim)
    if pred.shape != ref.shape:
        raise BadInput(f"prediction shape {pred.shape} does not match reference shape {ref.shape}")
    return pred, ref


def _check_threshold(threshold: float) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise BadInput(f"correlation threshold must be a number in (0, 1), got {threshold!r}") from None
    if not 0.0 < value < 1.0:
        raise BadInput(f"correlation threshold must be in (0, 1), got {threshold!r}")
    return value


def _threshold_key(threshold: float) -> str:
    return f"{threshold:g}"


# --------------------------------------------------------------------------------------------------
# correlation and its time horizon


def pearson_correlation(prediction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation over space, per trajectory and per step.

    For each trajectory b and step t, with p and r the flattened spatial fields and bars their
    spatial means::

        rho[b, t] = sum((p - p̄)(r - r̄)) / sqrt(sum((p - p̄)²) · sum((r - r̄)²))

    The result is clipped to [-1, 1] against round-off. Correlation is undefined when a field is
    constant in space (zero variance); instead of NaN this function returns 1.0 when both fields
    are constant and equal (``np.isclose`` with rtol = atol = 1e-12) and 0.0 otherwise (one constant
    field, or two different constants). A field counts as constant when its maximum equals its
    minimum exactly.

    Args:
        prediction: Predicted rollout.
        reference: Reference rollout, same shape.

    Returns:
        Correlation per trajectory and step.

    Raises:
        BadInput: Shapes differ, fewer than 3 dimensions, or non-finite values.

    Shapes:
        prediction, reference: ``(B, T, *space)``
        returns: ``(B, T)``
    """
    pred, ref = _rollout_pair(prediction, reference)
    lead = pred.shape[:2]
    p = pred.reshape(*lead, -1)
    r = ref.reshape(*lead, -1)
    pc = p - p.mean(axis=-1, keepdims=True)
    rc = r - r.mean(axis=-1, keepdims=True)
    covariance = np.sum(pc * rc, axis=-1)
    norm = np.sqrt(np.sum(pc * pc, axis=-1) * np.sum(rc * rc, axis=-1))

    p_const = p.max(axis=-1) == p.min(axis=-1)
    r_const = r.max(axis=-1) == r.min(axis=-1)
    degenerate = p_const | r_const | (norm == 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(degenerate, 0.0, covariance / np.where(degenerate, 1.0, norm))
    both_equal = p_const & r_const & np.isclose(p[..., 0], r[..., 0], rtol=1e-12, atol=1e-12)
    rho = np.where(both_equal, 1.0, rho)
    return np.clip(rho, -1.0, 1.0)


def high_correlation_time(correlation: np.ndarray, threshold: float) -> int | np.ndarray:
    """Number of leading steps whose correlation stays at or above ``threshold``.

    With rho the correlation over steps t = 0..T-1::

        time = min{t : rho[t] < threshold}, or T if rho never drops below the threshold

    i.e. the index of the first step below the threshold, which equals the count of good steps
    before it. (Steps after the first drop are ignored even if the curve recovers.) Note that a
    "never drops" result of T is censored at the rollout length; callers comparing models should
    make rollouts long enough.

    For the paper's metric pass the batch-mean curve, ``correlation.mean(axis=0)``: PDE-Refiner
    reports the time of the mean correlation curve, not the mean of per-trajectory times. Passing
    the ``(B, T)`` array gives per-trajectory times instead (useful for spread).

    Args:
        correlation: Correlation per step, e.g. from `pearson_correlation`.
        threshold: Threshold in (0, 1).

    Returns:
        ``int`` for a 1D input, an integer array of shape ``(B,)`` for a 2D input.

    Raises:
        BadInput: Threshold outside (0, 1), non-finite values, or an input that is not 1D or 2D.

    Shapes:
        correlation: ``(T,)`` or ``(B, T)``
        returns: scalar ``int`` or ``(B,)``
    """
    level = _check_threshold(threshold)
    rho = _finite_array("correlation", correlation, min_ndim=1)
    if rho.ndim > 2:
        raise BadInput(f"correlation must have shape (T,) or (B, T), got {rho.shape}")
    below = rho < level
    steps = rho.shape[-1]
    first = np.where(below.any(axis=-1), below.argmax(axis=-1), steps).astype(np.int64)
    if rho.ndim == 1:
        return int(first)
    return first


def correlation_times(prediction: np.ndarray, reference: np.ndarray,
                      thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                      step_seconds: float | None = None) -> dict:
    """PDE-Refiner's high-correlation times of a batch of rollouts.

    The per-step Pearson correlation (`pearson_correlation`) is averaged over the batch, giving
    one curve ``rho_mean[t] = mean_b rho[b, t]``; for each threshold the time is
    ``high_correlation_time(rho_mean, threshold)`` in model steps, and
    ``steps * step_seconds`` in seconds when ``step_seconds`` is given. The per-trajectory times
    (each trajectory's own curve) are returned as well, to show the spread; their mean is in
    general *not* the paper's number.

    Args:
        prediction: Predicted rollouts.
        reference: Reference rollouts, same shape.
        thresholds: Correlation thresholds, each in (0, 1).
        step_seconds: Physical time of one model step (0.8 s for the PDE-Refiner KS data), or None.

    Returns:
        ``{"0.8": {"steps": int, "seconds": float | None}, ..., "per_trajectory": {"0.8": [int, ...],
        ...}}`` with keys formatted as ``f"{threshold:g}"``. A time equal to T means the curve never
        fell below the threshold within the rollout.

    Raises:
        BadInput: Invalid arrays, thresholds outside (0, 1), or a non-positive ``step_seconds``.

    Shapes:
        prediction, reference: ``(B, T, *space)``
        per_trajectory lists: length B
    """
    levels = [_check_threshold(th) for th in thresholds]
    if not levels:
        raise BadInput("correlation_times needs at least one threshold")
    if step_seconds is not None:
        step_seconds = float(step_seconds)
        if not (np.isfinite(step_seconds) and step_seconds > 0):
            raise BadInput(f"step_seconds must be a positive number, got {step_seconds!r}")
    rho = pearson_correlation(prediction, reference)
    mean_curve = rho.mean(axis=0)
    result: dict = {}
    per_trajectory: dict[str, list[int]] = {}
    for level in levels:
        key = _threshold_key(level)
        steps = high_correlation_time(mean_curve, level)
        result[key] = {"steps": steps, "seconds": None if step_seconds is None else steps * step_seconds}
        per_trajectory[key] = [int(v) for v in high_correlation_time(rho, level)]
    result["per_trajectory"] = per_trajectory
    return result


# --------------------------------------------------------------------------------------------------
# errors over time and wavenumber


def mse_over_time(prediction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mean squared error per step, averaged over the batch and all spatial points.

    ``mse[t] = mean_{b, x} (prediction[b, t, x] - reference[b, t, x])²``

    Args:
        prediction: Predicted rollouts.
        reference: Reference rollouts, same shape.

    Returns:
        MSE per step.

    Raises:
        BadInput: Shapes differ, fewer than 3 dimensions, or non-finite values.

    Shapes:
        prediction, reference: ``(B, T, *space)``
        returns: ``(T,)``
    """
    pred, ref = _rollout_pair(prediction, reference)
    squared = (pred - ref) ** 2
    axes = (0, *range(2, squared.ndim))
    return squared.mean(axis=axes)


def error_spectrum(prediction: np.ndarray, reference: np.ndarray,
                   steps: slice | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Error energy per wavenumber of periodic 1D fields, and the reference's energy.

    Along the last (periodic, uniformly sampled) axis of length N, with ``F`` the discrete
    Fourier transform (``numpy.fft.rfft``, unnormalised) and k = 0..N//2::

        E_err[k] = c_k · mean_{b, t, ...} |F(prediction - reference)[k]|² / N²
        E_ref[k] = c_k · mean_{b, t, ...} |F(reference)[k]|² / N²

    with c_k = 2 for the bins that stand for both +k and -k (0 < k < N/2) and c_k = 1 for k = 0 and,
    if N is even, k = N/2. With the 1/N² normalisation and this one-sided folding, Parseval reads
    ``E.sum() == mean over space of the squared field`` (averaged over the same batch and steps):
    each bin holds the mean-square contribution of wavenumber ±k. A single Fourier mode
    ``a·cos(2π m x / L)`` has energy a²/2 in bin m (a² if m is 0 or N/2) and nothing elsewhere. The
    index k corresponds to the physical wavenumber 2πk/L.

    Args:
        prediction: Predicted rollouts; the last axis is periodic space.
        reference: Reference rollouts, same shape.
        steps: Which model steps (axis 1) to average over; None means all.

    Returns:
        ``(k, error_energy, reference_energy)``: integer wavenumber indices 0..N//2 and the two
        energies.

    Raises:
        BadInput: Invalid arrays or a ``steps`` slice that selects no step.

    Shapes:
        prediction, reference: ``(B, T, N)`` or ``(B, T, ..., N)`` (middle axes are averaged too)
        returns: three arrays of shape ``(N // 2 + 1,)``
    """
    pred, ref = _rollout_pair(prediction, reference)
    total_steps = pred.shape[1]
    if steps is not None:
        if not isinstance(steps, slice):
            raise BadInput(f"steps must be a slice or None, got {type(steps).__name__}")
        pred, ref = pred[:, steps], ref[:, steps]
        if pred.shape[1] == 0:
            raise BadInput(f"steps={steps} selects no step out of {total_steps}")
    n = pred.shape[-1]

    def energy(field: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(field, axis=-1)) ** 2 / n**2
        power = power.reshape(-1, power.shape[-1]).mean(axis=0)
        fold = np.full(power.shape, 2.0)
        fold[0] = 1.0
        if n % 2 == 0:
            fold[-1] = 1.0
        return power * fold

    k = np.arange(n // 2 + 1)
    return k, energy(pred - ref), energy(ref)


# --------------------------------------------------------------------------------------------------
# uncertainty from stochastic samples


def sample_correlation_time(samples: np.ndarray, threshold: float) -> np.ndarray:
    """Estimated high-correlation time from the agreement of stochastic rollouts.

    PDE-Refiner estimates its own horizon without the reference: S rollouts of the same initial
    condition (different noise) agree while the model is confident. Per trajectory b and step t::

        agree[b, t] = mean over pairs i < j of pearson(samples[i, b, t], samples[j, b, t])

    over all S(S-1)/2 distinct pairs, and the estimate is
    ``high_correlation_time(agree[b], threshold)``: the first step below the threshold, T if none.

    Args:
        samples: S stochastic rollouts per trajectory, S >= 2.
        threshold: Threshold in (0, 1).

    Returns:
        Estimated time in model steps per trajectory.

    Raises:
        BadInput: (a ValueError) S < 2, fewer than 4 dimensions, non-finite values or a threshold
            outside (0, 1).

    Shapes:
        samples: ``(S, B, T, *space)``
        returns: ``(B,)`` integers
    """
    level = _check_threshold(threshold)
    stack = _finite_array("samples", samples, min_ndim=4)
    count = stack.shape[0]
    if count < 2:
        raise BadInput(f"sample_correlation_time needs at least 2 samples per trajectory, got {count}")
    total = np.zeros(stack.shape[1:3])
    pairs = list(combinations(range(count), 2))
    for i, j in pairs:
        total += pearson_correlation(stack[i], stack[j])
    return high_correlation_time(total / len(pairs), level)


def uncertainty_agreement(estimated: np.ndarray, true: np.ndarray) -> dict:
    """How well estimated per-trajectory times track the true ones.

    Returns the Pearson correlation (linear agreement) and the Spearman rank correlation
    (monotone agreement) between ``estimated`` and ``true``, and
    ``mean_ratio = mean_b estimated[b] / true[b]`` over the trajectories with ``true[b] > 0``
    (above 1: the estimate is over-confident). Correlation is undefined when either input is
    constant (or there are fewer than 2 trajectories): then the coefficient is NaN and a ``"note"``
    key says why; likewise for ``mean_ratio`` when no true time is positive.

    Args:
        estimated: Estimated times, e.g. from `sample_correlation_time`.
        true: True times, e.g. ``high_correlation_time(pearson_correlation(pred, ref), th)``.

    Returns:
        ``{"pearson": float, "spearman": float, "mean_ratio": float, "n": int}`` plus ``"note": str``
        when some value is NaN.

    Raises:
        BadInput: Shapes differ, inputs not 1D, or non-finite values.

    Shapes:
        estimated, true: ``(B,)``
    """
    est = _finite_array("estimated", estimated, min_ndim=1)
    ref = _finite_array("true", true, min_ndim=1)
    if est.ndim != 1 or est.shape != ref.shape:
        raise BadInput(f"estimated {est.shape} and true {ref.shape} must be 1D arrays of the same length")
    notes = []
    result: dict = {"n": int(est.size)}
    if est.size < 2:
        result["pearson"] = result["spearman"] = float("nan")
        notes.append("correlation needs at least 2 trajectories")
    elif np.ptp(est) == 0 or np.ptp(ref) == 0:
        result["pearson"] = result["spearman"] = float("nan")
        which = "estimated" if np.ptp(est) == 0 else "true"
        notes.append(f"correlation undefined: {which} times are constant")
    else:
        from scipy import stats

        result["pearson"] = float(stats.pearsonr(est, ref)[0])
        result["spearman"] = float(stats.spearmanr(est, ref)[0])
    positive = ref > 0
    if positive.any():
        result["mean_ratio"] = float(np.mean(est[positive] / ref[positive]))
    else:
        result["mean_ratio"] = float("nan")
        notes.append("mean_ratio undefined: no true time is positive")
    if notes:
        result["note"] = "; ".join(notes)
    return result


# --------------------------------------------------------------------------------------------------
# plots


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    """Write the figure atomically: a hidden temporary file next to ``path``, then ``os.replace``."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "png"
    tmp = path.with_name(f".{path.name}.partial")
    try:
        fig.savefig(tmp, dpi=90, format=fmt)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


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
    ref = _finite_array("reference", reference, min_ndim=2)
    pred = _finite_array("prediction", prediction, min_ndim=2)
    if ref.ndim != 2 or pred.shape != ref.shape:
        raise BadInput(f"plot_space_time needs two (T, N) arrays of one shape, got {pred.shape} and {ref.shape}")
    steps, n = ref.shape
    xs = np.arange(n, dtype=float) if x is None else _finite_array("x", x, 1)
    ts = np.arange(1, steps + 1, dtype=float) if t is None else _finite_array("t", t, 1)
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
    levels = [_check_threshold(th) for th in thresholds]
    prepared = {}
    for name, curve in curves.items():
        values = _finite_array(f"correlation curve {name!r}", curve, min_ndim=1)
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
        k = _finite_array(f"wavenumbers of {name!r}", item[0], 1)
        energy = _finite_array(f"energy of {name!r}", item[1], 1)
        if k.ndim != 1 or k.shape != energy.shape:
            raise BadInput(f"spectrum {name!r}: k {k.shape} and energy {energy.shape} must be 1D of one length")
        return k, np.where(energy > 0, energy, np.nan)

    lines = {name: pair(name, item) for name, item in spectra.items()}
    reference = None
    if reference_energy is not None:
        if isinstance(reference_energy, (tuple, list)):
            reference = pair("reference", reference_energy)
        else:
            energy = _finite_array("reference_energy", reference_energy, 1)
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
