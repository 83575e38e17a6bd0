"""DDPM ancestral sampling (Ho, Jain & Abbeel 2020, Algorithm 2) on any sub-grid.

From (t, α, σ) to the less noisy (t', α', σ') with h = λ' - λ > 0, the forward transition
q(x_t | x_t') has α_{t|t'} = α/α' and σ²_{t|t'} = σ² - α²_{t|t'} σ'² = σ² (1 - e^{-2h}), and the
posterior q(x_t' | x_t, x_0) (Ho et al. Eq. 6-7, respaced as in Nichol & Dhariwal 2021 §4) is

    mean  = (σ'/σ) e^{-h} x_t + α' (1 - e^{-2h}) x̂0,
    var   = σ'² (1 - e^{-2h})        ("small", the posterior β̃), or
    var   = σ² (1 - e^{-2h}) = β_t   ("large", Ho et al.'s σ_t² = β_t; for VP σ² ≈ 1 near the start).

On consecutive steps of a DDPM table (α² = ᾱ_t, α'² = ᾱ_{t-1}) 1 - e^{-2h} = β_t/(1 - ᾱ_t), which
gives Ho et al.'s Eq. 7: mean √ᾱ_{t-1} β_t/(1 - ᾱ_t) x̂0 + √(1 - β_t)(1 - ᾱ_{t-1})/(1 - ᾱ_t) x_t and
β̃_t = (1 - ᾱ_{t-1}) β_t/(1 - ᾱ_t) (`posterior_coefficients`, one step at a time).

No noise is added on the last step (Algorithm 2, z = 0 at t = 1). With ``final_sigma_zero`` (the
default here) the chain ends at the clean point, so ``ddpm-linear`` with steps = 1000 and
``uniform-t`` is exactly Ho et al.'s 1000-step sampler. "small" equals DDIM with η = 1.

The chain may start at pure noise (α = 0, λ = -∞, a zero-terminal-SNR table such as PDE-Refiner's):
then e^{-h} = 0 and the first step is x' = α' x̂0 + σ' z, which needs an x0 or v model.

Weak order 1 (the law of the output; each step drops the posterior variance of x̂0, O(h²) per step).

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


def posterior_coefficients(alpha: float, sigma: float, lam: float, alpha2: float, sigma2: float, lam2: float,
                           variance: str = "small") -> tuple[float, float, float]:
    """(c_x, c_x0, std) of one step x' = c_x x + c_x0 x̂0 + std z from (α, σ, λ) to the less noisy (α', σ', λ').

    c_x = (σ'/σ) e^{-h}, c_x0 = α' (1 - e^{-2h}), std = σ' sqrt(1 - e^{-2h}) ("small") or
    σ sqrt(1 - e^{-2h}) ("large"), h = λ' - λ (Ho et al. 2020, Eq. 6-7). Also at the ends: from pure
    noise (λ = -∞) c_x = 0, c_x0 = α'; to the clean point (σ' = 0, λ' = ∞) c_x = 0, c_x0 = 1.
    """
    h = lam2 - lam
    decay = math.exp(-h)  # 0 from pure noise or to the clean point
    one_minus = -math.expm1(-2.0 * h)
    std = (sigma2 if variance == "small" else sigma) * math.sqrt(one_minus)
    return (sigma2 / sigma) * decay, alpha2 * one_minus, std


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
    supports_zero_snr = True

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
            a, s = grid.alpha[i], grid.sigma[i]
            x0 = den.x0(x, grid.t[i], a, s)
            c_x, c_x0, std = posterior_coefficients(a, s, grid.lam[i], grid.alpha[i + 1], grid.sigma[i + 1],
                                                    grid.lam[i + 1], self.variance)
            if i < n - 1:
                x = lincomb((c_x, x), (c_x0, x0), (std, self.noise_like(x, generator)))
            else:  # no noise on the last step (Algorithm 2)
                x = lincomb((c_x, x), (c_x0, x0))
            if trace is not None:
                trace.append(x)
        return x
