"""`pdesuite chromatography simulate|fit`: round trip, outputs, and every bad input (one line, exit 2)."""

import json
from pathlib import Path

import numpy as np
import pytest

from pdesuite.solvers.laplace.fitting import read_chromatogram

FIXTURE = Path(__file__).parents[1] / "fixtures" / "btex_chromatogram.csv"
COLUMN = ["--length", "2", "--velocity", "0.1", "--alpha", "0.1"]
RNG = np.random.default_rng(0)


def test_simulate_then_fit_recovers_the_parameters(cli, tmp_path):
    data = tmp_path / "two.csv"
    code, out, err = cli("chromatography", "simulate", "-o", data, *COLUMN, "--p-in", "3", "--p-out", "1",
                         "--analyte", "benzene:300:25:1", "--analyte", "toluene:594:22:0.8", "--dt", "0.2",
                         "--noise", "0.001", "--baseline", "0.01", "--seed", "3")
    assert code == 0, err
    assert "plates" in out and data.exists() and data.with_suffix(".png").stat().st_size > 5000
    header = [line for line in data.read_text().splitlines() if not line.startswith("#")][0]
    assert header == "time,signal,c_benzene,c_toluene"
    prefix = tmp_path / "fit"
    code, out, err = cli("chromatography", "fit", data, *COLUMN, "--names", "benzene,toluene", "-o", prefix)
    assert code == 0, err
    assert "benzene" in out and "±" in out and "converged" in out
    result = json.loads((tmp_path / "fit.json").read_text())
    assert result["converged"] and result["t0"] == 20.0
    for peak, (k_a, k_d) in zip(result["peaks"], [(300, 25), (594, 22)], strict=True):
        assert abs(peak["k_a"] - k_a) < 3 * peak["k_a_se"] and abs(peak["k_d"] - k_d) < 3 * peak["k_d_se"]
    table = (tmp_path / "fit.csv").read_text().splitlines()
    assert table[0].startswith("name,k_a,k_a_se,k_d,k_d_se,area") and len(table) == 3
    curve = np.genfromtxt(tmp_path / "fit_curve.csv", delimiter=",", names=True)
    assert set(curve.dtype.names) == {"time", "signal", "fit", "residual"}
    assert (tmp_path / "fit.png").stat().st_size > 5000
    # outputs are not replaced without --overwrite
    code, _, err = cli("chromatography", "fit", data, "--t0", "20", "-o", prefix)
    assert code == 2 and "exists" in err


def test_fit_of_the_btex_fixture_and_non_convergence(cli, tmp_path):
    code, out, err = cli("chromatography", "fit", FIXTURE, "--t0", "20", "--alpha", "0.1", "--peaks", "5",
                         "--baseline", "linear", "-o", tmp_path / "btex", "-q")
    assert code == 0 and out == "", err
    assert len(json.loads((tmp_path / "btex.json").read_text())["peaks"]) == 5
    code, out, err = cli("chromatography", "fit", FIXTURE, "--t0", "20", "--alpha", "0.1", "--max-nfev", "1",
                         "-o", tmp_path / "stuck")
    assert code == 1 and "did not converge" in err and "NOT CONVERGED" in out
    assert json.loads((tmp_path / "stuck.json").read_text())["converged"] is False


def test_simulate_with_the_full_model(cli, tmp_path):
    code, _, err = cli("chromatography", "simulate", "-o", tmp_path / "fd.csv", "--solver", "fd", "--cells", "100",
                       "--diffusion", "1e-5", "--q-max", "50", "--analyte", "a:5:2", "--analyte", "b:9:2",
                       "--no-plot", "-q")
    assert code == 0, err
    t, signal = read_chromatogram(tmp_path / "fd.csv")
    assert signal.max() > 0.02 and np.trapezoid(signal, t) == pytest.approx(1.0, rel=1e-3)  # 2 × c0 τ = 2 × 0.5
    assert not (tmp_path / "fd.png").exists()


def bad_csv(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("args,message", [
    (["--length", "0"], "column length L must be positive"),
    (["--velocity", "-1"], "carrier velocity u must be positive"),
    (["--analyte", "a:-1:2"], "adsorption rate k_a of a must be positive"),
    (["--analyte", "a:1:-2"], "desorption rate k_d of a must be positive"),
    (["--diffusion=-1e-5", "--solver", "fd"], "diffusion coefficient D must be >= 0"),
    (["--p-in", "1", "--p-out", "2"], "below the outlet pressure"),
    (["--p-in", "2"], "both --p-in and --p-out"),
    (["--diffusion", "1e-5"], "use --solver fd"),
    (["--analyte", "a:1"], "NAME:K_A:K_D"),
    (["--scheme", "weno"], "invalid choice"),
])
def test_simulate_bad_input(cli, tmp_path, args, message):
    code, out, err = cli("chromatography", "simulate", "-o", tmp_path / "x.csv", *args)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("text,message", [
    ("time,value\n" + "".join(f"{i},0\n" for i in range(20)), "missing column(s) signal"),
    ("time,signal\n" + "".join(f"{i},{'nan' if i == 3 else 0}\n" for i in range(20)), "NaN"),
    ("time,signal\n" + "".join(f"{20 - i},0\n" for i in range(20)), "increase strictly"),
    ("time,signal\n" + "".join(f"{i},{v}\n" for i, v in enumerate(0.1 + 1e-3 * RNG.standard_normal(300))), "no peak"),
])
def test_fit_bad_input(cli, tmp_path, text, message):
    path = bad_csv(tmp_path, text)
    code, _, err = cli("chromatography", "fit", path, "--t0", "5", "-o", tmp_path / "out")
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_fit_needs_the_hold_up_time(cli, tmp_path):
    code, _, err = cli("chromatography", "fit", FIXTURE, "-o", tmp_path / "x")
    assert code == 2 and "hold-up time" in err
    code, _, err = cli("chromatography", "fit", tmp_path / "missing.csv", "--t0", "20", "-o", tmp_path / "x")
    assert code == 2 and "does not exist" in err
