"""The schedule-search script (examples/schedule_search.py) on the exact Gaussian test bed: every searched
grid beats every fixed spacing of its sampler at 5 and 10 NFE, and the table is written."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_schedule_search_example(tmp_path):
    env = {**os.environ, "PDESUITE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "schedule_search.py"), "--out", str(tmp_path),
                             "--seeds", "0"], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())["testbed"]
    assert set(results) == {f"{s} {n}" for s in ("ddim", "dpm-solver++", "unipc") for n in (5, 10)}
    for key, row in results.items():
        assert max(row["searched"]) < min(row["fixed"].values()), key
    table = (tmp_path / "table.md").read_text()
    assert "| dpm-solver++ 10 |" in table and "karras" in table
