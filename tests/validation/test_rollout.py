"""`pdesuite validate` for one-step surrogates: full-trajectory rollouts, metrics, determinism."""

import json

import numpy as np

from pdesuite.training.trainer import make_config, train
from pdesuite.validation.validate import validate_run

TINY = {"hidden": "4", "channel_mults": "[1, 2]", "blocks_per_level": "1", "batch_size": "8", "adam_steps": "3",
        "val_every": "3", "val_trajectories": "1", "val_steps": "3", "uncertainty_samples": "2"}


def test_validate_rollouts_is_deterministic(tmp_path, tiny_ks):
    run = tmp_path / "run"
    train(run, make_config("pde-refiner", tiny_ks, device="cpu", overrides=TINY), progress=False)
    first = validate_run(run, output=tmp_path / "a")
    second = validate_run(run, output=tmp_path / "b", uncertainty_samples=0)
    assert first["correlation_mean"] == second["correlation_mean"]  # seed 0 both times
    assert "uncertainty" not in second
    assert first["model_steps"] == 19 and first["trajectories"] == 2 and first["step_seconds"] > 0.7
    times = first["correlation_time"]
    assert set(times) == {"0.8", "0.9", "0.95", "per_trajectory"}
    assert times["0.8"]["steps"] >= times["0.95"]["steps"]
    assert len(first["error_spectrum"]["k"]) == 33 and first["high_wavenumber_from"] == 8
    assert first["timing"]["surrogate_seconds"] > 0 and first["uncertainty"]["samples"] == 2
    assert 0 <= first["nrmse"] and 0 <= first["vrmse"] and set(first["fourier_band_errors"]) == {"low", "mid", "high"}
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert np.allclose(saved["mse_over_time"], first["mse_over_time"])
    for name in saved["plots"]:
        assert (tmp_path / "a" / name).stat().st_size > 5000


def test_rollout_speed_benchmark_times_the_solver_in_the_same_run(tmp_path, tiny_ks):
    """The solver comparison moved out of `validate` into benchmarks/rollout_speed.py."""
    import subprocess
    import sys
    from pathlib import Path

    run = tmp_path / "run"
    train(run, make_config("unet-mse", tiny_ks, device="cpu", overrides={
        k: v for k, v in TINY.items() if k != "uncertainty_samples"}), progress=False)
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "rollout_speed.py"
    out = tmp_path / "speed.json"
    done = subprocess.run([sys.executable, str(script), str(run), "--repeats", "2", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["speedup"] > 0 and len(result["solver_seconds"]["runs"]) == 2
    # the solver restarted from the stored states follows the reference for a while
    assert result["solver_restart_correlation_time"]["steps"] >= 5
