"""fno: the one-step Fourier-neural-operator baseline (neuraloperator's FNO) on 2D smoke data — network,
training, complex weights under dtype changes, the smoke profiles, the command line, missing dependency."""

import json
import sys

import pytest
import torch

from pdesuite.errors import BadInput, MissingDependency
from pdesuite.recipes.generate import generate
from pdesuite.surrogates.fno import ConditionedFNO, FNOSurrogate
from pdesuite.surrogates.task import Task
from pdesuite.surrogates.unet_mse import UNetMSE

#: 8 train, 2 valid, 2 test trajectories of 8 frames on 16 × 16 cells
SMOKE = {"resolution": "16", "n_skip": "2", "n_frames": "8", "frame_every": "2", "train": "8", "valid": "2",
         "test": "2", "batch_size": "4"}
TINY = {"n_modes": 8, "width": 16, "n_layers": 2, "history": 1, "time_step": 1, "batch_size": 16,
        "val_trajectories": 2, "val_steps": 7}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return generate("smoke", tmp_path_factory.mktemp("fno") / "smoke.h5", seed=5, progress=False, overrides=SMOKE)


def make(data, cls=FNOSurrogate, **settings):
    torch.manual_seed(0)
    return cls(Task.from_dataset(data, physics=False), **{**TINY, **settings})


def test_network_takes_states_and_conditions_as_channels(smoke):
    model = make(smoke, history=2)
    fno = model.net.fno
    assert fno.in_channels == 2 * 3 + 2 and fno.out_channels == 3  # 2 states × 3 fields + (buoyancy_y, dt)
    assert tuple(fno.n_modes) == (8, 8)
    window = model.train_u[:3, :2]
    cond = model.scale_conditions(model.train_cond[:3])
    assert model.net(model.to_channels(window), cond).shape == (3, 3, 16, 16)
    assert model.predict_next(window, cond).shape == (3, 16, 16, 3)
    # a complex weight counts twice
    assert model.parameter_count == sum(p.numel() * (2 if p.is_complex() else 1) for p in model.net.parameters())
    assert model.parameter_count > sum(p.numel() for p in model.net.parameters())


def test_a_short_training_reduces_the_validation_error(smoke, short_training_helps):
    """100 Adam steps: the rollout decorrelation of training trajectories falls from 0.21 to 0.04 and the
    validation error (valid split) from 0.35 to 0.19 (measured)."""
    torch.set_num_threads(1)
    model = make(smoke, ema_decay=0.0)
    short_training_helps(model, 100, 1e-2)
    rolled = model.rollout_split("test")
    assert rolled.shape == (2, 8, 16, 16, 3)


def test_spectral_weights_stay_complex_under_dtype_changes_and_state_dicts(smoke):
    """`Module.to(float64)` would drop the imaginary part of complex weights; the FNO's and their EMA
    shadows stay complex, and a state dict loads back (neuralop's "_metadata" entry left out)."""
    model = make(smoke).to(torch.float64)
    spectral = [p for p in model.net.parameters() if p.is_complex()]
    assert spectral and all(p.dtype == torch.complex128 and p.imag.abs().sum() > 0 for p in spectral)
    assert any(s.dtype == torch.complex128 for s in model.ema.shadows())
    x = model.rollout(model.val_u[:, :1].double(), model.val_cond.double(), 2)
    assert x.dtype == torch.float64 and torch.isfinite(x).all()
    state = model.state_dict()
    assert "_metadata" not in state
    other = make(smoke, ema_decay=0.5).to(torch.float64)
    other.load_state_dict(state)
    torch.testing.assert_close(other.rollout(model.val_u[:, :1].double(), model.val_cond.double(), 2), x)


def test_smoke_profiles_match_the_unet_and_use_the_stored_frames(smoke):
    """small: 1,063,107 (unet-mse) and 1,048,773 (fno, complex weights counted twice) parameters."""
    counts = {}
    for cls in (UNetMSE, FNOSurrogate):
        settings = cls.profile("small", "smoke")
        assert settings["history"] == 1 and settings["time_step"] == 1
        own = {k: v for k, v in settings.items() if k in cls.all_defaults()}
        torch.manual_seed(0)
        counts[cls.name] = cls(Task.from_dataset(smoke, physics=False), **own).parameter_count
    assert counts == {"unet-mse": 1_063_107, "fno": 1_048_773}
    assert abs(counts["fno"] / counts["unet-mse"] - 1) < 0.1
    paper = FNOSurrogate.profile("paper", "smoke")
    assert (paper["n_modes"], paper["width"], paper["n_layers"], paper["lr"]) == (24, 192, 6, 1e-4)


def test_train_and_validate_from_the_command_line(cli, tmp_path, smoke, tiny_ks):
    run = tmp_path / "run"
    code, out, err = cli("train", "fno", "--data", smoke, "-o", run, "--steps", "4", "--device", "cpu",
                         "--set", "width=8", "--set", "n_modes=4", "--set", "n_layers=1", "--set", "val_every=2")
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["time_step"] == 1 and config["settings"]["adam_steps"] == 4  # the smoke profile
    code, out, err = cli("validate", run)
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["trajectories"] == 2 and metrics["model_steps"] == 7 and metrics["step_seconds"] == pytest.approx(3)
    assert len(metrics["correlation_mean"]) == 7 and len(metrics["per_step_relative_l2"]) == 7
    assert metrics["relative_l2"] > 0 and set(metrics["fourier_band_errors"]) == {"low", "mid", "high"}
    assert (run / "relative_l2.png").stat().st_size > 5000 and (run / "correlation.png").is_file()
    # a model of 3 fields on a 2D grid does not take 1D one-field data: its weights do not fit the model built there
    code, _, err = cli("validate", run, "--data", tiny_ks, "-o", tmp_path / "other")
    assert code == 2 and "cannot load the weights" in err and len(err.strip().splitlines()) == 1, err


def test_bad_settings(smoke):
    with pytest.raises(BadInput, match="unknown setting"):
        make(smoke, hidden=8)  # a U-Net setting
    with pytest.raises(BadInput, match="n_modes"):
        make(smoke, n_modes=0)
    with pytest.raises(BadInput, match="does not fit"):
        make(smoke, history=4, time_step=2)


def test_missing_neuraloperator_is_a_missing_dependency(monkeypatch):
    monkeypatch.setitem(sys.modules, "neuralop.models", None)  # import fails as if not installed
    with pytest.raises(MissingDependency, match="pip install neuraloperator==2.0.0"):
        ConditionedFNO(3, 3, 2, 2, 4, 8, 1)
