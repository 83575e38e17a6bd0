"""Stochastic samplers reproduce the data distribution of the exact Gaussian-mixture model.

Fixed seed, 2000 samples on the discrete ddpm-linear schedule: component weights, means and
covariances of the samples (each assigned to its most likely component) agree with the truth within
4 standard errors.
"""

from __future__ import annotations

import math

import pytest
import torch

from pdesuite.diffusion import make_sampler
from pdesuite.diffusion.testing import example_mixture

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
