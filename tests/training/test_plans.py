"""Optimisation plans: the stagewise plan (INSR's outer loop of short optimisations) resumes exactly at
any step, across stage boundaries and plateau decays; bad plan settings are refused before any file."""

import math

import pytest
import torch

from pdesuite.registry import PLANS
from pdesuite.training.trainer import make_config


class Stages(torch.nn.Module):
    """A toy surrogate for the plan: θ chases a target that moves at every stage (as an INSR network
    chases the next time step); losses are noisy through the generator."""

    def __init__(self):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        self.register_buffer("target", torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
        self.stages_seen = 0

    def next_stage(self):
        self.stages_seen += 1
        with torch.no_grad():
            self.target.mul_(0.5)

    def loss(self, generator):
        noise = 1e-3 * torch.randn(3, generator=generator, dtype=torch.float64)
        return {"loss": (self.theta - self.target - noise).pow(2).sum()}


SETTINGS = {"stages": 3, "stage_steps": 40, "stage_lr": 0.05, "plateau_factor": 0.5, "plateau_patience": 3,
            "stage_min_lr": 2e-3}


def run(plan_cls, steps_before=None, resume_from=None):
    """Run the plan to the end (or ``steps_before`` steps); returns (model, plan, step, trace)."""
    torch.manual_seed(0)
    model = Stages()
    plan = plan_cls(model, SETTINGS)
    generator = torch.Generator().manual_seed(1)
    step, trace = 0, []
    if resume_from is not None:
        state, step, model_state, gen_state, seen = resume_from
        model.load_state_dict(model_state)
        model.stages_seen = seen
        plan.load_state_dict(state, step)
        generator.set_state(gen_state)
    while not plan.finished(step) and (steps_before is None or step < steps_before):
        def closure():
            terms = model.loss(generator)
            terms["loss"].backward()
            return terms

        phase, lr = plan.phase(step), plan.lr()  # as the trainer logs them: before the step
        terms = plan.step(step, closure)
        trace.append((phase, lr, float(terms["loss"].detach())))
        step += 1
    return model, plan, step, trace, generator


def test_stagewise_plan_decays_on_plateaus_stops_early_and_advances_stages():
    plan_cls = PLANS.get("stagewise-adam")
    model, plan, steps, trace, _ = run(plan_cls)
    assert plan.done and model.stages_seen == 2  # 3 stages: two advances
    assert steps < 3 * SETTINGS["stage_steps"]  # at least one stage stopped early at stage_min_lr
    assert min(lr for _, lr, _ in trace) <= 2 * SETTINGS["stage_min_lr"]  # decayed to the last rate above it
    assert {phase for phase, _, _ in trace} == {"stage 0", "stage 1", "stage 2"}
    # each stage starts a fresh optimiser at stage_lr
    starts = [lr for i, (phase, lr, _) in enumerate(trace) if i == 0 or trace[i - 1][0] != phase]
    assert all(lr == SETTINGS["stage_lr"] for lr in starts)


@pytest.mark.parametrize("stop", [5, 17, 41, 60])
def test_stagewise_plan_resumes_exactly(stop):
    plan_cls = PLANS.get("stagewise-adam")
    full, _, steps, trace, _ = run(plan_cls)
    assert stop < steps
    part, plan, step, first, generator = run(plan_cls, steps_before=stop)
    saved = (plan.state_dict(), step, part.state_dict(), generator.get_state(), part.stages_seen)
    resumed, _, end, rest, _ = run(plan_cls, resume_from=saved)
    assert end == steps and first + rest == trace
    assert torch.equal(resumed.theta, full.theta) and torch.equal(resumed.target, full.target)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("lr", "-1", "lr must be a positive"), ("schedule", "warm", "unknown schedule"),
    ("adam_steps", "-3", "adam_steps must be an integer"), ("val_every", "0", "val_every must be a positive"),
    ("grad_clip", "nan", "grad_clip must be a finite"),
])
def test_bad_plan_and_trainer_settings_are_refused_before_anything_is_written(tmp_path, heat_like, cli, key, value,
                                                                               message):
    code, _, err = cli("train", "pinn", "--data", heat_like, "-o", tmp_path / "run", "--set", f"{key}={value}")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_steps_set_the_plans_own_step_count(heat_like):
    config = make_config("pinn", heat_like, steps=7)
    assert config["settings"]["adam_steps"] == 7
    assert math.isclose(config["settings"]["lr"], 1e-3)
