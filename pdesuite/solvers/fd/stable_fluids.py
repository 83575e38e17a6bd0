"""Stable Fluids (Stam, SIGGRAPH 1999) for incompressible Euler in a closed box: INSR's grid baseline.

One step of length Δt on an n × n staggered (MAC) grid of [-1, 1]², as `SmokeSolver` does it with the
viscosity, the buoyancy and the smoke switched off:

1. self-advection: u ← u(x - Δt u(x)) per face component, semi-Lagrangian with bilinear interpolation
   (midpoint back-trace by default), departure points clamped to the box;
2. projection: the cell-centred Neumann Poisson problem D G p = D u solved exactly by a 2-D DCT-II,
   u ← u - G p, so the discrete divergence vanishes to rounding.

The one change from `SmokeSolver` is the wall: Euler's walls only stop the normal velocity (free
slip), so the tangential velocity is continued evenly across the wall (ghost value +u, the mirror
image the reflection symmetry of the Taylor-Green flow gives) where the smoke solver's no-slip walls
use -u. Measured on the steady Taylor-Green vortex (n = 47, Δt = 0.05): the no-slip ghosts raise the
error after 10 steps from 3.0e-2 to 5.5e-2 and after 100 steps from 0.22 to 0.37.

Unknowns: the face velocities (n + 1)n + n(n + 1), of which the 2n wall faces are fixed at zero, and
the n² cell pressures: 3n² in all (n = 47: 6627, the parameters of INSR's two 3 × 32 SIRENs).

Order (`convergence_order`, measured in tests/solvers/test_orders.py on the steady Taylor-Green
vortex at a fixed Courant number Δt/h, relative L2 error of the velocity at t = 1): first order in h;
bilinear interpolation loses O(h²) per step and there are O(1/h) steps. Semi-Lagrangian advection is
unconditionally stable and dissipative: the kinetic energy decays (the point of INSR's comparison).

Shapes:
    ux: (batch, n + 1, n); uy: (batch, n, n + 1); sampled velocities: the points' shape, per batch.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pdesuite.problems.smoke import Smoke
from pdesuite.problems.taylor_green import TaylorGreen
from pdesuite.solvers.fd.smoke import SmokeSolver
from pdesuite.solvers.order import ConvergenceOrder, Rate, observed_rate


class StableFluids(SmokeSolver):
    """Semi-Lagrangian advection and exact projection for `TaylorGreen` (Euler, free-slip walls).

    Args:
        problem: The box and the initial velocity.
        n: Cells per direction (>= 2).
        dt: Time step Δt > 0.
        backtrace: "midpoint" (default) or "euler".
    """

    #: Relative L2 of the velocity on the steady vortex at a fixed Courant number (see the module docstring).
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(
        space=Rate(1, "h", "relative L2 of the velocity", "a fixed Courant number Δt/h (steady Taylor-Green vortex)"))

    def __init__(self, problem: TaylorGreen, n: int, dt: float, backtrace: str = "midpoint"):
        low, high = problem.box
        super().__init__(Smoke(size=(high - low, high - low), nu=0.0, buoyancy=(0.0, 0.0)), n, n, dt, backtrace)
        self.euler, self.low = problem, low

    @staticmethod
    def unknowns(n: int) -> int:
        """Free values of an n × n grid: interior face velocities and cell pressures, 3n²."""
        return 3 * n * n

    def _padded(self, ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face arrays with free-slip ghost rows (+u) beyond the walls along each wall."""
        return (np.concatenate([ux[:, :, :1], ux, ux[:, :, -1:]], axis=2),
                np.concatenate([uy[:, :1], uy, uy[:, -1:]], axis=1))

    def initial_faces(self) -> tuple[np.ndarray, np.ndarray]:
        """u0 sampled on the faces (batch 1), the wall faces set to zero; not projected (INSR starts
        from u0 as given too: the first step's projection makes both divergence-free)."""
        ux = self.euler.initial_velocity(self.ux_points[0] + self.low, self.ux_points[1] + self.low)[0][None]
        uy = self.euler.initial_velocity(self.uy_points[0] + self.low, self.uy_points[1] + self.low)[1][None]
        ux[:, 0] = ux[:, -1] = 0.0
        uy[:, :, 0] = uy[:, :, -1] = 0.0
        return ux, uy

    def sample(self, ux: np.ndarray, uy: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The grid's velocity at box points (x, y) by bilinear interpolation (its own representation),
        shape (batch, *x.shape, 2)."""
        batch = ux.shape[0]
        px = np.broadcast_to(x - self.low, (batch, *np.shape(x)))
        py = np.broadcast_to(y - self.low, (batch, *np.shape(y)))
        return np.stack(self.velocity_at(*self._padded(ux, uy), px, py), axis=-1)

    def march(self, steps: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``steps`` steps from u0; the velocity at (x, y) after each, shape (steps + 1, *x.shape, 2)."""
        ux, uy = self.initial_faces()
        smoke = np.zeros((1, self.nx, self.ny))
        buoyancy = np.zeros((1, 2))
        out = [self.sample(ux, uy, x, y)[0]]
        for _ in range(steps):
            smoke, ux, uy = self.step(smoke, ux, uy, buoyancy)
            out.append(self.sample(ux, uy, x, y)[0])
        return np.stack(out)


def taylor_green_space_study(resolutions=(16, 32, 64, 128), courant: float = 1.0, t_end: float = 1.0) -> dict:
    """Relative L2 error of the velocity after ``t_end`` on the steady single vortex, at Δt = courant · h,
    on a fixed 64² grid of cell centres (the study of `StableFluids.convergence_order`)."""
    problem = TaylorGreen()
    axis = -1.0 + (np.arange(64) + 0.5) * 2.0 / 64
    x, y = np.meshgrid(axis, axis, indexing="ij")
    exact = np.stack(problem.exact_velocity(x, y), axis=-1)
    errors, h = [], []
    for n in resolutions:
        h.append(2.0 / n)
        steps = round(t_end / (courant * h[-1]))
        solver = StableFluids(problem, n, t_end / steps)
        final = solver.march(steps, x, y)[-1]
        errors.append(float(np.linalg.norm(final - exact) / np.linalg.norm(exact)))
    return {"h": h, "n": list(resolutions), "errors": errors, "rate": observed_rate(h, errors),
            "declared": StableFluids.convergence_order}
