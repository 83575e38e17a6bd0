"""Cross-check against diffusers' schedulers (test-only dependency): same model, same schedule,
same time steps -> the same samples.

Our schedule is built from diffusers' own ᾱ table; their time steps are passed as ``timesteps``
with ``final_sigma_zero`` (diffusers ends at σ = 0). The stock schedulers keep float32 tables
(DPM-Solver++ also casts the state to float32 every step), so the stock comparison is at 1e-6;
with their tables lifted to float64, DDIM and UniPC agree to round-off.
"""

from __future__ import annotations

import pytest
import torch

from pdesuite.diffusion import DiscreteVP, make_sampler
from pdesuite.diffusion.testing import random_gaussian

diffusers = pytest.importorskip("diffusers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

SCHEDULERS = {
    "ddim": (diffusers.DDIMScheduler, {"clip_sample": False, "set_alpha_to_one": True}, {}),
    "dpm-solver++": (diffusers.DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2},
                     {"variant": "2M"}),
    "unipc": (diffusers.UniPCMultistepScheduler, {"solver_order": 2, "solver_type": "bh2"},
              {"order": 2, "variant": "bh2"}),
}
PREDICTION = {"eps": "epsilon", "x0": "sample", "v": "v_prediction"}


def _run_diffusers(scheduler, model, x, **step_kwargs):
    for t in scheduler.timesteps:
        out = model(x, torch.full((x.shape[0],), float(t), dtype=x.dtype))
        x = scheduler.step(out, t, x, **step_kwargs).prev_sample
    return x


def _pair(name, steps, spacing=None, prediction="eps", beta_schedule="scaled_linear", float64=False, **extra):
    cls, config, ours = SCHEDULERS[name]
    # DDIM steps from t to t - 1000 // steps, which is the next time step only for leading/trailing spacing
    spacing = spacing or ("leading" if name == "ddim" else "linspace")
    config = {**config, **extra}
    sched = cls(num_train_timesteps=1000, beta_schedule=beta_schedule, beta_start=0.00085 if beta_schedule ==
                "scaled_linear" else 0.0001, beta_end=0.012 if beta_schedule == "scaled_linear" else 0.02,
                prediction_type=PREDICTION[prediction], timestep_spacing=spacing, **config)
    sched.set_timesteps(steps)
    if float64:
        for key, value in list(vars(sched).items()):
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                setattr(sched, key, value.double())
        if hasattr(sched, "sigmas"):  # their own formula, in float64
            acp = sched.alphas_cumprod[sched.timesteps]
            sched.sigmas = torch.cat([((1 - acp) / acp).sqrt(), torch.zeros(1, dtype=torch.float64)])
    schedule = DiscreteVP.from_alphas_cumprod(sched.alphas_cumprod)
    sampler = make_sampler(name, schedule=schedule, timesteps=sched.timesteps.tolist(), final_sigma_zero=True,
                           prediction=prediction, **ours)
    return sched, sampler, random_gaussian(4, seed=3, schedule=schedule)


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize("steps,spacing", [(10, None), (25, "leading"), (20, "trailing")])
def test_matches_diffusers(name, steps, spacing):
    sched, sampler, bed = _pair(name, steps, spacing)
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    theirs = _run_diffusers(sched, bed.model("eps"), x.clone())
    ours = sampler.sample(bed.model("eps"), x)
    assert sampler.last_nfe == steps
    assert (ours - theirs).abs().max() < 1e-6


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize("prediction", ["x0", "v"])
def test_matches_diffusers_other_predictions(name, prediction):
    sched, sampler, bed = _pair(name, 12, prediction=prediction, beta_schedule="linear")
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = bed.model(prediction)
    assert (sampler.sample(model, x) - _run_diffusers(sched, model, x.clone())).abs().max() < 1e-6


@pytest.mark.parametrize("name,tol", [("ddim", 1e-12), ("unipc", 1e-12), ("dpm-solver++", 1e-6)])
def test_matches_diffusers_float64_tables(name, tol):
    sched, sampler, bed = _pair(name, 15, float64=True)
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert (sampler.sample(bed.model(), x) - _run_diffusers(sched, bed.model(), x.clone())).abs().max() < tol


def test_stochastic_ddim_matches_with_the_same_noise():
    sched, sampler, bed = _pair("ddim", 20, float64=True)
    sampler = make_sampler("ddim", schedule=sampler.schedule, timesteps=sched.timesteps.tolist(), final_sigma_zero=True,
                           eta=0.5)
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = sampler.sample(bed.model(), x, generator=torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)  # ours draws one normal per step except the last (σ' = 0)
    noises = [torch.randn(x.shape, generator=gen, dtype=x.dtype) for _ in range(19)] + [torch.zeros_like(x)]
    y = x.clone()
    for t, noise in zip(sched.timesteps, noises, strict=True):
        out = bed.model()(y, torch.full((16,), float(t), dtype=y.dtype))
        y = sched.step(out, t, y, eta=0.5, variance_noise=noise).prev_sample
    assert (ours - y).abs().max() < 1e-12
