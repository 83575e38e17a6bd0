"""examples/pig_vs_pinn.py runs at a tiny size and writes its table with finite numbers."""

import importlib.util
import json
import math
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_pig_vs_pinn_example_tiny(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("pig_vs_pinn", ROOT / "examples" / "pig_vs_pinn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.main(["--problems", "pig-helmholtz", "--seeds", "0", "--steps", "30", "--collocation", "128",
                        "--val-every", "10", "--out", str(tmp_path), "--in-process"])
    assert [(r["problem"], r["method"]) for r in rows] == [("pig-helmholtz", "pinn"), ("pig-helmholtz", "pig")]
    for r in rows:
        assert r["steps"] == 30 and r["params"] > 0
        assert all(math.isfinite(v) for v in r["final"] + r["best"] + r["seconds"])
        assert min(r["best"]) <= min(r["final"])  # the best is one of the validated errors, the final another
        assert "--seed {seed}" in r["command"] and "--steps 30" in r["command"]
    # equal budget: after the method and the run folder, the two commands are the same
    pinn, pig = (r["command"] for r in rows)
    assert pinn.split("--profile")[1] == pig.split("--profile")[1]
    table = (tmp_path / "table.md").read_text()
    assert "| pig-helmholtz | pig |" in table and "4.13e-05" in table and "best rel. L2" in table
    assert table.strip() in capsys.readouterr().out
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2
