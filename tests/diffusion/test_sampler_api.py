"""The shared sampler interface: NFE budget, grid, config round trip, trajectory, devices and dtypes,
conditioning, inversion, and one-line BadInput for every kind of bad input."""

from __future__ import annotations

import pytest
import torch

from pdesuite.diffusion import make_sampler
from pdesuite.diffusion.testing import random_gaussian
from pdesuite.errors import BadInput
from pdesuite.registry import SAMPLERS

ALL = ["ddim", "ddpm", "deis", "dpm-solver", "dpm-solver++", "dpm-solver++-hb", "edm-heun", "ghvb", "plms-hb", "pndm",
       "unipc"]
VARIANTS = [(n, {}) for n in ALL] + [("dpm-solver++", {"variant": "2S"}), ("dpm-solver++", {"variant": "3M"}),
                                      ("dpm-solver", {"order": 2}), ("pndm", {"warmup": "prk"})]


def test_registry_has_every_sampler():
    assert SAMPLERS.names() == sorted(ALL)


@pytest.fixture(scope="module")
def bed():
    return random_gaussian(3, seed=0)


@pytest.mark.parametrize("name,kw", VARIANTS)
@pytest.mark.parametrize("steps", [13, 20])
@pytest.mark.parametrize("final_sigma_zero", [False, True])
def test_nfe_budget_and_config_round_trip(bed, name, kw, steps, final_sigma_zero):
    s = make_sampler(name, steps=steps, final_sigma_zero=final_sigma_zero, **kw)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out, traj = s.sample(bed.model(), x, generator=torch.Generator().manual_seed(1), return_trajectory=True)
    assert s.last_nfe == steps
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert len(traj) == s.grid().intervals + 1 and traj[0] is x and torch.equal(traj[-1], out)
    again = make_sampler(**s.config()).sample(bed.model(), x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again, out)


@pytest.mark.parametrize("name", ALL)
def test_float32_and_conditioning_pass_through(bed, name):
    seen = []
    exact = bed.model()

    def model(x, t, *, label):
        seen.append((label, t.shape, t.dtype))
        return exact(x, t)

    x = torch.randn(5, 3, dtype=torch.float32)
    out = make_sampler(name, steps=8).sample(model, x, label="cat", generator=torch.Generator().manual_seed(0))
    assert out.dtype == torch.float32 and seen and all(s == ("cat", (5,), torch.float32) for s in seen)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name,kw", [("ddpm", {}), ("ddim", {"eta": 0.5})])
def test_a_cpu_generator_gives_the_same_noise_on_cuda(name, kw):
    """Noise is drawn on the generator's device, so a seeded CPU generator reproduces a CPU run on CUDA."""
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sampler = make_sampler(name, steps=10, **kw)
    model = lambda x, t: 0.5 * x  # noqa: E731 - affine and device-agnostic
    cpu = sampler.sample(model, x, generator=torch.Generator().manual_seed(1))
    cuda = sampler.sample(model, x.cuda(), generator=torch.Generator().manual_seed(1))
    assert cuda.is_cuda and torch.allclose(cuda.cpu(), cpu, rtol=1e-12, atol=1e-12)


def test_ddim_inversion_round_trip(bed):
    x_t = torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    errors = []
    for steps in (25, 50, 100):
        s = make_sampler("ddim", steps=steps, t_end=0.02, spacing="uniform-lambda")
        errors.append(float((s.invert(bed.model(), s.sample(bed.model(), x_t)) - x_t).abs().max()))
    assert errors[2] < 0.1 and errors[1] < errors[0] / 1.8 and errors[2] < errors[1] / 1.8  # first order
    with pytest.raises(BadInput, match="final_sigma_zero"):
        make_sampler("ddim", steps=5, final_sigma_zero=True).invert(bed.model(), x_t)


def _one_line(exc_info):
    assert "\n" not in str(exc_info.value)
    return str(exc_info.value)


@pytest.mark.parametrize("call,message", [
    (lambda: make_sampler("ddim-fast"), "unknown sampler 'ddim-fast'"),
    (lambda: make_sampler("ddim", schedule="sqrt"), "unknown schedule 'sqrt'"),
    (lambda: make_sampler("ddim", steps=0), "steps must be an integer >= 1"),
    (lambda: make_sampler("unipc", steps=-3), "steps must be an integer >= 1"),
    (lambda: make_sampler("ddim", schedule="ddpm-linear", steps=1001), "exceeds the 1000 training steps"),
    (lambda: make_sampler("deis", order=4), "deis supports order 1/2/3, got 4"),
    (lambda: make_sampler("dpm-solver", order=0), "dpm-solver supports order 1/2/3, got 0"),
    (lambda: make_sampler("unipc", order=5), "unipc supports order 1/2/3, got 5"),
    (lambda: make_sampler("edm-heun", order=3), "edm-heun supports order 2, got 3"),
    (lambda: make_sampler("dpm-solver++", variant="3S"), "variant must be one of 2S, 2M, 3M"),
    (lambda: make_sampler("ghvb", momentum=4.5), "momentum number must be in (0, 4]"),
    (lambda: make_sampler("plms-hb", beta=0.0), "beta must be in (0, 1]"),
    (lambda: make_sampler("ddim", eta=1.5), "eta must be in [0, 1]"),
    (lambda: make_sampler("pndm", steps=10, warmup="prk"), "needs steps >= 13"),
    (lambda: make_sampler("ddim", prediction="noise-ish"), "unknown prediction type"),
    (lambda: make_sampler("ddim", t_start=0.1, t_end=0.5), "t_end < t_start"),
    (lambda: make_sampler("ddim", timesteps=[0.5, 0.7]), "strictly decreasing"),
    (lambda: make_sampler("ddim", stepz=3), "unexpected keyword argument 'stepz'"),
])
def test_bad_input(call, message):
    with pytest.raises(BadInput) as exc_info:
        call()
    assert message in _one_line(exc_info)


@pytest.mark.parametrize("name", ALL)
def test_model_with_wrong_shape(name):
    x = torch.randn(4, 3)
    with pytest.raises(BadInput) as exc_info:
        make_sampler(name, steps=4).sample(lambda x, t: x[:, :2], x)
    assert "model returned shape (4, 2) for an input of shape (4, 3)" in _one_line(exc_info)


def test_cli_lists_samplers(cli):
    code, out, _ = cli("list", "samplers")
    assert code == 0
    for name in ALL:
        assert f"  {name} " in out
