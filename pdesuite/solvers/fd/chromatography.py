"""The full GC column model by the method of lines: finite volumes in x, stiff implicit time stepping.

Dimensionless (see `pdesuite.problems.chromatography`): on N cells of width h = 1/N,

    dĉ_ij/dt̂ = −(F_i,j+½ − F_i,j−½)/h − r_ij,        dθ_ij/dt̂ = r_ij,
    F_i,j+½ = û_j+½ ĉ_i,j+½ − Pe⁻¹ (ĉ_i,j+1 − ĉ_ij)/h,
    r_ij = Da_a,i ĉ_ij (1 − λ Σ_k θ_kj) − Da_i θ_ij        (competitive Langmuir; λ = 0: linear)

with û at the faces from the pressure profile (conservative, so mass is conserved exactly also with a
variable velocity), the inlet face carrying û_in ĉ_in(t) (Danckwerts: no diffusive flux through it)
and the outlet face no diffusive flux. The face value ĉ_j+½ (the carrier flows towards +x) is

    "upwind":     ĉ_j                                                        (first order)
    "vanleer", "vanalbada", "koren": ĉ_j + ½ φ(r)(ĉ_j − ĉ_j−1), r = (ĉ_j+1 − ĉ_j)/(ĉ_j − ĉ_j−1),
                  TVD limiters (van Albada's smoothed by ε = h³ so the right-hand side is
                  differentiable; Koren's follows the κ = 1/3 scheme where smooth)  (second order)
    "kappa3":     ĉ_j + (ĉ_j − ĉ_j−1)/6 + (ĉ_j+1 − ĉ_j)/3, unlimited κ = 1/3       (third order)

using a ghost cell from the inlet value (quadratic through ĉ_in, ĉ_1, ĉ_2) and a quadratically
extrapolated one at the outlet. Diffusion is central (second order). The chromatogram is the outlet
face value ĉ_N+½ (what leaves the column). The system is stiff (Da ~ 10²-10⁴): it is integrated by
scipy's BDF (or Radau) with an analytic sparse Jacobian (constant for linear kinetics; exact for
"upwind" and "kappa3", the κ = 1/3 scheme's for the limited ones), restarted at the pulse edges.

"kappa3" is the default: chromatographic peaks are smooth, it is third order, and its linear
right-hand side suits BDF; the limited schemes clip the peak maximum and their non-smooth right-hand
sides make BDF take 5-20 times more steps. Use "koren" for steep fronts (overloaded Langmuir columns,
long plugs), where the unlimited scheme undershoots (by ~1 % of a plug's height).

Declared orders (`ColumnFD(...).convergence_order`, from `SPACE_ORDER`; verified in
tests/solvers/test_orders.py against the Laplace solution for a Gaussian injection, D = 0): the max
outlet error relative to the peak falls as h^p with p = 1 (upwind), 2 or more (limited; observed
2.3-2.9 as they follow κ = 1/3 away from extrema), 3 (kappa3); the time error is kept below the
spatial one by the tolerances.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.chromatography import Chromatography
from pdesuite.solvers.order import ConvergenceOrder, Rate

SCHEMES = ("upwind", "vanleer", "vanalbada", "koren", "kappa3")
#: Spatial order of each advection scheme for smooth solutions (the limited ones: at least 2).
SPACE_ORDER = {"upwind": 1, "vanleer": 2, "vanalbada": 2, "koren": 2, "kappa3": 3}
LIMITED = ("vanleer", "vanalbada", "koren")


def _limited_slope(a: np.ndarray, b: np.ndarray, scheme: str, epsilon: float = 0.0) -> np.ndarray:
    """φ(r) a with r = b/a, written without the division."""
    if scheme == "kappa3":
        return a / 3 + 2 * b / 3
    if scheme == "vanleer":
        prod = a * b
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(prod > 0, 2 * prod / (a + b), 0.0)
        return out
    if scheme == "vanalbada":  # φ(r) = (r² + r)/(r² + 1), smoothed by ε so the right-hand side is differentiable
        eps = epsilon
        return ((b * b + eps) * a + (a * a + eps) * b) / (a * a + b * b + 2 * eps)
    # Koren: a max(0, min(2r, (1 + 2r)/3, 2)) = max(0, min(2b, (a + 2b)/3, 2a)) for a > 0 (mirrored for a < 0)
    sign = np.where(a >= 0, 1.0, -1.0)
    a, b = sign * a, sign * b
    return sign * np.maximum(0.0, np.minimum(np.minimum(2 * b, (a + 2 * b) / 3), 2 * a))


class ColumnFD:
    """Method-of-lines solver for `Chromatography` (all of D, Langmuir kinetics, variable velocity).

    Args:
        problem: The column.
        cells: Number of finite volumes N (>= 8); default 800, as the command line and the dataset.
        scheme: Advection face values: "kappa3" (default), "upwind", "vanleer", "vanalbada" or "koren"
            (see the module docstring).
        rtol, atol: Time integration tolerances (atol relative to the largest injected concentration).
        method: scipy `solve_ivp` implicit method, "BDF" or "Radau".

    Shapes:
        solve(t) -> (n_t, n_analytes) outlet concentrations; profiles(t) -> c, q each (n_t, n_analytes, N).
    """

    def __init__(self, problem: Chromatography, cells: int = 800, scheme: str = "kappa3", rtol: float = 1e-7,
                 atol: float = 1e-10, method: str = "BDF"):
        if scheme not in SCHEMES:
            raise BadInput(f"unknown advection scheme {scheme!r} (known: {', '.join(SCHEMES)})")
        if isinstance(cells, bool) or not isinstance(cells, int | np.integer) or cells < 8:
            raise BadInput(f"cells must be an integer >= 8, got {cells!r}")
        if method not in ("BDF", "Radau"):
            raise BadInput(f"time integrator must be BDF or Radau, got {method!r}")
        if not (0 < rtol < 1 and atol > 0):
            raise BadInput(f"need 0 < rtol < 1 and atol > 0, got rtol={rtol}, atol={atol}")
        self.problem = problem
        self.cells = int(cells)
        self.scheme = scheme
        self.rtol, self.atol, self.method = float(rtol), float(atol), method
        p = problem
        self.t0 = p.hold_up_time
        self.c_ref = p.c_ref
        self.n = len(p.analytes)
        self.h = 1.0 / self.cells
        faces = np.linspace(0.0, p.length, self.cells + 1)
        self.u_face = p.velocity_at(faces) / p.velocity  # û at the N + 1 faces
        self.inv_pe = p.diffusion / (p.velocity * p.length)
        self.da_a = np.array([p.alpha * a.k_a * self.t0 for a in p.analytes])[:, None]
        self.da_d = np.array([a.k_d * self.t0 for a in p.analytes])[:, None]
        self.lam = 0.0 if np.isinf(p.q_m) else self.c_ref / (p.alpha * p.q_m)
        self.c_in_scale = np.array([a.c0 / self.c_ref for a in p.analytes])[:, None]
        self._transport = None
        self._plug_level = None

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """The spatial order of this scheme (`SPACE_ORDER`): max outlet error / peak = O(h^p)."""
        rate = Rate(SPACE_ORDER[self.scheme], "h", "max / peak", "Gaussian injection, D = 0",
                    minimum=self.scheme in LIMITED)
        return ConvergenceOrder(space=rate)

    # -- the semi-discrete system ---------------------------------------------------------------------
    def inlet(self, t_hat: float) -> np.ndarray:
        """ĉ_in,i(t̂), shape (n, 1). A plug is constant on each integration segment (the value inside it,
        also at the segment's ends, where the integrator starts)."""
        if self._plug_level is not None:
            return self.c_in_scale * self._plug_level
        return self.c_in_scale * self.problem.injection.profile(t_hat * self.t0)

    def faces(self, c: np.ndarray, c_in: np.ndarray) -> np.ndarray:
        """Face values ĉ at the faces 3/2 .. N+1/2 (shape (n, N)) from cell values c (n, N)."""
        if self.scheme == "upwind":
            return c.copy()
        ghost_in = (8.0 / 3.0) * c_in - 2.0 * c[:, :1] + c[:, 1:2] / 3.0
        ghost_out = 3.0 * c[:, -1:] - 3.0 * c[:, -2:-1] + c[:, -3:-2]
        ext = np.concatenate([ghost_in, c, ghost_out], axis=1)  # cells 0..N+1
        a = ext[:, 1:-1] - ext[:, :-2]  # c_j − c_j−1, j = 1..N
        b = ext[:, 2:] - ext[:, 1:-1]  # c_j+1 − c_j
        return c + 0.5 * _limited_slope(a, b, self.scheme, self.h**3)

    def rhs(self, t_hat: float, y: np.ndarray) -> np.ndarray:
        n, N = self.n, self.cells
        c = y[: n * N].reshape(n, N)
        theta = y[n * N:].reshape(n, N)
        c_in = self.inlet(t_hat)
        flux = np.empty((n, N + 1))
        flux[:, 0] = self.u_face[0] * c_in[:, 0]
        flux[:, 1:] = self.u_face[1:] * self.faces(c, c_in)
        if self.inv_pe:
            flux[:, 1:-1] -= self.inv_pe * (c[:, 1:] - c[:, :-1]) / self.h
        free = 1.0 - self.lam * theta.sum(axis=0) if self.lam else 1.0
        rate = self.da_a * c * free - self.da_d * theta
        dc = -(flux[:, 1:] - flux[:, :-1]) / self.h - rate
        return np.concatenate([dc.ravel(), rate.ravel()])

    def transport_matrix(self) -> sp.csr_matrix:
        """d(dĉ/dt̂)/dĉ of advection and diffusion for one analyte (N × N): exact for "upwind" and
        "kappa3"; for the limited schemes it is the κ = 1/3 scheme's, which they follow where the
        solution is smooth (Newton's matrix only: it steers the iteration, the residual is exact)."""
        N, h = self.cells, self.h
        rows, cols, vals = [], [], []

        def add(face, cell, weight):  # face k = 0..N−1 is x_{k+3/2}
            rows.append(face)
            cols.append(cell)
            vals.append(weight)

        if self.scheme == "upwind":
            for k in range(N):
                add(k, k, 1.0)
        else:
            add(0, 0, 7 / 6)
            add(0, 1, 5 / 18)
            for k in range(1, N - 1):
                add(k, k - 1, -1 / 6)
                add(k, k, 5 / 6)
                add(k, k + 1, 1 / 3)
            add(N - 1, N - 3, 1 / 3)
            add(N - 1, N - 2, -7 / 6)
            add(N - 1, N - 1, 11 / 6)
        face = sp.csr_matrix((vals, (rows, cols)), shape=(N, N))
        flux = sp.diags(self.u_face[1:]) @ face
        if self.inv_pe:
            grad = sp.diags([-np.ones(N), np.ones(N - 1)], [0, 1], shape=(N, N)).tolil()
            grad[N - 1, N - 1] = 0.0  # no diffusive flux through the outlet face
            flux = flux - (self.inv_pe / h) * grad.tocsr()
        # dĉ_j = −(F_j+1/2 − F_j−1/2)/h; F_1/2 does not depend on the state
        shift = sp.diags([np.ones(N - 1)], [-1], shape=(N, N))
        return (-(flux - shift @ flux) / h).tocsr()

    def jacobian(self, t_hat: float, y: np.ndarray) -> sp.csc_matrix:
        """The system's Jacobian (sparse); constant for linear kinetics."""
        n, N = self.n, self.cells
        theta = y[n * N:].reshape(n, N)
        c = y[: n * N].reshape(n, N)
        free = 1.0 - self.lam * theta.sum(axis=0) if self.lam else np.ones(N)
        if self._transport is None:
            self._transport = self.transport_matrix()
        blocks_cc, blocks_ct, blocks_tc, blocks_tt = [], [], [], []
        for i in range(n):
            gain = sp.diags(self.da_a[i, 0] * free)
            row_ct, row_tt = [], []
            for k in range(n):
                coupling = self.da_a[i, 0] * self.lam * c[i] if self.lam else np.zeros(N)
                own = self.da_d[i, 0] if k == i else 0.0
                row_ct.append(sp.diags(coupling + own))
                row_tt.append(sp.diags(-coupling - own))
            blocks_cc.append(self._transport - gain)
            blocks_tc.append(gain)
            blocks_ct.append(row_ct)
            blocks_tt.append(row_tt)
        cc = sp.block_diag(blocks_cc)
        tc = sp.block_diag(blocks_tc)
        return sp.bmat([[cc, sp.bmat(blocks_ct)], [tc, sp.bmat(blocks_tt)]], format="csc")

    # -- solving --------------------------------------------------------------------------------------
    def _integrate(self, t_out: np.ndarray) -> np.ndarray:
        """States at t_out (s), shape (n_t, 2 n N)."""
        t_out = np.asarray(t_out, dtype=float)
        if t_out.ndim != 1 or len(t_out) == 0 or not np.all(np.isfinite(t_out)) or np.any(t_out < 0) \
                or np.any(np.diff(t_out) < 0):
            raise BadInput("output times must be a non-empty, non-decreasing array of finite times >= 0")
        th_out = t_out / self.t0
        t_end = th_out[-1]
        edges = [b / self.t0 for b in self.problem.injection.breakpoints]
        stops = sorted({0.0, t_end, *(e for e in edges if 0 < e < t_end)})
        y = np.zeros(2 * self.n * self.cells)
        states = np.zeros((len(t_out), len(y)))
        if self.lam:
            jac = self.jacobian
        else:
            jac = self.jacobian(0.0, y)
        plug = self.problem.injection.shape == "pulse"
        try:
            for a, b in zip(stops[:-1], stops[1:], strict=True):
                if plug:
                    self._plug_level = float(self.problem.injection.profile(0.5 * (a + b) * self.t0))
                inside = (th_out >= a) & (th_out <= b)
                ev = np.union1d(th_out[inside], [b])
                sol = solve_ivp(self.rhs, (a, b), y, method=self.method, t_eval=ev, rtol=self.rtol, atol=self.atol,
                                jac=jac, first_step=min(1e-6, (b - a) / 10))
                if sol.status != 0:
                    raise SolverError(f"the column's time integration failed at t = {sol.t[-1] * self.t0:.4g} s: "
                                      f"{sol.message}")
                states[inside] = sol.y[:, np.searchsorted(ev, th_out[inside])].T
                y = sol.y[:, -1]
        finally:
            self._plug_level = None
        if not np.all(np.isfinite(states)):
            raise SolverError("the column's solution is not finite")
        return states

    def solve(self, t) -> np.ndarray:
        """Outlet concentrations c_i(L, t) (same units as c0), shape (n_t, n_analytes)."""
        t = np.asarray(t, dtype=float)
        states = self._integrate(t)
        n, N = self.n, self.cells
        out = np.empty((len(t), n))
        for k, (tk, y) in enumerate(zip(t, states, strict=True)):
            c = y[: n * N].reshape(n, N)
            out[k] = self.faces(c, self.inlet(tk / self.t0))[:, -1]
        return out * self.c_ref

    def profiles(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Gas concentrations c and adsorbed amounts q in the cells, each (n_t, n_analytes, N)."""
        states = self._integrate(np.asarray(t, dtype=float))
        n, N = self.n, self.cells
        c = states[:, : n * N].reshape(-1, n, N) * self.c_ref
        q = states[:, n * N:].reshape(-1, n, N) * self.c_ref / self.problem.alpha
        return c, q

    @property
    def x(self) -> np.ndarray:
        """Cell centres (m)."""
        return (np.arange(self.cells) + 0.5) * self.h * self.problem.length
