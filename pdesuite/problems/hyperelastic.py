"""A 2D hyperelastic body (plane strain, compressible neo-Hookean): INSR's 2D elasticity cases.

The body occupies the reference (material) rectangle Ω₀ = [x0, x1] × [y0, y1]; a motion maps a material
point X ∈ Ω₀ to its position q(X, t) = X + u(X, t) (u the displacement, F = ∇q = I + ∇u the deformation
gradient, J = det F > 0). Stored energy per unit reference area (plane strain, 2 × 2 F):

    Ψ(F) = μ/2 (tr FᵀF − 2 − 2 ln J) + λ/2 (ln J)²,

zero and stationary at F = I, with small-strain Lamé constants μ, λ (plane strain: Poisson's ratio
ν = λ / (2(λ + μ))). Time is discretised by implicit Euler written as an energy minimisation (the
incremental potential; Chen et al. 2023, ``elasticity/model.py``, take the same form with their ARAP
and volume energies): from q_k and v_k = (q_k − q_{k−1})/Δt (v_0 = 0 except in collide),

    q_{k+1} = argmin_q  ∫_Ω₀ [ ρ/(2Δt²) |q − q_k − Δt v_k|² + Ψ(∇q) − ρ g·q ] dX,   q = q_D on Γ_D,
    v_{k+1} = (q_{k+1} − q_k)/Δt,

whose Euler-Lagrange equation is ρ (q_{k+1} − 2q_k + q_{k−1})/Δt² = ∇·P(F_{k+1}) + ρ g in Ω₀ with
P = ∂Ψ/∂F = μ (F − F⁻ᵀ) + λ ln J F⁻ᵀ, and P N = 0 on the free boundary. In displacements the
inertia target is û = 2u_k − u_{k−1}, and −ρ g·q = −ρ g·u up to a constant.

Three cases (``dynamic`` 0, 1 or 2; the dataset's ``case``):

* ``stretch`` (the authors' static 2D stretch): Ω₀ = [−1, 1]², left end clamped (u = 0 at x = −1),
  right end pulled to u = (``stretch``, 0) at x = +1 (the authors: 2, the square doubles in length);
  no body force. One static step: u_1 = argmin ∫ Ψ dX (no inertia; Δt plays no part). Stored times
  t = 0 (undeformed, u = 0) and t = 1 (the equilibrium).
* ``sag`` (dynamic): the beam Ω₀ = [−1, 1] × [−¼, ¼] clamped at its left end (u = 0 at x = −1),
  released from rest in gravity g = (0, −``gravity``); implicit Euler for ``steps`` steps of Δt
  (the authors' 20 × 0.1). With the defaults (μ = 200, λ = 300, ρ = 1, gravity 2) the first bending
  period is about 2 time units and the static tip deflection about 0.3, so the beam swings down
  through large rotations within the 20 steps.
* ``collide`` (dynamic; the authors' 2D collide case with a flat floor in place of their disc): the
  free square Ω₀ = [−1, 1]² (no Dirichlet data), launched with the uniform velocity v_0 = (``vx``,
  ``vy``) in gravity g = (0, −``gravity``) onto the rigid floor y = ``floor`` (below the body). Contact
  is the penalty energy on the body's boundary,

      E_c(q) = κ/2 ∫_∂Ω₀ max(0, g_c(q))² dS(X),   g_c = ``floor`` − q_y (the depth below the floor),

  κ = ``kappa`` (energy per reference length per length²), added to the step's potential. It is C¹ in
  q (the Hessian jumps where contact starts). Both solvers minimise this same functional; a sampled
  estimate of the boundary integral (INSR) only adds Monte-Carlo noise to it. The first step's
  inertia target uses u_{−1} = −Δt v_0 (v_0 = (u_0 − u_{−1})/Δt with u_0 = 0). Defaults: floor
  −1.5, v_0 = (0.5, −1), gravity 2, κ = 1e4 (the authors' collision weight): the bottom edge reaches
  the floor at t ≈ 0.37 (step 4) with speed 2.5, is stopped there within two steps (implicit Euler at
  Δt = 0.1 damps the contact mode, whose period 2π/√(2κ/(ρ|Ω₀|)) ≈ 0.09 is below Δt, so there is no
  rebound), the impact's elastic wave decays, and the square slides on at vx (frictionless contact),
  resting on the floor under its weight at a depth of about 4e-4 (the default P2 reference: at most
  2.3e-3 during the impact).
  The authors (scripts/elasticity2Dcollide.sh: the square [−1, 1]², pushed down by a force for the
  first two steps onto a disc of radius 1 centred at (0, −2), 20 steps of 0.1) write their collision
  term as a force's work −Δt κ d · q̇ rather than as an energy, so their step is not a minimisation of
  one functional; the penalty energy here is.

Units: any consistent set (lengths in the body's units, μ, λ in energy per area, ρ mass per area,
g in length per time²). Shapes: F (..., 2, 2); Ψ of shape F.shape[:-2]; X (N, 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesuite.problems.base import Problem, finite, require
from pdesuite.registry import PROBLEMS

#: The three cases, by name (the dataset's ``case``); index = ``dynamic``.
CASES = ("stretch", "sag", "collide")


def _xp(a: Any):
    """numpy, or torch for tensors (one formula for the grid reference and the networks)."""
    if type(a).__module__.startswith("torch"):
        import torch

        return torch
    return np


def neo_hookean(I1, J, log, mu: float, lam: float):
    """Ψ = μ/2 (I1 − 2 − 2 ln J) + λ/2 (ln J)² from the invariants I1 = tr FᵀF and J = det F; ``log``
    is the backend's logarithm (np.log, torch.log or ufl.ln), so numpy, torch and UFL share it."""
    lnJ = log(J)
    return 0.5 * mu * (I1 - 2.0 - 2.0 * lnJ) + 0.5 * lam * lnJ**2


def safe_log(J, floor: float):
    """ln J for J >= ``floor``, continued below by its second-order Taylor polynomial at the floor
    (C², finite for J <= 0). A network may pass through inverted states (J <= 0) while it learns; this
    keeps the energy and its gradient finite there and pushing J up. Identical to ln J for J >= floor."""
    xp = _xp(J)
    Jc = xp.maximum(J, floor * xp.ones_like(J)) if xp is np else J.clamp(min=floor)
    d = (J - floor) / floor
    return xp.where(J > floor, xp.log(Jc), math.log(floor) + d - 0.5 * d**2)


@PROBLEMS.register("hyperelastic")
@dataclass(frozen=True)
class Hyperelastic(Problem):
    """A plane-strain neo-Hookean body: static stretch, sagging beam (both clamped at the left end) or a
    free square colliding with a floor.

    Attributes:
        dynamic: 0 for ``stretch`` (one static step), 1 for ``sag`` (implicit Euler under gravity), 2 for
            ``collide`` (implicit Euler, free body, initial velocity, gravity and floor contact).
        mu, lam: Lamé constants of Ψ (energy per reference area).
        rho: Mass per reference area (dynamic case).
        gravity: g = (0, −gravity) (dynamic case).
        stretch: Displacement of the right end in x (static case).
        dt: Time step (dynamic case).
        kappa: Contact penalty stiffness κ (collide): energy per reference boundary length per length².
        floor: Height of the rigid floor y = floor (collide); below the body's bottom y = −1.
        vx, vy: Initial velocity v_0 of the body (collide; the other cases start from rest).
    """

    name = "hyperelastic"
    axes = ("t", "x", "y")
    dim: int = 2
    dynamic: float = 0.0
    mu: float = 200.0
    lam: float = 300.0
    rho: float = 1.0
    gravity: float = 2.0
    stretch: float = 2.0
    dt: float = 0.1
    kappa: float = 1e4
    floor: float = -1.5
    vx: float = 0.5
    vy: float = -1.0

    def __post_init__(self) -> None:
        require(self.dynamic in (0, 1, 2), f"hyperelastic: dynamic must be 0, 1 or 2, got {self.dynamic!r}")
        for key in ("mu", "lam", "rho", "dt", "kappa"):
            value = getattr(self, key)
            require(finite(value) and value > 0, f"hyperelastic: {key} must be a positive number, got {value!r}")
        for key in ("gravity", "stretch", "floor", "vx", "vy"):
            value = getattr(self, key)
            require(finite(value), f"hyperelastic: {key} must be a finite number, got {value!r}")
        require(self.stretch > -1.5, f"hyperelastic: stretch {self.stretch} would invert the body (need > -1.5)")
        if self.collide:
            bottom = self.body[2]
            require(self.floor < bottom, f"hyperelastic: floor {self.floor} must lie below the body's bottom "
                                         f"y = {bottom} (the body starts out of contact)")

    @property
    def case(self) -> str:
        return CASES[int(self.dynamic)]

    @property
    def collide(self) -> bool:
        """The free body with floor contact (``dynamic`` = 2)."""
        return int(self.dynamic) == 2

    @property
    def body(self) -> tuple[float, float, float, float]:
        """The reference rectangle (x0, x1, y0, y1): the beam (sag) or the square [−1, 1]²."""
        return (-1.0, 1.0, -0.25, 0.25) if int(self.dynamic) == 1 else (-1.0, 1.0, -1.0, 1.0)

    @property
    def perimeter(self) -> float:
        x0, x1, y0, y1 = self.body
        return 2.0 * ((x1 - x0) + (y1 - y0))

    @property
    def initial_velocity(self) -> tuple[float, float]:
        """v_0 (zero except for collide)."""
        return (float(self.vx), float(self.vy)) if self.collide else (0.0, 0.0)

    @property
    def area(self) -> float:
        x0, x1, y0, y1 = self.body
        return (x1 - x0) * (y1 - y0)

    @property
    def body_force(self) -> tuple[float, float]:
        """ρ g per reference area (zero in the static case)."""
        return (0.0, -self.rho * self.gravity) if self.dynamic else (0.0, 0.0)

    def clamp_displacement(self, step: int) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
        """Dirichlet data at step ``step``: (u on the left end, u on the right end), None where free
        (collide: both). The stretch is applied from step 1 on (step 0 is the undeformed body)."""
        if self.collide:
            return None, None
        if self.dynamic:
            return (0.0, 0.0), None
        return (0.0, 0.0), ((self.stretch if step >= 1 else 0.0), 0.0)

    # -- the energy ----------------------------------------------------------------------------------
    def energy_density(self, F, floor: float | None = None):
        """Ψ(F) for F (..., 2, 2), numpy or torch; ``floor``: continue ln J below it (`safe_log`)."""
        xp = _xp(F)
        I1 = (F**2).sum(axis=(-2, -1)) if xp is np else (F**2).sum(dim=(-2, -1))
        J = F[..., 0, 0] * F[..., 1, 1] - F[..., 0, 1] * F[..., 1, 0]
        log = xp.log if floor is None else (lambda j: safe_log(j, floor))
        return neo_hookean(I1, J, log, self.mu, self.lam)

    def first_piola(self, F):
        """P = ∂Ψ/∂F = μ (F − F⁻ᵀ) + λ ln J F⁻ᵀ for F (..., 2, 2) (numpy)."""
        F = np.asarray(F, dtype=float)
        J = F[..., 0, 0] * F[..., 1, 1] - F[..., 0, 1] * F[..., 1, 0]
        inv_t = np.stack([np.stack([F[..., 1, 1], -F[..., 1, 0]], -1),
                          np.stack([-F[..., 0, 1], F[..., 0, 0]], -1)], -2) / J[..., None, None]
        return self.mu * (F - inv_t) + self.lam * np.log(J)[..., None, None] * inv_t

    def contact_density(self, X, u):
        """κ/2 max(0, floor − q_y)² at material points X (N, 2) displaced by u (N, 2), q = X + u; numpy or
        torch. Returns (N,): the integrand of E_c over the boundary ∂Ω₀ (zero unless collide)."""
        xp = _xp(u)
        depth = self.floor - (X[..., 1] + u[..., 1])
        if xp is np:
            positive = np.maximum(depth, 0.0)
        else:
            positive = depth.clamp(min=0.0)
        return (0.5 * self.kappa if self.collide else 0.0) * positive**2

    def step_density(self, u, F, target, floor: float | None = None):
        """Integrand of the step's potential at points: ρ/(2Δt²)|u − û|² + Ψ(F) − ρ g·u (dynamic), or
        Ψ(F) (static). u, target: (N, 2) displacements; F: (N, 2, 2). Returns (N,)."""
        psi = self.energy_density(F, floor)
        if not self.dynamic:
            return psi
        fx, fy = self.body_force
        inertia = 0.5 * self.rho / self.dt**2 * ((u - target) ** 2).sum(-1)
        return inertia + psi - (fx * u[..., 0] + fy * u[..., 1])
