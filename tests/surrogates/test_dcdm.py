"""DCDM through PETSc and PoissonSolver: a random network still converges to the direct solution, a
briefly trained one beats CG, the descent safeguard, and bad input as one-line BadInput."""

import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
torch = pytest.importorskip("torch")

from pdesuite.errors import BadInput, SolverError  # noqa: E402
from pdesuite.nn.dcdm_cnn import DCDMNet2d  # noqa: E402
from pdesuite.problems.poisson import oscillating_coefficient_poisson  # noqa: E402
from pdesuite.solvers.fem import PoissonSolver, unit_square, unstructured_rectangle  # noqa: E402
from pdesuite.surrogates.dcdm import GridMap, load_network, save_network  # noqa: E402
from pdesuite.surrogates.dcdm_training import (  # noqa: E402
    assembled_operator,
    dcdm_loss,
    ritz_pairs,
    ritz_right_hand_sides,
    torch_sparse,
    train_dcdm,
)

DCDM = {"ksp_type": "python", "ksp_python_type": "pdesuite.surrogates.dcdm.DCDMSolver"}
CG = {"ksp_type": "cg", "pc_type": "none", "ksp_norm_type": "unpreconditioned"}


PROBLEM = oscillating_coefficient_poisson()


def solve(domain, options):
    return PoissonSolver(PROBLEM, domain, petsc_options=options).solve()


def relative_error(u, reference) -> float:
    a, b = u.function.x.array, reference.function.x.array
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    torch.manual_seed(0)
    return save_network(tmp_path_factory.mktemp("dcdm") / "random.pt", DCDMNet2d(in_channels=2))


def test_grid_map_puts_dolfinx_dofs_on_the_lattice():
    domain = unit_square(6)
    solver = PoissonSolver(PROBLEM, domain)
    points = solver.V.tabulate_dof_coordinates()[:, :2]
    grid = GridMap.from_coordinates(points)
    assert grid.shape == (7, 7)
    pictures = grid.to_grid(torch.as_tensor(points.T.copy()))
    axis = torch.linspace(0, 1, 7, dtype=pictures.dtype)
    torch.testing.assert_close(pictures[0, 0], axis[:, None].expand(7, 7))  # x varies along the first index
    torch.testing.assert_close(pictures[1, 0], axis[None, :].expand(7, 7))
    torch.testing.assert_close(grid.to_vector(pictures[:1]), torch.as_tensor(points[:, :1].T.copy()))


def test_random_network_converges_through_poisson_solver(random_weights):
    """Even an untrained network: every step lowers the energy, bad steps fall back; the result matches LU."""
    domain = unit_square(8)
    reference = PoissonSolver(PROBLEM, domain).solve()
    u = solve(domain, {**DCDM, "dcdm_weights": str(random_weights), "ksp_rtol": 1e-10, "ksp_max_it": 5000})
    assert u.info["ksp_reason"] > 0 and 0 < u.info["ksp_iterations"] < 5000
    assert relative_error(u, reference) < 1e-8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_briefly_trained_network_beats_cg(tmp_path, seed):
    """150 Adam steps at 16² (seconds): far fewer iterations than CG, to 1e-6, on every seed (measured
    27, 20, 20 iterations against CG's 71)."""
    torch.set_num_threads(1)
    domain = unit_square(16)
    A, points = assembled_operator(PoissonSolver(PROBLEM, domain))
    network, history = train_dcdm(A, GridMap.from_coordinates(points), steps=150, lr=1e-2, ritz=225, samples=500,
                                  seed=seed, log_every=50)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    weights = save_network(tmp_path / "trained.pt", network, note="test")
    assert load_network(weights)[1] == {"note": "test"}
    common = {"ksp_rtol": 1e-6, "ksp_atol": 0.0}
    cg = solve(domain, {**CG, **common})
    dcdm = solve(domain, {**DCDM, **common, "dcdm_weights": str(weights)})
    assert dcdm.info["ksp_iterations"] < 0.6 * cg.info["ksp_iterations"], (dcdm.info, cg.info)
    assert relative_error(dcdm, PoissonSolver(PROBLEM, domain).solve()) < 1e-5


def test_zero_network_falls_back_or_stops(tmp_path):
    """A network whose output is zero gives no descent direction: the fallback makes every step a
    residual step (CG's count); with on_bad_direction=stop the solve stops with a one-line SolverError."""
    net = DCDMNet2d(in_channels=2)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    weights = save_network(tmp_path / "zero.pt", net)
    domain = unit_square(8)
    common = {"ksp_rtol": 1e-8, "ksp_atol": 0.0}
    u = solve(domain, {**DCDM, **common, "dcdm_weights": str(weights)})
    cg = solve(domain, {**CG, **common})
    assert abs(u.info["ksp_iterations"] - cg.info["ksp_iterations"]) <= 1
    with pytest.raises(SolverError, match="not a descent direction") as excinfo:
        solve(domain, {**DCDM, **common, "dcdm_weights": str(weights), "dcdm_on_bad_direction": "stop"})
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"dcdm_weights": "/nonexistent/dcdm.pt"}, "does not exist"),
    ({}, "no network"),
    ({"dcdm_weights": "WEIGHTS", "dcdm_grid": "5,5"}, "has 25 points but the matrix has 81 rows"),
    ({"dcdm_weights": "WEIGHTS", "dcdm_grid": "five"}, "n_x,n_y"),
    ({"dcdm_weights": "WEIGHTS", "dcdm_device": "tpu"}, "dcdm_device must be auto, cpu or cuda"),
    ({"dcdm_weights": "NOT_WEIGHTS"}, "not a DCDM weights file"),
    ({"dcdm_weights": "BAD_CONFIG"}, "do not fit its network configuration"),
])
def test_bad_options_are_one_line_bad_input(options, message, random_weights, tmp_path):
    junk, bad_config = tmp_path / "junk.pt", tmp_path / "bad-config.pt"
    torch.save({"something": 1}, junk)
    stored = torch.load(random_weights, weights_only=True)
    torch.save({**stored, "config": {**stored["config"], "channels": 0}}, bad_config)
    files = {"WEIGHTS": random_weights, "NOT_WEIGHTS": junk, "BAD_CONFIG": bad_config}
    options = {k: str(files.get(v, v)) for k, v in options.items()}
    with pytest.raises(BadInput, match=message) as excinfo:
        solve(unit_square(8), {**DCDM, **options})
    assert "\n" not in str(excinfo.value)


def test_unstructured_mesh_is_bad_input_for_the_cnn(random_weights):
    with pytest.raises(BadInput, match="not the nodes of a structured grid"):
        solve(unstructured_rectangle(0.25), {**DCDM, "dcdm_weights": str(random_weights)})


def test_loss_is_scale_invariant_and_zero_for_the_inverse():
    A, points = assembled_operator(PoissonSolver(PROBLEM, unit_square(6)))
    grid, active = GridMap.from_coordinates(points), torch.as_tensor(np.diff(A.indptr) > 1)
    inverse = np.linalg.inv(A.toarray())

    class Exact(torch.nn.Module):  # applies A⁻¹ on the grid (a perfect DCDM network)
        in_channels = 1

        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, pictures):
            vectors = grid.to_vector(pictures).double()
            return grid.to_grid(self.scale * vectors @ torch.as_tensor(inverse.T))

    rhs = torch.as_tensor(np.random.default_rng(0).standard_normal((4, A.shape[0]))) * active
    rhs = rhs / rhs.norm(dim=1, keepdim=True)
    A_t = torch_sparse(A, dtype=torch.float64)
    assert float(dcdm_loss(Exact(1.0), grid, A_t, rhs, active)) < 1e-20
    assert float(dcdm_loss(Exact(-3.0), grid, A_t, rhs, active)) < 1e-20


def test_ritz_pairs_are_eigenpairs_at_the_ends_of_the_spectrum():
    A, _ = assembled_operator(PoissonSolver(PROBLEM, unit_square(10)))
    values, vectors = ritz_pairs(A, 60, np.random.default_rng(0))
    exact = np.linalg.eigvalsh(A.toarray())
    assert values.shape == (60,) and vectors.shape == (60, A.shape[0])
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(60), atol=1e-8)
    assert abs(values[-1] - exact[-1]) < 1e-8 * exact[-1] and abs(values[0] - exact[0]) < 1e-6 * exact[-1]


def test_ritz_right_hand_sides_weight_the_low_end_and_check_theta():
    rng = np.random.default_rng(0)
    vectors = np.eye(40)  # Ritz vector k is e_k: a right-hand side's entries are its coefficients
    rhs = ritz_right_hand_sides(vectors, 4000, rng, theta=4)
    np.testing.assert_allclose(np.linalg.norm(rhs, axis=1), 1.0)
    low, high = np.abs(rhs[:, :24]).mean(), np.abs(rhs[:, 24:]).mean()  # m/2 + θ = 24 weighted by 9
    assert 8.0 < low / high < 10.0
    for theta in (-1, 41, 2.5, True):
        with pytest.raises(BadInput, match="theta must be an integer"):
            ritz_right_hand_sides(vectors, 2, rng, theta=theta)
