"""DPM-Solver++: exponential integrators for the data-prediction ODE (Lu et al. 2022b).

With the data prediction x̂0 = D the exact solution from λ_s to λ_t, h = λ_t - λ_s, is
x_t = (σ_t/σ_s) x_s + σ_t ∫ e^{λ} D dλ (DPM-Solver++ Eq. 8). Writing the weights
∫_0^h e^{-(h-u)} u^k/k! du: C0 = 1 - e^{-h}, C1 = h - C0, C2 = h²/2 - C1:

* 1st order (= DDIM):  x_t = (σ_t/σ_s) x_s + α_t C0 D_s.
* **2S** (Algorithm 1, r = 1/2): u = (σ_u/σ_s) x_s + α_u (1 - e^{-rh}) D_s at λ_s + r h;
  x_t = (σ_t/σ_s) x_s + α_t C0 ((1 - 1/(2r)) D_s + 1/(2r) D(u)).
* **2M** (Algorithm 2): r = h_prev/h, x_t = (σ_t/σ_s) x_s + α_t C0 (D_s + (D_s - D_prev)/(2r)).
* **3M**: the quadratic through the last three (λ, D) integrated exactly: with divided differences
  f01 = (D_s - D_1)/h_0, f012 = (f01 - f12)/(h_0 + h_1), the interpolant is
  D_s + (f01 + h_0 f012) u + f012 u², so x_t = (σ_t/σ_s) x_s + α_t (C0 D_s + C1 (f01 + h_0 f012) + 2 C2 f012).
  (Reference implementations weight the u² term by C2 instead of 2 C2, which leaves an O(h³)
  local error; this file uses the exact weight.)

Orders 2, 2, 3 (Lu et al. 2022b, Thm. 3.1 and §4). Multistep warm-up uses lower orders; with
``lower_order_final`` and fewer than 15 steps the last steps are lowered as in the reference code.
A step to σ = 0 is first order. Dynamic thresholding (§3.2) clips x̂0 before it is used.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, check_step_orders, multistep_orders, register
from pdesuite.diffusion.parameterization import Denoiser, dynamic_threshold, lincomb
from pdesuite.errors import BadInput

VARIANTS = {"2S": 2, "2M": 2, "3M": 3}


def one_minus_exp(h: float) -> float:
    """C0 = 1 - e^{-h} (1 at h = ∞)."""
    return -math.expm1(-h)


@register("dpm-solver++")
class DPMSolverPP(Sampler):
    """DPM-Solver++ 2S / 2M / 3M with optional dynamic thresholding (Lu et al. 2022b).

    Args:
        variant: ``2S`` (singlestep), ``2M`` or ``3M`` (multistep).
        lower_order_final: Lower the last steps' order when there are fewer than 15 steps.
        step_orders: Explicit order of every step (multistep variants; e.g. a searched choice,
            `pdesuite.diffusion.search`): step k at most min(order, k + 1), the step to σ = 0 order 1.
            Replaces the warm-up and ``lower_order_final`` rule.
        thresholding: Apply dynamic thresholding to x̂0 (quantile ``threshold_quantile``, cap ``threshold_max``).
        **kwargs: `Sampler` arguments.
    """

    description = "DPM-Solver++ (Lu et al. 2022b): 2S, 2M, 3M, data prediction, dynamic thresholding"
    orders = (2, 3)
    default_order = 2

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, variant: str = "2M",
                 lower_order_final: bool = True, thresholding: bool = False, threshold_quantile: float = 0.995,
                 threshold_max: float = 1.0, step_orders: list[int] | None = None, **kwargs: Any) -> None:
        variant = str(variant).upper()
        if variant not in VARIANTS:
            raise BadInput(f"dpm-solver++ variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
        if "order" in kwargs and kwargs["order"] is not None and kwargs["order"] != VARIANTS[variant]:
            raise BadInput(f"dpm-solver++ variant {variant} has order {VARIANTS[variant]}, got order={kwargs['order']}")
        kwargs["order"] = VARIANTS[variant]
        self.variant, self.multistep = variant, variant.endswith("M")
        self.singlestep = not self.multistep
        self.lower_order_final, self.thresholding = bool(lower_order_final), bool(thresholding)
        self.threshold_quantile, self.threshold_max = float(threshold_quantile), float(threshold_max)
        super().__init__(schedule, steps, **kwargs)
        self._record(variant=variant, lower_order_final=self.lower_order_final, thresholding=self.thresholding,
                     threshold_quantile=self.threshold_quantile, threshold_max=self.threshold_max)
        self.explicit_orders: list[int] | None = None
        if step_orders is not None:
            if not self.multistep:
                raise BadInput("dpm-solver++: step_orders needs a multistep variant (2M or 3M)")
            self.explicit_orders = check_step_orders(step_orders, self.intervals(), self.order,
                                                     final_first_order=self.final_sigma_zero, who="dpm-solver++")
            self._record(step_orders=self.explicit_orders)

    def intervals(self) -> int:
        return super().intervals() if self.multistep else len(self.stage_plan(2))

    def step_orders(self, n: int) -> list[int]:
        """Order of each of the n steps."""
        if not self.multistep:
            return self.stage_plan(2)
        if self.explicit_orders is not None:
            return list(self.explicit_orders)
        lower = (self.order - 1) if (self.lower_order_final and n < 15) else 0
        return multistep_orders(self.order, n, lower_final=lower, final_first_order=self.final_sigma_zero)

    def _data(self, den: Denoiser, x: torch.Tensor, t: float, a: float, s: float) -> torch.Tensor:
        x0 = den.x0(x, t, a, s)
        if self.thresholding:
            x0 = dynamic_threshold(x0, self.threshold_quantile, self.threshold_max)
        return x0

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        ms: list[torch.Tensor] = []
        for i, k in enumerate(self.step_orders(grid.intervals)):
            t, a, s, lam = grid.t[i], grid.alpha[i], grid.sigma[i], grid.lam[i]
            a2, s2 = grid.alpha[i + 1], grid.sigma[i + 1]
            h = grid.lam[i + 1] - lam
            ms = (ms + [self._data(den, x, t, a, s)])[-3:]
            c0 = one_minus_exp(h)
            m0 = ms[-1]
            if k == 1:
                x = lincomb((s2 / s, x), (a2 * c0, m0))
            elif not self.multistep:  # D = (1 - 1/(2r)) m0 + 1/(2r) D(u), r = 1/2
                r = 0.5
                tu, au, su, _ = self.cached(f"mid{i}", lambda lam=lam, h=h: self.point_at_lambda(lam + 0.5 * h))
                mu = self._data(den, lincomb((su / s, x), (au * one_minus_exp(r * h), m0)), tu, au, su)
                x = lincomb((s2 / s, x), (a2 * c0 * (1 - 0.5 / r), m0), (a2 * c0 * 0.5 / r, mu))
            elif k == 2:  # D = m0 + (m0 - m1) / (2r)
                q = 0.5 / ((lam - grid.lam[i - 1]) / h)
                x = lincomb((s2 / s, x), (a2 * c0 * (1 + q), m0), (-a2 * c0 * q, ms[-2]))
            else:  # C0 m0 + C1 (f01 + h0 f012) + 2 C2 f012, expanded on (m0, m1, m2)
                h0, h1 = lam - grid.lam[i - 1], grid.lam[i - 1] - grid.lam[i - 2]
                c1 = h - c0
                c2 = 0.5 * h * h - c1
                f01 = (1 / h0, -1 / h0, 0.0)
                f012 = (1 / (h0 * (h0 + h1)), -(1 / h0 + 1 / h1) / (h0 + h1), 1 / (h1 * (h0 + h1)))
                w = [c1 * (f01[j] + h0 * f012[j]) + 2 * c2 * f012[j] for j in range(3)]
                x = lincomb((s2 / s, x), (a2 * (c0 + w[0]), m0), (a2 * w[1], ms[-2]), (a2 * w[2], ms[-3]))
            if trace is not None:
                trace.append(x)
        return x
