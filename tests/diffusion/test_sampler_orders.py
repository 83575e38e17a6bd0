"""Observed global order of every ODE sampler on the exact Gaussian test bed (closed-form PF-ODE).

Setting: vp-linear, t from 1 to 1e-3, quadratic spacing, NFE 48-192 (multiples of 3 and 6 so the
singlestep solvers use only full-order intervals), relative RMS error over 32 samples in 4 dims.
A grid that is non-uniform in λ avoids the error cancellation uniform-λ steps give on a Gaussian
(there DPM-Solver++(3M) shows order 4, see docs/diffusion/).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pdesuite.diffusion import make_sampler
from pdesuite.diffusion.testing import random_gaussian

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
    ("unipc", {"order": 1, "lower_order_final": False}),
    ("unipc", {"order": 2, "lower_order_final": False}),
    ("unipc", {"order": 3, "lower_order_final": False}),
    ("unipc", {"order": 2, "variant": "bh1", "lower_order_final": False}),
    ("unipc", {"order": 2, "corrector": False, "lower_order_final": False}),
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
