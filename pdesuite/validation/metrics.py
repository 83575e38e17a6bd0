"""Error metrics between a prediction and its reference: one module for every evaluator.

**Fields** (a solution on a grid, arrays ``(n_t, *space, n_fields)``, or ``(*space, n_fields)`` when
steady; an evaluator may add a leading sample axis and a ``time_axis``):

* `relative_l2` ‖u_pred - u_ref‖₂ / ‖u_ref‖₂ over everything (PIG's metric), `max_error`, `rmse`;
* `nrmse` (PDEBench, Takamoto et al. 2022): per time step and field, the RMSE over space divided by
  the RMS of the reference over space, averaged over time steps and fields;
* `vrmse` (The Well, Ohana et al. 2024): per time step and field, the RMSE over space divided by the
  reference's standard deviation over space, averaged: predicting the spatial mean scores 1;
* `fourier_band_errors` (PDEBench's bands): the RMS error carried by the low (|k| < 4), mid
  (4 <= |k| <= 12) and high (|k| > 12) integer wavenumbers of the grid, so that the three squared
  add up to the mean squared error (Parseval);
* `per_time_relative_l2`, and `lpinn_error` (Mojgani et al.'s matrix-norm error, 1D).

**Rollouts** of one-step surrogates (PDE-Refiner, Lippe et al. 2023): the paper judges a one-step
surrogate of the Kuramoto-Sivashinsky equation by how long its rollout stays correlated with the
reference: the Pearson correlation over space is computed per trajectory and step, averaged over the
test batch, and the "high-correlation time" is the number of model steps before that mean curve first
drops below 0.8 (also 0.9, 0.95). Error spectra show which wavenumbers go wrong, and the spread of
several stochastic rollouts gives an uncertainty estimate. Conventions of these functions:

    * Rollout arrays have shape ``(B, T, *space)``: batch of trajectories, model steps, then the
      spatial axes (for 1D KS: ``(B, T, N)``; a channel axis may be part of ``*space``).
    * The time axis holds the *predicted* states only, not the given initial condition: element
      ``t`` is the state after ``t + 1`` model steps. A high-correlation time of ``n`` steps thus
      means the first ``n`` predicted states are good; in seconds that is ``n * step_seconds``
      (0.8 s per model step for the PDE-Refiner KS data: 4 raw solver steps of about 0.2 s).
    * Invalid input (mismatched shapes, NaN/inf, thresholds outside (0, 1)) raises
      `pdesuite.errors.BadInput` with a one-line message.

Only numpy is needed at import time; scipy (rank correlation) is imported where it is used. Plots
are in `pdesuite.validation.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from pdesuite.errors import BadInput

DEFAULT_THRESHOLDS = (0.8, 0.9, 0.95)


# --------------------------------------------------------------------------------------------------
# input checks


def finite_array(name: str, values, min_ndim: int = 0) -> np.ndarray:
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
    pred = finite_array("prediction", prediction, min_ndim)
    ref = finite_array("reference", reference, min_ndim)
    if pred.shape != ref.shape:
        raise BadInput(f"prediction shape {pred.shape} does not match reference shape {ref.shape}")
    return pred, ref


def check_threshold(threshold: float) -> float:
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
    level = check_threshold(threshold)
    rho = finite_array("correlation", correlation, min_ndim=1)
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
    levels = [check_threshold(th) for th in thresholds]
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
    level = check_threshold(threshold)
    stack = finite_array("samples", samples, min_ndim=4)
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
    est = finite_array("estimated", estimated, min_ndim=1)
    ref = finite_array("true", true, min_ndim=1)
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
# fields


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """‖u_pred - u_ref‖₂ / ‖u_ref‖₂ over all grid points (PIG's metric)."""
    return float(np.linalg.norm(prediction - reference) / np.linalg.norm(reference))


def max_error(prediction: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(prediction - reference).max())


def lpinn_error(prediction: np.ndarray, reference: np.ndarray, offset: float = 0.0, trim: int = 2) -> float:
    """Mojgani et al.'s error ‖U_ref - U_pred‖₂ / ‖U_ref - C‖₂ with matrix 2-norms (largest singular
    values) of the (n_t, n_x) solution matrices, ``trim`` boundary columns removed on each side of x,
    and C the constant offset of the initial condition (u0 = sin x + C)."""
    ref, pred = reference[..., 0], prediction[..., 0]
    if ref.ndim != 2:
        raise ValueError("the LPINN error norm is defined for 1D time-dependent (n_t, n_x) data")
    if trim:
        ref, pred = ref[:, trim:-trim], pred[:, trim:-trim]
    return float(np.linalg.norm(ref - pred, 2) / np.linalg.norm(ref - offset, 2))


def per_time_relative_l2(prediction: np.ndarray, reference: np.ndarray) -> list[float]:
    """Relative L2 error at each time slice (first axis)."""
    axes = tuple(range(1, reference.ndim))
    num = np.sqrt(np.sum((prediction - reference) ** 2, axis=axes))
    den = np.sqrt(np.sum(reference**2, axis=axes))
    return (num / np.where(den > 0, den, 1.0)).tolist()


def rmse(prediction: np.ndarray, reference: np.ndarray) -> float:
    """sqrt(mean((u_pred - u_ref)²)) over everything."""
    return float(np.sqrt(np.mean((np.asarray(prediction) - np.asarray(reference)) ** 2)))


def _per_step(prediction: np.ndarray, reference: np.ndarray, time_axis: int | None,
              sample_axis: int | None) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Arrays as (..., n_fields) with the spatial axes listed: the axes that are neither samples,
    time nor fields."""
    pred, ref = np.asarray(prediction, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if pred.shape != ref.shape:
        raise BadInput(f"prediction shape {pred.shape} does not match reference shape {ref.shape}")
    keep = {a % ref.ndim for a in (time_axis, sample_axis) if a is not None} | {ref.ndim - 1}
    space = tuple(a for a in range(ref.ndim) if a not in keep)
    if not space:
        raise BadInput(f"no spatial axis left in shape {ref.shape} (time axis {time_axis}, sample axis {sample_axis})")
    return pred, ref, space


def nrmse(prediction: np.ndarray, reference: np.ndarray, time_axis: int | None = 0,
          sample_axis: int | None = None) -> float:
    """PDEBench's normalised RMSE: for every (sample,) time step and field, sqrt(mean_x (p - r)²) /
    sqrt(mean_x r²); the mean of those ratios. ``time_axis`` None: steady data."""
    pred, ref, space = _per_step(prediction, reference, time_axis, sample_axis)
    err = np.sqrt(np.mean((pred - ref) ** 2, axis=space))
    scale = np.sqrt(np.mean(ref**2, axis=space))
    return float(np.mean(err / np.where(scale > 0, scale, 1.0)))


def vrmse(prediction: np.ndarray, reference: np.ndarray, time_axis: int | None = 0,
          sample_axis: int | None = None, eps: float = 1e-7) -> float:
    """The Well's variance-scaled RMSE: for every (sample,) time step and field,
    sqrt(mean_x (p - r)² / (var_x r + eps)); the mean of those. Predicting the spatial mean gives
    (almost exactly) 1, a perfect prediction 0."""
    pred, ref, space = _per_step(prediction, reference, time_axis, sample_axis)
    mse = np.mean((pred - ref) ** 2, axis=space)
    return float(np.mean(np.sqrt(mse / (np.var(ref, axis=space) + eps))))


#: PDEBench's Fourier bands: low |k| < 4, mid 4 <= |k| <= 12, high |k| > 12 (integer wavenumbers).
BANDS = {"low": (0.0, 4.0), "mid": (4.0, 12.0), "high": (12.0, np.inf)}


def fourier_band_errors(prediction: np.ndarray, reference: np.ndarray, time_axis: int | None = 0,
                        sample_axis: int | None = None) -> dict[str, float]:
    """RMS error in each Fourier band of the spatial grid (`BANDS`, radial |k| in the box's integer
    wavenumbers; the grid is taken as one period).

    With e = p - r on N spatial points and ê_k its DFT, Parseval gives mean_x e² = Σ_k |ê_k|² / N²;
    band b's error is sqrt(Σ_{k in b} |ê_k|² / N²), averaged in quadrature over time steps, samples
    and fields. The squares of the three bands add up to the mean squared error.
    """
    pred, ref, space = _per_step(prediction, reference, time_axis, sample_axis)
    error = np.moveaxis(pred - ref, space, range(len(space)))  # space first
    shape = error.shape[: len(space)]
    spectrum = np.abs(np.fft.fftn(error, axes=tuple(range(len(space))))) ** 2
    k = np.sqrt(sum(np.meshgrid(*[np.fft.fftfreq(n, d=1.0 / n) ** 2 for n in shape], indexing="ij")))
    n_points = float(np.prod(shape))
    rest = spectrum.reshape(int(n_points), -1)  # (modes, everything else)
    out = {}
    for name, (low, high) in BANDS.items():
        inside = (k >= low) & (k <= high) if name != "low" else (k < high)
        if name == "high":
            inside = k > low
        energy = rest[inside.ravel()].sum(axis=0) / n_points**2  # per time step / field / sample
        out[name] = float(np.sqrt(np.mean(energy)))
    return out
