"""DPM-Solver++(2M) with heavy-ball momentum (Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn 2023).

HB (their Eq. 14) on the data-prediction exponential integrator DPM-Solver++(2M) (Lu et al. 2022b,
Alg. 2; `pdesuite.diffusion.dpm_solver_pp`): from λ_s to λ_t, h = λ_t - λ_s, r = h_prev/h, the
combined data prediction D_n = (1 + 1/(2r)) m_s - 1/(2r) m_prev is averaged and used in the step,

    v_{n+1} = (1 - β) v_n + β D_n,      x_t = (σ_t/σ_s) x_s + α_t (1 - e^{-h}) v_{n+1},

as in the authors' code (v_1 = D_0; a lowered final step, or the step to σ = 0, uses plain m_s
without momentum). β = 1 is DPM-Solver++(2M) (tested to round-off). Theorem 1: first order for
every β < 1. With ``lower_order_final`` the last step is first order below 15 steps, as DPM-Solver++.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, multistep_orders, register
from pdesuite.diffusion.momentum import check_beta
from pdesuite.diffusion.parameterization import Denoiser, lincomb


@register("dpm-solver++-hb")
class DPMSolverPPHeavyBall(Sampler):
    """DPM-Solver++(2M) with heavy-ball momentum β on the combined data prediction.

    Args:
        beta: Damping β ∈ (0, 1] (1 = DPM-Solver++(2M)).
        lower_order_final: As DPM-Solver++ (last step first order below 15 steps).
        **kwargs: `Sampler` arguments.
    """

    description = "DPM-Solver++(2M) with heavy-ball momentum (Wizadwongsa et al. 2023); order 1 for beta < 1"
    orders = (2,)
    default_order = 2

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, beta: float = 0.8,
                 lower_order_final: bool = True, **kwargs: Any) -> None:
        self.beta, self.lower_order_final = check_beta(beta), bool(lower_order_final)
        super().__init__(schedule, steps, **kwargs)
        self._record(beta=self.beta, lower_order_final=self.lower_order_final)

    @property
    def theoretical_order(self) -> float:
        """1 for β < 1 (Theorem 1), 2 for β = 1 (DPM-Solver++(2M))."""
        return 2.0 if self.beta == 1.0 else 1.0

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        n = grid.intervals
        lower = 1 if (self.lower_order_final and n < 15) else 0
        orders = multistep_orders(2, n, lower_final=lower, final_first_order=self.final_sigma_zero)
        prev: torch.Tensor | None = None
        v: torch.Tensor | None = None
        for i, k in enumerate(orders):
            t, a, s, lam = grid.t[i], grid.alpha[i], grid.sigma[i], grid.lam[i]
            a2, s2 = grid.alpha[i + 1], grid.sigma[i + 1]
            h = grid.lam[i + 1] - lam
            m0 = den.x0(x, t, a, s)
            if k == 2:
                c = 0.5 / ((lam - grid.lam[i - 1]) / h)
                d = lincomb((1 + c, m0), (-c, prev))
            else:
                d = m0
            final_plain = i == n - 1 and k == 1 and i > 0  # lowered final step: no momentum (authors' code)
            if not final_plain:
                v = d if v is None else lincomb((1 - self.beta, v), (self.beta, d))
                d = v
            x = lincomb((s2 / s, x), (a2 * -math.expm1(-h), d))
            prev = m0
            if trace is not None:
                trace.append(x)
        return x
