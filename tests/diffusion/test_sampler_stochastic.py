"""Stochastic samplers reproduce the data distribution of the exact Gaussian-mixture model.

Fixed seed, 2000 samples on the discrete ddpm-linear schedule: component weights, means and
covariances of the samples (each assigned to its most likely component) agree with the truth within
4 standard errors. Also: the DDPM step is Ho et al.'s Eq. 7, the exact output law of the test bed
agrees with Monte Carlo, and DDPM runs from pure noise on a zero-terminal-SNR table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdesuite.diffusion import DiscreteVP, get_schedule, make_sampler
from pdesuite.diffusion.ddpm import posterior_coefficients
from pdesuite.diffusion.testing import example_mixture, output_law, random_gaussian
from pdesuite.errors import BadInput

N = 2000


def assert_matches(bed, x):
    labels = bed.responsibilities(x).argmax(1)
    for k in range(3):
        xs, w, cov = x[labels == k], float(bed.weights[k]), bed.covs[k]
        nk = xs.shape[0]
        assert abs(nk / N - w) < 4 * math.sqrt(w * (1 - w) / N), f"weight {k}: {nk / N} vs {w}"
        assert ((xs.mean(0) - bed.means[k]).abs() < 4 * (cov.diagonal() / nk).sqrt()).all(), f"mean {k}"
        se = ((cov.diagonal()[:, None] * cov.diagonal()[None] + cov**2) / nk).sqrt()
        assert ((torch.cov(xs.T) - cov).abs() < 4 * se).all(), f"covariance {k}: {torch.cov(xs.T)} vs {cov}"


@pytest.mark.parametrize("variance", ["small", "large"])
def test_ddpm_samples_the_mixture(variance):
    bed = example_mixture("ddpm-linear")
    gen = torch.Generator().manual_seed(0)
    x_t = torch.randn(N, 2, generator=gen, dtype=torch.float64)
    x = make_sampler("ddpm", schedule="ddpm-linear", steps=1000, variance=variance).sample(bed.model(), x_t,
                                                                                           generator=gen)
    assert_matches(bed, x)


def test_ddim_eta_one_is_ddpm_and_eta_zero_is_deterministic():
    bed = example_mixture("ddpm-linear")
    x_t = torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def run(name, seed, **kw):
        s = make_sampler(name, schedule="ddpm-linear", steps=40, final_sigma_zero=True, **kw)
        return s.sample(bed.model(), x_t, generator=torch.Generator().manual_seed(seed))

    assert torch.allclose(run("ddim", 1, eta=1.0), run("ddpm", 1), atol=1e-12, rtol=0)
    assert torch.equal(run("ddim", 1, eta=0.0), run("ddim", 2, eta=0.0))
    assert not torch.allclose(run("ddim", 1, eta=0.5), run("ddim", 2, eta=0.5))
    assert torch.equal(run("ddim", 3, eta=0.5), run("ddim", 3, eta=0.5))  # fixed seed reproduces


@pytest.mark.parametrize("t", [1, 2, 500, 999])
def test_posterior_coefficients_are_ho_et_al_eq7(t):
    """Between consecutive steps of a DDPM table: mean √ᾱ_{t-1} β_t/(1-ᾱ_t) x0 + √(1-β_t)(1-ᾱ_{t-1})/(1-ᾱ_t) x_t,
    variance β̃_t = (1-ᾱ_{t-1}) β_t/(1-ᾱ_t) ("small") or β_t ("large")."""
    s = get_schedule("ddpm-linear")
    beta, acp, acp_prev = float(s.betas[t]), float(s.alphas_cumprod[t]), float(s.alphas_cumprod[t - 1])
    now, prev = (float(s.alpha(t)), float(s.sigma(t)), float(s.lambda_(t))), (
        float(s.alpha(t - 1)), float(s.sigma(t - 1)), float(s.lambda_(t - 1)))
    c_x, c_x0, std = posterior_coefficients(*now, *prev)
    assert c_x0 == pytest.approx(math.sqrt(acp_prev) * beta / (1 - acp), rel=1e-9)
    assert c_x == pytest.approx(math.sqrt(1 - beta) * (1 - acp_prev) / (1 - acp), rel=1e-9)
    assert std**2 == pytest.approx((1 - acp_prev) * beta / (1 - acp), rel=1e-9)
    assert posterior_coefficients(*now, *prev, variance="large")[2] ** 2 == pytest.approx(beta, rel=1e-9)
    assert posterior_coefficients(0.0, 1.0, -math.inf, *prev) == (0.0, prev[0], prev[1])  # from pure noise
    assert posterior_coefficients(*now, 1.0, 0.0, math.inf) == (0.0, 1.0, 0.0)  # to the clean point


def test_output_law_agrees_with_monte_carlo():
    """`output_law` (exact, by linearity) against 40000 DDPM runs: means and covariances within 5 standard errors."""
    bed = random_gaussian(3, seed=1, schedule="ddpm-linear")
    sampler = make_sampler("ddpm", schedule="ddpm-linear", steps=12)
    mean_t, cov_t = bed.marginal(999.0)
    mean, cov = output_law(sampler, bed.model(), mean_t, cov_t)
    assert sampler.last_nfe == 12
    gen = torch.Generator().manual_seed(0)
    n = 40000
    x_t = mean_t + torch.randn(n, 3, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(cov_t).T
    x = sampler.sample(bed.model(), x_t, generator=gen)
    assert ((x.mean(0) - mean).abs() < 5 * (cov.diagonal() / n).sqrt()).all()
    se = ((cov.diagonal()[:, None] * cov.diagonal()[None] + cov**2) / n).sqrt()
    assert ((torch.cov(x.T) - cov).abs() < 5 * se).all()


def zero_terminal_snr(name: str = "ddpm-linear") -> DiscreteVP:
    """Lin et al. 2024, Algorithm 1: shift and scale sqrt(ᾱ) so that the last step is pure noise."""
    root = get_schedule(name).alphas_cumprod.sqrt()
    root = (root - root[-1]) * root[0] / (root[0] - root[-1])
    return DiscreteVP.from_alphas_cumprod(root**2, name + "-zero-snr")


def test_ddpm_from_pure_noise_on_a_zero_terminal_snr_table():
    """The first step from α = 0 is α' x̂0 + σ' z; the law converges at weak order 1 (v-prediction)."""
    schedule = zero_terminal_snr()
    bed = random_gaussian(4, seed=0, schedule=schedule)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sampler = make_sampler("ddpm", schedule=schedule, steps=20, prediction="v")
    first = sampler.sample(bed.model("v"), x, generator=torch.Generator().manual_seed(1), return_trajectory=True)[1][1]
    grid = sampler.grid()
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x0 = bed.x0(x, grid.t[0])
    assert grid.alpha[0] == 0.0 and torch.allclose(first, grid.alpha[1] * x0 + grid.sigma[1] * z, atol=1e-12)
    nfes, errors = (50, 100, 200), []
    for nfe in nfes:
        sampler = make_sampler("ddpm", schedule=schedule, steps=nfe, prediction="v")
        mean, cov = output_law(sampler, bed.model("v"), *bed.marginal(sampler.t_start))
        ref_mean, ref_cov = bed.denoised_law(sampler.t_end)
        error = (cov - ref_cov).norm() / ref_cov.norm() + (mean - ref_mean).norm() / ref_cov.trace().sqrt()
        errors.append(float(error))
    assert abs(-np.polyfit(np.log(nfes), np.log(errors), 1)[0] - 1) <= 0.3, errors


@pytest.mark.parametrize("name,kw,message", [
    ("ddim", {"prediction": "v"}, "ddim cannot start at pure noise"),
    ("dpm-solver++", {"prediction": "x0"}, r"dpm-solver\+\+ cannot start at pure noise"),
    ("ddpm", {}, "needs prediction 'x0' or 'v', got 'eps'"),
])
def test_pure_noise_start_needs_support_and_a_data_model(name, kw, message):
    with pytest.raises(BadInput, match=message):
        make_sampler(name, schedule=zero_terminal_snr(), steps=10, **kw)
    make_sampler(name, schedule=zero_terminal_snr(), steps=10, t_start=998.0, **kw)  # below pure noise: fine
