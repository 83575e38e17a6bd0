"""GHVB: generalized heavy-ball momentum (Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn 2023).

Their Eq. 16-19 (Alg. 2): in x̄ = x/α with δ_n = σ̄_{n+1} - σ̄_n the velocity averages the raw
outputs first and the step combines the velocities,

    v_{n+1} = (1 - β) v_n + β ε̂_n,       x̄_{n+1} = x̄_n + (δ_n/β) Σ_{j<r} c_j ∇^j v_{n+1},
    c_j = β γ_j + (1 - β) γ_{j-1}        (γ the Adams-Bashforth coefficients 1, 1/2, 5/12, 3/8; γ_{-1} = 0),

expanded on v_{n+1}, v_n, ... by `pdesuite.diffusion.pndm.ab_weights`. Theorem 2: order r for every
β (the recurrence in x alone satisfies the order conditions up to r, checked exactly in the tests);
β = 1 is PLMS-r, β -> 0 tends to PLMS-(r-1). The *momentum number* m = r - 1 + β names the method
(GHVB 3.8: r = 4, β = 0.8). The first velocity is the first output, v_1 = ε̂_0, and the warm-up uses
min(r, n + 1) velocities.

Globally GHVB inherits PLMS's limits (`pdesuite.diffusion.pndm`): order min(r, 2) on grids smooth in
σ̄, so the default grid is uniform in λ (observed 2.0 at 50-200 NFE on ddpm-linear); on a uniform-t
grid of a VP schedule it is first order in practice (1.1 there).

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, register
from pdesuite.diffusion.momentum import check_beta
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.diffusion.pndm import ab_weights, transfer
from pdesuite.errors import BadInput


@register("ghvb")
class GHVB(Sampler):
    """Generalized heavy ball (Wizadwongsa et al. 2023, Alg. 2), momentum number m = order - 1 + β.

    Args:
        momentum: Momentum number m ∈ (0, 4]; order r = ceil(m), β = m - r + 1.
        **kwargs: `Sampler` arguments (``order`` is derived from ``momentum``).
    """

    description = "Generalized heavy ball GHVB (Wizadwongsa et al. 2023); momentum number m, order ceil(m)"
    orders = (1, 2, 3, 4)
    default_order = 4

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, momentum: float = 3.8,
                 **kwargs: Any) -> None:
        momentum = float(momentum)
        if not 0.0 < momentum <= 4.0:
            raise BadInput(f"ghvb momentum number must be in (0, 4], got {momentum}")
        order = max(1, math.ceil(momentum - 1e-12))
        if kwargs.get("order") not in (None, order):
            raise BadInput(f"ghvb momentum {momentum} has order {order}, got order={kwargs['order']}")
        kwargs["order"] = order
        self.momentum, self.beta = momentum, check_beta(momentum - order + 1)
        super().__init__(schedule, steps, **kwargs)
        self._record(momentum=momentum)

    @property
    def theoretical_order(self) -> float:
        """min(r, 2): Theorem 2's order r, limited by the fixed weights on grids not uniform in σ̄."""
        return float(min(self.order, 2))

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        sb = grid.sbar
        vs: list[torch.Tensor] = []
        for i in range(grid.intervals):
            a, s, a2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1]
            eps = den.eps(x, grid.t[i], a, s)
            vs = (vs + [eps if not vs else lincomb((1 - self.beta, vs[-1]), (self.beta, eps))])[-self.order:]
            x = transfer(x, a2 / a, a2 * (sb[i + 1] - sb[i]), ab_weights(len(vs), self.beta), vs)
            if trace is not None:
                trace.append(x)
        return x
