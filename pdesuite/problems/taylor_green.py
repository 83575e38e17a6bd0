"""2D incompressible Euler in a closed box: the Taylor-Green vortex, single and multi-scale (INSR's fluid case).

    ∂u/∂t + (u·∇)u = -∇p,    ∇·u = 0    on Ω = [-1, 1]²,    u·n = 0 on ∂Ω (no penetration, free slip),

density 1. The initial velocities are those of Chen et al. (ICML 2023), ``fluid/examples.py`` of
honglin-c/INSR-PDE, written with X = π(x + 1), Y = π(y + 1) ∈ [0, 2π]:

* ``single``: the Taylor-Green vortex scaled by 1/π,

      u = sin X cos Y / π,   v = -cos X sin Y / π,   p = (cos 2X + cos 2Y) / (4π²).

  Its stream function ψ = sin X sin Y / π² has Δψ = -2π²ψ, so the vorticity is a function of ψ and
  (u, p) is a **steady** solution of Euler: u(t) = u0 is exact for all t (`exact_velocity`,
  `exact_pressure`; its Euler residual vanishes, tested). u·n = 0 on the four walls, four cells of
  opposite spin.
* ``multi`` (``multiscale = 1``): zero velocity except two Taylor-Green blocks of amplitude 1 (not
  scaled): the whole four-cell pattern squeezed into the lower-left quadrant [-1, 0]², and again into
  the corner patch [1 - 2/s, 1]² (s = ``scale`` = 8: [0.75, 1]²). Each block's field is continued
  by its value on the block's edge, faded linearly to zero over a gap g = ``gap`` = 0.05 (2g/s for
  the patch) outside the block. There the field is not divergence-free (the authors' choice; the first
  projection removes that part), and it is only Lipschitz (its vorticity jumps), so the flow has sharp
  shear layers at the block edges. No closed form: the reference is computed
  (`pdesuite.recipes.taylor_green`).

`residual` is the Euler residual of fields (u, v, p)(t, x, y): both momentum equations and the
divergence. INSR's splitting (semi-Lagrangian advection, pressure Poisson with Neumann walls,
projection; `pdesuite.surrogates.insr_fluid`) and the grid baseline (`pdesuite.solvers.fd.stable_fluids`)
need only the initial velocity and the box.

Shapes:
    x, y: arrays or tensors of one shape; velocities (u, v) of that shape; X for `residual`: (N, 3)
    columns (t, x, y); the residual (N, 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.base import PhysicsInformed, Problem, finite, require
from pdesuite.registry import PROBLEMS

#: The authors' initial conditions, by name (the dataset's ``case``).
CASES = ("single", "multi")


def _xp(a: Any):
    """numpy, or torch for tensors (so one formula serves the grid solvers and the networks)."""
    if type(a).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _unit_vortex(a, b):
    """The unscaled Taylor-Green velocity on [-1, 1]²: (sin X cos Y, -cos X sin Y), X = π(a + 1)."""
    xp = _xp(a)
    X, Y = math.pi * (a + 1.0), math.pi * (b + 1.0)
    return xp.sin(X) * xp.cos(Y), -xp.cos(X) * xp.sin(Y)


def _block(x, y, low: float, size: float, gap: float, toward_low: bool):
    """A unit vortex squeezed into the square [low, low + size]², continued by its edge values and
    faded linearly to zero over ``gap`` on the side facing the domain's interior (``toward_low``: the
    block's low edges face the interior; otherwise its high edges do)."""
    xp = _xp(x)
    a = xp.clip(2.0 * (x - low) / size - 1.0, -1.0, 1.0)
    b = xp.clip(2.0 * (y - low) / size - 1.0, -1.0, 1.0)
    edge = low if toward_low else low + size
    sign = -1.0 if toward_low else 1.0
    over_x = xp.clip(sign * (x - edge), 0.0, gap)
    over_y = xp.clip(sign * (y - edge), 0.0, gap)
    weight = 1.0 - xp.sqrt(over_x**2 + over_y**2) / gap
    inside = (sign * (x - edge) <= gap) & (sign * (y - edge) <= gap)
    u, v = _unit_vortex(a, b)
    zero = 0.0 * x
    return xp.where(inside, u * weight, zero), xp.where(inside, v * weight, zero)


@PROBLEMS.register("taylor-green")
@dataclass(frozen=True)
class TaylorGreen(PhysicsInformed, Problem):
    """Incompressible Euler on [-1, 1]² with no-penetration walls, Taylor-Green initial velocity.

    Attributes:
        multiscale: 0 for the single vortex (steady, exact), 1 for the authors' multi-scale field.
        gap: Width of the fade outside the large block (multi-scale).
        scale: The corner patch is 1/scale of the box (multi-scale; the authors' 8).
        t_end: Final time.
    """

    name = "taylor-green"
    axes = ("t", "x", "y")
    dim: int = 2
    multiscale: float = 0.0
    gap: float = 0.05
    scale: float = 8.0
    t_end: float = 5.0

    def __post_init__(self) -> None:
        require(self.multiscale in (0, 1), f"taylor-green: multiscale must be 0 or 1, got {self.multiscale!r}")
        for key in ("gap", "scale", "t_end"):
            value = getattr(self, key)
            require(finite(value) and value > 0, f"taylor-green: {key} must be a positive number, got {value!r}")
        require(self.scale > 2 and self.gap < 0.5, "taylor-green: need scale > 2 and gap < 0.5")

    @property
    def case(self) -> str:
        return CASES[int(self.multiscale)]

    @property
    def box(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    # -- fields ----------------------------------------------------------------------------------
    def initial_velocity(self, x, y):
        """u0 = (u, v) at points (x, y) (numpy arrays or torch tensors of one shape)."""
        if not self.multiscale:
            u, v = _unit_vortex(x, y)
            return u / math.pi, v / math.pi
        # the large block: [-1, 0]², faded beyond x, y = 0; the patch: [1 - 2/s, 1]², faded below
        u1, v1 = _block(x, y, -1.0, 1.0, self.gap, toward_low=False)
        low = 1.0 - 2.0 / self.scale
        u2, v2 = _block(x, y, low, 2.0 / self.scale, self.gap * 2.0 / self.scale, toward_low=True)
        return u1 + u2, v1 + v2

    def exact_velocity(self, x, y, t=0.0):
        """u(t) = u0 for the single vortex (steady); ValueError for the multi-scale case (no closed form)."""
        require(not self.multiscale, "taylor-green: the multi-scale case has no closed-form solution")
        return self.initial_velocity(x, y)

    def exact_pressure(self, x, y, t=0.0):
        """p = (cos 2X + cos 2Y)/(4π²) of the single vortex (zero mean)."""
        require(not self.multiscale, "taylor-green: the multi-scale case has no closed-form solution")
        xp = _xp(x)
        X, Y = math.pi * (x + 1.0), math.pi * (y + 1.0)
        return (xp.cos(2.0 * X) + xp.cos(2.0 * Y)) / (4.0 * math.pi**2)

    # -- physics ---------------------------------------------------------------------------------
    def residual(self, u_fn, X):
        """Euler's residual of fields (u, v, p) = u_fn(X) at X = (t, x, y): (u·∇u + u_t + p_x,
        v_t + u·∇v + p_y, u_x + v_y), shape (N, 3); zero for an exact solution."""
        import torch

        from pdesuite.problems.autodiff import gradient

        fields = u_fn(X)
        if fields.shape[-1] != 3:
            raise BadInput(f"taylor-green: the Euler residual needs (u, v, p), got {fields.shape[-1]} field(s)")
        gu, gv, gp = (gradient(fields[:, i : i + 1], X) for i in range(3))
        u, v = fields[:, 0:1], fields[:, 1:2]
        momentum_x = gu[:, 0:1] + u * gu[:, 1:2] + v * gu[:, 2:3] + gp[:, 1:2]
        momentum_y = gv[:, 0:1] + u * gv[:, 1:2] + v * gv[:, 2:3] + gp[:, 2:3]
        return torch.cat([momentum_x, momentum_y, gu[:, 1:2] + gv[:, 2:3]], dim=1)
