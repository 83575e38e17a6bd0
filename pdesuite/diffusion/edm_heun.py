"""EDM Heun sampler (Karras, Aittala, Aila & Laine 2022, Algorithm 1).

In x̄ = x/α and σ̄ = σ/α the probability-flow ODE is dx̄/dσ̄ = ε̂ = (x̄ - D̄(x̄; σ̄))/σ̄ (Karras et al.
Eq. 3 with s(t) = α); for α = 1 (VE, EDM) x̄ = x and σ̄ = σ. One step σ̄_i -> σ̄_{i+1}:

    d_i = ε̂(x_i),  x̃ = x̄_i + (σ̄_{i+1} - σ̄_i) d_i,
    x̄_{i+1} = x̄_i + (σ̄_{i+1} - σ̄_i) (d_i + ε̂(x̃)) / 2      (Euler when σ̄_{i+1} = 0; lines 5-8)

i.e. the explicit trapezoidal (Heun) rule, order 2. The default grid is Karras et al. Eq. 5 with
ρ = 7. The NFE budget is two evaluations per interval, one Euler interval for an odd remainder or
for a final step to σ = 0.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.parameterization import Denoiser, lincomb


@register("edm-heun")
class EDMHeun(Sampler):
    """Heun's 2nd-order method in (x/α, σ/α) with the Karras ρ = 7 grid (Karras et al. 2022).

    Args:
        **kwargs: `Sampler` arguments (``steps`` is the NFE budget, ``rho`` the Karras exponent).
    """

    description = "EDM Heun (Karras et al. 2022), 2nd order, Karras rho=7 grid"
    orders = (2,)
    default_order = 2
    default_spacing = "karras"
    singlestep = True

    def intervals(self) -> int:
        return len(self.stage_plan(2))

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        sb = grid.sbar
        for i, k in enumerate(self.stage_plan(2)):
            a, s, a2, s2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1], grid.sigma[i + 1]
            d = den.eps(x, grid.t[i], a, s)
            step = a2 * (sb[i + 1] - sb[i])  # x' = α' (x/α + Δσ̄ d)
            euler = lincomb((a2 / a, x), (step, d))
            if k == 2 and s2 > 0:
                d2 = den.eps(euler, grid.t[i + 1], a2, s2)
                euler = lincomb((a2 / a, x), (0.5 * step, d), (0.5 * step, d2))
            x = euler
            if trace is not None:
                trace.append(x)
        return x
