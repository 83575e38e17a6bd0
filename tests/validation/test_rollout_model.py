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
    assert first["timing"]["speedup"] > 0 and first["uncertainty"]["samples"] == 2
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert np.allclose(saved["mse_over_time"], first["mse_over_time"])
    for name in saved["plots"]:
        assert (tmp_path / "a" / name).stat().st_size > 5000
