"""Heavy-ball momentum samplers (Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn 2023).

"Diffusion Sampling with Momentum for Mitigating Divergence Artifacts": high-order solvers have small
stability regions; damping their update by Polyak's heavy ball enlarges them.

* **HB** (Eq. 14) on a method x_{n+1} = x_n + δ Σ b_i f_{n-i}:
  v_{n+1} = (1 - β) v_n + β Σ b_i f_{n-i},  x_{n+1} = x_n + δ v_{n+1}  (β ∈ (0, 1], β = 1: the method).
  Theorem 1: first order for every β < 1. Here on PLMS (f = ε̂, δ = Δσ̄ in x̄ = x/α, as PNDM) and on
  DPM-Solver++(2M) (the combined data prediction D = D_s + (D_s - D_prev)/(2r) is averaged and used
  in the exponential-integrator step, as in the authors' code).
* **GHVB** (Eq. 16-19): the velocity averages the raw outputs, v_{n+1} = (1 - β) v_n + β ε̂_n, and the
  step is x̄_{n+1} = x̄_n + δ/β Σ_{j<r} c_j ∇^j v_{n+1} with c_j = β γ_j + (1 - β) γ_{j-1}
  (γ the Adams-Bashforth coefficients). Theorem 2: order r for every β; β = 1 is PLMS-r, β -> 0 tends to
  PLMS-(r-1). The *momentum number* m = r - 1 + β names the method (GHVB 1.8: r = 2, β = 0.8).

Warm-up uses min(order, n + 1) terms; the first velocity is the first combined output. As with
PNDM the fixed weights are exact for uniform steps in σ̄; elsewhere orders above 2 are not reached.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, multistep_orders, register
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.diffusion.pndm import ab_weights, transfer
from pdesuite.errors import BadInput


def _check_beta(beta: float) -> float:
    beta = float(beta)
    if not 0.0 < beta <= 1.0:
        raise BadInput(f"momentum damping beta must be in (0, 1], got {beta}")
    return beta


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
    default_spacing = "uniform-t"

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, beta: float = 0.8,
                 **kwargs: Any) -> None:
        self.beta = _check_beta(beta)
        super().__init__(schedule, steps, **kwargs)
        self._record(beta=self.beta)

    @property
    def theoretical_order(self) -> float:
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
    default_spacing = "uniform-t"

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, momentum: float = 3.8,
                 **kwargs: Any) -> None:
        momentum = float(momentum)
        if not 0.0 < momentum <= 4.0:
            raise BadInput(f"ghvb momentum number must be in (0, 4], got {momentum}")
        order = max(1, math.ceil(momentum - 1e-12))
        if kwargs.get("order") not in (None, order):
            raise BadInput(f"ghvb momentum {momentum} has order {order}, got order={kwargs['order']}")
        kwargs["order"] = order
        self.momentum, self.beta = momentum, _check_beta(momentum - order + 1)
        super().__init__(schedule, steps, **kwargs)
        self._record(momentum=momentum)

    @property
    def theoretical_order(self) -> float:
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
        self.beta, self.lower_order_final = _check_beta(beta), bool(lower_order_final)
        super().__init__(schedule, steps, **kwargs)
        self._record(beta=self.beta, lower_order_final=self.lower_order_final)

    @property
    def theoretical_order(self) -> float:
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
