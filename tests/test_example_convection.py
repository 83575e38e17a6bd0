"""examples/pinn_vs_lpinn_convection.py runs at a tiny size (two trainings at a time) and writes its table."""

import importlib.util
import json
import math
from pathlib import Path

import pytest

from pdesuite.errors import BadInput

ROOT = Path(__file__).parents[1]


def test_convection_example_tiny(tmp_path, capsys):
    path = ROOT / "examples" / "pinn_vs_lpinn_convection.py"
    spec = importlib.util.spec_from_file_location("convection_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--speeds", "30", "--seeds", "0", "--steps", "20", "--set", "lbfgs_steps=0",
            "--set", "n_collocation=64", "--set", "val_every=10", "--jobs", "2", "--out", str(tmp_path)]
    rows = module.main(argv)
    assert [(r["c"], r["method"]) for r in rows] == [(30.0, "pinn"), (30.0, "lpinn")]
    for r in rows:
        assert len(r["relative_l2"]) == 1 and all(math.isfinite(v) for v in r["relative_l2"] + r["lpinn_error"])
        assert all("--set lbfgs_steps=0" in c and "--steps 20" in c for c in r["commands"])
    table = (tmp_path / "table.md").read_text()
    assert "| 30 | lpinn |" in table and table.split("\n\n")[0] in capsys.readouterr().out
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2
    # a second call reuses the finished runs: same numbers, nothing retrained
    assert module.main(argv) == rows
    # other settings into the same folder: refused, not silently reported with the old numbers
    with pytest.raises(BadInput, match="other settings"):
        module.main([*argv, "--set", "hard_ic=false"])
