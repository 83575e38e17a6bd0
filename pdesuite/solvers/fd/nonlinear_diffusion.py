"""Nonlinear (porous-medium type) diffusion u_t = α ∇·(u ∇u) + f on a rectangle, Dirichlet data.

Space: since ∇·(u∇u) = Δ(u²)/2, the semi-discrete system on a uniform (N+1)² vertex grid is

    du_ij/dt = (α/2) Δ_h(u²)_ij + f_ij(t)     (interior nodes; boundary nodes hold g(t)),

with Δ_h the 5-point Laplacian: conservative and second order for smooth u.

Time: Alexander's two-stage SDIRK method (γ = 1 - 1/√2), second order, L-stable and stiffly
accurate, so the jump between the initial data and the boundary data at t = 0 is damped instead of
ringing as with Crank-Nicolson. Both stages share the matrix I - γΔt J, with J = α Δ_h diag(u), which
is factored at u^n and kept over the following steps while simplified Newton converges quickly
(refactored when a stage needs more than ``refactor_after`` iterations, or at the stage iterate if it
stalls). The matrix only steers the iteration: stages are solved to ``newton_tol``, so the result
does not depend on it and the iteration error does not pollute the observed orders.

Declared orders (`convergence_order`, verified in tests/solvers/test_orders.py with manufactured
solutions): 2 in space, 2 in time.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import NonlinearDiffusion
from pdesuite.solvers.order import ConvergenceOrder, Rate

GAMMA = 1.0 - 1.0 / math.sqrt(2.0)


def laplacian_1d(n_interior: int, h: float) -> sp.csr_matrix:
    """Second difference on n_interior nodes with the boundary values removed (Dirichlet)."""
    ones = np.ones(n_interior)
    return sp.diags([ones[:-1], -2.0 * ones, ones[:-1]], [-1, 0, 1], format="csr") / h**2


class NonlinearDiffusionSolver:
    """Finite differences + SDIRK2 for `NonlinearDiffusion`.

    Args:
        problem: The PDE, domain, data (``problem.initial``, ``problem.boundary``, ``problem.source``).
        cells: Grid cells per axis N (>= 2); nodes ``x_i = x0 + i (x1 - x0)/N``, i = 0..N (same in y).
        newton_tol: Stage equations are solved until the update's max norm is below
            ``newton_tol * (1 + max|u|)``.
        max_newton: Iterations per stage before the matrix is refactored (twice) or the solve fails.
        refactor_after: The Newton matrix is kept from step to step (same Δt) until a stage needs more
            iterations than this; then it is refactored at the start of the next step.

    Shapes:
        solve(...) -> (n_save, N + 1, N + 1) with ``u[k, i, j] = u(x_i, y_j, t_k)``.
    """

    #: Max-norm error at the nodes: 2 in the grid size h (5-point Δ_h), 2 in Δt (SDIRK2).
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(space=Rate(2, "h", "max"),
                                                                     time=Rate(2, "dt", "max"))

    def __init__(self, problem: NonlinearDiffusion, cells: int, newton_tol: float = 1e-12, max_newton: int = 12,
                 refactor_after: int = 5):
        if isinstance(cells, bool) or not isinstance(cells, int | np.integer) or cells < 2:
            raise BadInput(f"cells must be an integer >= 2, got {cells!r}")
        self.problem, self.cells = problem, int(cells)
        self.newton_tol, self.max_newton, self.refactor_after = float(newton_tol), int(max_newton), int(refactor_after)
        (x0, x1), (y0, y1) = problem.bounds
        self.x = np.linspace(x0, x1, self.cells + 1)
        self.y = np.linspace(y0, y1, self.cells + 1)
        self.hx, self.hy = (x1 - x0) / self.cells, (y1 - y0) / self.cells
        self.points = np.meshgrid(self.x, self.y, indexing="ij")
        m = self.cells - 1
        self.lap = (sp.kron(laplacian_1d(m, self.hx), sp.identity(m)) +
                    sp.kron(sp.identity(m), laplacian_1d(m, self.hy))).tocsc()
        self.eye = sp.identity(m * m, format="csc")
        self._lu, self._lu_dt, self._stale = None, None, False

    # -- the semi-discrete operator -------------------------------------------------------------
    def _evaluate(self, expr, t: float) -> np.ndarray:
        X, Y = self.points
        return np.broadcast_to(np.asarray(expr((X, Y), t, NUMPY), dtype=float), X.shape)

    def boundary(self, t: float) -> np.ndarray:
        """Full grid with g(t) on the boundary and zero inside."""
        g = np.array(self._evaluate(self.problem.boundary, t))
        g[1:-1, 1:-1] = 0.0
        return g

    def rhs(self, t: float, u: np.ndarray, boundary: np.ndarray, source: np.ndarray | None) -> np.ndarray:
        """(α/2) Δ_h(u²) + f at the interior nodes; ``u`` is the interior (N-1)² vector."""
        w = boundary**2
        w[1:-1, 1:-1] = u.reshape(self.cells - 1, self.cells - 1) ** 2
        lap = ((w[2:, 1:-1] - 2.0 * w[1:-1, 1:-1] + w[:-2, 1:-1]) / self.hx**2 +
               (w[1:-1, 2:] - 2.0 * w[1:-1, 1:-1] + w[1:-1, :-2]) / self.hy**2)
        out = 0.5 * self.problem.alpha * lap.ravel()
        return out if source is None else out + source

    def _source(self, t: float) -> np.ndarray | None:
        if self.problem.source is None:
            return None
        return np.ascontiguousarray(self._evaluate(self.problem.source, t)[1:-1, 1:-1]).ravel()

    def _factor(self, u: np.ndarray, dt: float) -> None:
        jac = self.problem.alpha * (self.lap @ sp.diags(u))
        self._lu = splu((self.eye - GAMMA * dt * jac).tocsc(), permc_spec="MMD_AT_PLUS_A")
        self._lu_dt, self._stale = dt, False

    def _stage(self, t: float, guess: np.ndarray, known: np.ndarray, dt: float, step: int) -> np.ndarray:
        """Solve Y - γΔt F(t, Y) = known for Y by simplified Newton, starting from ``guess``."""
        boundary, source = self.boundary(t), self._source(t)
        y = guess.copy()
        for attempt in range(3):
            for iteration in range(1, self.max_newton + 1):
                residual = y - GAMMA * dt * self.rhs(t, y, boundary, source) - known
                delta = self._lu.solve(-residual)
                y += delta
                if not np.all(np.isfinite(y)):
                    raise SolverError(f"non-finite values at step {step} (t = {t:.6g})")
                if np.max(np.abs(delta)) <= self.newton_tol * (1.0 + np.max(np.abs(y))):
                    if iteration > self.refactor_after:
                        self._stale = True  # slow convergence: a fresh matrix for the next step
                    return y
            if attempt < 2:
                self._factor(y, dt)  # the matrix at the current iterate
        raise SolverError(f"Newton did not converge at step {step} (t = {t:.6g}); reduce the time step")

    def step(self, t: float, u: np.ndarray, dt: float, index: int = 0) -> np.ndarray:
        """One SDIRK2 step from (t, u) to t + dt (interior vector)."""
        if self._lu is None or self._stale or abs(dt - self._lu_dt) > 1e-6 * dt:
            self._factor(u, dt)
        y1 = self._stage(t + GAMMA * dt, u, u, dt, index)
        # γΔt F(Y1) = Y1 - u, so stage 2 needs no second evaluation of F at Y1
        known = u + (1.0 - GAMMA) / GAMMA * (y1 - u)
        return self._stage(t + dt, y1, known, dt, index)

    # -- driver ----------------------------------------------------------------------------------
    def initial(self) -> np.ndarray:
        X, Y = self.points
        return np.broadcast_to(np.asarray(self.problem.initial((X, Y), NUMPY), dtype=float), X.shape).copy()

    def solve(self, save_times, substeps: int = 1, progress=None) -> np.ndarray:
        """Integrate from t = save_times[0] and return u at every save time.

        Each interval between consecutive save times takes ``substeps`` equal steps. The first
        snapshot is the initial data itself (its boundary values included); later ones carry g(t)
        on the boundary.

        Args:
            save_times: Increasing times, shape (n_save,); save_times[0] is the start time.
            substeps: Steps per output interval (>= 1).
            progress: Optional callable ``progress(k)`` after snapshot k is computed.
        """
        times = np.asarray(save_times, dtype=float)
        if times.ndim != 1 or times.size < 1 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise BadInput("save_times must be a non-empty, strictly increasing 1-D array")
        if isinstance(substeps, bool) or not isinstance(substeps, int | np.integer) or substeps < 1:
            raise BadInput(f"substeps must be an integer >= 1, got {substeps!r}")
        full = self.initial()
        out = np.empty((times.size, *full.shape))
        out[0] = full
        u = np.ascontiguousarray(full[1:-1, 1:-1]).ravel()
        count = 0
        for k in range(1, times.size):
            t, dt = times[k - 1], (times[k] - times[k - 1]) / substeps
            for s in range(substeps):
                u = self.step(t + s * dt, u, dt, count)
                count += 1
            out[k] = self.boundary(times[k])
            out[k, 1:-1, 1:-1] = u.reshape(self.cells - 1, self.cells - 1)
            if progress is not None:
                progress(k)
        return out
