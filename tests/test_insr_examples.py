"""The three INSR comparison scripts run end to end at toy size and write their tables: the script, the
surrogate, the baselines in the same run and the table layout stay in step."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PDESUITE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "examples" / name), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600, cwd=ROOT)


def test_taylor_green_example(tmp_path):
    result = run_example("insr_taylor_green.py", "--out", tmp_path, "--iterations", "2", "--grids", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())["single"]
    assert [row["method"] for row in results["rows"]] == ["INSR 3x32 + 3x32", "Stable Fluids 16x16"]
    assert results["rows"][0]["unknowns"] == 6627 and results["rows"][1]["unknowns"] == 3 * 16**2
    assert "KE reference" in (tmp_path / "table.md").read_text() and (tmp_path / "energy-single.png").is_file()


def test_elasticity_example(tmp_path):
    pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
    result = run_example("insr_elasticity.py", "--out", tmp_path, "--cases", "sag", "--iterations", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    table = (tmp_path / "table.md").read_text()
    assert "| INSR 3x68 | 14418 |" in table and "P1 168x42 (equal) | 14534 |" in table and "∫Ψ reference" in table
