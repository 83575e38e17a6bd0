"""The UM2N scripts (examples/um2n_*.py) run end to end at toy size and write their tables: the Helmholtz
comparison on three test sets (seen, structured, unseen type and resolution), then the swirl with
Monge-Ampère and the trained network moving the mesh."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

ROOT = Path(__file__).parents[1]


def run_example(name: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PDESUITE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "examples" / name), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=900, cwd=ROOT)


def test_um2n_examples(tmp_path):
    out = tmp_path / "um2n"
    result = run_example("um2n_helmholtz.py", "--out", out, "--seeds", "0", "--samples", "6", "--test-samples", "2",
                         "--steps", "30")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["test set"]: row for row in json.loads((out / "results.json").read_text())["rows"]}
    assert list(rows) == ["seen (Frontal-Delaunay h 0.05)", "structured 20 × 20", "unseen (Delaunay h 0.028)"]
    assert rows["unseen (Delaunay h 0.028)"]["nodes"] > 2 * rows["seen (Frontal-Delaunay h 0.05)"]["nodes"]
    for row in rows.values():
        assert len(row["er_ma"]) == 1 and row["ma_seconds"][0] > 0 and row["network_seconds"][0] > 0
    table = (out / "table.md").read_text()
    assert "| unseen (Delaunay h 0.028) |" in table and "pdesuite train um2n" in table

    swirl = tmp_path / "swirl"
    result = run_example("um2n_swirl.py", "--runs", out / "um2n-s0", "--out", swirl, "--t-end", "0.02",
                         "--every", "5", "--n", "8", "--dt", "2e-3")
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((swirl / "results.json").read_text())["results"]
    assert list(results) == ["uniform", "Monge-Ampère", "UM2N um2n-s0"]
    assert results["Monge-Ampère"]["moves"] == 2 and results["uniform"]["moves"] == 0  # at t = 0 and after step 5
    assert all(r["error"] > 0 for r in results.values()) and "er" in results["UM2N um2n-s0"]
    assert (swirl / "swirl.png").stat().st_size > 10_000
