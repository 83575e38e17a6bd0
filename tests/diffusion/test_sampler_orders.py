"""Observed global order of every sampler on the exact Gaussian test bed (closed-form PF-ODE and law).

1. Every registered sampler (iterating `SAMPLERS`, so a new one is covered without editing this file)
   with its default settings on the DDPM linear schedule (ddpm-linear: 1000 steps, β 1e-4..0.02),
   from t_max to t_min, NFE 50-200: the observed order equals the declared `theoretical_order` within
   0.3. Deterministic samplers: strong order, relative RMS error against the exact ODE solution from
   the same x_T (32 samples, 4 dims). Stochastic samplers (DDPM): weak order, the error of the exact
   output law (`pdesuite.diffusion.testing.output_law`, no Monte Carlo floor) against the law the
   exact reverse process gives, from x_T drawn from the exact p_T. No sampler is excluded.
2. Options of each sampler: vp-linear, t from 1 to 1e-3, quadratic spacing, NFE 48-192, where a
   grid that is non-uniform in λ avoids the error cancellation uniform-λ steps give on a Gaussian
   (there DPM-Solver++(3M) shows order 4, see docs/diffusion/).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesuite.diffusion import make_sampler, split_budget
from pdesuite.diffusion.testing import output_law, random_gaussian
from pdesuite.registry import SAMPLERS

NFES = (48, 96, 192)
T_END = 1e-3


@pytest.fixture(scope="module")
def bed():
    gauss = random_gaussian(4, seed=0, schedule="vp-linear")
    x_t = torch.randn(32, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return gauss, x_t, gauss.ode_solution(x_t, 1.0, T_END)


def observed_order(bed, name, nfes=NFES, **kwargs):
    gauss, x_t, exact = bed
    errors, sampler = [], None
    for nfe in nfes:
        sampler = make_sampler(name, schedule=gauss.schedule, steps=nfe, t_end=T_END, **kwargs)
        x = sampler.sample(gauss.model("eps"), x_t)
        assert sampler.last_nfe == nfe
        errors.append(float(((x - exact).pow(2).mean() / exact.pow(2).mean()).sqrt()))
    slope = -np.polyfit(np.log(nfes), np.log(errors), 1)[0]
    return slope, sampler.theoretical_order, errors


CASES = [
    ("ddim", {}),
    ("dpm-solver", {"order": 1}),
    ("dpm-solver", {"order": 2}),
    ("dpm-solver", {"order": 3}),
    ("dpm-solver++", {"variant": "2S"}),
    ("dpm-solver++", {"variant": "2M"}),
    ("dpm-solver++", {"variant": "3M"}),
    ("deis", {"order": 1}),
    ("deis", {"order": 2}),
    ("deis", {"order": 3}),
    ("unipc", {"order": 1}),
    ("unipc", {"order": 2}),
    ("unipc", {"order": 3}),
    ("unipc", {"order": 2, "variant": "bh1"}),
    ("unipc", {"order": 2, "corrector": False}),
    ("pndm", {"warmup": "ab"}),
    ("pndm", {"warmup": "prk"}),
    ("edm-heun", {}),
    ("plms-hb", {"beta": 0.8}),
    ("dpm-solver++-hb", {"beta": 0.8}),
    ("ghvb", {"momentum": 1.8}),
]


IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_observed_order(bed, name, kwargs):
    slope, theory, errors = observed_order(bed, name, spacing="quadratic", **kwargs)
    assert abs(slope - theory) <= 0.3, f"{name} {kwargs}: observed {slope:.2f}, theory {theory}, errors {errors}"


DDPM_NFES = (50, 71, 100, 141, 200)


@pytest.fixture(scope="module")
def ddpm_bed():
    gauss = random_gaussian(4, seed=0, schedule="ddpm-linear")
    return gauss, torch.randn(32, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def default_error(bed, name: str, nfe: int, **kwargs) -> tuple[float, object]:
    """Strong (deterministic) or weak (stochastic) relative error of ``name`` at its defaults."""
    gauss, x_t = bed
    sampler = make_sampler(name, schedule=gauss.schedule, steps=nfe, **kwargs)
    if sampler.stochastic:
        mean, cov = output_law(sampler, gauss.model(), *gauss.marginal(sampler.t_start))
        ref_mean, ref_cov = (gauss.denoised_law if sampler.final_sigma_zero else gauss.marginal)(sampler.t_end)
        error = (cov - ref_cov).norm() / ref_cov.norm() + (mean - ref_mean).norm() / ref_cov.trace().sqrt()
    else:
        exact = gauss.ode_solution(x_t, sampler.t_start, sampler.t_end)
        if sampler.final_sigma_zero:  # the last step lands on the data prediction at t_end
            exact = gauss.x0(exact, sampler.t_end)
        x = sampler.sample(gauss.model(), x_t)
        error = ((x - exact).pow(2).mean() / exact.pow(2).mean()).sqrt()
    assert sampler.last_nfe == nfe
    return float(error), sampler


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_declared_order_at_defaults_on_ddpm_linear(ddpm_bed, name):
    errors, sampler = [], None
    for nfe in DDPM_NFES:
        error, sampler = default_error(ddpm_bed, name, nfe)
        errors.append(error)
    slope = -np.polyfit(np.log(DDPM_NFES), np.log(errors), 1)[0]
    kind = "weak" if sampler.stochastic else "strong"
    assert abs(slope - sampler.theoretical_order) <= 0.3, (
        f"{name} at its defaults ({sampler.spacing}): observed {kind} order {slope:.2f}, declared "
        f"{sampler.theoretical_order}, errors {errors}")


@pytest.mark.parametrize("name,kwargs", [("pndm", {"warmup": "prk"}), ("ghvb", {"momentum": 1.8}),
                                         ("ddpm", {"variance": "large"})])
def test_declared_order_of_other_options_on_ddpm_linear(ddpm_bed, name, kwargs):
    """Both PNDM warm-ups and other momentum numbers hold their order on the default grid too."""
    errors = [default_error(ddpm_bed, name, nfe, **kwargs)[0] for nfe in DDPM_NFES]
    slope = -np.polyfit(np.log(DDPM_NFES), np.log(errors), 1)[0]
    order = make_sampler(name, steps=50, **kwargs).theoretical_order
    assert abs(slope - order) <= 0.3, (name, kwargs, slope, errors)


def test_plms_on_uniform_t_is_first_order_in_practice(ddpm_bed):
    """Why the PLMS family's default grid is uniform in λ: on uniform-t steps of a VP schedule σ/α ≈ sqrt(c t)
    at the data end, the step ratios there never approach 1, and the fixed weights leave an O(h) error."""
    for name in ("pndm", "ghvb"):
        errors = [default_error(ddpm_bed, name, nfe, spacing="uniform-t")[0] for nfe in DDPM_NFES]
        assert -np.polyfit(np.log(DDPM_NFES), np.log(errors), 1)[0] < 1.4, (name, errors)


def test_singlestep_budget_keeps_the_order(ddpm_bed):
    """A leftover evaluation of DPM-Solver-3 is a first-order interval at the noise end, not the data end,
    where it made every NFE ≡ 1 (mod 3) second order (1.9 at 400-800 NFE before; 3.2 now)."""
    assert split_budget(10, 3) == [1, 3, 3, 3] and split_budget(11, 3) == [3, 3, 3, 2]
    assert split_budget(11, 3, last_first_order=True) == [1, 3, 3, 3, 1] and split_budget(7, 2) == [2, 2, 2, 1]
    for steps in range(4, 40):
        plan = split_budget(steps, 3)
        assert sum(plan) == steps and min(plan[1:]) >= 2
    nfes = (100, 199, 400, 799)  # all ≡ 1 (mod 3); ddpm-linear allows up to 1000
    errors = [default_error(ddpm_bed, "dpm-solver", nfe)[0] for nfe in nfes]
    assert abs(-np.polyfit(np.log(nfes), np.log(errors), 1)[0] - 3) <= 0.3, errors


def test_unipc_lowers_the_final_steps_below_15_only():
    """lower_order_final (default) lowers the last steps of short runs, keeps UniPC-p order p + 1 from 15 on."""
    grid_orders = {n: [k for k, *_ in make_sampler("unipc", steps=n, order=3).tables(
        make_sampler("unipc", steps=n, order=3).grid())] for n in (14, 15)}
    assert grid_orders[14][-3:] == [3, 2, 1] and grid_orders[15][-3:] == [3, 3, 3]
    assert make_sampler("unipc", steps=14, order=3, lower_order_final=False).tables(
        make_sampler("unipc", steps=14, order=3).grid())[-1][0] == 3


def test_theoretical_orders_are_the_papers():
    expected = {("ddim", ()): 1, ("dpm-solver", (("order", 3),)): 3, ("dpm-solver++", (("variant", "2M"),)): 2,
                ("dpm-solver++", (("variant", "3M"),)): 3, ("unipc", (("order", 2),)): 3, ("deis", (("order", 2),)): 2,
                ("edm-heun", ()): 2}
    for (name, kw), order in expected.items():
        assert make_sampler(name, steps=12, **dict(kw)).theoretical_order == order


def test_plms_order_follows_its_warmup():
    """On a grid uniform in σ/α (EDM, uniform t) PLMS-4 is order 4 with the PRK warm-up, 2 with AB."""
    gauss = random_gaussian(4, seed=0, schedule="edm")
    x_t = torch.randn(32, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = gauss.ode_solution(x_t, 2.0, 0.2)
    for warmup, nfes in (("prk", (48, 96, 192)), ("ab", (96, 192, 384))):
        errors = []
        for nfe in nfes:
            s = make_sampler("pndm", schedule=gauss.schedule, steps=nfe, t_start=2.0, t_end=0.2, spacing="uniform-t",
                             warmup=warmup)
            errors.append(float((s.sample(gauss.model("eps"), x_t) - exact).pow(2).mean().sqrt()))
        slope = -np.polyfit(np.log(nfes), np.log(errors), 1)[0]
        assert abs(slope - s.theoretical_order) <= 0.3, (warmup, slope, errors)
    assert s.theoretical_order == 2
