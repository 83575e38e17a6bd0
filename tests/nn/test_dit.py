"""The latent diffusion transformer: shapes, adaLN-Zero identity at init, conditioning, sizes, a tiny fit."""

import pytest
import torch

from pdesuite.diffusion.schedules import get_schedule
from pdesuite.errors import BadInput
from pdesuite.nn.dit import SIZES, LatentDiT, count_parameters, sincos_position_embedding

C, LATENT = 8, (4, 8, 8)


def tiny(**kwargs) -> LatentDiT:
    torch.manual_seed(0)
    return LatentDiT.from_size("tiny", C, LATENT, kwargs.pop("patch", (1, 2, 2)), **kwargs)


def latent(batch: int, seed: int = 0, channels: int = C) -> torch.Tensor:
    return torch.randn(batch, channels, *LATENT, generator=torch.Generator().manual_seed(seed))


def nudge(model: LatentDiT, steps: int = 5, **inputs) -> LatentDiT:
    """A few Adam steps towards a random target, so that the zero-initialised layers are no longer zero."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, target = latent(4, 1), latent(4, 2)
    t = torch.tensor([10.0, 200.0, 500.0, 900.0])
    for _ in range(steps):
        loss = ((model(x, t, **inputs) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("patch", [(1, 2, 2), (2, 2, 2)])
def test_shapes_and_zero_output_at_init(patch):
    model = tiny(patch=patch, context_channels=3, cond_dim=16)
    assert model.grid == tuple(n // p for n, p in zip(LATENT, patch, strict=True))
    x = latent(3)
    out = model(x, torch.tensor([0.0, 499.5, 999.0]), context=latent(3, 1, channels=3), cond_vector=torch.randn(3, 16))
    assert out.shape == x.shape
    assert torch.equal(out, torch.zeros_like(out))  # zero-initialised output layer
    assert model(x, 7.0, context=latent(3, 1, channels=3)).shape == x.shape  # scalar t, all-null condition


def test_each_block_is_identity_at_init():
    model = tiny(cond_dim=16)
    h = torch.randn(2, 64, model.hidden)
    c = model.condition(torch.tensor([3.0, 700.0]), torch.randn(2, 16))
    for block in model.blocks:
        assert torch.equal(block(h, c), h)


def test_patchify_unpatchify_round_trip():
    """With an identity patch kernel, the Conv3d token layout is exactly what unpatchify undoes."""
    model = LatentDiT(C, LATENT, (2, 2, 2), hidden=C * 8, depth=1, heads=2)
    with torch.no_grad():
        model.patch_embed.weight.copy_(torch.eye(C * 8).reshape(model.patch_embed.weight.shape))
        model.patch_embed.bias.zero_()
        x = latent(2)
        tokens = model.patchify(x) - model.pos_embed
    assert tokens.shape == (2, 2 * 4 * 4, C * 8)
    torch.testing.assert_close(model.unpatchify(tokens), x)


def test_position_embedding_is_fixed_and_distinct():
    pos = sincos_position_embedding((2, 4, 4), 30)
    assert pos.shape == (32, 30)
    assert torch.cdist(pos, pos).add(torch.eye(32)).min() > 0.1  # every token has its own code
    odd = sincos_position_embedding((2, 2, 2), 13)
    assert odd.shape == (8, 13) and torch.equal(odd[:, -1], torch.zeros(8))
    model = tiny()
    assert "pos_embed" not in dict(model.named_parameters())
    torch.testing.assert_close(model.pos_embed[0], sincos_position_embedding(model.grid, model.hidden).float())


def test_conditioning_vector_and_context_matter_after_training():
    torch.manual_seed(0)
    model = nudge(tiny(context_channels=2, cond_dim=16), context=latent(4, 3, channels=2),
                  cond_vector=torch.randn(4, 16))
    x, t = latent(2, 4), torch.tensor([100.0, 600.0])
    ctx_a, ctx_b = latent(2, 5, channels=2), latent(2, 6, channels=2)
    vec_a, vec_b = torch.randn(2, 16), torch.randn(2, 16)
    with torch.no_grad():
        base = model(x, t, context=ctx_a, cond_vector=vec_a)
        other_vec = model(x, t, context=ctx_a, cond_vector=vec_b)
        other_ctx = model(x, t, context=ctx_b, cond_vector=vec_a)
        other_t = model(x, t + 50.0, context=ctx_a, cond_vector=vec_a)
    scale = base.abs().max()
    assert scale > 1e-3
    for other in (other_vec, other_ctx, other_t):
        assert (other - base).abs().max() > 1e-4 * scale


@pytest.mark.parametrize("token", [True, False])
def test_drop_uses_the_null_embedding(token):
    model = nudge(tiny(cond_dim=16, cond_dropout_token=token), cond_vector=torch.randn(4, 16))
    x, t, vec = latent(2, 4), torch.tensor([100.0, 600.0]), torch.randn(2, 16)
    with torch.no_grad():
        kept = model(x, t, cond_vector=vec)
        all_dropped = model(x, t, cond_vector=vec, drop=torch.tensor([True, True]))
        null = model(x, t)
        mixed = model(x, t, cond_vector=vec, drop=torch.tensor([True, False]))
    torch.testing.assert_close(all_dropped, null, rtol=0, atol=0)
    torch.testing.assert_close(mixed[0], null[0], rtol=0, atol=0)
    torch.testing.assert_close(mixed[1], kept[1], rtol=0, atol=0)
    assert (kept - null).abs().max() > 1e-6
    assert (model.null_embed is not None) == token


def test_time_scale_maps_continuous_times():
    """time_scale=1000 with t ∈ [0, 1] is the same network as time_scale=1 with t ∈ [0, 1000]."""
    discrete = nudge(tiny())
    continuous = LatentDiT.from_size("tiny", C, LATENT, (1, 2, 2), time_scale=1000.0)
    continuous.load_state_dict(discrete.state_dict())
    x = latent(2, 7)
    with torch.no_grad():
        torch.testing.assert_close(continuous(x, torch.tensor([0.25, 0.8])), discrete(x, torch.tensor([250.0, 800.0])))


def test_size_parameter_counts():
    counts = {}
    for name in SIZES:
        with torch.device("meta"):  # no memory, no init cost for the 114 M model
            counts[name] = count_parameters(LatentDiT.from_size(name, C, LATENT, (1, 2, 2)))
    assert counts["tiny"] < 50_000
    assert 0.8e6 <= counts["small"] <= 1.3e6
    assert 10e6 <= counts["gpu"] <= 15e6
    assert 100e6 <= counts["paper"] <= 130e6
    assert SIZES["paper"]["hidden"] == 512 and SIZES["paper"]["depth"] == 24
    # the count is what the layers say: 18 D² + O(D) per block with mlp_ratio 4
    d = SIZES["paper"]["hidden"]
    assert abs(counts["paper"] - 24 * 18 * d * d) < 0.02 * counts["paper"]
    assert count_parameters(tiny(cond_dim=384)) < 50_000 + 385 * 32 + 33 * 32 + 32


def test_bad_configuration_and_inputs():
    with pytest.raises(BadInput, match="does not divide"):
        LatentDiT(C, LATENT, (3, 2, 2), hidden=32, depth=1, heads=2)
    with pytest.raises(BadInput, match="patch"):
        LatentDiT(C, LATENT, (1, 2), hidden=32, depth=1, heads=2)
    with pytest.raises(BadInput, match="heads"):
        LatentDiT(C, LATENT, (1, 2, 2), hidden=30, depth=1, heads=4)
    with pytest.raises(BadInput, match="time_scale"):
        LatentDiT(C, LATENT, (1, 2, 2), hidden=32, depth=1, heads=2, time_scale=0.0)
    with pytest.raises(BadInput, match="unknown DiT size"):
        LatentDiT.from_size("huge", C, LATENT, (1, 2, 2))
    model = tiny(context_channels=2, cond_dim=16)
    x, t, ctx = latent(2), torch.tensor([1.0, 2.0]), latent(2, channels=2)
    bad_calls = [
        ("x must have shape", dict(x=latent(2)[:, :, :, :4], t=t, context=ctx)),
        ("x must have shape", dict(x=latent(2)[0], t=t, context=ctx)),
        ("t must be", dict(x=x, t=torch.ones(3), context=ctx)),
        ("context must have shape", dict(x=x, t=t)),
        ("context must have shape", dict(x=x, t=t, context=latent(2, channels=3))),
        ("cond_vector must have shape", dict(x=x, t=t, context=ctx, cond_vector=torch.randn(2, 15))),
        ("drop must be", dict(x=x, t=t, context=ctx, drop=torch.tensor([1, 0]))),
    ]
    for message, kwargs in bad_calls:
        with pytest.raises(BadInput, match=message):
            model(**kwargs)
    plain = tiny()
    with pytest.raises(BadInput, match="context_channels=0"):
        plain(x, t, context=ctx)
    with pytest.raises(BadInput, match="cond_dim=0"):
        plain(x, t, cond_vector=torch.randn(2, 16))


def test_tiny_denoising_fit():
    """DDPM ε-prediction (Ho et al. 2020, Eq. 14) on two latent clusters ±μ: 200 Adam steps cut the loss ~3x."""
    abar = get_schedule("ddpm-linear").alphas_cumprod.float()  # 1000 steps, time = step index (time_scale 1)
    mu = latent(1, 10)[0]

    def sample(n, gen):
        sign = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
        x0 = sign[:, None, None, None, None] * mu + 0.05 * torch.randn(n, *mu.shape, generator=gen)
        return x0, torch.randint(0, 1000, (n,), generator=gen), torch.randn(n, *mu.shape, generator=gen)

    def loss_fn(model, x0, t, eps):
        a = abar[t][:, None, None, None, None]
        return ((model(a.sqrt() * x0 + (1 - a).sqrt() * eps, t.float()) - eps) ** 2).mean()

    model = tiny()
    held_out = sample(256, torch.Generator().manual_seed(1))
    with torch.no_grad():
        initial = loss_fn(model, *held_out).item()
    assert 0.9 < initial < 1.1  # the zero output's loss is E[ε²] = 1
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(2)
    for _ in range(200):
        loss = loss_fn(model, *sample(32, gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = loss_fn(model, *held_out).item()
    assert final < 0.5 * initial, (initial, final)
