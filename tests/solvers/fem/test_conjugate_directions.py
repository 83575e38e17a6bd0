"""The conjugate-direction KSP (DCDM's iteration without a network): CG's iterates with the residual as
direction, the descent safeguard, PETSc's tolerances and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

from petsc4py import PETSc  # noqa: E402

from pdesuite.errors import BadInput, SolverError  # noqa: E402
from pdesuite.solvers.fem.conjugate_directions import ConjugateDirections  # noqa: E402

CD_TYPE = "pdesuite.solvers.fem.conjugate_directions.ConjugateDirections"


def laplacian(m: int) -> sp.csr_matrix:
    """The 5-point Laplacian on an m × m grid of interior points (SPD)."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    return (sp.kron(T, sp.eye(m)) + sp.kron(sp.eye(m), T)).tocsr()


def petsc_matrix(A: sp.csr_matrix) -> PETSc.Mat:
    A = sp.csr_matrix(A)
    mat = PETSc.Mat().createAIJ(size=A.shape, csr=(A.indptr, A.indices, A.data), comm=PETSc.COMM_SELF)
    mat.assemble()
    return mat


def solve(A: sp.csr_matrix, b: np.ndarray, options: dict, context=None):
    """(x, ksp) for A x = b with a KSP configured by ``options`` (and a Python context object, if given)."""
    mat = petsc_matrix(A)
    ksp = PETSc.KSP().create(PETSc.COMM_SELF)
    ksp.setOperators(mat)
    ksp.setOptionsPrefix("cdtest_")
    opts = PETSc.Options()
    for key, value in options.items():
        opts["cdtest_" + key] = value
    if context is not None:
        ksp.setType("python")
        ksp.setPythonContext(context)
    try:
        ksp.setFromOptions()
    finally:
        for key in options:
            del opts["cdtest_" + key]
    rhs, x = mat.createVecLeft(), mat.createVecRight()
    rhs.setArray(b)
    ksp.solve(rhs, x)
    return x.getArray().copy(), ksp


def cause(excinfo):
    """The pdesuite error a Python KSP context raised, unwrapped from petsc4py's PETSc.Error."""
    err = excinfo.value
    return err.__cause__ if isinstance(err, PETSc.Error) else err


@pytest.fixture
def system():
    A = laplacian(12)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    return A, b, sp.linalg.spsolve(A.tocsc(), b)


def test_residual_directions_reproduce_cg(system):
    """With direction(r) = r, A-orthogonalising against the last direction(s) is CG: same iterations."""
    A, b, exact = system
    common = {"ksp_rtol": 1e-10, "ksp_atol": 0.0}
    _, cg = solve(A, b, {**common, "ksp_type": "cg", "pc_type": "none", "ksp_norm_type": "unpreconditioned"})
    x, ksp = solve(A, b, {**common, "ksp_type": "python", "ksp_python_type": CD_TYPE})
    assert ksp.getConvergedReason() > 0 and ksp.getPythonContext().fallbacks == 0
    assert abs(ksp.getIterationNumber() - cg.getIterationNumber()) <= 1
    assert np.linalg.norm(x - exact) < 1e-8 * np.linalg.norm(exact)
    history = ksp.getPythonContext().residual_norms
    assert len(history) == ksp.getIterationNumber() + 1 and history[-1] <= 1e-10 * np.linalg.norm(b)


@pytest.mark.parametrize("rtol", [1e-6, 1e-12])
def test_convergence_is_declared_on_the_true_residual(system, rtol):
    """The recursively updated residual drifts from b - Ax by round-off; convergence is tested, and the
    final norm reported, on the true residual."""
    A, b, _ = system
    x, ksp = solve(A, b, {"ksp_rtol": rtol, "ksp_atol": 0.0}, ConjugateDirections())
    true_norm = np.linalg.norm(b - A @ x)
    assert ksp.getConvergedReason() > 0
    assert ksp.getResidualNorm() == pytest.approx(true_norm, rel=1e-9, abs=0.0)
    assert true_norm <= rtol * np.linalg.norm(b)


def test_max_it_is_honoured(system):
    A, b, _ = system
    _, ksp = solve(A, b, {"ksp_type": "python", "ksp_python_type": CD_TYPE, "ksp_max_it": 5, "ksp_rtol": 1e-12})
    assert ksp.getIterationNumber() == 5
    assert ksp.getConvergedReason() == PETSc.KSP.ConvergedReason.DIVERGED_MAX_IT


class Negated(ConjugateDirections):
    def direction(self, r):
        return -r


class Useless(ConjugateDirections):
    """A direction orthogonal to every residual would never help; zero is the simplest such one."""

    def direction(self, r):
        return np.zeros_like(r)


class NotANumber(ConjugateDirections):
    def direction(self, r):
        return np.full_like(r, np.nan)


def test_sign_of_the_direction_does_not_matter(system):
    """Exact line search: −r gives the same iterates as r, and is not counted as a bad direction."""
    A, b, exact = system
    x, ksp = solve(A, b, {"ksp_rtol": 1e-10, "ksp_atol": 0.0}, Negated())
    _, plain = solve(A, b, {"ksp_rtol": 1e-10, "ksp_atol": 0.0}, ConjugateDirections())
    assert ksp.getIterationNumber() == plain.getIterationNumber()
    assert ksp.getPythonContext().fallbacks == 0
    assert np.linalg.norm(x - exact) < 1e-8 * np.linalg.norm(exact)


@pytest.mark.parametrize("context", [Useless, NotANumber])
def test_bad_directions_fall_back_to_the_residual(system, context):
    A, b, exact = system
    x, ksp = solve(A, b, {"ksp_rtol": 1e-10, "ksp_atol": 0.0}, context())
    ctx = ksp.getPythonContext()
    assert ksp.getConvergedReason() > 0 and ctx.fallbacks == ksp.getIterationNumber()
    assert np.linalg.norm(x - exact) < 1e-8 * np.linalg.norm(exact)


def test_bad_direction_can_stop_the_solve(system):
    A, b, _ = system
    with pytest.raises((SolverError, PETSc.Error)) as excinfo:
        solve(A, b, {"cd_on_bad_direction": "stop"}, Useless())
    error = cause(excinfo)
    assert isinstance(error, SolverError) and "not a descent direction" in str(error)
    assert "\n" not in str(error)


def test_dirichlet_rows_are_solved_exactly():
    """Rows (and columns) with only a diagonal entry, as dolfinx assembles Dirichlet dofs."""
    A = sp.lil_matrix(laplacian(6))
    fixed = [0, 7, 20]
    for i in fixed:
        A[i, :] = 0
        A[:, i] = 0
        A[i, i] = 1.0
    A = sp.csr_matrix(A)
    b = np.ones(A.shape[0])
    b[fixed] = [2.0, -1.0, 0.5]
    x, ksp = solve(A, b, {"ksp_rtol": 1e-12, "ksp_atol": 0.0}, ConjugateDirections())
    assert np.allclose(x[fixed], [2.0, -1.0, 0.5], rtol=0, atol=1e-14)
    assert np.linalg.norm(A @ x - b) < 1e-10 * np.linalg.norm(b)
    assert ksp.getPythonContext().decoupled.sum() == 3


@pytest.mark.parametrize(("matrix", "message"), [
    (sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 2.0]])), "not symmetric"),
    (sp.csr_matrix(np.array([[2.0, 0.0], [0.0, -1.0]])), "not positive definite"),
    (sp.csr_matrix(np.array([[1.0, 3.0], [3.0, 1.0]])), "not positive definite"),  # found by dᵀAd < 0
])
def test_non_spd_matrix_is_bad_input(matrix, message):
    with pytest.raises((BadInput, PETSc.Error)) as excinfo:
        solve(matrix, np.array([1.0, -1.0]), {"ksp_rtol": 1e-8}, ConjugateDirections())
    error = cause(excinfo)
    assert isinstance(error, BadInput) and message in str(error) and "\n" not in str(error)


def test_unknown_policy_is_bad_input(system):
    A, b, _ = system
    with pytest.raises((BadInput, PETSc.Error)) as excinfo:
        solve(A, b, {"cd_on_bad_direction": "ignore"}, ConjugateDirections())
    assert isinstance(cause(excinfo), BadInput)
