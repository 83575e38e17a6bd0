"""Every script in benchmarks/ answers ``--help`` quickly, with exit status 0, and writes nothing.

A benchmark's work (minutes of solves) must start only after its arguments are parsed; ``--help``
must not create result files (benchmarks/results/, docs/img/) or anything in the working directory.
Each script is also required to offer ``-o`` (its output file) and, where it times something,
``--repeats`` (median and spread): both must appear in its help.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))  # _timing: helpers
#: Scripts that time nothing (they print convergence tables): no --repeats.
UNTIMED = {"fem_convergence.py", "spectral_convergence.py"}


def snapshot(*folders: Path) -> dict[str, float]:
    """Every file under ``folders`` with its modification time."""
    return {str(p): p.stat().st_mtime_ns for folder in folders if folder.exists()
            for p in folder.rglob("*") if p.is_file()}


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 8, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_is_fast_and_writes_nothing(script, tmp_path):
    watched = (ROOT / "benchmarks", ROOT / "docs" / "img")
    before = snapshot(*watched)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:500]
    assert seconds < 60, f"{script.name} --help took {seconds:.0f} s"
    assert list(tmp_path.iterdir()) == [], f"{script.name} --help wrote {list(tmp_path.iterdir())}"
    assert snapshot(*watched) == before, f"{script.name} --help changed files under benchmarks/ or docs/img/"
    assert " -o " in done.stdout or " -o," in done.stdout, f"{script.name} has no -o option"
    if script.name not in UNTIMED:
        assert "--repeats" in done.stdout, f"{script.name} times something but has no --repeats"
