"""A new surrogate family from outside the package: one surrogate class, one optimisation plan and one
evaluator, each registered here (no package file touched), trained, resumed exactly and validated
through the command line.

The toy family learns the mean trajectory of a dataset split (data-driven, built from the whole split
through `pdesuite.data`): a tensor θ fitted to random minibatches of samples, with a plan of plain
SGD whose rate halves every few steps, and an evaluator that scores θ against the true mean and draws
it.
"""

import json
import math
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from pdesuite.data.trajectories import load_trajectories
from pdesuite.io import pyplot, save_figure
from pdesuite.recipes.generate import generate
from pdesuite.registry import EVALUATORS, PLANS, SURROGATES
from pdesuite.surrogates.base import Surrogate
from pdesuite.training.plans import Plan
from pdesuite.training.trainer import make_config, train
from pdesuite.validation.evaluation import Evaluation, Evaluator


class HalvingSGD(Plan):
    """SGD with momentum whose learning rate halves every ``halve_every`` steps."""

    name = "test-halving-sgd"
    defaults: ClassVar[dict[str, Any]] = {"sgd_steps": 30, "sgd_lr": 0.4, "halve_every": 10}
    steps_setting = "sgd_steps"

    def __init__(self, surrogate, settings):
        super().__init__(surrogate, settings)
        self.optimizer = torch.optim.SGD(surrogate.parameters(), lr=self.settings["sgd_lr"], momentum=0.3)

    @classmethod
    def planned_steps(cls, settings) -> int:
        return settings["sgd_steps"]

    def phase(self, step: int) -> str:
        return "sgd"

    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self, step, closure):
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings["sgd_lr"] * 0.5 ** (step // self.settings["halve_every"])
        self.optimizer.zero_grad(set_to_none=True)
        terms = closure()
        self.optimizer.step()
        return terms

    def state_dict(self):
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state, step):
        self.optimizer.load_state_dict(state["optimizer"])


class MeanEvaluator(Evaluator):
    """Relative L2 of the learnt mean against the split's true mean, and a picture of both."""

    name = "test-mean"

    def evaluate(self, surrogate, run, output):
        error = surrogate.validation_error()
        plt = pyplot()
        fig, ax = plt.subplots()
        ax.plot(surrogate.target[-1, :, 0], label="mean")
        ax.plot(surrogate.theta.detach()[-1, :, 0], label="learnt")
        ax.legend()
        save_figure(fig, output / "mean.png")
        return Evaluation({"mean_relative_l2": error}, ["mean.png"], f"mean relative L2 {error:.3e}",
                          run.provenance())


class MeanField(Surrogate):
    name = "test-mean-field"
    description = "the mean trajectory of a split (test-only)"
    physics = False
    plan = "test-halving-sgd"
    evaluator = "test-mean"
    validation_metric = "mean_relative_l2"
    defaults: ClassVar[dict[str, Any]] = {"batch": 4}

    @classmethod
    def from_dataset(cls, path, **config):
        data = load_trajectories(path, config.get("split", "test"))  # the whole split, not one sample
        return cls(None, data=data.u, **config)

    def __init__(self, task=None, data=None, **config):
        super().__init__(task, **config)
        self.register_buffer("samples", torch.as_tensor(data))
        self.register_buffer("target", self.samples.mean(0))
        self.theta = torch.nn.Parameter(torch.zeros_like(self.target))

    def loss(self, generator, shard=(0, 1)):
        pick = torch.randint(len(self.samples), (self.config["batch"],), generator=generator)
        return {"loss": (self.theta - self.samples[pick]).pow(2).mean(0).sum()}

    def predict_grid(self):
        return self.theta.detach().numpy()

    def validation_error(self):
        return float((self.theta.detach() - self.target).norm() / self.target.norm())


@pytest.fixture
def family():
    for registry, obj in ((PLANS, HalvingSGD), (EVALUATORS, MeanEvaluator), (SURROGATES, MeanField)):
        registry.register(obj.name)(obj)
    yield
    for registry, obj in ((PLANS, HalvingSGD), (EVALUATORS, MeanEvaluator), (SURROGATES, MeanField)):
        registry.unregister(obj.name)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "convection.h5"
    generate("convection", path, progress=False, overrides={"nx": "32", "nt": "9"})  # 16 samples
    return path


def test_a_new_family_trains_resumes_exactly_and_validates_through_the_cli(tmp_path, sweep, family, cli):
    code, out, err = cli("list", "plans")
    assert code == 0 and "test-halving-sgd" in out and "adam-lbfgs" in out
    code, _, err = cli("train", "test-mean-field", "--data", sweep, "-o", tmp_path / "straight", "--steps", "30",
                       "--set", "log_every=1", "--set", "val_every=5", "--set", "checkpoint_every=7", "-q")
    assert code == 0, err
    config = make_config("test-mean-field", sweep, steps=30, overrides={"log_every": "1", "val_every": "5",
                                                                        "checkpoint_every": "7"})
    assert config["settings"]["sgd_steps"] == 30 and "adam_steps" not in config["settings"]
    train(tmp_path / "resumed", config, progress=False, stop_at=12)
    code, _, err = cli("train", "test-mean-field", "-o", tmp_path / "resumed", "--resume", "-q")
    assert code == 0, err
    for name in ("checkpoint.pt", "best.pt"):
        a = torch.load(tmp_path / "straight" / name, weights_only=False)
        b = torch.load(tmp_path / "resumed" / name, weights_only=False)
        assert torch.equal(a["model"]["theta"], b["model"]["theta"]), name
    lines = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 31))
    assert lines[-1]["lr"] == pytest.approx(0.4 * 0.5**2)  # halved at steps 10 and 20

    code, out, err = cli("validate", tmp_path / "resumed")
    assert code == 0, err
    assert "mean relative L2" in out and "mean.png" in out
    metrics = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert metrics["plots"] == ["mean.png"] and metrics["surrogate"] == "test-mean-field"
    assert metrics["mean_relative_l2"] < 0.5 and math.isfinite(metrics["mean_relative_l2"])
    assert (tmp_path / "resumed" / "mean.png").stat().st_size > 1000
    target = load_trajectories(sweep, "test").u.mean(0)
    assert np.allclose(torch.load(tmp_path / "resumed" / "best.pt", weights_only=False)["model"]["target"],
                       target, atol=1e-6)


def test_an_option_the_evaluator_does_not_take_is_bad_input(tmp_path, sweep, family, cli):
    code, _, err = cli("train", "test-mean-field", "--data", sweep, "-o", tmp_path / "run", "--steps", "3", "-q")
    assert code == 0, err
    code, _, err = cli("validate", tmp_path / "run", "--uncertainty-samples", "3")
    assert code == 2 and "takes no uncertainty_samples" in err
