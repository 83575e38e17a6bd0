"""Collocation points: the samplers' coverage, the PINN's fixed Hammersley default, and the Helmholtz
training it makes robust across seeds (docs/training.md, "PINN against DeepXDE at equal budget")."""

import json

import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.recipes.generate import generate
from pdesuite.surrogates.pinn import PINN
from pdesuite.surrogates.task import SAMPLERS, Task
from pdesuite.training.trainer import make_config, train


@pytest.fixture(scope="module")
def helmholtz(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "h.h5"
    generate("pig-helmholtz", path, progress=False, overrides={"n": "16"})
    return Task.from_dataset(path)


def _cell_counts(unit: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Points per cell of a rows × cols grid over the unit square (first two coordinates)."""
    i = np.minimum((unit[:, 0] * rows).astype(int), rows - 1)
    j = np.minimum((unit[:, 1] * cols).astype(int), cols - 1)
    return np.bincount(i * cols + j, minlength=rows * cols)


@pytest.mark.parametrize("sampler", ["sobol", "hammersley"])
def test_low_discrepancy_samplers_put_one_point_in_every_cell(helmholtz, sampler):
    """n = 2^10 points: every cell of every 2^j × 2^(10-j) grid holds exactly one (a (0, 10, 2)-net).
    Independent uniform points leave about n/e of the 32 × 32 cells empty; one empty cell or one
    doubly filled cell fails the check, so it cannot pass by accident."""
    low, high = -1.0, 1.0  # pig-helmholtz: [-1, 1]²
    for seed in (0, 1):
        points = helmholtz.sample_interior(1024, torch.Generator().manual_seed(seed), torch.float64, sampler)
        assert points.shape == (1024, 2)
        unit = (points.numpy() - low) / (high - low)
        assert unit.min() >= 0 and unit.max() < 1
        for j in range(11):
            counts = _cell_counts(unit, 2**j, 2 ** (10 - j))
            assert counts.min() == counts.max() == 1, (sampler, seed, j)
    uniform = helmholtz.sample_interior(1024, torch.Generator().manual_seed(0), torch.float64, "uniform").numpy()
    assert (_cell_counts((uniform + 1) / 2, 32, 32) == 0).sum() > 300  # ~377 expected empty


def test_samplers_random_or_deterministic(helmholtz):
    draw = lambda sampler, seed: helmholtz.sample_interior(64, torch.Generator().manual_seed(seed), sampler=sampler)  # noqa: E731
    assert torch.equal(draw("hammersley", 0), draw("hammersley", 1))  # the generator is not used
    for sampler in ("uniform", "sobol"):
        assert torch.equal(draw(sampler, 0), draw(sampler, 0)) and not torch.equal(draw(sampler, 0), draw(sampler, 1))
    assert set(SAMPLERS) == {"uniform", "sobol", "hammersley"}
    with pytest.raises(BadInput, match="unknown sampler"):
        draw("grid", 0)
    with pytest.raises(BadInput, match="unknown sampler"):
        PINN(helmholtz, width=8, depth=2, sampler="grid")


def test_pinn_keeps_its_hammersley_points_and_redraws_random_ones(helmholtz):
    """The default draws one Hammersley set and keeps it (also across a state-dict round trip);
    ``sampler=uniform`` redraws every ``resample_every`` steps, as before."""
    torch.manual_seed(0)
    model = PINN(helmholtz, width=8, depth=2, n_collocation=64)
    assert model.config["sampler"] == "hammersley"
    generator = torch.Generator().manual_seed(0)
    first = model.collocation(generator).clone()
    state = generator.get_state()
    for _ in range(3):
        assert torch.equal(model.collocation(generator), first)
    assert torch.equal(generator.get_state(), state)  # no random numbers used
    copy = PINN(helmholtz, width=8, depth=2, n_collocation=64)
    copy.load_state_dict(model.state_dict())
    assert torch.equal(copy.collocation(generator), first)
    uniform = PINN(helmholtz, width=8, depth=2, n_collocation=64, sampler="uniform", resample_every=2)
    draws = [uniform.collocation(generator).clone() for _ in range(3)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[1], draws[2])


@pytest.mark.parametrize("sampler", ["uniform", "sobol"])
def test_resume_with_redrawn_points_equals_uninterrupted(tmp_path, helmholtz, sampler):
    """Redrawn points come from the trainer's generator (saved in checkpoints): a run interrupted
    between two redraws and resumed ends with the same weights bit for bit."""
    config = make_config("pinn", helmholtz.dataset, dtype="float64", device="cpu", seed=3, overrides={
        "width": "8", "depth": "2", "n_collocation": "64", "adam_steps": "20", "lbfgs_steps": "4",
        "checkpoint_every": "5", "sampler": sampler, "resample_every": "3"})
    train(tmp_path / "straight", config, progress=False)
    train(tmp_path / "resumed", config, progress=False, stop_at=11)
    train(tmp_path / "resumed", resume=True, progress=False)
    a, b = (torch.load(tmp_path / run / "checkpoint.pt", weights_only=False)["model"]
            for run in ("straight", "resumed"))
    for key, value in a.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, b[key]), key


def test_pinn_learns_helmholtz_on_every_seed(tmp_path):
    """The defect at reduced scale: sin(πx) sin(2πy) with the small profile's hard BC and loss weights,
    3 × 32 tanh, 512 points, 1000 Adam steps at 3e-3 (cosine), the final weights of seeds 0-3.
    Measured with the fixed Hammersley set (seeds 0-7): 2.4e-3 to 4.7e-3; with uniform points redrawn
    every step (the default before): 4.7e-3 / 4.8e-3 / 3.2e-2 / 4.5e-3 on seeds 0-3 (mean 1.2e-2),
    8.1e-3 / 9.9e-3 / 6.1e-3 / 5.5e-3 on seeds 4-7. About 4 s a seed on one core. (At the defect's
    sin(πx) sin(4πy), 4 × 32, 1024 points, 3000 steps: 6 of 8 seeds below 0.03 against none; its full
    4000 steps take 30 s a seed: docs/training.md.)"""
    data = tmp_path / "h.h5"
    generate("pig-helmholtz", data, progress=False, overrides={"n": "32", "a1": "1", "a2": "2"})
    errors = []
    for seed in range(4):
        config = make_config("pinn", data, device="cpu", steps=1000, seed=seed, overrides={
            "lbfgs_steps": "0", "lr": "3e-3", "width": "32", "depth": "3", "n_collocation": "512",
            "val_every": "1000", "checkpoint_every": "1000"})
        assert config["settings"]["hard_bc"] and config["settings"]["sampler"] == "hammersley"
        train(tmp_path / f"s{seed}", config, progress=False)
        final = json.loads((tmp_path / f"s{seed}" / "log.jsonl").read_text().splitlines()[-1])
        errors.append(final["relative_l2"])  # the last weights' error (the run's last log line)
    assert max(errors) < 1e-2 and np.mean(errors) < 6e-3, errors
