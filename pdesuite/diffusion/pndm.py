"""PNDM / PLMS: pseudo linear multistep (Liu, Ren, Lin & Zhao 2022).

PNDM keeps DDIM's transfer φ (Liu et al. Eq. 11), which in x̄ = x/α, σ̄ = σ/α reads
x̄' = x̄ + (σ̄' - σ̄) e, and replaces ε̂ by a linear-multistep combination e of past outputs
(PLMS, Eq. 12; Adams-Bashforth weights in backward differences, Hairer et al. III.1):

    e = Σ_{j<k} γ_j ∇^j ε̂_n,   γ = 1, 1/2, 5/12, 3/8, ...  (k = 4: (55ε_n - 59ε_{n-1} + 37ε_{n-2} - 9ε_{n-3})/24).

Warm-up: ``prk`` (Eq. 13, the paper's): k - 1 pseudo Runge-Kutta steps with four evaluations each at
t, (t+t')/2, (t+t')/2, t' and e = (e1 + 2e2 + 2e3 + e4)/6; ``ab`` (diffusers' skip_prk_steps flavour,
one evaluation per step): lower-order Adams-Bashforth min(k, n+1).

Order: the fixed weights are exact for steps uniform in σ̄; then PLMS-k with ``prk`` warm-up is
order k (PRK is classical RK4 in σ̄ when t and σ̄ are affine, e.g. EDM with uniform t). On other grids
that are smooth in σ̄ the mismatch between σ̄-steps and the constant weights leaves a local error
O(h³), so the method is order min(k, 2); the ``ab`` warm-up's first Euler step also limits it to 2.

Grid: the default is uniform in λ = -log σ̄ (constant step ratio σ̄_{i+1}/σ̄_i), where order 2 is
observed from 50 NFE on all seven schedules here. Uniform steps in t (PNDM's and Stable Diffusion's
grid) are not smooth in σ̄ at the data end of a VP schedule: there σ² ≈ σ_min² + c (t - t_min), so
σ̄ ≈ sqrt(c (t - t_min)) wherever the step in t exceeds σ_min²/c (one training step on ddpm-linear,
1e-3 on vp-linear); the last steps then keep ratios O(1) away from 1 and their O(h) local error makes
PLMS first order in practice (observed 1.0-1.5 at 50-200 NFE on the VP schedules). The
uniform-t grid is still the more stable one under strong classifier-free guidance (it takes one
large denoising step across the stiff region near the data), see docs/diffusion/momentum.md.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from math import comb
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.errors import BadInput


@cache
def adams_bashforth_gammas(k: int) -> tuple[Fraction, ...]:
    """γ_0..γ_{k-1} of Adams-Bashforth in backward differences: Σ_{i<=j} γ_i / (j - i + 1) = 1."""
    gammas: list[Fraction] = []
    for j in range(k):
        gammas.append(1 - sum((gammas[i] / (j - i + 1) for i in range(j)), Fraction(0)))
    return tuple(gammas)


@cache
def ab_weights(k: int, beta: float = 1.0) -> tuple[float, ...]:
    """Weights on (f_n, f_{n-1}, ..., f_{n-k+1}) of the k-step method Σ_{j<k} c_j ∇^j f_n / β.

    c_j = β γ_j + (1 - β) γ_{j-1} (c_0 = β): for β = 1 plain Adams-Bashforth; for β < 1 the
    generalized heavy ball of Wizadwongsa et al. 2023 (Eq. 16-19), applied to the velocity v.
    """
    g = [float(x) for x in adams_bashforth_gammas(k)]
    c = [beta * g[j] + ((1 - beta) * g[j - 1] if j else 0.0) for j in range(k)]
    w = [0.0] * k
    for j, cj in enumerate(c):  # ∇^j f_n = Σ_i (-1)^i C(j, i) f_{n-i}
        for i in range(j + 1):
            w[i] += cj * (-1) ** i * comb(j, i)
    return tuple(x / beta for x in w)


def sbar_uniform(grid: Grid) -> bool:
    """True when the grid's steps are equal in σ̄ = σ/α (where PLMS's fixed weights are exact)."""
    sb = grid.sbar
    d = [sb[i] - sb[i + 1] for i in range(len(sb) - 1)]
    return max(d) - min(d) <= 1e-9 * max(d)


def transfer(x: torch.Tensor, ratio: float, step: float, weights: tuple[float, ...],
             history: list[torch.Tensor]) -> torch.Tensor:
    """ratio x + step Σ_i weights[i] history[-1-i] (history oldest first): DDIM's transfer with a combined ε."""
    return lincomb((ratio, x), *((step * w, e) for w, e in zip(weights, reversed(history), strict=False)))


@register("pndm")
class PNDM(Sampler):
    """PNDM's pseudo linear multistep method PLMS-k (Liu et al. 2022).

    Args:
        order: Adams-Bashforth order k ∈ {1, 2, 3, 4} (PLMS-1 is DDIM).
        warmup: ``prk`` (pseudo Runge-Kutta, 4 evaluations per warm-up step) or ``ab``.
        **kwargs: `Sampler` arguments.
    """

    description = "PNDM / PLMS (Liu et al. 2022), Adams-Bashforth in sigma/alpha; prk or ab warm-up"
    orders = (1, 2, 3, 4)
    default_order = 4

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 50, *, warmup: str = "ab",
                 **kwargs: Any) -> None:
        if warmup not in ("prk", "ab"):
            raise BadInput(f"pndm warmup must be 'prk' or 'ab', got {warmup!r}")
        self.warmup = warmup
        super().__init__(schedule, steps, **kwargs)
        self._record(warmup=warmup)

    @property
    def _prk_steps(self) -> int:
        return self.order - 1 if self.warmup == "prk" else 0

    def intervals(self) -> int:
        if self._times is not None:
            return super().intervals()
        n = self.steps - 3 * self._prk_steps
        if n < self._prk_steps + 1:
            raise BadInput(f"pndm with warmup='prk' and order {self.order} needs steps >= {4 * self._prk_steps + 1}, "
                           f"got {self.steps}")
        return n

    @property
    def theoretical_order(self) -> float:
        """k on a grid uniform in σ̄ with the PRK warm-up, else min(k, 2) (a grid smooth in σ̄ assumed)."""
        return float(self.order if sbar_uniform(self.grid()) and self.warmup == "prk" else min(self.order, 2))

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        sb = grid.sbar
        history: list[torch.Tensor] = []
        for i in range(grid.intervals):
            a, s, a2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1]
            e1 = den.eps(x, grid.t[i], a, s)
            history = (history + [e1])[-self.order:]
            if i < self._prk_steps:
                x = transfer(x, a2 / a, a2 * (sb[i + 1] - sb[i]), (1.0,), [self._prk(x, e1, den, grid, i)])
            else:
                x = transfer(x, a2 / a, a2 * (sb[i + 1] - sb[i]), ab_weights(len(history)), history)
            if trace is not None:
                trace.append(x)
        return x

    def _prk(self, x: torch.Tensor, e1: torch.Tensor, den: Denoiser, grid: Grid, i: int) -> torch.Tensor:
        """Pseudo RK4 (Liu et al. Eq. 13): e = (e1 + 2 e2 + 2 e3 + e4) / 6 with DDIM transfers."""
        a, sb = grid.alpha[i], grid.sigma[i] / grid.alpha[i]
        tm, am, sm, _ = self.cached(f"mid{i}", lambda: self.point(0.5 * (grid.t[i] + grid.t[i + 1])))  # noqa: B023
        t2, a2, s2 = grid.t[i + 1], grid.alpha[i + 1], grid.sigma[i + 1]
        sbm, sb2 = sm / am, s2 / a2
        e2 = den.eps((am / a) * x + am * (sbm - sb) * e1, tm, am, sm)
        e3 = den.eps((am / a) * x + am * (sbm - sb) * e2, tm, am, sm)
        e4 = den.eps((a2 / a) * x + a2 * (sb2 - sb) * e3, t2, a2, s2)
        return (e1 + 2 * e2 + 2 * e3 + e4) / 6
