"""examples/pde_refiner_ks.py runs end to end at a tiny size and writes its table."""

import json


def test_pde_refiner_example_tiny(refiner_example_output):
    tmp_path, result = refiner_example_output["out"], refiner_example_output["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| pde-refiner | 1 |" in result.stdout and "PDE-Refiner / MSE high-correlation time" in result.stdout
    table = (tmp_path / "table.md").read_text()
    assert "pdesuite train pde-refiner" in table and "pdesuite generate ks" in table
    metrics = json.loads((tmp_path / "pde-refiner-s0" / "metrics.json").read_text())
    assert metrics["model_steps"] == 19 and len(metrics["correlation_mean"]) == 19  # 80 stored steps / 4, minus 1
    assert metrics["timing"]["surrogate_seconds"] > 0 and "uncertainty" in metrics
    for name in ("correlation.png", "error_spectra.png"):
        assert (tmp_path / name).stat().st_size > 5000
