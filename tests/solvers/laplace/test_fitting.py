"""Fitting the Laplace chromatogram: recovery within standard errors, calibrated errors, bad data."""

from pathlib import Path

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.solvers.laplace.column import LaplaceColumn
from pdesuite.solvers.laplace.fitting import fit_chromatogram, read_chromatogram

FIXTURE = Path(__file__).parents[2] / "fixtures" / "btex_chromatogram.csv"
# the truth behind the fixture (examples/chromatography_btex.py: full FD model, D > 0, Langmuir, P = 3)
BTEX_TRUE = {"benzene": (300.0, 25.0), "toluene": (594.0, 22.0), "ethylbenzene": (1000.0, 20.0),
             "m/p-xylene": (1176.0, 21.0), "o-xylene": (1254.0, 19.0)}
PULSE = Injection("pulse", 0.5, 0.0)


def mixture(analytes, **kw) -> Chromatography:
    return Chromatography(length=2.0, velocity=0.1, alpha=0.1, analytes=tuple(analytes), injection=PULSE,
                          p_in=3.0, p_out=1.0, **kw)


def noisy(problem, noise, seed, dt=0.2, baseline=(0.02, 0.0)):
    t = np.arange(0.0, problem.end_time(), dt)
    clean = LaplaceColumn(problem).chromatogram(t)
    rng = np.random.default_rng(seed)
    return t, clean + baseline[0] + baseline[1] * t + noise * clean.max() * rng.standard_normal(len(t))


def test_btex_fixture_from_the_full_fd_model_is_recovered_within_standard_errors():
    t, y = read_chromatogram(FIXTURE)
    fit = fit_chromatogram(t, y, 20.0, PULSE, alpha=0.1, n_peaks=5, names=list(BTEX_TRUE), baseline="linear")
    assert fit.converged
    for peak in fit.peaks:
        k_a, k_d = BTEX_TRUE[peak.name]
        assert abs(peak.k_a - k_a) < 2 * peak.k_a_se, (peak.name, peak.k_a, peak.k_a_se)
        assert abs(peak.k_d - k_d) < 2 * peak.k_d_se, (peak.name, peak.k_d, peak.k_d_se)
        assert peak.k_d_se / peak.k_d < 0.01  # and the errors are small
    # baseline b0 + b1 (t − t_ref): the example adds 0.02 + 2e-5 t
    assert abs(fit.baseline["b0"] - (0.02 + 2e-5 * fit.baseline["t_ref"])) < 3 * fit.baseline["b0_se"]
    assert abs(fit.baseline["b1"] - 2e-5) < 3 * fit.baseline["b1_se"]
    assert np.std(fit.residuals) == pytest.approx(fit.noise, rel=0.01)


def test_standard_errors_are_calibrated():
    """Over repeated noise draws the spread of the estimates matches the reported standard errors."""
    problem = mixture([Analyte("a", 150.0, 20.0, 1.0)])
    estimates, errors = [], []
    for seed in range(24):
        t, y = noisy(problem, 0.01, seed, dt=0.25)
        fit = fit_chromatogram(t, y, problem.hold_up_time, PULSE, alpha=0.1)
        estimates.append([fit.peaks[0].k_a, fit.peaks[0].k_d, fit.peaks[0].area])
        errors.append([fit.peaks[0].k_a_se, fit.peaks[0].k_d_se, fit.peaks[0].area_se])
    spread, reported = np.std(estimates, axis=0, ddof=1), np.mean(errors, axis=0)
    np.testing.assert_allclose(spread / reported, 1.0, atol=0.35)
    np.testing.assert_allclose(np.mean(estimates, axis=0)[:2], [150.0, 20.0], rtol=0.01)


def test_overlapping_peaks_with_a_drifting_baseline():
    problem = mixture([Analyte("e", 1000.0, 20.0, 0.6), Analyte("x", 1120.0, 20.0, 0.9)])  # resolution ~0.8
    t, y = noisy(problem, 0.003, 3, baseline=(0.05, 1e-4))
    fit = fit_chromatogram(t, y, problem.hold_up_time, PULSE, alpha=0.1, n_peaks=2, baseline="linear")
    assert fit.converged and fit.baseline["b1"] == pytest.approx(1e-4, rel=0.05)
    for peak, truth in zip(fit.peaks, problem.analytes, strict=True):
        assert abs(peak.k_a - truth.k_a) < 3 * peak.k_a_se and abs(peak.k_d - truth.k_d) < 3 * peak.k_d_se


def test_non_convergence_is_reported_with_the_best_point():
    problem = mixture([Analyte("a", 150.0, 20.0, 1.0)])
    t, y = noisy(problem, 0.01, 0)
    fit = fit_chromatogram(t, y, problem.hold_up_time, PULSE, alpha=0.1, max_nfev=1)
    assert not fit.converged and "no convergence" in fit.message
    assert "NOT CONVERGED" in fit.table()
    assert np.all(np.isfinite(fit.fitted)) and len(fit.peaks) == 1


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,message", [
    ("t,signal\n" + "".join(f"{i},{i}\n" for i in range(20)), "missing column"),
    ("time,signal\n" + "".join(f"{i},{'nan' if i == 5 else 0}\n" for i in range(20)), "NaN"),
    ("time,signal\n" + "".join(f"{i if i != 7 else 3},0\n" for i in range(20)), "increase strictly"),
    ("time,signal\n1,2\n2,3\n", "at least 10"),
    ("time,signal\n" + "".join(f"{i},x\n" for i in range(20)), "numeric"),
])
def test_bad_files(tmp_path, text, message):
    with pytest.raises(BadInput, match=message):
        read_chromatogram(write(tmp_path / "bad.csv", text))


def test_no_peak_and_bad_settings():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 100, 500)
    with pytest.raises(BadInput, match="no peak"):
        fit_chromatogram(t, 0.1 + 0.01 * rng.standard_normal(500), 10.0, PULSE)
    problem = mixture([Analyte("a", 150.0, 20.0, 1.0)])
    t, y = noisy(problem, 0.01, 0)
    with pytest.raises(BadInput, match="before the hold-up time"):
        fit_chromatogram(t, y, 200.0, PULSE)
    with pytest.raises(BadInput, match="found only"):
        fit_chromatogram(t, y, problem.hold_up_time, PULSE, n_peaks=3)
    with pytest.raises(BadInput, match="baseline"):
        fit_chromatogram(t, y, problem.hold_up_time, PULSE, baseline="quadratic")
