"""Conjugate directions with a pluggable search direction, as a PETSc KSP of type python.

For A x = b with A symmetric positive definite, each iteration takes a search direction
d = direction(r) from the current residual r, A-orthogonalises it against the last ``memory``
directions p_j (two, as in the Deep Conjugate Direction Method, Kaneda et al., ICML 2023),

    d ← d − Σ_j (dᵀ A p_j) / (p_jᵀ A p_j) p_j,

and minimises the energy ½ xᵀAx − bᵀx exactly along it:

    α = dᵀr / dᵀAd,   x ← x + α d,   r ← r − α A d.

The energy drops by (dᵀr)² / dᵀAd whatever the sign of d, so a direction is useful when it is not
(nearly) orthogonal to r: the sign is flipped to make α > 0, and a direction with
|dᵀr| ≤ ``descent_tol`` ‖d‖ ‖r‖ (or with a non-finite entry) is *not a descent direction*. Then the
method either falls back to the residual itself for that step (``on_bad_direction = "fallback"``,
the default: the step is a steepest-descent step, A-orthogonalised like the others, and
`fallbacks` counts them) or stops with a `SolverError` (``"stop"``). With direction(r) = r the
method is steepest descent made conjugate to the two previous directions; in exact arithmetic that
is conjugate gradients.

Rows of A whose only non-zero entry is the diagonal (Dirichlet rows of an assembled FEM matrix;
their columns are zero too, as A is checked to be symmetric) are solved exactly before the first
iteration and masked out of every direction.

Select a subclass from PETSc options (``ksp_type python``, ``ksp_python_type module.Class``). The
KSP honours ``ksp_rtol``, ``ksp_atol``, ``ksp_max_it``, ``ksp_monitor`` and the initial-guess flag,
measures the unpreconditioned residual norm ‖b − Ax‖ (a PC is not used: it is set to ``none``) and
reports iterations and the converged reason, so ``KSP.getIterationNumber`` works as for any KSP.
The recursively updated residual is confirmed by a true residual b − Ax before convergence is
declared. Bad input (a non-square, non-symmetric or non-positive-definite matrix) raises `BadInput`;
through petsc4py it arrives as the ``__cause__`` of a `PETSc.Error`.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError

#: Name under which an FEM solver composes its dof coordinates onto the operator (a Vec, block size gdim).
DOF_COORDINATES = "pdesuite_dof_coordinates"
BAD_DIRECTION_POLICIES = ("fallback", "stop")


def attach_dof_coordinates(A: PETSc.Mat, V) -> None:
    """Compose the coordinates of the owned dofs of Lagrange space ``V`` onto ``A`` (``DOF_COORDINATES``),
    for KSPs that need the geometry (a grid network maps dofs to pixels)."""
    gdim = V.mesh.geometry.dim
    nodes, bs = V.dofmap.index_map.size_local, V.dofmap.index_map_bs
    coordinates = np.repeat(V.tabulate_dof_coordinates()[:nodes, :gdim], bs, axis=0)  # one row per dof
    owned = nodes * bs
    vec = PETSc.Vec().createMPI((owned * gdim, PETSc.DECIDE), bsize=gdim, comm=A.getComm())
    vec.setArray(np.ascontiguousarray(coordinates).ravel())
    A.compose(DOF_COORDINATES, vec)
    vec.destroy()  # A holds its own reference


def dof_coordinates(A: PETSc.Mat) -> np.ndarray | None:
    """The (n_owned, gdim) coordinates composed onto ``A`` by `attach_dof_coordinates`, or None."""
    vec = A.query(DOF_COORDINATES)
    if vec is None:
        return None
    return vec.getArray(readonly=True).reshape(-1, vec.getBlockSize()).copy()


class ConjugateDirections:
    """PETSc python-KSP context for the iteration above; subclasses override `direction` (and `prepare`).

    Options (after the KSP's prefix and `option_prefix`): ``on_bad_direction`` (fallback | stop),
    ``descent_tol`` (default 1e-4), ``memory`` (directions to A-orthogonalise against, default 2).
    They are read by `setFromOptions` and checked by `setUp` (the first solve).
    """

    #: Prefix of this method's own PETSc options, after the KSP's prefix (``-<prefix>dcdm_...``).
    option_prefix = "cd_"
    name = "conjugate directions"

    def __init__(self) -> None:
        self.on_bad_direction = "fallback"
        self.descent_tol = 1e-4
        self.memory = 2
        self.fallbacks = 0
        self.residual_norms: list[float] = []
        self.decoupled = np.zeros(0, dtype=bool)

    # --- PETSc hooks -----------------------------------------------------------------------------
    def create(self, ksp: PETSc.KSP) -> None:
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.getPC().setType(PETSc.PC.Type.NONE)

    def setFromOptions(self, ksp: PETSc.KSP) -> None:  # noqa: N802 - PETSc's name
        # Only read here: dolfinx calls KSP.setFromOptions inside an options-prefix push that an
        # exception would leave behind; values are checked in setUp (called by the solve).
        opts = self.options(ksp)
        self.raw_options = {"on_bad_direction": opts.getString("on_bad_direction", self.on_bad_direction),
                            "descent_tol": opts.getString("descent_tol", str(self.descent_tol)),
                            "memory": opts.getString("memory", str(self.memory))}

    def options(self, ksp: PETSc.KSP) -> PETSc.Options:
        """This method's options: the KSP's prefix, then `option_prefix`."""
        return PETSc.Options(f"{ksp.getOptionsPrefix() or ''}{self.option_prefix}")

    def check_options(self) -> None:
        """BadInput (one line) for an invalid option read by `setFromOptions`."""
        raw = getattr(self, "raw_options", None)
        if raw is None:
            return
        if raw["on_bad_direction"] not in BAD_DIRECTION_POLICIES:
            raise BadInput(f"{self.name}: unknown on_bad_direction {raw['on_bad_direction']!r} "
                           f"(known: {', '.join(BAD_DIRECTION_POLICIES)})")
        try:
            tol, memory = float(raw["descent_tol"]), int(raw["memory"])
        except ValueError:
            raise BadInput(f"{self.name}: descent_tol must be a number and memory an integer, got "
                           f"{raw['descent_tol']!r} and {raw['memory']!r}") from None
        if not (0 <= tol < 1):
            raise BadInput(f"{self.name}: descent_tol must be in [0, 1), got {tol}")
        if memory < 0:
            raise BadInput(f"{self.name}: memory must be >= 0, got {memory}")
        self.on_bad_direction, self.descent_tol, self.memory = raw["on_bad_direction"], tol, memory

    def setUp(self, ksp: PETSc.KSP) -> None:  # noqa: N802 - PETSc's name
        self.check_options()
        A = ksp.getOperators()[0]
        self.decoupled = check_spd_and_find_decoupled(A, self.name)
        diagonal = A.getDiagonal()
        self.diagonal = diagonal.getArray().copy()
        diagonal.destroy()
        self.prepare(ksp, A)

    def view(self, ksp: PETSc.KSP, viewer: PETSc.Viewer) -> None:
        viewer.printfASCII(f"  {self.name}: memory {self.memory}, on_bad_direction {self.on_bad_direction}, "
                           f"descent_tol {self.descent_tol:g}, fallbacks so far {self.fallbacks}\n")

    # --- what subclasses change -------------------------------------------------------------------
    def prepare(self, ksp: PETSc.KSP, A: PETSc.Mat) -> None:  # noqa: B027 - optional hook
        """Called at set-up with the operator (build dof maps, load a network, ...)."""

    def direction(self, r: np.ndarray) -> np.ndarray:
        """The search direction for the (owned part of the) residual ``r``; default: r itself."""
        return np.array(r, copy=True)

    # --- the iteration -----------------------------------------------------------------------------
    def solve(self, ksp: PETSc.KSP, b: PETSc.Vec, x: PETSc.Vec) -> None:
        A = ksp.getOperators()[0]
        rtol, atol, dtol, max_it = ksp.getTolerances()
        if not ksp.getInitialGuessNonzero():
            x.set(0.0)
        r = b.duplicate()
        A.mult(x, r)
        r.aypx(-1.0, b)  # r = b - A x
        if self.decoupled.any():  # Dirichlet rows: exact, once
            xa, ra = x.getArray(), r.getArray()
            xa[self.decoupled] += ra[self.decoupled] / self.diagonal[self.decoupled]
            ra[self.decoupled] = 0.0
            del xa, ra
        d, Ad = r.duplicate(), r.duplicate()
        kept: deque = deque()
        self.fallbacks, self.residual_norms = 0, []
        its, rnorm = 0, r.norm()
        reason = self._report(ksp, its, rnorm)
        try:
            while not reason:
                if its >= max_it:
                    reason = PETSc.KSP.ConvergedReason.DIVERGED_MAX_IT
                    break
                self._search_direction(r, d, kept, its)
                A.mult(d, Ad)
                dr, dAd = d.dot(r), d.dot(Ad)
                if not math.isfinite(dAd) or dAd <= 0.0:
                    raise BadInput(f"{self.name}: the matrix is not positive definite (dᵀAd = {dAd:.3g} "
                                   f"for a search direction at iteration {its + 1})")
                alpha = dr / dAd
                x.axpy(alpha, d)
                r.axpy(-alpha, Ad)
                if self.memory:
                    if len(kept) == self.memory:  # the oldest direction leaves the memory
                        for vec in kept.popleft()[:2]:
                            vec.destroy()
                    kept.append((d.copy(), Ad.copy(), dAd))
                its += 1
                rnorm = r.norm()
                reason = self._report(ksp, its, rnorm)
                if reason > 0:  # confirm with the true residual: the test (and the norm reported) is on b - Ax
                    A.mult(x, r)
                    r.aypx(-1.0, b)
                    rnorm = r.norm()
                    reason = self._report(ksp, its, rnorm, log=False)
        finally:
            for vec in (r, d, Ad, *(v for p, Ap, _ in kept for v in (p, Ap))):
                vec.destroy()
        ksp.setConvergedReason(reason)

    def _report(self, ksp: PETSc.KSP, its: int, rnorm: float, log: bool = True) -> int:
        if not math.isfinite(rnorm):
            return PETSc.KSP.ConvergedReason.DIVERGED_NANORINF
        ksp.setIterationNumber(its)
        ksp.setResidualNorm(rnorm)
        if log:
            self.residual_norms.append(rnorm)
            ksp.logConvergenceHistory(rnorm)
            ksp.monitor(its, rnorm)
        return ksp.callConvergenceTest(its, rnorm)

    def _search_direction(self, r: PETSc.Vec, d: PETSc.Vec, kept: deque, its: int) -> None:
        """d ← direction(r), masked, A-orthogonalised, with the descent safeguard; sign so that dᵀr > 0."""
        raw = np.asarray(self.direction(r.getArray(readonly=True)), dtype=float)
        if raw.shape != (r.getLocalSize(),):
            raise SolverError(f"{self.name}: the direction has shape {raw.shape}, expected ({r.getLocalSize()},)")
        ok = bool(np.all(np.isfinite(raw)))
        if ok:
            self._set_orthogonal(d, raw, kept)
            ok = self._is_descent(d, r)
        if not ok:
            if self.on_bad_direction == "stop":
                raise SolverError(
                    f"{self.name}: the search direction at iteration {its + 1} is not a descent direction "
                    f"(non-finite, or |dᵀr| <= {self.descent_tol:g} ‖d‖‖r‖ after A-orthogonalisation); "
                    f"use the option {self.option_prefix}on_bad_direction fallback, or retrain the network")
            self.fallbacks += 1
            self._set_orthogonal(d, r.getArray(readonly=True), kept)
        if d.dot(r) < 0.0:
            d.scale(-1.0)

    def _set_orthogonal(self, d: PETSc.Vec, values: np.ndarray, kept: deque) -> None:
        arr = d.getArray()
        arr[:] = values
        arr[self.decoupled] = 0.0
        del arr
        for p, Ap, pAp in kept:
            d.axpy(-d.dot(Ap) / pAp, p)

    def _is_descent(self, d: PETSc.Vec, r: PETSc.Vec) -> bool:
        dnorm, rnorm = d.norm(), r.norm()
        return math.isfinite(dnorm) and dnorm > 0.0 and abs(d.dot(r)) > self.descent_tol * dnorm * rnorm


def check_spd_and_find_decoupled(A: PETSc.Mat, who: str) -> np.ndarray:
    """BadInput unless A is square, symmetric (to 1e-10 relative) with a positive diagonal; returns the
    mask of owned rows whose only non-zero is the diagonal."""
    if "aij" not in A.getType():
        raise BadInput(f"{who}: needs an assembled AIJ matrix, got type {A.getType()!r}")
    rows, cols = A.getSize()
    if rows != cols:
        raise BadInput(f"{who}: the matrix must be square, got {rows} × {cols}")
    scale = A.norm(PETSc.NormType.INFINITY)
    if not math.isfinite(scale):
        raise BadInput(f"{who}: the matrix has non-finite entries")
    if not A.isSymmetric(1e-10 * scale):
        raise BadInput(f"{who}: the matrix is not symmetric (the method needs a symmetric positive definite A)")
    diagonal_vec = A.getDiagonal()
    diagonal = diagonal_vec.getArray().copy()
    diagonal_vec.destroy()
    if diagonal.size and diagonal.min() <= 0.0:
        raise BadInput(f"{who}: the matrix is not positive definite (diagonal entry {diagonal.min():.3g} <= 0)")
    start, _ = A.getOwnershipRange()
    indptr, indices, values = A.getValuesCSR()
    row_of = np.repeat(np.arange(start, start + indptr.size - 1), np.diff(indptr))
    coupled = np.zeros(indptr.size - 1, dtype=bool)
    off = (indices != row_of) & (values != 0.0)
    coupled[row_of[off] - start] = True
    return ~coupled
