"""Examples run and report the numbers they promise."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
ROOT = Path(__file__).parents[1]


def test_fem_poisson_example(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "fem_poisson.py"), "--out", str(tmp_path),
                             "--max-n", "32"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    orders = [float(x) for x in re.findall(r"L2 order (\d+\.\d+)", result.stdout)]
    assert len(orders) == 2 and abs(orders[0] - 2) < 0.1 and abs(orders[1] - 3) < 0.1
    assert (tmp_path / "fem_poisson_convergence.png").stat().st_size > 5000
