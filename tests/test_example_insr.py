"""The three INSR comparison scripts (examples/insr_*.py) run end to end at toy size and write their tables:
the script, the surrogate, the baselines in the same run and the table layout stay in step."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_insr_advection_example(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "insr_advection.py"), "--out", str(tmp_path),
                             "--seeds", "0", "--sizes", "1x8", "--iterations", "40"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["method"]: row for row in json.loads((tmp_path / "results.json").read_text())}
    floor = rows.pop("implicit midpoint, exact in space (the time error alone)")  # INSR's time stepping, space exact
    assert set(rows) == {"INSR 1x8", "upwind (97 nodes)", "crank-nicolson (97 nodes)", "semi-lagrangian (97 nodes)"}
    assert all(row["unknowns"] == 97 for row in rows.values())
    # no method with Δt = 0.1 and the implicit midpoint rule beats it: Crank-Nicolson in space (same rule) does not
    assert floor["seeds"][0]["relative_l2"] < rows["crank-nicolson (97 nodes)"]["seeds"][0]["relative_l2"]
    # the grid baselines' numbers are deterministic: first-order upwind dissipates most
    peaks = {name: row["seeds"][0]["final_peak"] for name, row in rows.items()}
    assert peaks["upwind (97 nodes)"] < peaks["crank-nicolson (97 nodes)"] < 1.0
    assert "| INSR 1x8 | 97 |" in (tmp_path / "table.md").read_text()


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
