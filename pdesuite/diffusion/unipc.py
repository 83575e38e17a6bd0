"""UniPC: unified predictor-corrector for the data-prediction ODE (Zhao et al. 2023).

From λ_s to λ_t (h = λ_t - λ_s) with data predictions m_s, m_{s-1}, ... at λ_{s-j} = λ_s + r_j h
(r_j < 0) and D_j = (m_{s-j} - m_s)/r_j, UniP-p (Zhao et al. Alg. 1, data-prediction form) is

    x_t = (σ_t/σ_s) x_s + α_t (1 - e^{-h}) m_s + α_t B(h) Σ_{j<p} a_j D_j,

and UniC-p corrects x_t with the model output m_t at the predicted point (r = 1, D = m_t - m_s),
reusing that evaluation for the next step, so the corrector costs no extra NFE (Alg. 2). The
weights solve Σ_j a_j r_j^{n-1} = n! h φ_{n+1}(-h) / B(h), n = 1..(number of D's) (Zhao et al. Thm. 3.1),
with φ_1(z) = (e^z - 1)/z, φ_{k+1}(z) = (φ_k(z) - 1/k!)/z. For one D the predictor uses a = 1/2 and the
order-1 corrector a = 1/2 (the paper's simplification, as in the reference code).
B(h) variants: ``bh1`` B(h) = h, ``bh2`` B(h) = 1 - e^{-h} (the paper's e^h - 1 in its sign convention).

Order: UniP-p is order p and UniPC-p (with the corrector) order p + 1 (Thm. 3.1, 3.3). Warm-up uses
min(p, k + 1) points; a step to σ = 0 is first order. ``lower_order_final`` lowers the last steps to
min(p, steps left) on grids of fewer than 15 steps only: the rule of ``dpm-solver++`` here and of
diffusers' DPMSolverMultistepScheduler, which diffusers' UniPC documents too ("only valid for < 15
inference steps"; the DPM-Solver reference code used < 15, later < 10), while the UniPC reference code
and diffusers' UniPC scheduler lower at every length. Lowering ends the run with an uncorrected
first-order step, whose O(h²) error caps the global order at 2 (UniPC-3: observed 2.9 instead of 4 at
50-200 NFE on ddpm-linear); below 15 steps it is the more accurate and stable choice (5 NFE: 5x
smaller error for UniPC-3), from 15 steps on the full order is (20 NFE: 3x smaller).

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from pdesuite.diffusion.base import Grid, Sampler, check_step_orders, multistep_orders, register
from pdesuite.diffusion.parameterization import Denoiser, lincomb
from pdesuite.errors import BadInput


def unipc_weights(rs: list[float], h: float, variant: str, simplified: float | None = None) -> tuple[float, ...]:
    """The a_j for the points r_j (|rs| = number of D terms); ``simplified`` replaces a 1-term solve."""
    n = len(rs)
    if n == 0:
        return ()
    if n == 1 and simplified is not None:
        return (simplified,)
    big_b = h if variant == "bh1" else -math.expm1(-h)
    phi, fact, rhs = -math.expm1(-h) / h, 1.0, []
    for k in range(1, n + 1):  # phi_{k+1}(-h) from phi_k(-h)
        phi = (phi - 1.0 / fact) / (-h)
        rhs.append(fact * h * phi / big_b)  # k! h φ_{k+1}(-h) / B(h)
        fact *= k + 1
    mat = torch.tensor([[r ** (row) for r in rs] for row in range(n)], dtype=torch.float64)
    return tuple(torch.linalg.solve(mat, torch.tensor(rhs, dtype=torch.float64)).tolist())


@register("unipc")
class UniPC(Sampler):
    """UniPC-p with B(h) variants bh1/bh2, data prediction (Zhao et al. 2023).

    Args:
        order: Predictor order p ∈ {1, 2, 3} (with the corrector the method is of order p + 1).
        variant: ``bh1`` or ``bh2``.
        corrector: Apply UniC after every step but the last.
        lower_order_final: Lower the last steps to min(p, steps left) when the grid has fewer than 15 steps.
        step_orders: Explicit predictor order of every step (e.g. a searched choice,
            `pdesuite.diffusion.search`): step k at most min(p, k + 1), the step to σ = 0 order 1.
            Replaces the warm-up and ``lower_order_final`` rule.
        **kwargs: `Sampler` arguments.
    """

    description = "UniPC (Zhao et al. 2023): UniP-p + UniC, B(h) variants bh1/bh2, data prediction"
    orders = (1, 2, 3)
    default_order = 2

    def __init__(self, schedule: Any = "vp-linear", steps: int | None = 20, *, variant: str = "bh2",
                 corrector: bool = True, lower_order_final: bool = True, step_orders: list[int] | None = None,
                 **kwargs: Any) -> None:
        if variant not in ("bh1", "bh2"):
            raise BadInput(f"unipc variant must be 'bh1' or 'bh2', got {variant!r}")
        self.variant, self.corrector, self.lower_order_final = variant, bool(corrector), bool(lower_order_final)
        super().__init__(schedule, steps, **kwargs)
        self._record(variant=variant, corrector=self.corrector, lower_order_final=self.lower_order_final)
        self.explicit_orders: list[int] | None = None
        if step_orders is not None:
            self.explicit_orders = check_step_orders(step_orders, self.intervals(), self.order,
                                                     final_first_order=self.final_sigma_zero, who="unipc")
            self._record(step_orders=self.explicit_orders)

    @property
    def theoretical_order(self) -> float:
        """p + 1 with the corrector, p without (the final steps are not lowered from 15 steps on)."""
        return float(self.order + (1 if self.corrector else 0))

    def step_orders(self, n: int) -> list[int]:
        """Predictor order of each of the n steps (``step_orders`` when given)."""
        if self.explicit_orders is not None:
            return list(self.explicit_orders)
        lower = self.order if (self.lower_order_final and n < 15) else 0
        return multistep_orders(self.order, n, lower_final=lower, final_first_order=self.final_sigma_zero)

    def tables(self, grid: Grid) -> list[tuple[int, list[float], tuple[float, ...], tuple[float, ...]]]:
        """Per step: order, the r_j of the past points, predictor and corrector weights."""
        n = grid.intervals
        orders = self.step_orders(n)
        out = []
        for i, order in enumerate(orders):
            h = grid.lam[i + 1] - grid.lam[i]
            rs = [(grid.lam[i - j] - grid.lam[i]) / h for j in range(1, order)]
            pred = unipc_weights(rs, h, self.variant, 0.5 if order == 2 else None)
            corr = unipc_weights([*rs, 1.0], h, self.variant, 0.5 if order == 1 else None) if i < n - 1 else ()
            out.append((order, rs, pred, corr))
        return out

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        tables = self.cached("unipc", lambda: self.tables(grid))
        ms: list[torch.Tensor] = []
        x_prev: torch.Tensor | None = None
        for i in range(grid.intervals):
            t, a, s = grid.t[i], grid.alpha[i], grid.sigma[i]
            m = den.x0(x, t, a, s)
            if i > 0 and self.corrector:
                x = self._update(x_prev, ms, m, grid, i - 1, tables[i - 1])
                if trace is not None:
                    trace[-1] = x
            ms = (ms + [m])[-self.order:]
            x_prev = x
            x = self._update(x, ms, None, grid, i, tables[i])
            if trace is not None:
                trace.append(x)
        return x

    def _update(self, x: torch.Tensor, ms: list[torch.Tensor], m_new: torch.Tensor | None, grid: Grid, i: int,
                table: tuple[int, list[float], tuple[float, ...], tuple[float, ...]]) -> torch.Tensor:
        """Predictor (m_new None) or corrector step from grid point i to i + 1 with ms[-1] at point i."""
        # (σ'/σ) x + α' C0 m0 + α' B Σ_j a_j (m_j - m0)/r_j [+ α' B a_c (m_new - m0)], expanded on the m's
        order, rs, pred, corr = table
        s = grid.sigma[i]
        a2, s2 = grid.alpha[i + 1], grid.sigma[i + 1]
        h = grid.lam[i + 1] - grid.lam[i]
        ab = a2 * (h if self.variant == "bh1" else -math.expm1(-h))
        weights = pred if m_new is None else corr
        terms = [(ab * w / r, ms[-1 - j]) for j, (w, r) in enumerate(zip(weights, rs, strict=False), start=1)]
        if m_new is not None:
            terms.append((ab * weights[-1], m_new))
        c_m0 = a2 * -math.expm1(-h) - sum(c for c, _ in terms)
        return lincomb((s2 / s, x), (c_m0, ms[-1]), *terms)
