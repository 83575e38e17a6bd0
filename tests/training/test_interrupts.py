"""Training ends at a step boundary on SIGINT/SIGTERM and at a time limit; --resume then continues
bitwise as after an uninterrupted run (real signals on a real `pdesuite train` subprocess)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from pdesuite.training.trainer import make_config, train

#: slow enough to interrupt (hundreds of steps), small enough to finish in seconds
SETTINGS = {"width": "8", "depth": "2", "n_collocation": "64", "adam_steps": "300", "lbfgs_steps": "60",
            "checkpoint_every": "1000", "val_every": "50", "log_every": "1"}


@pytest.fixture(scope="module")
def heat(heat_like):
    return heat_like


def weights(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=False)["model"]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    for key, value in wa.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, wb[key]), key


def logged_steps(run: Path) -> list[int]:
    path = run / "log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip().endswith("}")]


def command(heat: Path, run: Path, resume: bool = False) -> list[str]:
    base = [sys.executable, "-m", "pdesuite", "train", "pinn", "-o", str(run), "-q"]
    if resume:
        return [*base, "--resume"]
    sets = [f"--set={k}={v}" for k, v in SETTINGS.items()]
    return [*base, "--data", str(heat), "--device", "cpu", "--dtype", "float64", "--seed", "1", *sets]


@pytest.fixture(scope="module")
def straight(tmp_path_factory, heat):
    run = tmp_path_factory.mktemp("straight") / "run"
    subprocess.run(command(heat, run), check=True, env={**os.environ, "PDESUITE_THREADS": "1"})
    return run


@pytest.mark.parametrize(("signum", "after_step"), [(signal.SIGINT, 40), (signal.SIGINT, 310),
                                                   (signal.SIGTERM, 320)],
                         ids=["sigint-adam", "sigint-lbfgs", "sigterm-lbfgs"])
def test_signal_stops_at_a_step_boundary_and_resumes_bitwise(tmp_path, heat, straight, signum, after_step):
    run = tmp_path / "run"
    process = subprocess.Popen(command(heat, run), stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PDESUITE_THREADS": "1"})
    deadline = time.monotonic() + 120
    while (not logged_steps(run) or logged_steps(run)[-1] < after_step) and process.poll() is None:
        assert time.monotonic() < deadline, "training did not reach the step to interrupt"
        time.sleep(0.02)
    assert process.poll() is None, "training finished before the signal: raise SETTINGS' step counts"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert "--resume" in err
    stopped = torch.load(run / "checkpoint.pt", weights_only=False)["state"]["step"]
    assert after_step <= stopped < 360
    assert logged_steps(run)[-1] == stopped  # the checkpoint is the last step done
    subprocess.run(command(heat, run, resume=True), check=True, env={**os.environ, "PDESUITE_THREADS": "1"})
    assert_same_weights(straight, run)
    steps = logged_steps(run)
    assert steps == sorted(set(steps)) and steps[-1] == 360  # no step logged twice after the resume


def test_time_limit_stops_cleanly_and_resume_continues_exactly(tmp_path, heat):
    settings = {**SETTINGS, "adam_steps": "30", "lbfgs_steps": "5"}
    config = make_config("pinn", heat, dtype="float64", device="cpu", seed=1, overrides=settings)
    train(tmp_path / "straight", config, progress=False)
    summary = train(tmp_path / "limited", config, progress=False, time_limit=1e-6)
    assert summary["stopped"] == "time limit" and summary["steps"] == 1 and summary["total_steps"] == 35
    summary = train(tmp_path / "limited", resume=True, progress=False)
    assert summary["steps"] == 35 and summary["stopped"] is None
    assert_same_weights(tmp_path / "straight", tmp_path / "limited")


def test_resume_of_a_finished_run_says_so(tmp_path, heat, cli):
    settings = [f"--set={k}={v}" for k, v in {**SETTINGS, "adam_steps": "3", "lbfgs_steps": "0"}.items()]
    code, _, err = cli("train", "pinn", "--data", heat, "-o", tmp_path / "run", "--device", "cpu", *settings)
    assert code == 0, err
    code, out, err = cli("train", "pinn", "-o", tmp_path / "run", "--resume")
    assert code == 0, err
    assert "has finished its 3 steps" in out


def test_bad_time_limit_is_bad_input(tmp_path, heat, cli):
    code, _, err = cli("train", "pinn", "--data", heat, "-o", tmp_path / "run", "--time-limit", "-1")
    assert code == 2 and "--time-limit" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_resume_applies_allowed_changes_and_refuses_the_others(tmp_path, heat, cli):
    """A diverged run resumed with a lower learning rate continues at that rate; more steps extend it;
    another surrogate, dataset, seed or architecture is refused with one line."""
    base = [f"--set={k}={v}" for k, v in {**SETTINGS, "adam_steps": "20", "lbfgs_steps": "0",
                                            "checkpoint_every": "5"}.items()]
    run = tmp_path / "run"
    code, _, err = cli("train", "pinn", "--data", heat, "-o", run, "--device", "cpu", "-q", *base)
    assert code == 0, err
    code, out, err = cli("train", "pinn", "-o", run, "--resume", "--steps", "30", "--set", "lr=5e-4")
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["adam_steps"] == 30 and config["settings"]["lr"] == 5e-4
    assert config["resumed_with"][0] == {"at_step": 20, "changed": {"adam_steps": 30, "lr": 5e-4}}
    lines = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 30
    # the cosine schedule continues from step 20 of 30 at the new base rate
    import math

    assert lines[20]["lr"] == pytest.approx(5e-4 * 0.5 * (1 + math.cos(math.pi * 21 / 30)), rel=1e-6)
    refused = {
        ("lpinn",): "holds a pinn run",
        ("pinn", "--set", "width=16"): "width cannot change",
        ("pinn", "--seed", "5"): "--seed 5 differs",
        ("pinn", "--data", tmp_path / "other.h5"): "cannot switch",
        ("pinn", "--steps", "10"): "is at step 30",
    }
    for args, message in refused.items():
        code, _, err = cli("train", *args, "-o", run, "--resume")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
