"""The same solves (and the Monge-Ampère mesh move) under `mpiexec -n 2` give the serial answer."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

CASE = Path(__file__).with_name("mpi_case.py")
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")


def run(n: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[3])}
    command = [sys.executable, str(CASE)] if n == 1 else [MPIEXEC, "-n", str(n), sys.executable, str(CASE)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@pytest.mark.mpi
@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found")
def test_two_processes_match_serial():
    serial, parallel = run(1), run(2)
    assert serial["size"] == 1 and parallel["size"] == 2
    for case in ("poisson", "poisson_unstructured", "heat"):
        for key, value in serial[case].items():
            np.testing.assert_allclose(parallel[case][key], value, rtol=1e-9, atol=1e-12, err_msg=f"{case}/{key}")
    # the mover's Krylov solves stop at rtol 1e-12, so the processes' answers agree to about that
    assert parallel["monge_ampere"]["iterations"] == serial["monge_ampere"]["iterations"]
    np.testing.assert_allclose(parallel["monge_ampere"]["points"], serial["monge_ampere"]["points"], atol=1e-9)
