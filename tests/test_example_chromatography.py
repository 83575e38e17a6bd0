"""examples/chromatography_btex.py runs (quick mode) and recovers the parameters it synthesised."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_btex_example_recovers_its_parameters(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("chromatography_btex", ROOT / "examples" / "chromatography_btex.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "largest |z|" in out and "benzene" in out
    assert summary["converged"] and summary["max_abs_z"] < 3.0, summary
    for row in summary["rows"]:  # three analytes, coarse FD data with 1 % noise
        assert abs(row["rel_err_k_a"]) < 0.05 and abs(row["rel_err_k_d"]) < 0.05
    assert json.loads((tmp_path / "btex_fit.json").read_text())["quick"] is True
    assert (tmp_path / "btex_fit.png").stat().st_size > 5000 and (tmp_path / "btex.csv").exists()
