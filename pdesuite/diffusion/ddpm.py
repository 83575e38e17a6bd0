"""DDPM ancestral sampling (Ho, Jain & Abbeel 2020, Algorithm 2) on any sub-grid.

From (t, α, σ) to the less noisy (t', α', σ') with h = λ' - λ > 0, the forward transition
q(x_t | x_t') has α_{t|t'} = α/α' and σ²_{t|t'} = σ² - α²_{t|t'} σ'² = σ² (1 - e^{-2h}), and the
posterior q(x_t' | x_t, x_0) (Ho et al. Eq. 6-7, respaced as in Nichol & Dhariwal 2021 §4) is

    mean  = (σ'/σ) e^{-h} x_t + α' (1 - e^{-2h}) x̂0,
    var   = σ'² (1 - e^{-2h})        ("small", the posterior β̃), or
    var   = σ² (1 - e^{-2h}) = β_t   ("large", Ho et al.'s σ_t² = β_t; for VP σ² ≈ 1 near the start).

No noise is added on the last step (Algorithm 2, z = 0 at t = 1). With ``final_sigma_zero`` (the
default here) the chain ends at the clean point, so ``ddpm-linear`` with steps = 1000 and
``uniform-t`` is exactly Ho et al.'s 1000-step sampler. "small" equals DDIM with η = 1.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.errors import BadInput


@register("ddpm")
class DDPM(Sampler):
    """DDPM ancestral sampling (Ho et al. 2020), posterior ("small") or β ("large") variance.

    Args:
        variance: ``small`` (posterior variance β̃) or ``large`` (β).
        **kwargs: `Sampler` arguments; ``final_sigma_zero`` defaults to True here.
    """

    description = "DDPM ancestral sampling (Ho et al. 2020), respaced; stochastic"
    default_spacing = "uniform-t"
    stochastic = True

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 1000, *, variance: str = "small",
                 final_sigma_zero: bool = True, **kwargs: Any) -> None:
        if variance not in ("small", "large"):
            raise BadInput(f"ddpm variance must be 'small' or 'large', got {variance!r}")
        self.variance = variance
        super().__init__(schedule, steps, final_sigma_zero=final_sigma_zero, **kwargs)
        self._record(variance=variance)

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        n = grid.intervals
        for i in range(n):
            a, s, a2, s2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1], grid.sigma[i + 1]
            x0 = den.x0(x, grid.t[i], a, s)
            h = grid.lam[i + 1] - grid.lam[i]
            decay = math.exp(-h)  # 0 at the clean point
            one_minus = -math.expm1(-2.0 * h)
            if i < n - 1:
                std = (s2 if self.variance == "small" else s) * math.sqrt(one_minus)
                x = lincomb(((s2 / s) * decay, x), (a2 * one_minus, x0), (std, self.noise_like(x, generator)))
            else:
                x = lincomb(((s2 / s) * decay, x), (a2 * one_minus, x0))
            if trace is not None:
                trace.append(x)
        return x
