"""DDIM: denoising diffusion implicit models (Song, Meng & Ermon 2021), with inversion.

One step from (t, α, σ) to (t', α', σ') with x̂0, ε̂ the model's predictions at (x, t)
(DDIM Eq. 12, written for any α, σ):

    x' = α' x̂0 + sqrt(σ'² - c²) ε̂ + c z,    c = η σ' sqrt(1 - e^{-2h}),  h = λ' - λ,  z ~ N(0, I).

c is η times the standard deviation of the DDPM posterior q(x' | x, x̂0) (DDIM Eq. 16), so η = 1 is
ancestral DDPM and η = 0 the deterministic sampler. For η = 0 the step is
x'/α' = x/α + (σ'/α' - σ/α) ε̂: Euler's method for dx̄/dσ̄ = ε̂ in x̄ = x/α, σ̄ = σ/α, an exponential
integrator of order 1 (Lu et al. 2022, Eq. 3.6; DPM-Solver-1).

Inversion (Dhariwal & Nichol 2021, App. F; Mokady et al. 2023) runs the same η = 0 map up the grid
with ε̂ evaluated at the less noisy end, giving the x_T that DDIM maps (approximately) back to x_0.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.parameterization import Denoiser, Model, lincomb
from pdesuite.errors import BadInput


@register("ddim")
class DDIM(Sampler):
    """DDIM, η ∈ [0, 1] (η = 0: first-order ODE solver), and DDIM inversion.

    Args:
        eta: Stochasticity η ∈ [0, 1].
        **kwargs: `Sampler` arguments (schedule, steps, prediction, spacing, ...).
    """

    description = "DDIM (Song et al. 2021), eta in [0, 1] and inversion; order 1"
    default_spacing = "uniform-t"

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 50, *, eta: float = 0.0, **kwargs: Any) -> None:
        eta = float(eta)
        if not 0.0 <= eta <= 1.0:
            raise BadInput(f"ddim eta must be in [0, 1], got {eta}")
        self.eta = eta
        super().__init__(schedule, steps, **kwargs)
        self._record(eta=eta)

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.eta > 0

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        for i in range(grid.intervals):
            a, s, a2, s2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1], grid.sigma[i + 1]
            if self.eta > 0 and s2 > 0:
                x0, eps = den.pair(x, grid.t[i], a, s)
                c = self.eta * s2 * math.sqrt(-math.expm1(-2.0 * (grid.lam[i + 1] - grid.lam[i])))
                x = lincomb((a2, x0), (math.sqrt(max(s2 * s2 - c * c, 0.0)), eps), (c, self.noise_like(x, generator)))
            else:  # a2 x0 + s2 eps with x0 = (x - s eps) / a
                x = lincomb((a2 / a, x), (s2 - a2 * s / a, den.eps(x, grid.t[i], a, s)))
            if trace is not None:
                trace.append(x)
        return x

    def invert(self, model: Model, x0: torch.Tensor, *, return_trajectory: bool = False,
               **cond: Any) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Deterministic DDIM inversion: map x at ``t_end`` to x at ``t_start`` (η is ignored).

        Args:
            model: ``model(x, t, **cond)``.
            x0: Sample at the end of the grid (``t_end``); ``final_sigma_zero`` must be off.
        """
        if self.final_sigma_zero:
            raise BadInput("ddim inversion needs final_sigma_zero=False (the model is not defined at sigma = 0)")
        grid = self.grid().reversed()
        den = Denoiser(model, self.prediction, cond)
        x = x0
        trace = [x] if return_trajectory else None
        for i in range(grid.intervals):
            a, s, a2, s2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1], grid.sigma[i + 1]
            x = lincomb((a2 / a, x), (s2 - a2 * s / a, den.eps(x, grid.t[i], a, s)))
            if trace is not None:
                trace.append(x)
        self.last_nfe = den.nfe
        return (x, trace) if return_trajectory else x
