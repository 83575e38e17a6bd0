"""Diffusion core: noise schedules, parameterisations and fast samplers (torch, any device).

Example:
    >>> import torch
    >>> from pdesuite.diffusion import make_sampler
    >>> from pdesuite.diffusion.testing import random_gaussian
    >>> bed = random_gaussian(d=4)                                  # exact ε-model of N(μ, Σ)
    >>> sampler = make_sampler("dpm-solver++", schedule="vp-linear", steps=10, variant="2M")
    >>> x_T = torch.randn(8, 4, dtype=torch.float64)
    >>> x_0 = sampler.sample(bed.model("eps"), x_T)                 # model(x, t, **cond)
    >>> x_0.shape
    torch.Size([8, 4])

Samplers are registered by name in `pdesuite.registry.SAMPLERS` (``pdesuite list samplers``); the
modules below hold one sampler (family) each; `search` searches a sampler's grid for a trained model and
`searched` saves and loads the result. See docs/diffusion/ for formulas, orders and advice.
"""

from pdesuite.diffusion.base import Grid, Sampler, make_sampler, multistep_orders, split_budget
from pdesuite.diffusion.parameterization import (
    PREDICTIONS,
    ClassifierFreeGuidance,
    Denoiser,
    convert,
    dynamic_threshold,
    to_eps,
    to_x0,
)
from pdesuite.diffusion.schedules import (
    SCHEDULES,
    SPACINGS,
    DiscreteVP,
    NoiseSchedule,
    get_schedule,
    make_timesteps,
)
from pdesuite.diffusion.search import search_samplers, search_schedule
from pdesuite.diffusion.searched import SearchedSchedule, load_searched

__all__ = [
    "PREDICTIONS", "SCHEDULES", "SPACINGS", "ClassifierFreeGuidance", "Denoiser", "DiscreteVP", "Grid",
    "NoiseSchedule", "Sampler", "SearchedSchedule", "convert", "dynamic_threshold", "get_schedule", "load_searched",
    "make_sampler", "make_timesteps", "multistep_orders", "search_samplers", "search_schedule", "split_budget",
    "to_eps", "to_x0",
]
