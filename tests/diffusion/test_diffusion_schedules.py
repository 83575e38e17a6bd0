"""Schedules, spacings and parameterisations: closed forms, inverses and exact conversions."""

from __future__ import annotations

import math

import pytest
import torch

from pdesuite.diffusion import (
    SCHEDULES,
    ClassifierFreeGuidance,
    DiscreteVP,
    convert,
    dynamic_threshold,
    get_schedule,
    make_timesteps,
)
from pdesuite.errors import BadInput

NAMES = ["ddpm-linear", "ddpm-scaled-linear", "ddpm-cosine", "vp-linear", "vp-cosine", "ve", "edm"]


def test_registry_lists_every_schedule():
    assert sorted(SCHEDULES.names()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_lambda_inverse_and_ranges(name):
    s = get_schedule(name)
    t = torch.linspace(s.t_min, s.t_max, 257, dtype=torch.float64)
    lam = s.lambda_(t)
    assert (lam[1:] < lam[:-1]).all()  # λ decreases towards noise
    assert torch.allclose(s.t_of_lambda(lam), t, rtol=1e-9, atol=1e-9 * s.t_max)
    a, sig = s.alpha(t), s.sigma(t)
    assert torch.allclose(torch.log(a / sig), lam, atol=1e-12)
    if name.startswith(("ddpm", "vp")):
        assert torch.allclose(a**2 + sig**2, torch.ones_like(a), atol=1e-12)
    else:
        assert torch.equal(a, torch.ones_like(a))
    assert get_schedule(s.config()).config() == s.config()


def test_discrete_tables():
    lin = get_schedule("ddpm-linear")
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    acp = torch.cumprod(1 - betas, 0)
    assert torch.allclose(lin.alpha(torch.arange(1000.0)) ** 2, acp, rtol=1e-12)
    assert lin.num_train_steps == 1000 and lin.t_max == 999
    cos = get_schedule("ddpm-cosine")  # Nichol & Dhariwal: ᾱ_n = f(n+1)/f(0) with f = cos²(π/2 (n/T + s)/(1 + s))
    f = lambda n: math.cos((n / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert math.isclose(float(cos.alpha(499.0)) ** 2, f(500) / f(0), rel_tol=1e-12)
    vp = get_schedule("vp-linear")  # Song et al.: log α = -(β1-β0) t²/4 - β0 t/2
    assert math.isclose(float(vp.log_alpha(0.5)), -19.9 * 0.25 / 4 - 0.05 / 2, rel_tol=1e-14)
    assert float(get_schedule("ve").sigma(1.0)) == pytest.approx(50.0)


def test_zero_terminal_snr_table():
    """β_{N-1} = 1 (Lin et al. 2024; PDE-Refiner's chain): α = 0, λ = -∞ at t_max, ᾱ linear on the last
    interval, t(λ) exact, and σ² kept to round-off where ᾱ is close to 1 (no 1 - ᾱ cancellation)."""
    betas = [4e-7 ** (1 - n / 3) for n in range(4)]  # PDE-Refiner, K = 3
    s = DiscreteVP(betas, "zero-snr")
    assert s.zero_terminal_snr and not get_schedule("ddpm-linear").zero_terminal_snr
    knots = torch.arange(4.0, dtype=torch.float64)
    acp = torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64), 0)
    assert torch.allclose(s.alphas_cumprod, acp, rtol=1e-13, atol=0) and float(s.alphas_cumprod[-1]) == 0.0
    assert torch.allclose(s.sigma(knots[:3]) ** 2, torch.tensor([4e-7, 5.46883e-5, 7.42235e-3],
                                                                 dtype=torch.float64), rtol=1e-5)
    assert float(s.sigma(0.0)) ** 2 == pytest.approx(4e-7, rel=1e-13)
    assert float(s.alpha(3.0)) == 0.0 and float(s.lambda_(3.0)) == -math.inf and float(s.sigma(3.0)) == 1.0
    t = torch.linspace(0, 3, 61, dtype=torch.float64)
    lam = s.lambda_(t)
    assert torch.isfinite(lam[:-1]).all() and (lam[1:] < lam[:-1]).all()  # no NaN at the knots, monotone
    assert torch.allclose(s.t_of_lambda(lam), t, rtol=0, atol=1e-12)
    mid = torch.tensor([2.25, 2.5, 2.75], dtype=torch.float64)  # ᾱ linear between the last two knots
    assert torch.allclose(s.alpha(mid) ** 2, (3 - mid) * acp[2], rtol=1e-12)
    assert get_schedule(DiscreteVP.from_alphas_cumprod(acp)).zero_terminal_snr
    with pytest.raises(BadInput, match="the last may be 1"):
        DiscreteVP([0.1, 1.0, 0.5])


@pytest.mark.parametrize("spacing", ["uniform-t", "uniform-lambda", "quadratic", "karras"])
@pytest.mark.parametrize("name", ["vp-linear", "ddpm-linear", "edm"])
def test_spacings(name, spacing):
    s = get_schedule(name)
    ts = make_timesteps(s, 10, spacing)
    assert ts.shape == (11,) and ts[0] == s.t_max and ts[-1] == s.t_min and (ts[1:] < ts[:-1]).all()
    if spacing == "uniform-lambda":
        assert torch.allclose(torch.diff(s.lambda_(ts)), torch.diff(s.lambda_(ts))[0].expand(10), rtol=1e-8)
    if spacing == "karras":
        sbar = torch.exp(-s.lambda_(ts)) ** (1 / 7)
        assert torch.allclose(torch.diff(sbar), torch.diff(sbar)[0].expand(10), rtol=1e-8)


def test_edm_karras_grid_is_the_papers():
    ts = make_timesteps(get_schedule("edm"), 17, "karras")  # Karras et al. Eq. 5
    i = torch.arange(18, dtype=torch.float64)
    expect = (80 ** (1 / 7) + i / 17 * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    assert torch.allclose(ts, expect, rtol=1e-12)


@pytest.mark.parametrize("src", ["eps", "x0", "v", "score"])
@pytest.mark.parametrize("dst", ["eps", "x0", "v", "score"])
@pytest.mark.parametrize("alpha,sigma", [(0.6, 0.8), (1.0, 3.0), (0.99, 0.05)])
def test_conversions_are_exact(src, dst, alpha, sigma):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    x = alpha * x0 + sigma * eps
    truth = {"eps": eps, "x0": x0, "v": alpha * eps - sigma * x0, "score": -eps / sigma}
    assert torch.allclose(convert(truth[src], x, alpha, sigma, src, dst), truth[dst], atol=1e-12)


def test_guidance_commutes_with_conversion():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    eps_c = torch.randn(4, 3, generator=g, dtype=torch.float64)
    eps_u = torch.randn(4, 3, generator=g, dtype=torch.float64)
    a, s = 0.8, 0.6
    model = lambda pred: (lambda x, t, c=True: convert(eps_c if c else eps_u, x, a, s, "eps", pred))  # noqa: E731
    guided = {p: ClassifierFreeGuidance(model(p), 4.0, {"c": False})(x, None, c=True) for p in ("eps", "x0", "v")}
    for p in ("x0", "v"):
        assert torch.allclose(convert(guided[p], x, a, s, p, "eps"), guided["eps"], atol=1e-12)
    assert torch.allclose(guided["eps"], eps_u + 4.0 * (eps_c - eps_u))


def test_dynamic_threshold():
    x0 = torch.tensor([[0.5, -0.2, 0.1, 0.3], [4.0, -3.0, 2.0, 0.5]])
    out = dynamic_threshold(x0, quantile=1.0, max_value=10.0)
    assert torch.equal(out[0], x0[0])  # s = max(quantile, 1) = 1: untouched
    assert torch.allclose(out[1], x0[1] / 4.0)  # s = 4: rescaled into [-1, 1]
    assert dynamic_threshold(x0, 1.0, 2.0)[1].abs().max() <= 1.0


def test_unknown_schedule_and_spacing():
    with pytest.raises(BadInput, match="unknown schedule 'cosine-ish'"):
        get_schedule("cosine-ish")
    with pytest.raises(BadInput, match="unknown spacing"):
        make_timesteps(get_schedule("vp-linear"), 4, "log")
