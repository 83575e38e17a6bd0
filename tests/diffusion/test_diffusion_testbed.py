"""The exact-score test bed: models are the true posterior means, the ODE references are right."""

from __future__ import annotations

import pytest
import torch

from pdesuite.diffusion.testing import GaussianMixture, example_mixture, random_gaussian


def test_score_model_is_the_gradient_of_log_density():
    bed = example_mixture("vp-linear", d=3)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    t = torch.full((16,), 0.3, dtype=torch.float64)
    (grad,) = torch.autograd.grad(bed.log_prob(x, t).sum(), x)
    assert torch.allclose(bed.model("score")(x.detach(), t), grad, atol=1e-10)


def test_x0_model_is_the_posterior_mean():
    """Tweedie's formula checked by Monte Carlo-free algebra: E[x0|x] = (x + σ² ∇log p)/α."""
    bed = random_gaussian(3, seed=2)
    x = torch.randn(8, 3, dtype=torch.float64)
    t = torch.full((8,), 0.5, dtype=torch.float64)
    a, s = float(bed.schedule.alpha(0.5)), float(bed.schedule.sigma(0.5))
    mu, cov = bed.means[0], bed.covs[0]
    c = a * a * cov + s * s * torch.eye(3, dtype=torch.float64)
    expect = mu + (a * cov @ torch.linalg.solve(c, (x - a * mu).T)).T
    assert torch.allclose(bed.model("x0")(x, t), expect, atol=1e-12)


def test_gaussian_closed_form_matches_rk4():
    bed = random_gaussian(4, seed=0)
    as_mixture = GaussianMixture(bed.means, bed.covs, None, bed.schedule)
    x_t = torch.randn(8, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = bed.ode_solution(x_t, 1.0, 1e-3)
    e400 = (as_mixture.ode_solution(x_t, 1.0, 1e-3, steps=400) - exact).abs().max()
    e800 = (as_mixture.ode_solution(x_t, 1.0, 1e-3, steps=800) - exact).abs().max()
    assert e400 < 1e-7 and 12 < e400 / e800 < 20  # RK4: fourth order, towards the closed form


def test_mixture_reference_converges():
    bed = example_mixture("vp-linear")
    x_t = bed.sample_marginal(8, 1.0, torch.Generator().manual_seed(0))
    coarse, fine = bed.ode_solution(x_t, 1.0, 1e-2, steps=200), bed.ode_solution(x_t, 1.0, 1e-2, steps=400)
    assert (coarse - fine).abs().max() < 1e-6


def test_sampling_helpers():
    bed = example_mixture("vp-linear")
    x0, labels = bed.sample_data(3000, torch.Generator().manual_seed(0))
    assert x0.shape == (3000, 2) and set(labels.tolist()) == {0, 1, 2}
    assert abs((labels == 0).double().mean().item() - 0.5) < 0.05
    with pytest.raises(ValueError):
        GaussianMixture(torch.zeros(2, 2), torch.zeros(2, 2, 2))
