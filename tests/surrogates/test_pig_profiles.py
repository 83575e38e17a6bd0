"""PIG's pieces behind the PIG-vs-PINN claims: the Gaussian features' fast quadratic form, exact
periodicity, and the `paper` profiles of PIG and PINN on the PIG suite (settings as in the authors'
scripts, ../shared/reference-setups.md §6; each configuration builds and trains two steps on a CPU)."""

import json
import math

import numpy as np
import pytest
import torch

from pdesuite.nn import GaussianEmbedding
from pdesuite.recipes.generate import generate
from pdesuite.surrogates.pig import PIG
from pdesuite.surrogates.task import Task
from pdesuite.training.trainer import make_config, train

# dataset -> (problem, tiny-grid overrides)
DATASETS = {
    "pig-helmholtz": ("helmholtz-2d", {"n": "8"}),
    "pig-klein-gordon": ("klein-gordon", {"n": "6", "n_t": "3"}),
    "pig-flow-mixing": ("flow-mixing", {"n": "6", "n_t": "3"}),
    "pig-nonlinear-diffusion": ("nonlinear-diffusion", {"n": "6", "n_t": "3", "refine": "1", "substeps": "1"}),
}

# reference-setups §6 (c): Gaussians, σ₀ (relative to a [-1, 1] box: the scripts' σ₀ × 2 / grid_range),
# optimiser and budget
PAPER = {
    "helmholtz-2d": {"n_gaussians": 800, "sigma": 0.1, "adam_steps": 0, "lbfgs_steps": 2001, "mlp_width": 16,
                     "gaussian_features": 4, "n_collocation": 10000},
    "flow-mixing": {"n_gaussians": 4000, "sigma": 0.1, "lr": 1e-2, "adam_steps": 50000, "lbfgs_steps": 0},
    "klein-gordon": {"n_gaussians": 100, "sigma": 0.5, "lr": 1e-2, "adam_steps": 50000, "lbfgs_steps": 0},
    "nonlinear-diffusion": {"n_gaussians": 4000, "sigma": 0.2, "lr": 1e-3, "adam_steps": 100000, "lbfgs_steps": 0},
}


@pytest.mark.parametrize("problem", sorted(PAPER))
def test_pig_paper_profile_matches_the_authors_scripts(problem):
    settings = {**PIG.all_defaults(), **PIG.profile("paper", problem)}
    for key, value in PAPER[problem].items():
        assert settings[key] == value, (problem, key)


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pig-suite")
    paths = {}
    for name, (_, overrides) in DATASETS.items():
        paths[name] = folder / f"{name}.h5"
        generate(name, paths[name], progress=False, overrides=overrides)
    return paths


@pytest.mark.parametrize("profile", ["gpu", "paper"])
@pytest.mark.parametrize("method", ["pig", "pinn"])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_gpu_and_paper_profiles_build_and_train_two_steps(tmp_path, tiny_suite, dataset, method, profile):
    """The gpu profile keeps the paper's mixtures and point counts (fewer steps)."""
    config = make_config(method, tiny_suite[dataset], profile=profile, device="cpu",
                         overrides={"n_collocation": "64"})  # the architecture is the paper's, the points few
    problem = DATASETS[dataset][0]
    if method == "pig":
        assert config["settings"]["n_gaussians"] == PAPER[problem]["n_gaussians"]
    summary = train(tmp_path / "run", config, progress=False, stop_at=2)
    assert summary["steps"] == 2 and math.isfinite(summary["loss"])
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["profile"] == profile
    if profile == "gpu":
        settings = {**PIG.all_defaults(), **PIG.profile("gpu", problem)}
        assert settings["n_collocation"] == PAPER[problem]["n_collocation"] if "n_collocation" in PAPER[problem] \
            else settings["n_collocation"] == 10000


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gaussian_features_equal_the_direct_quadratic_form(covariance):
    torch.manual_seed(0)
    embedding = GaussianEmbedding(3, 9, 2, sigma=0.3, low=[0, -4, -4], high=[4, 4, 4], covariance=covariance)
    with torch.no_grad():  # away from the initial, axis-aligned and equal, scales
        if covariance == "full":
            embedding.lower.normal_(0, 0.5)
        else:
            embedding.raw_scale.add_(torch.randn_like(embedding.raw_scale))
    x = (torch.rand(50, 3) * torch.tensor([4.0, 8, 8]) - torch.tensor([0.0, 4, 4])).double()
    embedding = embedding.double()
    factor = embedding.precision_factor()
    z = torch.einsum("nkd,kde->nke", x[:, None, :] - embedding.means[None], factor)
    direct = torch.exp(-0.5 * (z**2).sum(-1)) @ embedding.features
    torch.testing.assert_close(embedding(x), direct, rtol=1e-10, atol=1e-12)


def test_pig_is_exactly_periodic_on_a_periodic_axis(tmp_path):
    data = tmp_path / "c.h5"
    generate("convection", data, progress=False, overrides={"c": "10", "nu": "0", "nx": "32", "nt": "9"})
    torch.manual_seed(0)
    model = PIG(Task.from_dataset(data), n_gaussians=20, sigma=0.3)
    t = torch.rand(5, 1)
    left, right = torch.cat([t, torch.zeros(5, 1)], 1), torch.cat([t, torch.full((5, 1), 2 * np.pi)], 1)
    torch.testing.assert_close(model(left), model(right), rtol=1e-5, atol=1e-6)
    assert model.gaussians.means.shape == (20, 3)  # (t, cos x, sin x)
