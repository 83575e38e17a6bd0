"""Generation mechanics: interruption and resume, failures, provenance."""

import json

import h5py
import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
from pdesuite.data.writer import partial_path  # noqa: E402
from pdesuite.errors import BadInput, SolverError  # noqa: E402
from pdesuite.recipes.generate import generate  # noqa: E402
from pdesuite.recipes.helmholtz_bumps import HelmholtzBumps  # noqa: E402

FAST = {"mesh_size": "0.2"}


def test_interrupted_generation_resumes_to_the_same_file(tmp_path, monkeypatch):
    reference = generate("helmholtz-bumps", tmp_path / "ref.h5", samples=6, overrides=FAST, progress=False)
    target = tmp_path / "resumed.h5"
    original, calls = HelmholtzBumps.sample, {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HelmholtzBumps, "sample", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate("helmholtz-bumps", target, samples=6, overrides=FAST, progress=False)
    assert not target.exists() and partial_path(target).exists()
    monkeypatch.setattr(HelmholtzBumps, "sample", original)

    calls["n"] = 0
    counted = []
    monkeypatch.setattr(HelmholtzBumps, "sample", lambda self, *a, **k: counted.append(1) or original(self, *a, **k))
    with pytest.raises(BadInput, match="--resume"):
        generate("helmholtz-bumps", target, samples=6, overrides=FAST, progress=False)
    generate("helmholtz-bumps", target, samples=6, overrides=FAST, progress=False, resume=True)
    total = 6 + 1 + 1  # train + valid + test at this size
    assert len(counted) == total - 3  # the 3 samples written before the interruption are not redone
    assert not partial_path(target).exists()
    with h5py.File(reference) as f, h5py.File(target) as g:
        for split in ("train", "valid", "test"):
            assert f[f"{split}/u"][()].tobytes() == g[f"{split}/u"][()].tobytes()


def test_solver_failure_exits_1_and_leaves_nothing(tmp_path, monkeypatch, cli):
    def diverge(self, *args, **kwargs):
        raise SolverError("linear solver failed (PETSc reason -3)")

    monkeypatch.setattr(HelmholtzBumps, "sample", diverge)
    target = tmp_path / "x.h5"
    code, _, err = cli("generate", "helmholtz-bumps", "-o", target, "--set", "mesh_size=0.2")
    assert code == 1 and "PETSc reason -3" in err and len(err.strip().splitlines()) == 1
    assert not target.exists() and not partial_path(target).exists()


def test_provenance_attributes(tmp_path):
    path = generate("heat-random", tmp_path / "h.h5", samples=1, seed=5, progress=False,
                    overrides={"resolution": "4", "valid": "0", "test": "0"}, command="pdesuite generate ...")
    with h5py.File(path) as f:
        attrs = dict(f.attrs)
        assert attrs["format"] == "pdesuite-dataset" and attrs["format_version"] == 1
        assert attrs["dataset"] == "heat-random" and attrs["problem"] == "heat" and attrs["seed"] == 5
        params = json.loads(attrs["params"])
        assert params["resolution"] == 4 and params["train"] == 1 and params["kappa"] == 0.01
        software = json.loads(attrs["software"])
        assert "dolfinx-solver-real" in software and "numpy" in software
        assert attrs["created"].startswith("20") and attrs["command"] == "pdesuite generate ..."
        assert np.allclose(f["t"][()], np.linspace(0, 1, 11))


KS_TINY = ["--samples", "6", "--set", "batch=2", "--set", "nt_train=60", "--set", "keep_train=20", "--set",
           "nt_eval=80", "--set", "keep_eval=30", "--set", "t_end_train=12", "--set", "t_end_eval=16", "-q"]


@pytest.mark.mpi
def test_mpi_generation_writes_one_identical_file(tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    if mpiexec is None:
        pytest.skip("mpiexec not found")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = [sys.executable, "-m", "pdesuite", "generate", "ks", *KS_TINY]
    parallel = subprocess.run([mpiexec, "-n", "2", *run, "-o", str(tmp_path / "mpi.h5")], capture_output=True,
                              text=True, timeout=300, env=env)
    assert parallel.returncode == 0, parallel.stderr[-2000:]
    serial = subprocess.run([*run, "-o", str(tmp_path / "serial.h5")], capture_output=True, text=True, timeout=300)
    assert serial.returncode == 0, serial.stderr[-2000:]
    with h5py.File(tmp_path / "mpi.h5") as f, h5py.File(tmp_path / "serial.h5") as g:
        for key in ("train/u", "valid/u", "test/u", "train/params", "test/t"):
            assert f[key][()].tobytes() == g[key][()].tobytes(), key
    bad = subprocess.run([mpiexec, "-n", "2", *run, "-o", str(tmp_path / "mpi.h5")], capture_output=True,
                         text=True, timeout=300, env=env)
    assert bad.returncode == 2 and "exists" in bad.stderr  # every rank stops before any work
