"""Heavy ball (HB) and generalized heavy ball (GHVB): the trade-off of Wizadwongsa et al. 2023.

* β = 1 gives back the base method exactly.
* Theorem 1 / 2 as order conditions of the x-only recurrences (exact for polynomials up to the order).
* HB is first order for β < 1 (observed in test_sampler_orders), GHVB keeps its order, so at a fixed
  NFE HB's error grows quickly as β leaves 1 while GHVB's stays between PLMS-(r-1) and PLMS-r.
* Both damp the divergence of high-order solvers under strong classifier-free guidance, on the
  uniform-t grid of the paper; the default uniform-λ grid resolves the stiff region and diverges more.
* The samplers live one per file; their names stay importable from `pdesuite.diffusion.momentum`.
"""

from __future__ import annotations

import pytest
import torch

from pdesuite.diffusion import ClassifierFreeGuidance, make_sampler, momentum
from pdesuite.diffusion.pndm import ab_weights
from pdesuite.diffusion.testing import Gaussian, random_gaussian


@pytest.fixture(scope="module")
def bed():
    gauss = random_gaussian(4, seed=0)
    x_t = torch.randn(16, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return gauss, x_t, gauss.ode_solution(x_t, 1.0, 1e-3)


def rel_error(bed, name, steps=20, **kwargs):
    gauss, x_t, exact = bed
    x = make_sampler(name, schedule=gauss.schedule, steps=steps, t_end=1e-3, spacing="quadratic", **kwargs).sample(
        gauss.model(), x_t)
    return float(((x - exact).pow(2).mean() / exact.pow(2).mean()).sqrt())


@pytest.mark.parametrize("steps", [7, 20])
def test_beta_one_is_the_base_method(bed, steps):
    gauss, x_t, _ = bed
    m = gauss.model()

    def run(name, **kw):
        return make_sampler(name, steps=steps, **kw).sample(m, x_t)

    def same(a, b):
        return torch.allclose(a, b, rtol=0, atol=1e-12)

    assert same(run("plms-hb", beta=1.0), run("pndm", warmup="ab"))
    assert same(run("ghvb", momentum=4.0), run("pndm", warmup="ab"))
    assert same(run("ghvb", momentum=2.0), run("pndm", warmup="ab", order=2))
    assert same(run("dpm-solver++-hb", beta=1.0), run("dpm-solver++", variant="2M"))


def _residual(weights, beta, degree):
    """x(1) - x(0) - (1-β)(x(0) - x(-1)) - β Σ_i w_i x'(-i) for x(s) = s^degree (step 1)."""
    x = lambda s: float(s) ** degree  # noqa: E731
    dx = lambda s: degree * float(s) ** (degree - 1) if degree else 0.0  # noqa: E731
    return x(1) - x(0) - (1 - beta) * (x(0) - x(-1)) - beta * sum(w * dx(-i) for i, w in enumerate(weights))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("beta", [0.2, 0.5, 0.8, 1.0])
def test_order_conditions(order, beta):
    """GHVB-r is exact for polynomials of degree <= r (Theorem 2); HB on AB-r only for degree <= 1 (Theorem 1)."""
    ghvb, hb = ab_weights(order, beta), ab_weights(order)
    for degree in range(order + 1):
        assert abs(_residual(ghvb, beta, degree)) < 1e-12
    assert abs(_residual(ghvb, beta, order + 1)) > 1e-6
    assert abs(_residual(hb, beta, 1)) < 1e-12
    if beta < 1 and order > 1:
        assert abs(_residual(hb, beta, 2)) > 1e-3


def test_accuracy_trade_off(bed):
    plms4, plms2, ddim = rel_error(bed, "pndm"), rel_error(bed, "pndm", order=2), rel_error(bed, "ddim")
    hb = [rel_error(bed, "plms-hb", beta=b) for b in (0.9, 0.7, 0.5, 0.3)]
    dpm_hb = [rel_error(bed, "dpm-solver++-hb", beta=b) for b in (0.9, 0.7, 0.5, 0.3)]
    ghvb4 = [rel_error(bed, "ghvb", momentum=3 + b) for b in (0.9, 0.7, 0.5, 0.3)]
    ghvb2 = [rel_error(bed, "ghvb", momentum=1 + b) for b in (0.9, 0.7, 0.5, 0.3)]
    assert hb == sorted(hb) and dpm_hb == sorted(dpm_hb)  # HB: error grows as β leaves 1 ...
    assert hb[-1] > 10 * plms4
    assert all(e < 1.5 * plms4 for e in ghvb4)  # ... GHVB stays near the high-order method
    assert ghvb2 == sorted(ghvb2) and plms2 < ghvb2[0] and ghvb2[-1] < ddim  # interpolates PLMS-2 ... PLMS-1
    assert all(g < h for g, h in zip(ghvb4, hb, strict=True))


def test_samplers_are_importable_from_momentum():
    from pdesuite.registry import SAMPLERS

    for name, cls in (("plms-hb", "PLMSHeavyBall"), ("ghvb", "GHVB"), ("dpm-solver++-hb", "DPMSolverPPHeavyBall")):
        assert getattr(momentum, cls) is SAMPLERS.get(name)
    assert momentum.check_beta(1) == 1.0
    with pytest.raises(AttributeError):
        momentum.PLMS  # noqa: B018


def test_momentum_damps_guided_divergence():
    """Strong CFG (w = 7.5) on a narrow conditional: PLMS-4 diverges at 12 steps, momentum damps it
    (time-uniform grid, the paper's; the default uniform-λ grid diverges far more: 4.4e3 vs 12)."""
    uncond = Gaussian(torch.zeros(2), torch.eye(2, dtype=torch.float64))
    cond = Gaussian(torch.ones(2), 0.002 * torch.eye(2, dtype=torch.float64))
    mu, mc = uncond.model(), cond.model()
    model = ClassifierFreeGuidance(lambda x, t, c=True: (mc if c else mu)(x, t), 7.5, {"c": False})
    x_t = torch.randn(64, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = make_sampler("dpm-solver++", steps=800, variant="3M").sample(model, x_t, c=True)

    def err(name, spacing="uniform-t", **kw):
        sampler = make_sampler(name, steps=12, spacing=spacing, **kw)
        return float((sampler.sample(model, x_t, c=True) - ref).pow(2).mean().sqrt())

    plms = err("pndm")
    hb = [err("plms-hb", beta=b) for b in (0.8, 0.5)]
    ghvb = [err("ghvb", momentum=m) for m in (3.8, 3.5)]
    assert err("pndm", spacing="uniform-lambda") > 100 * plms
    assert plms > 5.0  # diverged (the data lie within ~2 of the origin)
    assert plms > hb[0] > hb[1] and hb[1] < 0.1 * plms
    assert plms > ghvb[0] > ghvb[1]
    assert err("dpm-solver++-hb", beta=0.5, spacing="uniform-lambda") < err("dpm-solver++", spacing="uniform-lambda")
