"""Surrogate interfaces and shapes, and short real trainings that must reach an error bound."""


import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.nn import GaussianEmbedding, PeriodicEmbedding
from pdesuite.recipes.generate import generate
from pdesuite.surrogates.lpinn import LPINN
from pdesuite.surrogates.pig import PIG
from pdesuite.surrogates.pinn import PINN
from pdesuite.surrogates.task import Task
from pdesuite.training.trainer import make_config, train
from pdesuite.validation.metrics import lpinn_error, per_time_relative_l2, relative_l2


@pytest.fixture(scope="module")
def convection(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "c10.h5"
    generate("convection", path, progress=False, overrides={"c": "10", "nu": "0", "nx": "64", "nt": "25"})
    return path


@pytest.fixture(scope="module")
def helmholtz(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "h.h5"
    generate("pig-helmholtz", path, progress=False, overrides={"n": "16"})
    return path


def test_task_from_dataset(convection, helmholtz):
    task = Task.from_dataset(convection)
    assert task.axes == ("t", "x") and task.reference.shape == (25, 64, 1) and task.params == {"c": 10.0, "nu": 0.0}
    assert task.bounds()["x"] == pytest.approx((0.0, 2 * np.pi)) and task.period("x") == pytest.approx(2 * np.pi)
    points, values = task.initial_data()
    np.testing.assert_allclose(values[:, 0], np.sin(points[:, 1]), atol=1e-6)
    assert task.boundary_data()[0].shape[0] == 0  # periodic: no boundary data
    steady = Task.from_dataset(helmholtz)
    assert steady.axes == ("x", "y") and steady.reference.shape == (16, 16, 1)
    assert steady.boundary_data()[0].shape[0] == 4 * 16 - 4


def test_pinn_shapes_and_exact_periodicity(convection):
    torch.manual_seed(0)
    model = PINN(Task.from_dataset(convection), width=8, depth=2)
    assert model.predict_grid().shape == (25, 64, 1)
    t = torch.rand(5, 1)
    left, right = torch.cat([t, torch.zeros(5, 1)], 1), torch.cat([t, torch.full((5, 1), 2 * np.pi)], 1)
    torch.testing.assert_close(model(left), model(right), rtol=1e-5, atol=1e-6)
    terms = model.loss(torch.Generator().manual_seed(0))
    assert set(terms) == {"pde", "ic", "loss"} and terms["loss"].ndim == 0


def test_lpinn_and_pig_shapes(convection, helmholtz):
    torch.manual_seed(0)
    lpinn = LPINN(Task.from_dataset(convection), width=8, depth=2)
    assert lpinn.predict_grid().shape == (25, 64, 1)
    assert set(lpinn.loss(torch.Generator().manual_seed(0))) == {"rx", "ru", "ic", "loss"}
    pig = PIG(Task.from_dataset(helmholtz), n_gaussians=10)
    assert pig.predict_grid().shape == (16, 16, 1)
    assert set(pig.loss(torch.Generator().manual_seed(0))) == {"pde", "bc", "loss"}


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gaussian_embedding(covariance):
    embedding = GaussianEmbedding(2, 7, 3, sigma=0.2, low=[-1, -1], high=[1, 1], covariance=covariance)
    x = torch.rand(11, 2) * 2 - 1
    assert embedding(x).shape == (11, 3)
    factor = embedding.precision_factor()
    precision = factor @ factor.transpose(1, 2)
    assert torch.all(torch.linalg.eigvalsh(precision) > 0)
    np.testing.assert_allclose(torch.diagonal(factor[0]).detach(), [5.0, 5.0], rtol=1e-5)  # 1/σ₀


def test_periodic_embedding():
    embedding = PeriodicEmbedding([None, 2.0])
    out = embedding(torch.tensor([[0.5, 0.5]]))  # a quarter period: (cos, sin) = (0, 1)
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.0, 1.0]]), atol=1e-7, rtol=0)


def test_metrics_on_known_arrays():
    reference = np.ones((4, 5, 1))
    prediction = reference.copy()
    prediction[1] += 0.1
    assert relative_l2(prediction, reference) == pytest.approx(0.1 * np.sqrt(5) / np.sqrt(20))
    assert per_time_relative_l2(prediction, reference) == pytest.approx([0, 0.1, 0, 0])
    # matrix 2-norm: a rank-one error of 0.1 on one row, against the all-ones (4 × 1) trimmed matrix
    assert lpinn_error(prediction, reference, trim=2) == pytest.approx(0.1 / np.sqrt(4))


def test_pig_learns_low_frequency_helmholtz(tmp_path):
    data = tmp_path / "h.h5"
    generate("pig-helmholtz", data, progress=False, overrides={"n": "32", "a2": "1"})  # sin(πx) sin(πy)
    config = make_config("pig", data, device="cpu", steps=400,
                         overrides={"lbfgs_steps": "0", "n_collocation": "512", "n_gaussians": "48", "sigma": "0.3"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 0.1, summary  # untrained: ~1


def test_hard_boundary_conditions(helmholtz, convection, tmp_path):
    """hard_bc: the output vanishes on the boundary exactly, the boundary loss term is gone, and a
    short PINN training on sin(πx) sin(πy) reaches the soft version's bound; unsuitable data is refused."""
    torch.manual_seed(0)
    task = Task.from_dataset(helmholtz)
    model = PINN(task, width=8, depth=2, hard_bc=True)
    points, _ = task.boundary_data()
    assert np.max(np.abs(model(model.tensor(points)).detach().numpy())) < 1e-6
    assert "bc" not in model.loss(torch.Generator().manual_seed(0))
    assert PIG(task, n_gaussians=8, hard_bc=True)(model.tensor(points)).abs().max() < 1e-6
    with pytest.raises(BadInput, match="no non-periodic spatial boundary"):
        PINN(Task.from_dataset(convection), hard_bc=True)
    data = tmp_path / "h.h5"
    generate("pig-helmholtz", data, progress=False, overrides={"n": "32", "a2": "1"})  # sin(πx) sin(πy)
    config = make_config("pinn", data, device="cpu", steps=300, overrides={
        "lbfgs_steps": "0", "n_collocation": "256", "width": "16", "depth": "2", "hard_bc": "true",
        "pde_weight": "1", "lr": "3e-3"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 0.1, summary  # untrained: ~1


def test_hard_bc_refuses_nonzero_boundary_data(tmp_path):
    data = tmp_path / "kg.h5"
    generate("pig-klein-gordon", data, progress=False, overrides={"n": "8", "n_t": "3"})
    with pytest.raises(BadInput, match="zero Dirichlet"):
        PINN(Task.from_dataset(data), hard_bc=True)


def test_hard_initial_conditions(convection, helmholtz, tmp_path):
    """hard_ic: u(t0, x) = u0(x) exactly at any x (the interpolant of the stored sin x), the initial
    term leaves the loss (Klein-Gordon keeps its u_t(0) term, with u0 from the analytic initial(x));
    data that disagrees with the analytic u0, or a steady problem, is refused."""
    torch.manual_seed(0)
    task = Task.from_dataset(convection)
    x = torch.rand(40, 1, generator=torch.Generator().manual_seed(1)) * 2 * np.pi  # off the grid
    at_t0 = torch.cat([torch.zeros_like(x), x], dim=1)
    for model in (PINN(task, width=8, depth=2, hard_ic=True), PIG(task, n_gaussians=8, hard_ic=True)):
        torch.testing.assert_close(model(at_t0), torch.sin(x), atol=1e-6, rtol=0)
        assert set(model.loss(torch.Generator().manual_seed(0))) == {"pde", "loss"}
    lpinn = LPINN(task, width=8, depth=2, hard_ic=True)
    X, U = lpinn.branches(x, torch.zeros_like(x))
    torch.testing.assert_close(X, x, atol=0, rtol=0)
    torch.testing.assert_close(U, torch.sin(x), atol=1e-6, rtol=0)
    assert set(lpinn.loss(torch.Generator().manual_seed(0))) == {"rx", "ru", "loss"}

    data = tmp_path / "kg.h5"
    generate("pig-klein-gordon", data, progress=False, overrides={"n": "8", "n_t": "3"})
    kg = Task.from_dataset(data)
    model = PINN(kg, width=8, depth=2, hard_ic=True)
    points, values = kg.initial_data()
    np.testing.assert_allclose(model(model.tensor(points)).detach().numpy(), values, atol=1e-5)
    assert "ic" in model.loss(torch.Generator().manual_seed(0))  # the initial velocity stays soft
    kg.reference = kg.reference.copy()
    kg.reference[0] += 0.1
    with pytest.raises(BadInput, match="differs from the t0 values"):
        kg.initial_function()
    with pytest.raises(BadInput, match="steady problem"):
        PINN(Task.from_dataset(helmholtz), hard_ic=True)


@pytest.mark.parametrize("speed", [10, 30, 50])
def test_lpinn_learns_convection(tmp_path, speed):
    """The convection claim at reduced scale: a short LPINN training (the small profile, exact initial
    values) gets below 1e-2 at every c, also where the PINN fails. Measured: 1.0e-3 / 3.0e-3 / 4.9e-3
    (with the soft Γ_IC = 1000 penalty instead: 0.11 / 0.34 / 0.52)."""
    data = tmp_path / "c.h5"
    generate("convection", data, progress=False, overrides={"c": str(speed), "nu": "0", "nx": "64", "nt": "25"})
    config = make_config("lpinn", data, device="cpu", steps=500,
                         overrides={"lbfgs_steps": "0", "n_collocation": "256", "width": "24", "depth": "3"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 1e-2, summary


def test_lpinn_learns_viscous_convection(tmp_path):
    """With ν > 0 the state residual needs u_xx; taken without dividing by X_ξ (× X_ξ³) it trains.
    Measured at 600 steps (small profile, c = 10, ν = 0.01): 2.0e-3; dividing by X_ξ: 1.67."""
    data = tmp_path / "c.h5"
    generate("convection", data, progress=False, overrides={"c": "10", "nu": "0.01", "nx": "64", "nt": "25"})
    config = make_config("lpinn", data, device="cpu", steps=500,
                         overrides={"lbfgs_steps": "0", "n_collocation": "256", "width": "24", "depth": "3"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 2e-2, summary


def test_lpinn_learns_burgers_without_diverging(tmp_path):
    """Burgers' characteristics converge where the shock forms (t = 1 for sin x); the state residual
    without denominators (× X_ξ³) trains through it (the chain-rule form diverged at the full small
    profile without clipping). The full small profile: 7.6e-3 at C = 0, 2.5e-3 at C = 2."""
    data = tmp_path / "b.h5"
    generate("burgers-lpinn", data, progress=False, overrides={"nx": "64", "nx_solve": "256", "nt": "25"})
    config = make_config("lpinn", data, device="cpu", steps=300, overrides={
        "lbfgs_steps": "0", "n_collocation": "256", "width": "24", "depth": "3", "index": "1"})
    assert config["settings"]["grad_clip"] == 1.0
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 3e-2, summary  # measured 6.4e-3; the chain-rule form: 5.9e-2
