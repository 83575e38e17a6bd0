"""Buoyant smoke in a closed box on a staggered (MAC) grid, batched over samples.

One step of length Δt (PhiFlow's smoke splitting, as PDEArena uses it, with the force moved after
the viscous step):

1. smoke: semi-Lagrangian advection, s ← s(x - Δt u(x)), bilinear interpolation;
2. velocity: semi-Lagrangian self-advection of each face component;
3. viscosity: one explicit Euler step u ← u + ν Δt Δ_h u (stable for ν Δt (1/Δx² + 1/Δy²) <= 1/2);
4. buoyancy: u ← u + Δt b s, the (advected) smoke averaged to the faces;
5. projection: solve the cell-centred Neumann Poisson problem D G p = D u exactly by a 2-D DCT-II
   (its eigenvectors) and set u ← u - G p, so the discrete divergence D u vanishes to rounding.

PhiFlow adds the force before the viscous step; adding it just before the projection makes the
hydrostatic state exact (uniform smoke, a pure-gradient force, stays at rest to rounding).

Grid: n_x × n_y cells of Δx = L_x / n_x; smoke at cell centres, u_x on vertical faces (n_x + 1, n_y),
u_y on horizontal faces (n_x, n_y + 1). Walls: the normal velocity on the boundary faces is zero;
tangential velocity has ghost values -u (no slip at the wall); smoke is extended by its boundary value
(zero normal gradient). Departure points leaving the box are clamped to it.

Order (`convergence_order`, measured in tests/solvers/test_orders.py on a rising Gaussian blob, RMS
error of the smoke): first order in time (the explicit viscous step and the operator splitting, with
either back-trace; observed 1.06). In space the pieces are second order in the interior (bilinear
interpolation, centred differences, the exact discrete projection), but the whole scheme converges at
first order at a fixed Δt (observed 0.97 from 16² to 128²; the walls' treatment, clamped departure
points and constant extension, is a likely cause), so one or more is declared. Semi-Lagrangian
advection is unconditionally stable; the explicit viscous step sets the only stability limit, checked
up front.

Shapes:
    s: (batch, n_x, n_y); ux: (batch, n_x + 1, n_y); uy: (batch, n_x, n_y + 1).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import scipy.fft

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.smoke import Smoke
from pdesuite.solvers.order import ConvergenceOrder, Rate

#: Back-trace integrators of the semi-Lagrangian step ("euler" is PhiFlow's).
BACKTRACES = ("midpoint", "euler")


def interpolate(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``grid`` (batch, N_x, N_y) at fractional indices ``x``, ``y`` (batch, ...).

    Indices outside [0, N - 1] are clamped (constant extension beyond the outermost samples).
    """
    batch, nx, ny = grid.shape
    shape = x.shape
    x = np.clip(x, 0.0, nx - 1).reshape(batch, -1)
    y = np.clip(y, 0.0, ny - 1).reshape(batch, -1)
    i = np.minimum(np.floor(x).astype(np.intp), nx - 2)
    j = np.minimum(np.floor(y).astype(np.intp), ny - 2)
    fx, fy = x - i, y - j
    flat = grid.ravel()
    base = (np.arange(batch)[:, None] * nx + i) * ny + j

    def at(offset):
        return flat.take(base + offset)

    low = (1.0 - fy) * at(0) + fy * at(1)
    high = (1.0 - fy) * at(ny) + fy * at(ny + 1)
    return ((1.0 - fx) * low + fx * high).reshape(shape)


class SmokeSolver:
    """Semi-Lagrangian / projection solver for `Smoke` on an n_x × n_y MAC grid.

    Args:
        problem: Box size, viscosity, default buoyancy.
        nx, ny: Cells per direction (>= 2).
        dt: Time step Δt > 0 (BadInput if the explicit viscous step would be unstable).
        backtrace: "midpoint" (default, second order) or "euler" (PhiFlow's one-step back-trace).
    """

    #: RMS error of the smoke: 1 in Δt on a fixed grid; 1 or more in h at a fixed Δt (see the module docstring).
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(
        time=Rate(1, "dt", "RMS", "a fixed grid"), space=Rate(1, "h", "RMS", "a fixed Δt", minimum=True))

    def __init__(self, problem: Smoke, nx: int, ny: int, dt: float, backtrace: str = "midpoint"):
        if backtrace not in BACKTRACES:
            raise BadInput(f"smoke: backtrace must be one of {', '.join(BACKTRACES)}, got {backtrace!r}")
        self.backtrace = backtrace
        for name, value in (("nx", nx), ("ny", ny)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise BadInput(f"smoke: {name} must be an integer >= 2, got {value!r}")
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
            raise BadInput(f"smoke: time step dt must be positive, got {dt!r}")
        self.problem, self.nx, self.ny, self.dt = problem, nx, ny, float(dt)
        self.dx, self.dy = problem.size[0] / nx, problem.size[1] / ny
        number = self.diffusion_number(problem.nu, self.dt, self.dx, self.dy)
        if number > 0.5:
            raise BadInput(f"smoke: explicit viscosity is unstable: nu dt (1/dx^2 + 1/dy^2) = {number:.3g} > 0.5; "
                           f"reduce dt or nu")
        kx, ky = np.arange(nx), np.arange(ny)
        eig = ((2.0 * np.cos(math.pi * kx / nx) - 2.0) / self.dx**2)[:, None] + \
              ((2.0 * np.cos(math.pi * ky / ny) - 2.0) / self.dy**2)[None, :]
        eig[0, 0] = 1.0
        self.inv_eig = 1.0 / eig
        self.inv_eig[0, 0] = 0.0
        # physical coordinates of the u_x faces, u_y faces and cell centres, each (n_x(+1), n_y(+1))
        xf, yf = np.arange(nx + 1) * self.dx, np.arange(ny + 1) * self.dy
        xc, yc = problem.cell_centres(nx, ny)
        self.ux_points = np.meshgrid(xf, yc, indexing="ij")
        self.uy_points = np.meshgrid(xc, yf, indexing="ij")
        self.centres = np.meshgrid(xc, yc, indexing="ij")

    @staticmethod
    def diffusion_number(nu: float, dt: float, dx: float, dy: float) -> float:
        """ν Δt (1/Δx² + 1/Δy²); the explicit viscous step is stable when it is <= 1/2."""
        return nu * dt * (1.0 / dx**2 + 1.0 / dy**2)

    # -- discrete operators ------------------------------------------------------------------------
    def divergence(self, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
        """Cell-centred D u, shape (batch, n_x, n_y)."""
        return np.diff(ux, axis=1) / self.dx + np.diff(uy, axis=2) / self.dy

    def project(self, ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The discretely divergence-free part: u - G p with D G p = D u (walls: G p = 0)."""
        div = self.divergence(ux, uy)
        p = scipy.fft.idctn(scipy.fft.dctn(div, type=2, axes=(1, 2), norm="ortho") * self.inv_eig,
                            type=2, axes=(1, 2), norm="ortho")
        ux, uy = ux.copy(), uy.copy()
        ux[:, 1:-1] -= np.diff(p, axis=1) / self.dx
        uy[:, :, 1:-1] -= np.diff(p, axis=2) / self.dy
        return ux, uy

    def centred_velocity(self, ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face velocities averaged to cell centres, each (batch, n_x, n_y)."""
        return 0.5 * (ux[:, 1:] + ux[:, :-1]), 0.5 * (uy[:, :, 1:] + uy[:, :, :-1])

    def _padded(self, ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face arrays with the no-slip ghost rows (-u) beyond the walls along each wall."""
        ux_pad = np.concatenate([-ux[:, :, :1], ux, -ux[:, :, -1:]], axis=2)
        uy_pad = np.concatenate([-uy[:, :1], uy, -uy[:, -1:]], axis=1)
        return ux_pad, uy_pad

    def velocity_at(self, ux_pad: np.ndarray, uy_pad: np.ndarray, x: np.ndarray, y: np.ndarray):
        """Bilinear velocity at physical points (batch, ...)."""
        vx = interpolate(ux_pad, x / self.dx, y / self.dy + 0.5)
        vy = interpolate(uy_pad, x / self.dx + 0.5, y / self.dy)
        return vx, vy

    def departure(self, ux_pad, uy_pad, points, batch):
        """Back-traced points of ``points`` over Δt (clamped to the box), as physical coordinates.

        Euler: x - Δt u(x); midpoint: x - Δt u(x - Δt/2 u(x)).
        """
        size_x, size_y = self.problem.size
        x = np.broadcast_to(points[0], (batch, *points[0].shape))
        y = np.broadcast_to(points[1], (batch, *points[1].shape))
        vx, vy = self.velocity_at(ux_pad, uy_pad, x, y)
        if self.backtrace == "midpoint":
            xm = np.clip(x - 0.5 * self.dt * vx, 0.0, size_x)
            ym = np.clip(y - 0.5 * self.dt * vy, 0.0, size_y)
            vx, vy = self.velocity_at(ux_pad, uy_pad, xm, ym)
        return np.clip(x - self.dt * vx, 0.0, size_x), np.clip(y - self.dt * vy, 0.0, size_y)

    def laplacian_faces(self, ux_pad: np.ndarray, uy_pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Δ_h on the interior faces of each component (wall faces: zero), with the no-slip ghosts."""
        lx = np.zeros((ux_pad.shape[0], self.nx + 1, self.ny))
        c = ux_pad[:, 1:-1, 1:-1]
        lx[:, 1:-1] = (ux_pad[:, 2:, 1:-1] - 2 * c + ux_pad[:, :-2, 1:-1]) / self.dx**2 + \
                      (ux_pad[:, 1:-1, 2:] - 2 * c + ux_pad[:, 1:-1, :-2]) / self.dy**2
        ly = np.zeros((uy_pad.shape[0], self.nx, self.ny + 1))
        c = uy_pad[:, 1:-1, 1:-1]
        ly[:, :, 1:-1] = (uy_pad[:, 2:, 1:-1] - 2 * c + uy_pad[:, :-2, 1:-1]) / self.dx**2 + \
                         (uy_pad[:, 1:-1, 2:] - 2 * c + uy_pad[:, 1:-1, :-2]) / self.dy**2
        return lx, ly

    # -- time stepping -----------------------------------------------------------------------------
    def step(self, s, ux, uy, buoyancy):
        """One step; ``buoyancy`` (batch, 2) holds (b_x, b_y) per sample. Returns (s, ux, uy)."""
        batch = s.shape[0]
        ux_pad, uy_pad = self._padded(ux, uy)
        x, y = self.departure(ux_pad, uy_pad, self.centres, batch)
        s = interpolate(s, x / self.dx - 0.5, y / self.dy - 0.5)
        x, y = self.departure(ux_pad, uy_pad, self.ux_points, batch)
        new_ux = interpolate(ux_pad, x / self.dx, y / self.dy + 0.5)
        x, y = self.departure(ux_pad, uy_pad, self.uy_points, batch)
        new_uy = interpolate(uy_pad, x / self.dx + 0.5, y / self.dy)
        new_ux[:, 0] = new_ux[:, -1] = 0.0
        new_uy[:, :, 0] = new_uy[:, :, -1] = 0.0
        if self.problem.nu > 0:
            lx, ly = self.laplacian_faces(*self._padded(new_ux, new_uy))
            new_ux += self.dt * self.problem.nu * lx
            new_uy += self.dt * self.problem.nu * ly
        bx, by = buoyancy[:, 0, None, None], buoyancy[:, 1, None, None]
        new_ux[:, 1:-1] += self.dt * bx * 0.5 * (s[:, 1:] + s[:, :-1])
        new_uy[:, :, 1:-1] += self.dt * by * 0.5 * (s[:, :, 1:] + s[:, :, :-1])
        new_ux, new_uy = self.project(new_ux, new_uy)
        return s, new_ux, new_uy

    def solve(self, s0: np.ndarray, record_steps, buoyancy_y: np.ndarray | float | None = None,
              ux0: np.ndarray | None = None, uy0: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Integrate from smoke ``s0`` (batch, n_x, n_y) and zero velocity (or ``ux0``, ``uy0``).

        Args:
            record_steps: Increasing step numbers after which the state is stored (0 = initial).
            buoyancy_y: Per-sample b_y (batch,) or one number; None takes the problem's.

        Returns:
            {"s", "vx", "vy"}: cell-centred fields (batch, n_records, n_x, n_y), and "ux", "uy": the
            face velocities at the last record.
        """
        s = np.array(s0, dtype=float)
        if s.ndim != 3 or s.shape[1:] != (self.nx, self.ny):
            raise BadInput(f"smoke: initial smoke must have shape (batch, {self.nx}, {self.ny}), got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise BadInput("smoke: the initial smoke has non-finite values")
        batch = s.shape[0]
        record = [int(k) for k in record_steps]
        if not record or record[0] < 0 or any(b <= a for a, b in zip(record, record[1:], strict=False)):
            raise BadInput("smoke: record_steps must be increasing step numbers >= 0")
        buoyancy = np.empty((batch, 2))
        buoyancy[:, 0] = self.problem.buoyancy[0]
        buoyancy[:, 1] = self.problem.buoyancy[1] if buoyancy_y is None else buoyancy_y
        ux = np.zeros((batch, self.nx + 1, self.ny)) if ux0 is None else np.array(ux0, dtype=float)
        uy = np.zeros((batch, self.nx, self.ny + 1)) if uy0 is None else np.array(uy0, dtype=float)
        out = {key: np.empty((batch, len(record), self.nx, self.ny)) for key in ("s", "vx", "vy")}
        step = 0
        for index, target in enumerate(record):
            while step < target:
                s, ux, uy = self.step(s, ux, uy, buoyancy)
                step += 1
                if not (np.all(np.isfinite(ux)) and np.all(np.isfinite(uy)) and np.all(np.isfinite(s))):
                    raise SolverError(f"smoke: non-finite state at step {step} (t = {step * self.dt:g})")
            out["s"][:, index] = s
            out["vx"][:, index], out["vy"][:, index] = self.centred_velocity(ux, uy)
        out["ux"], out["uy"] = ux, uy
        return out
