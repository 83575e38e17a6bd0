"""examples/insr_advection.py: INSR against the grid baselines at equal unknowns, table and JSON."""

import json
import subprocess
import sys
from pathlib import Path

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
