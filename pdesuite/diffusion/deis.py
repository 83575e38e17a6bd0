"""DEIS: diffusion exponential integrator sampler, tAB variant (Zhang & Chen 2023).

The probability-flow ODE in x̄ = x/α and σ̄ = σ/α is dx̄ = ε̂(x, t) dσ̄ (the semilinear part is solved
exactly by the change of variables, DEIS §3-4). tAB-DEIS (DEIS Eq. 14-15) extrapolates ε̂ by the
Lagrange polynomial in t through the last k outputs and integrates it exactly against dσ̄:

    x̄_{i+1} = x̄_i + Σ_{j<k} C_{ij} ε̂_{i-j},   C_{ij} = ∫_{t_i}^{t_{i+1}} ℓ_j(τ) dσ̄(τ),
    ℓ_j(τ) = Π_{m≠j, m<k} (τ - t_{i-m}) / (t_{i-j} - t_{i-m}).

C_ij is computed by 16-point Gauss-Legendre quadrature in σ̄ (so a clean end point σ̄ = 0 is fine).
k = 1 is DDIM. The local error is O(h^{k+1}), so tAB-k has global order k; the warm-up uses
min(k, i + 1) points. On a discrete schedule t(σ̄) has kinks at the integers, which the quadrature and
the order guarantee assume away.

Shapes:
    x: (batch, *any) -> same.
"""

from __future__ import annotations

import numpy as np
import torch

from pdesuite.diffusion.base import Grid, Sampler, multistep_orders, register
from pdesuite.diffusion.parameterization import Denoiser
from pdesuite.diffusion.pndm import transfer

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)


@register("deis")
class DEIS(Sampler):
    """DEIS tAB (Zhang & Chen 2023): exponential-integrator multistep in t, orders 1-3.

    Args:
        order: Number of past outputs in the polynomial, 1-3 (1 = DDIM).
        **kwargs: `Sampler` arguments.
    """

    description = "DEIS tAB (Zhang & Chen 2023), exponential-integrator multistep, orders 1-3"
    orders = (1, 2, 3)
    default_order = 3

    def coefficients(self, grid: Grid) -> list[tuple[float, ...]]:
        """C_ij for every step i (weights on ε̂_i, ε̂_{i-1}, ...)."""
        sb, t = grid.sbar, grid.t
        out = []
        for i, k in enumerate(multistep_orders(self.order, grid.intervals)):
            lo, hi = sb[i + 1], sb[i]
            nodes = 0.5 * (hi - lo) * _NODES + 0.5 * (hi + lo)
            tau = self.schedule.t_of_lambda(torch.from_numpy(-np.log(nodes))).numpy()
            knots = [t[i - m] for m in range(k)]
            coef = []
            for j in range(k):
                ell = np.ones_like(tau)
                for m in range(k):
                    if m != j:
                        ell *= (tau - knots[m]) / (knots[j] - knots[m])
                coef.append(-0.5 * (hi - lo) * float(np.dot(_WEIGHTS, ell)))  # ∫ from σ̄_i down to σ̄_{i+1}
            out.append(tuple(coef))
        return out

    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        history: list[torch.Tensor] = []
        for i, coef in enumerate(self.cached("deis", lambda: self.coefficients(grid))):
            a, s, a2 = grid.alpha[i], grid.sigma[i], grid.alpha[i + 1]
            history = (history + [den.eps(x, grid.t[i], a, s)])[-self.order:]
            x = transfer(x, a2 / a, a2, coef, history)
            if trace is not None:
                trace.append(x)
        return x
