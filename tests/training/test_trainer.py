"""The shared trainer: resume equivalence, data-parallel agreement, divergence handling, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.recipes.generate import generate
from pdesuite.training.trainer import TrainingError, make_config, train

TINY = {"width": "8", "depth": "2", "n_collocation": "64", "adam_steps": "20", "lbfgs_steps": "6",
        "checkpoint_every": "5", "val_every": "5", "log_every": "1"}


def weights(run: Path, name: str = "checkpoint.pt") -> dict:
    return torch.load(run / name, weights_only=False)["model"]


@pytest.mark.parametrize("stop_at", [12, 23], ids=["in-adam", "in-lbfgs"])
def test_resume_equals_uninterrupted(tmp_path, heat_like, stop_at):
    config = make_config("pinn", heat_like, dtype="float64", device="cpu", seed=3, overrides=TINY)
    train(tmp_path / "straight", config, progress=False)
    train(tmp_path / "resumed", config, progress=False, stop_at=stop_at)
    assert torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["state"]["step"] == stop_at
    summary = train(tmp_path / "resumed", resume=True, progress=False)
    assert summary["steps"] == 26
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
    lines = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 26 and "relative_l2" in lines[-1]


TINY_REFINER = {"hidden": "4", "channel_mults": "[1, 2]", "blocks_per_level": "1", "batch_size": "8",
                "adam_steps": "10", "checkpoint_every": "3", "val_every": "5", "log_every": "1",
                "val_trajectories": "1", "val_steps": "3", "ema_decay": "0.9", "min_lr": "1e-4"}


def test_data_driven_resume_equals_uninterrupted(tmp_path, tiny_ks):
    """pde-refiner: minibatches, noise and EMA weights continue bitwise after an interruption."""
    config = make_config("pde-refiner", tiny_ks, device="cpu", seed=2, overrides=TINY_REFINER)
    assert config["settings"]["epochs"] == 0  # an explicit adam_steps replaces the profile's budget
    train(tmp_path / "straight", config, progress=False)
    train(tmp_path / "resumed", config, progress=False, stop_at=4)
    summary = train(tmp_path / "resumed", resume=True, progress=False)
    assert summary["steps"] == 10 and summary["validation_metric"] == "rollout_decorrelation"
    for name in ("checkpoint.pt", "best.pt"):
        a, b = weights(tmp_path / "straight", name), weights(tmp_path / "resumed", name)
        assert any(key.startswith("ema.") for key in a)
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    lines = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 10 and "rollout_decorrelation" in lines[-1]
    assert lines[-1]["lr"] == pytest.approx(1e-4)  # the cosine schedule ends at min_lr


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, heat_like, monkeypatch):
    from pdesuite.surrogates.pinn import PINN

    original, calls = PINN.loss, []

    def poisoned(self, *args, **kwargs):
        calls.append(1)
        terms = original(self, *args, **kwargs)
        if len(calls) == 8:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(PINN, "loss", poisoned)
    config = make_config("pinn", heat_like, device="cpu", overrides=TINY)
    with pytest.raises(TrainingError, match="diverged at step 8"):
        train(tmp_path / "run", config, progress=False)
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert checkpoint["state"]["step"] == 5
    assert all(torch.isfinite(v).all() for v in checkpoint["model"].values() if isinstance(v, torch.Tensor)
               and v.is_floating_point())


@pytest.mark.mpi
def test_two_process_data_parallel_matches_one(tmp_path, heat_like):
    args = ["train", "pinn", "--data", str(heat_like), "--dtype", "float64", "--device", "cpu", "-q"]
    for key, value in TINY.items():
        args += ["--set", f"{key}={value}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "pdesuite", *args, "-o", str(tmp_path / "one")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert single.returncode == 0, single.stderr[-2000:]
    double = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29533", "-m", "pdesuite", *args, "-o", str(tmp_path / "two")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert double.returncode == 0, double.stderr[-3000:]
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    for key in a:
        if isinstance(a[key], torch.Tensor) and a[key].is_floating_point():
            torch.testing.assert_close(a[key], b[key], rtol=1e-8, atol=1e-10)


BAD = {
    "unknown surrogate": (["train", "nope", "--data", "{data}", "-o", "{run}"], "unknown surrogate"),
    "unknown setting": (["train", "pinn", "--data", "{data}", "-o", "{run}", "--set", "wdth=3"], "unknown setting"),
    "bad value": (["train", "pinn", "--data", "{data}", "-o", "{run}", "--set", "width=abc"], "expected a int"),
    "no data": (["train", "pinn", "-o", "{run}"], "--data"),
    "missing data": (["train", "pinn", "--data", "{tmp}/none.h5", "-o", "{run}"], "not found"),
    "bad steps": (["train", "pinn", "--data", "{data}", "-o", "{run}", "--steps", "0"], "--steps"),
    "bad device": (["train", "pinn", "--data", "{data}", "-o", "{run}", "--device", "tpu"], "--device"),
    "bad profile": (["train", "pinn", "--data", "{data}", "-o", "{run}", "--profile", "huge"], "unknown profile"),
    "nothing to resume": (["train", "pinn", "-o", "{run}", "--resume"], "nothing to resume"),
    "validate no run": (["validate", "{tmp}"], "not a run folder"),
    "lpinn on 2D data": (["train", "lpinn", "--data", "{pig}", "-o", "{run}"], "lpinn handles"),
    "unet-mse without dt": (["train", "unet-mse", "--data", "{data}", "-o", "{run}"], "per-sample time step"),
    "refiner without dt": (["train", "pde-refiner", "--data", "{data}", "-o", "{run}"], "per-sample time step"),
    "refiner K < 1": (["train", "pde-refiner", "--data", "{ks}", "-o", "{run}", "--set", "num_refinement_steps=0"],
                      "num_refinement_steps"),
    "refiner noise 0": (["train", "pde-refiner", "--data", "{ks}", "-o", "{run}", "--set", "min_noise_std=0"],
                        "min_noise_std"),
    "refiner noise 1": (["train", "pde-refiner", "--data", "{ks}", "-o", "{run}", "--set", "min_noise_std=1"],
                        "min_noise_std"),
    "history too long": (["train", "unet-mse", "--data", "{ks}", "-o", "{run}", "--set", "history=10"],
                         "does not fit"),
    "time_step too long": (["train", "pde-refiner", "--data", "{ks}", "-o", "{run}", "--set", "time_step=40"],
                           "does not fit"),
    "validate one sample": (["validate", "{tmp}", "--uncertainty-samples", "1"], "--uncertainty-samples"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(cli, tmp_path, heat_like, tiny_ks, case):
    pig = tmp_path / "pig.h5"
    if case == "lpinn on 2D data":
        generate("pig-helmholtz", pig, progress=False, overrides={"n": "8"})
    argv, message = BAD[case]
    argv = [a.format(data=heat_like, run=tmp_path / "run", tmp=tmp_path, pig=pig, ks=tiny_ks) for a in argv]
    code, _, err = cli(*argv)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "config.json").exists()


def test_train_and_validate_from_the_command_line(cli, tmp_path, heat_like):
    run = tmp_path / "run"
    code, out, err = cli("train", "pinn", "--data", heat_like, "-o", run, "--steps", "300",
                         "--set", "lbfgs_steps=50", "--set", "width=16", "--set", "depth=3", "--set", "lr=0.01",
                         "--set", "n_collocation=256")
    assert code == 0, err
    assert "best relative L2" in out
    for name in ("config.json", "checkpoint.pt", "best.pt", "log.jsonl"):
        assert (run / name).is_file(), name
    code, out, err = cli("validate", run)
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["relative_l2"] < 2e-2, metrics["relative_l2"]  # e^{-0.1t} sin x: an easy target
    assert len(metrics["per_time_relative_l2"]) == 20 and "lpinn_error" in metrics
    assert metrics["reference"]["dataset"] == "convection" and (run / "prediction.png").stat().st_size > 5000
    code, _, err = cli("train", "pinn", "--data", heat_like, "-o", run)
    assert code == 2 and "--resume" in err


def test_make_config_rejects_bad_values(heat_like):
    with pytest.raises(BadInput):
        make_config("pinn", heat_like, dtype="float16")
    with pytest.raises(BadInput):
        make_config("pinn", heat_like, seed=-1)


def test_a_stored_run_without_a_newer_setting_keeps_its_old_behaviour(heat_like):
    """Runs made before `sampler` existed drew uniform points: resuming or validating them must too."""
    from pdesuite.training.trainer import build

    config = make_config("pinn", heat_like, device="cpu", overrides=TINY)
    assert config["settings"]["sampler"] == "hammersley"  # today's default
    del config["settings"]["sampler"]
    assert build(config).config["sampler"] == "uniform"
