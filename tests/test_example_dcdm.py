"""examples/dcdm_poisson.py runs at a tiny size: the trained DCDM beats CG and matches LU."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
ROOT = Path(__file__).parents[1]


def test_dcdm_example_tiny(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("dcdm_poisson", ROOT / "examples" / "dcdm_poisson.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--out", str(tmp_path), "--n-train", "16", "--n", "16", "--steps", "150"])
    assert list(results) == ["CG", "ICC-PCG", "DCDM"]
    assert results["DCDM"]["iterations"] < 0.6 * results["CG"]["iterations"]
    assert all(r["error"] < 1e-5 for r in results.values())
    assert (tmp_path / "dcdm-16.pt").is_file()
    assert "relative difference from LU" in capsys.readouterr().out
