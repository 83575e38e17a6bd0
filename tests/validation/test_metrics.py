"""Rollout metrics and plots (pdesuite.validation.metrics, .plots) against signals with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.validation import metrics as ro
from pdesuite.validation import plots

N = 64
GRID = 2 * np.pi * np.arange(N) / N


def mode(k: int, phase=0.0) -> np.ndarray:
    """cos(k x + phase) on the periodic grid; phase may be an array (broadcast before the x axis)."""
    return np.cos(k * GRID + np.asarray(phase)[..., None])


def drifting(rates, steps: int, k: int = 3):
    """Reference cos(kx + phi_b) and a prediction whose phase drifts by rate_b * t: rho = cos(rate_b t)."""
    rates = np.asarray(rates, dtype=float)
    t = np.arange(steps)
    phi = np.linspace(0.0, 1.0, rates.size)[:, None] * np.ones((1, steps))
    reference = mode(k, phi)
    prediction = mode(k, phi + rates[:, None] * t[None, :])
    return prediction, reference, t


def first_below(rate: float, threshold: float, steps: int) -> int:
    """First integer t with cos(rate t) < threshold, from the arccos (rate t stays below pi here)."""
    t = math.floor(math.acos(threshold) / rate) + 1
    return min(t, steps)


# ------------------------------------------------------------------------------------------------
# pearson_correlation


def test_phase_drift_gives_cosine_of_drift():
    rates = [0.02, 0.05, 0.11]
    prediction, reference, t = drifting(rates, steps=25)
    rho = ro.pearson_correlation(prediction, reference)
    assert rho.shape == (3, 25)
    np.testing.assert_allclose(rho, np.cos(np.outer(rates, t)), atol=1e-12)


@pytest.mark.parametrize("snr", [0.5, 1.0, 4.0, 25.0])
def test_noise_with_known_snr(snr):
    """Noise orthogonal to the (zero-mean) signal with power var/snr: rho = 1/sqrt(1 + 1/snr) exactly."""
    rng = np.random.default_rng(0)
    reference = mode(2, rng.uniform(0, 2 * np.pi, (4, 3))) + 5.0  # an offset must not matter
    noise = rng.standard_normal(reference.shape)
    centred = reference - reference.mean(-1, keepdims=True)
    noise -= noise.mean(-1, keepdims=True)
    noise -= (np.sum(noise * centred, -1) / np.sum(centred**2, -1))[..., None] * centred
    noise *= np.sqrt(np.sum(centred**2, -1) / snr / np.sum(noise**2, -1))[..., None]
    rho = ro.pearson_correlation(reference + noise, reference)
    np.testing.assert_allclose(rho, 1.0 / np.sqrt(1.0 + 1.0 / snr), atol=1e-12)


def test_correlation_is_scale_invariant_and_signed():
    reference = mode(1, np.zeros((1, 2)))
    np.testing.assert_allclose(ro.pearson_correlation(3.0 * reference - 2.0, reference), 1.0)
    np.testing.assert_allclose(ro.pearson_correlation(-reference, reference), -1.0)
    np.testing.assert_allclose(ro.pearson_correlation(mode(2, np.zeros((1, 2))), reference), 0.0, atol=1e-12)


def test_constant_fields_give_defined_values_not_nan():
    field = mode(1, np.zeros((1, 1)))
    const = np.full_like(field, 0.3)
    cases = [(const, const, 1.0), (const, const + 1.0, 0.0), (const, field, 0.0), (field, const, 0.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pred, ref, expected in cases:
            assert ro.pearson_correlation(pred, ref)[0, 0] == expected


def test_multi_dimensional_space_is_flattened():
    a = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    b = a + 0.5 * np.random.default_rng(2).standard_normal(a.shape)
    rho = ro.pearson_correlation(a, b)
    expected = [[np.corrcoef(a[i, j].ravel(), b[i, j].ravel())[0, 1] for j in range(3)] for i in range(2)]
    np.testing.assert_allclose(rho, expected, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# high_correlation_time and correlation_times


@pytest.mark.parametrize("threshold", [0.8, 0.9, 0.95])
@pytest.mark.parametrize("rate", [0.013, 0.05, 0.2])
def test_time_matches_arccos(rate, threshold):
    steps = 60
    prediction, reference, _ = drifting([rate], steps)
    rho = ro.pearson_correlation(prediction, reference)
    time = ro.high_correlation_time(rho[0], threshold)
    assert isinstance(time, int)
    assert time == first_below(rate, threshold, steps)


def test_time_conventions():
    curve = np.array([1.0, 0.9, 0.8, 0.79, 0.95, 0.99])
    assert ro.high_correlation_time(curve, 0.8) == 3  # equal to the threshold still counts as good
    assert ro.high_correlation_time(curve, 0.5) == 6  # never below: T
    assert ro.high_correlation_time(curve, 0.999) == 1  # a later recovery is ignored
    batch = np.stack([curve, np.ones(6), np.zeros(6)])
    times = ro.high_correlation_time(batch, 0.8)
    assert times.shape == (3,) and times.dtype.kind == "i"
    assert times.tolist() == [3, 6, 0]


def test_correlation_times_uses_batch_mean_curve():
    """A perfect trajectory and one decorrelated from step 5: the mean curve (0.5) drops at 5 for every
    threshold, while the per-trajectory times are [T, 5]; a mean of those (22.5) would be wrong."""
    steps, onset = 40, 5
    reference = mode(1, np.zeros((2, steps)))
    prediction = reference.copy()
    prediction[1, onset:] = mode(4, np.zeros(steps - onset))
    result = ro.correlation_times(prediction, reference, step_seconds=0.8)
    assert set(result) == {"0.8", "0.9", "0.95", "per_trajectory"}
    for key in ("0.8", "0.9", "0.95"):
        assert result[key]["steps"] == onset
        assert result[key]["seconds"] == pytest.approx(onset * 0.8)
        assert result["per_trajectory"][key] == [steps, onset]


def test_correlation_times_drift_batch_and_no_seconds():
    rates = [0.02, 0.04, 0.1]
    steps = 50
    prediction, reference, t = drifting(rates, steps)
    result = ro.correlation_times(prediction, reference, thresholds=(0.9,))
    mean_curve = np.cos(np.outer(rates, t)).mean(0)
    expected = int(np.flatnonzero(mean_curve < 0.9)[0])
    assert result["0.9"] == {"steps": expected, "seconds": None}
    assert result["per_trajectory"]["0.9"] == [first_below(r, 0.9, steps) for r in rates]


def test_perfect_prediction_lasts_whole_rollout():
    reference = np.random.default_rng(3).standard_normal((3, 12, N))
    result = ro.correlation_times(reference, reference.copy(), step_seconds=0.8)
    assert result["0.95"]["steps"] == 12
    assert result["0.95"]["seconds"] == pytest.approx(9.6)


# ------------------------------------------------------------------------------------------------
# mse_over_time and error_spectrum


def test_mse_over_time_known_offsets():
    reference = np.random.default_rng(4).standard_normal((3, 4, 5, 2))
    offsets = np.array([0.0, 0.5, 1.0, 3.0])
    prediction = reference + offsets[None, :, None, None]
    np.testing.assert_allclose(ro.mse_over_time(prediction, reference), offsets**2, atol=1e-12)


@pytest.mark.parametrize("n", [64, 63])
def test_error_spectrum_parseval(n):
    rng = np.random.default_rng(5)
    reference = rng.standard_normal((3, 7, n)) + 0.4
    prediction = reference + rng.standard_normal(reference.shape) * np.linspace(0.1, 2, 7)[None, :, None]
    k, err, ref = ro.error_spectrum(prediction, reference)
    assert k.tolist() == list(range(n // 2 + 1))
    assert err.shape == ref.shape == k.shape
    np.testing.assert_allclose(err.sum(), np.mean((prediction - reference) ** 2), rtol=1e-12)
    np.testing.assert_allclose(ref.sum(), np.mean(reference**2), rtol=1e-12)
    window = slice(2, 5)
    _, err_w, _ = ro.error_spectrum(prediction, reference, steps=window)
    np.testing.assert_allclose(err_w.sum(), np.mean((prediction - reference)[:, window] ** 2), rtol=1e-12)


@pytest.mark.parametrize(("m", "amplitude", "expected"), [(0, 0.7, 0.49), (1, 2.0, 2.0), (5, 0.3, 0.045),
                                                          (N // 2, 1.5, 2.25)])
def test_single_mode_error_lands_in_its_bin(m, amplitude, expected):
    reference = np.random.default_rng(6).standard_normal((2, 3, N))
    phase = 0.0 if m in (0, N // 2) else 0.9
    prediction = reference + amplitude * mode(m, phase)
    k, err, _ = ro.error_spectrum(prediction, reference)
    assert err[m] == pytest.approx(expected, rel=1e-12)
    others = np.delete(err, m)
    assert np.all(others < 1e-25)


def test_error_spectrum_step_selection():
    reference = np.zeros((1, 6, N))
    prediction = reference.copy()
    prediction[:, 3:] += mode(7)
    _, early, _ = ro.error_spectrum(prediction, reference, steps=slice(0, 3))
    _, late, _ = ro.error_spectrum(prediction, reference, steps=slice(3, None))
    assert np.all(early == 0)
    assert late[7] == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------------
# sample_correlation_time and uncertainty_agreement


def diverging_samples(count: int, onsets, steps: int, outliers: int | None = None) -> np.ndarray:
    """Samples equal to cos(x) until onsets[b]; afterwards the first `outliers` samples (default all)
    switch to distinct orthogonal modes (sample s -> mode s + 2), so those pairs have correlation 0."""
    samples = np.broadcast_to(mode(1), (count, len(onsets), steps, N)).copy()
    for b, onset in enumerate(onsets):
        for s in range(count if outliers is None else outliers):
            samples[s, b, onset:] = mode(s + 2)
    return samples


def test_sample_time_at_known_divergence():
    onsets = [0, 4, 9, 20]
    samples = diverging_samples(3, onsets, steps=20)
    times = ro.sample_correlation_time(samples, 0.8)
    assert times.shape == (4,)
    assert times.tolist() == onsets


@pytest.mark.parametrize(("threshold", "expected"), [(0.7, 6), (0.55, 20)])
def test_sample_time_averages_all_pairs(threshold, expected):
    """Five samples, one outlier from step 6: 6 of 10 pairs agree, mean 0.6 (pairs with sample 0 only: 0.75)."""
    samples = diverging_samples(5, [6], steps=20, outliers=1)
    assert ro.sample_correlation_time(samples, threshold).tolist() == [expected]


def test_identical_samples_last_whole_rollout():
    samples = np.broadcast_to(np.random.default_rng(7).standard_normal((3, 15, N)), (2, 3, 15, N))
    assert ro.sample_correlation_time(samples, 0.95).tolist() == [15, 15, 15]


def test_single_sample_is_rejected():
    with pytest.raises(ValueError, match="at least 2 samples"):
        ro.sample_correlation_time(np.zeros((1, 2, 3, N)), 0.8)


@pytest.mark.parametrize(("transform", "pearson", "spearman"), [
    (lambda t: 2.0 * t + 3.0, 1.0, 1.0),
    (lambda t: -0.5 * t + 40.0, -1.0, -1.0),
])
def test_agreement_linear(transform, pearson, spearman):
    true = np.array([3.0, 10.0, 7.0, 25.0, 14.0])
    result = ro.uncertainty_agreement(transform(true), true)
    assert result["pearson"] == pytest.approx(pearson, abs=1e-12)
    assert result["spearman"] == pytest.approx(spearman, abs=1e-12)
    assert result["n"] == 5
    assert np.isfinite(result["mean_ratio"]) and "note" not in result


def test_agreement_monotone_and_ratio():
    true = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    cubic = ro.uncertainty_agreement(true**3, true)
    assert cubic["spearman"] == pytest.approx(1.0)
    assert cubic["pearson"] < 0.99
    assert ro.uncertainty_agreement(2.0 * true, true)["mean_ratio"] == pytest.approx(2.0)
    with_zero = ro.uncertainty_agreement(np.array([5.0, 3.0, 6.0]), np.array([0.0, 2.0, 4.0]))
    assert with_zero["mean_ratio"] == pytest.approx((1.5 + 1.5) / 2)


@pytest.mark.parametrize(("estimated", "true"), [([4, 4, 4], [1, 2, 3]), ([1, 2, 3], [5, 5, 5]), ([3], [2])])
def test_agreement_degenerate_inputs_give_nan_with_note(estimated, true):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ro.uncertainty_agreement(np.array(estimated), np.array(true))
    assert math.isnan(result["pearson"]) and math.isnan(result["spearman"])
    assert "note" in result and result["note"]


# ------------------------------------------------------------------------------------------------
# plots


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_png(tmp_path):
    prediction, reference, t = drifting([0.05, 0.2], steps=10)
    out = plots.plot_space_time(reference[0], prediction[0], tmp_path / "sub" / "st.png", x=GRID, t=0.8 * (t + 1),
                             title="drift")
    assert out == tmp_path / "sub" / "st.png" and is_png(out)

    rho = ro.pearson_correlation(prediction, reference)
    curves = {"a": rho[0], "batch": rho}
    assert is_png(plots.plot_correlation(curves, tmp_path / "corr.png", step_seconds=0.8))

    k, err, ref = ro.error_spectrum(prediction, reference)
    spectra = {"a": (k, err), "b": (k, err * 0.5)}
    assert is_png(plots.plot_error_spectra(spectra, tmp_path / "spec.png", reference_energy=ref))
    assert is_png(plots.plot_error_spectra(spectra, tmp_path / "spec2.png", reference_energy=(k, ref)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corr.png", "spec.png", "spec2.png", "sub"]


def test_plot_rejects_bad_input(tmp_path):
    with pytest.raises(BadInput):
        plots.plot_space_time(np.zeros((4, 8)), np.zeros((4, 9)), tmp_path / "x.png")
    with pytest.raises(BadInput):
        plots.plot_correlation({}, tmp_path / "x.png")
    with pytest.raises(BadInput):
        plots.plot_error_spectra({"a": (np.arange(3), np.ones(4))}, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# input validation

GOOD = np.random.default_rng(8).standard_normal((2, 3, 8))


def with_value(value):
    array = GOOD.copy()
    array[1, 2, 3] = value
    return array


@pytest.mark.parametrize("call", [
    lambda: ro.pearson_correlation(GOOD, GOOD[:, :2]),
    lambda: ro.pearson_correlation(GOOD, with_value(np.nan)),
    lambda: ro.pearson_correlation(with_value(np.inf), GOOD),
    lambda: ro.pearson_correlation(GOOD[0], GOOD[0]),
    lambda: ro.mse_over_time(GOOD, GOOD[..., :4]),
    lambda: ro.error_spectrum(GOOD, with_value(-np.inf)),
    lambda: ro.error_spectrum(GOOD, GOOD, steps=slice(5, None)),
    lambda: ro.correlation_times(GOOD, GOOD, step_seconds=0.0),
    lambda: ro.correlation_times(GOOD, GOOD, thresholds=()),
    lambda: ro.high_correlation_time(np.array([1.0, np.nan]), 0.8),
    lambda: ro.high_correlation_time(np.ones((2, 2, 2)), 0.8),
    lambda: ro.sample_correlation_time(GOOD, 0.8),
    lambda: ro.uncertainty_agreement(np.ones(3), np.ones(4)),
    lambda: ro.uncertainty_agreement(np.ones(3), np.array([1.0, np.nan, 2.0])),
], ids=["shape", "nan", "inf", "ndim", "mse-shape", "spectrum-inf", "empty-steps", "step-seconds",
        "no-thresholds", "curve-nan", "curve-ndim", "samples-ndim", "agreement-shape", "agreement-nan"])
def test_bad_input_raises(call):
    with pytest.raises(BadInput) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2, "high"])
def test_threshold_must_be_inside_unit_interval(threshold):
    curve = np.ones(4)
    with pytest.raises(BadInput, match="threshold"):
        ro.high_correlation_time(curve, threshold)
    with pytest.raises(BadInput, match="threshold"):
        ro.correlation_times(GOOD, GOOD, thresholds=(0.8, threshold))
    with pytest.raises(BadInput, match="threshold"):
        ro.sample_correlation_time(np.stack([GOOD, GOOD]), threshold)


# -- field metrics ------------------------------------------------------------------------------------
def test_vrmse_is_one_for_the_spatial_mean_and_nrmse_is_relative_l2_per_step():
    from pdesuite.validation.metrics import nrmse, relative_l2, vrmse

    rng = np.random.default_rng(0)
    ref = rng.normal(size=(5, 32, 2)) + 3.0  # (t, x, fields)
    mean = np.broadcast_to(ref.mean(axis=1, keepdims=True), ref.shape)
    assert vrmse(mean, ref) == pytest.approx(1.0, abs=1e-6)
    assert vrmse(ref, ref) == 0.0
    one = ref[:1, :, :1]
    noisy = one + 0.1 * rng.normal(size=one.shape)
    assert nrmse(noisy, one) == pytest.approx(relative_l2(noisy, one))
    # steady data (no time axis) and a leading sample axis
    assert nrmse(noisy[0], one[0], time_axis=None) == pytest.approx(relative_l2(noisy, one))
    batch = np.stack([ref, 2 * ref])
    assert nrmse(1.1 * batch, batch, time_axis=1, sample_axis=0) == pytest.approx(0.1)


@pytest.mark.parametrize(("k", "band"), [(2, "low"), (7, "mid"), (20, "high")])
def test_fourier_band_errors_put_a_pure_mode_in_its_band_and_add_up_to_the_mse(k, band):
    from pdesuite.validation.metrics import fourier_band_errors, rmse

    x = 2 * np.pi * np.arange(64) / 64
    ref = np.sin(x)[None, :, None] * np.ones((3, 1, 1))
    pred = ref + 0.01 * np.cos(k * x)[None, :, None]
    bands = fourier_band_errors(pred, ref)
    assert bands[band] == pytest.approx(rmse(pred, ref), rel=1e-10)
    assert sum(v for name, v in bands.items() if name != band) < 1e-12
    mixed = ref + 0.01 * np.cos(3 * x)[None, :, None] + 0.02 * np.cos(30 * x)[None, :, None]
    b = fourier_band_errors(mixed, ref)
    assert b["low"] ** 2 + b["mid"] ** 2 + b["high"] ** 2 == pytest.approx(rmse(mixed, ref) ** 2, rel=1e-10)
    # 2D: a mode (3, 4) has |k| = 5 (mid)
    y = x[:16]
    field = np.cos(3 * x[:, None] + 4 * y[None, :] * 4)[None, ..., None]  # y period 16 points -> k_y = 4
    b2 = fourier_band_errors(field, 0 * field)
    assert b2["mid"] == pytest.approx(rmse(field, 0 * field), rel=1e-10)
