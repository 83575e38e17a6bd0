"""PLMS with Polyak's heavy-ball momentum (Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn 2023).

HB (their Eq. 14, Alg. 1) applied to PLMS-k (Liu et al. 2022, see `pdesuite.diffusion.pndm`): with
x̄ = x/α, σ̄ = σ/α, δ_n = σ̄_{n+1} - σ̄_n and e_n = Σ_{j<k} w_j ε̂_{n-j} the Adams-Bashforth
combination of the last k outputs,

    v_{n+1} = (1 - β) v_n + β e_n,      x̄_{n+1} = x̄_n + δ_n v_{n+1},     β ∈ (0, 1],

with the first velocity v_1 = e_0 and a warm-up of min(k, n + 1) terms. β = 1 is PLMS-k with the
Adams-Bashforth warm-up (tested to round-off). Theorem 1: for β < 1 the method is first order
(v lags e by O(h)), whatever k; the damping enlarges the stability region, which is what stops the
divergence of PLMS-4 under strong classifier-free guidance (docs/diffusion/momentum.md).

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.momentum import check_beta
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.diffusion.pndm import ab_weights, transfer


@register("plms-hb")
class PLMSHeavyBall(Sampler):
    """PLMS-k with heavy-ball momentum β (Wizadwongsa et al. 2023, Alg. 1).

    Args:
        order: PLMS order k ∈ {1, 2, 3, 4}.
        beta: Damping β ∈ (0, 1] (1 = plain PLMS with the lower-order warm-up).
        **kwargs: `Sampler` arguments.
    """

    description = "PLMS with heavy-ball momentum (Wizadwongsa et al. 2023); order 1 for beta < 1"
    orders = (1, 2, 3, 4)
    default_order = 4

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, beta: float = 0.8,
                 **kwargs: Any) -> None:
        self.beta = check_beta(beta)
        super().__init__(schedule, steps, **kwargs)
        self._record(beta=self.beta)

    @property
    def theoretical_order(self) -> float:
        """1 for β < 1 (Theorem 1); β = 1 is PLMS, order min(k, 2) on grids smooth in σ̄."""
        return float(min(self.order, 2)) if self.beta == 1.0 else 1.0

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        sb = grid.sbar
        history: list[torch.Tensor] = []
        v: torch.Tensor | None = None
        for i in range(grid.intervals):
            a, s, a2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1]
            history = (history + [den.eps(x, grid.t[i], a, s)])[-self.order:]
            w = ab_weights(len(history))
            if v is None:
                v = transfer(history[-1], 0.0, 1.0, w, history)  # the first velocity is the first combination
            else:
                v = transfer(v, 1 - self.beta, self.beta, w, history)
            x = lincomb((a2 / a, x), (a2 * (sb[i + 1] - sb[i]), v))
            if trace is not None:
                trace.append(x)
        return x
