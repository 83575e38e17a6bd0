"""Reliability probes on real subprocesses and small data: interrupts with real signals, concurrent
writers, sizes this machine cannot hold, corrupt inputs (issue 14). Training interrupts and resume
rules are in tests/training/test_interrupts.py."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from pdesuite.recipes.generate import generate

PYTHON = [sys.executable, "-m", "pdesuite"]
#: a KS dataset slow enough to interrupt (a few seconds per batch on one core), small on disk
KS = ["ks", "--samples", "24", "--set", "batch=2", "--set", "nt_train=500", "--set", "keep_train=20",
      "--set", "nt_eval=500", "--set", "keep_eval=20", "--set", "t_end_eval=100", "-q"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def start(args, **kwargs):
    return subprocess.Popen([*PYTHON, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV, start_new_session=True, **kwargs)


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def written(path: Path) -> int:
    try:
        with h5py.File(path, "r", locking=False) as f:  # the writer holds HDF5's own lock
            return sum(int(f[s]["_done"][()].sum()) for s in ("train", "valid", "test") if s in f)
    except (OSError, KeyError):
        return 0


def test_a_second_writer_is_refused_while_the_first_runs_and_the_first_finishes_whole(tmp_path):
    out = tmp_path / "ks.h5"
    first = start(["generate", *KS, "-o", out])
    wait_for(lambda: written(partial(out)) >= 2)
    for extra in ([], ["--overwrite"]):
        second = subprocess.run([*PYTHON, "generate", *KS, "-o", str(out), *extra], capture_output=True, text=True,
                                env=ENV, timeout=60)
        assert second.returncode == 2 and f"is being written by process {first.pid}" in second.stderr, second.stderr
    assert first.wait(timeout=300) == 0, first.stderr.read()
    done = subprocess.run([*PYTHON, "inspect", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "valid pdesuite dataset" in done.stdout
    assert not partial(out).exists() and not out.with_name(f".{out.name}.lock").exists()


def test_inspect_reports_a_partial_file_as_incomplete(tmp_path):
    out = tmp_path / "ks.h5"
    job = start(["generate", *KS, "-o", out])
    wait_for(lambda: written(partial(out)) >= 2)
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=120) == 143
    assert "--resume" in job.stderr.read()
    result = subprocess.run([*PYTHON, "inspect", str(partial(out))], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "incomplete" in result.stderr and "samples written" in result.stderr
    # the interrupted generation resumes into the same file an uninterrupted one writes
    resumed = subprocess.run([*PYTHON, "generate", *KS, "-o", str(out), "--resume"], capture_output=True, text=True,
                             env=ENV, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    straight = tmp_path / "straight.h5"
    assert subprocess.run([*PYTHON, "generate", *KS, "-o", str(straight)], env=ENV, timeout=300).returncode == 0
    with h5py.File(out) as a, h5py.File(straight) as b:
        for key in ("train/u", "valid/u", "test/u"):
            assert a[key][()].tobytes() == b[key][()].tobytes(), key


def test_workers_end_with_their_parent(tmp_path):
    """kill -9 of the parent: its spawned workers notice within a second and exit (no orphans)."""
    out = tmp_path / "ks.h5"
    job = start(["generate", *KS, "-o", out, "--workers", "2"])
    wait_for(lambda: written(partial(out)) >= 2)
    children = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
    assert children, "no worker processes found"
    job.kill()
    job.wait(timeout=30)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in children),
             timeout=10)


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "gone"


def test_ctrl_c_ends_an_mpi_generation_on_every_rank_and_keeps_the_partial(tmp_path):
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    if mpiexec is None:
        pytest.skip("mpiexec not found")
    out = tmp_path / "ks.h5"
    job = subprocess.Popen([mpiexec, "-n", "2", *PYTHON, "generate", *KS, "-o", str(out)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=ENV)
    wait_for(lambda: written(partial(out)) >= 2)
    job.send_signal(signal.SIGINT)
    assert job.wait(timeout=60) == 130  # before: rank 0 spun in comm.recv for good
    assert partial(out).exists()
    wait_for(lambda: not subprocess.run(["pgrep", "-f", str(out)], capture_output=True).stdout, timeout=10)


def test_sizes_this_machine_cannot_hold_are_refused_before_any_work(tmp_path, cli):
    out = tmp_path / "ks.h5"
    code, _, err = cli("generate", "ks", "--samples", "1000000000", "-o", out)
    assert code == 2 and "needs about" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not partial(out).exists()


def test_a_reference_with_nan_is_refused_at_load(tmp_path, cli):
    data = tmp_path / "c.h5"
    generate("convection", data, progress=False, overrides={"c": "5", "nu": "0", "nx": "16", "nt": "5"})
    with h5py.File(data, "a") as f:
        u = f["test/u"][0]
        u[2, 3, 0] = np.nan
        f["test/u"][0] = u
    code, _, err = cli("train", "pinn", "--data", data, "-o", tmp_path / "run", "--steps", "2")
    assert code == 2 and "NaN" in err and not (tmp_path / "run" / "config.json").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "c.h5"
    generate("convection", data, progress=False, overrides={"c": "5", "nu": "0", "nx": "16", "nt": "5"})
    run = folder / "run"
    from pdesuite.training.trainer import make_config, train

    train(run, make_config("pinn", data, steps=3, device="cpu", overrides={
        "lbfgs_steps": "0", "width": "8", "depth": "2", "n_collocation": "32", "val_every": "1"}), progress=False)
    return data, run


def test_corrupt_inputs_of_validate_are_bad_input(tmp_path, trained, cli):
    data, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "best.pt").write_bytes(b"not a checkpoint")
    code, _, err = cli("validate", copy)
    assert code == 2 and "cannot load the weights" in err
    (copy / "config.json").write_text("{broken")
    code, _, err = cli("validate", copy)
    assert code == 2 and "not valid JSON" in err
    code, _, err = cli("validate", run, "-o", "/proc/pdesuite-cannot-write-here")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_validating_on_another_file_says_so(tmp_path, trained, cli):
    data, run = trained
    other = tmp_path / "c30.h5"
    generate("convection", other, progress=False, overrides={"c": "30", "nu": "0", "nx": "16", "nt": "5"})
    code, out, err = cli("validate", run, "--data", other, "-o", tmp_path / "v")
    assert code == 0 and "not the training data" in err and "params.c [5] -> [30]" in err
    metrics = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert metrics["reference"]["trained_on"] == str(data.resolve())


def test_smaller_items(tmp_path, trained, cli):
    data, _ = trained
    code, out, _ = cli("plot", data, "-o", tmp_path / "afile")
    assert code == 0 and out.strip() == f"wrote {tmp_path / 'afile.png'}" and (tmp_path / "afile.png").exists()
    code, out, _ = cli("inspect", data, "--json")
    attrs = json.loads(out)["attrs"]
    assert attrs["format_version"] == 1 and attrs["seed"] == 0


def test_training_sizes_this_machine_cannot_hold_are_refused(tmp_path, trained, cli):
    data, _ = trained
    code, _, err = cli("train", "pinn", "--data", data, "-o", tmp_path / "run", "--set", "n_collocation=1000000000")
    assert code == 2 and "needs about" in err and "of memory" in err and not (tmp_path / "run").exists()
    from pdesuite.training.trainer import make_config

    assert make_config("pinn", data, overrides={"n_collocation": "1000000000"}, force=True)  # --force skips it


def test_a_blowing_up_solve_says_so_in_one_line(tmp_path):
    result = subprocess.run([*PYTHON, "generate", "allen-cahn", "-o", str(tmp_path / "ac.h5"), "--set", "reaction=1e6",
                             "--set", "nx=64", "-q"], capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 1 and "blew up" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # before: 17 numpy warnings first
    assert not (tmp_path / "ac.h5").exists() and not partial(tmp_path / "ac.h5").exists()


@pytest.mark.parametrize(("setting", "message"), [
    ("activation=relu6", "unknown activation 'relu6'"), ("width=0", "width must be a positive integer"),
    ("depth=-1", "depth must be a positive integer"), ("resample_every=0", "resample_every must be a positive"),
    ("bc_weight=-1", "bc_weight must be a number >= 0"), ("sampler=halton", "unknown sampler"),
])
def test_bad_network_settings_are_bad_input_before_any_file(tmp_path, trained, cli, setting, message):
    """Before: activation=relu6 and width=0 ended in an internal error (exit 1), depth=-1 trained."""
    data, _ = trained
    code, _, err = cli("train", "pinn", "--data", data, "-o", tmp_path / "run", "--set", setting)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()


def test_unwritable_outputs_of_plot_and_demo_are_bad_input(tmp_path, trained, cli):
    data, _ = trained
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for args in (("plot", data, "-o", blocker / "x.png"), ("plot", data, "-o", "/proc/x.png"),
                 ("demo", "-o", blocker / "demo")):
        code, _, err = cli(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)


def test_only_rank_0_prints_under_torchrun(tmp_path, trained):
    data, _ = trained
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29541", "-m", "pdesuite", "train", "pinn", "--data", str(data), "-o",
                             str(tmp_path / "run"), "--steps", "2", "--set", "lbfgs_steps=0", "--set", "width=8",
                             "--set", "depth=2", "--set", "n_collocation=32", "--device", "cpu"],
                            capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("trained 2 steps") == 1, result.stdout  # before: also rank 1 ("best ... inf")
