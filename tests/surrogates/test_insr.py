"""INSR: the time integrators' orders through the residual the surrogate minimises, a short march on
the advection case, and an exact resume of the march."""

import math

import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.recipes.generate import generate
from pdesuite.surrogates.insr import INTEGRATORS, step_residual
from pdesuite.training.trainer import make_config, train


def march_ode(integrator: str, dt: float, t_end: float, lam: float = -1.3) -> float:
    """u' = λu, u(0) = 1, by driving `step_residual` to zero at every step (Newton on the affine
    residual: one exact step) with constant 'fields' and F(u) = λu; returns the error at t_end."""
    operator = lambda u_fn, X: lam * u_fn(X)  # noqa: E731
    X = torch.zeros(1, 1, dtype=torch.float64)
    u = torch.tensor(1.0, dtype=torch.float64)
    for _ in range(round(t_end / dt)):
        old = u.clone()
        new = old.clone().requires_grad_(True)
        r = step_residual(integrator, lambda Y, p=new: p * torch.ones_like(Y), lambda Y, p=old: p * torch.ones_like(Y),
                          operator, X, dt).sum()
        (slope,) = torch.autograd.grad(r, new)
        u = (new - r / slope).detach()
    return abs(float(u) - math.exp(lam * t_end))


@pytest.mark.parametrize(("integrator", "order"), [("explicit-euler", 1), ("implicit-euler", 1),
                                                   ("implicit-midpoint", 2)])
def test_time_integrators_have_their_order(integrator, order):
    steps = [0.1, 0.05, 0.025, 0.0125]
    errors = [march_ode(integrator, dt, 1.0) for dt in steps]
    observed = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(observed - order) < 0.1, (integrator, observed, errors)


@pytest.fixture(scope="module")
def advection(tmp_path_factory):
    path = tmp_path_factory.mktemp("adv") / "adv.h5"
    generate("advection", path, progress=False, overrides={"steps": "6", "dt": "0.1", "nx": "201"})
    return path


TINY = {"stage_steps": "60", "n_points": "256", "log_every": "10", "checkpoint_every": "25"}


def test_a_short_march_follows_the_pulse(tmp_path, advection):
    config = make_config("insr", advection, device="cpu", overrides={**TINY, "stage_steps": "150"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 0.07  # measured 3.5e-2 (6 steps of 0.1, 150 iterations each; 300: 1.8e-2)
    assert config["settings"]["integrator"] == "implicit-midpoint"


def test_the_march_resumes_exactly(tmp_path, advection, same_checkpoints):
    config = make_config("insr", advection, device="cpu", overrides=TINY)
    train(tmp_path / "straight", config, progress=False)
    train(tmp_path / "resumed", config, progress=False, stop_at=137)  # inside the third time step
    train(tmp_path / "resumed", resume=True, progress=False)
    same_checkpoints(tmp_path / "straight", tmp_path / "resumed", ignore=("stage_seconds",))  # but wall times


@pytest.mark.parametrize(("key", "value", "message"), [("integrator", "rk4", "unknown integrator"),
                                                       ("width", "0", "width must be a positive"),
                                                       ("stage_steps", "0", "stage_steps must be an integer")])
def test_bad_settings(tmp_path, advection, cli, key, value, message):
    code, _, err = cli("train", "insr", "--data", advection, "-o", tmp_path / "run", "--set", f"{key}={value}")
    assert code == 2 and message in err and not (tmp_path / "run").exists()


def test_insr_needs_an_evolution_pde(tmp_path, cli):
    data = tmp_path / "h.h5"
    generate("pig-helmholtz", data, progress=False, overrides={"n": "8"})
    code, _, err = cli("train", "insr", "--data", data, "-o", tmp_path / "run")
    assert code == 2 and "insr" in err
    assert set(INTEGRATORS) == {"explicit-euler", "implicit-euler", "implicit-midpoint"}
    with pytest.raises(BadInput, match="unknown integrator"):
        step_residual("rk4", None, None, None, None, 0.1)
