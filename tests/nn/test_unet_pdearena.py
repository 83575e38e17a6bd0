"""PDEArena's U-Net (PDE-Refiner's "Unetmod-1d-64"): size, zero start, periodicity, shapes."""

import pytest
import torch

from pdesuite.nn.unet_pdearena import PDEArenaUNet, relative_to_cumulative


def randomised(net: torch.nn.Module) -> torch.nn.Module:
    """Random weights everywhere (the zero-initialised convolutions would hide most of the network)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return net


def small(**kwargs) -> PDEArenaUNet:
    options = dict(hidden=8, cumulative_mults=(1, 2, 2), blocks_per_level=1, n_conditions=3, head_norm_groups=4)
    return PDEArenaUNet(2, 1, **(options | kwargs))


@pytest.mark.parametrize("dim", [1, 2])
def test_output_shapes(dim):
    shape = (3, 2, 32) if dim == 1 else (3, 2, 16, 8)
    out = small(dim=dim)(torch.randn(*shape), 10 * torch.rand(3, 3))
    assert out.shape == (3, 1, *shape[2:])
    plain = PDEArenaUNet(2, 4, hidden=4, cumulative_mults=(1, 2), dim=dim, head_norm_groups=4)  # unconditioned
    assert plain(torch.randn(*shape)).shape == (3, 4, *shape[2:])


@pytest.mark.parametrize(("in_channels", "n_conditions", "expected"), [
    (2, 3, 53_924_225),  # PDE-Refiner: [u(t), noisy target], conditions dt, dx, refinement step
    (1, 2, 53_841_601),  # MSE baseline: u(t), conditions dt, dx
])
def test_ks_configuration_has_the_authors_parameter_count(in_channels, n_conditions, expected):
    """pdearena Unetmod-1d-64 (53,924,225 for the refiner, counted from their module); the MSE net
    lacks the authors' unused ``time_embed`` MLP (64·256 + 256 + 256·256 + 256 = 82,432)."""
    with torch.device("meta"):
        net = PDEArenaUNet(in_channels, 1, hidden=64, cumulative_mults=(1, 2, 2, 4), blocks_per_level=2,
                           n_conditions=n_conditions)
    assert net.widths == [64, 128, 256, 1024]
    assert sum(p.numel() for p in net.parameters()) == expected


def test_initial_output_is_exactly_zero():
    net = small()
    out = net(torch.randn(2, 2, 32), 10 * torch.rand(2, 3))
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("dim", [1, 2])
def test_circular_shift_equivariance(dim):
    """Exact (round-off) for shifts divisible by 2^(levels - 1) = 4; not with the authors' zero-padded
    transposed convolutions, and not for odd shifts."""
    net = randomised(small(dim=dim, cumulative_mults=(1, 2, 2), blocks_per_level=2)).double()
    shape = (2, 2, 32) if dim == 1 else (2, 2, 16, 16)
    x, cond = torch.randn(*shape, dtype=torch.float64), 10 * torch.rand(2, 3, dtype=torch.float64)
    axes = tuple(range(2, 2 + dim))
    with torch.no_grad():
        y = net(x, cond)
        scale = y.abs().max()
        for shift in (4, 8, 12):
            shifted = net(torch.roll(x, (shift,) * dim, axes), cond)
            torch.testing.assert_close(shifted, torch.roll(y, (shift,) * dim, axes), rtol=0, atol=1e-5 * scale)
        odd = net(torch.roll(x, (1,) * dim, axes), cond)
        assert (odd - torch.roll(y, (1,) * dim, axes)).abs().max() > 1e-3 * scale
        authors = small(dim=dim, cumulative_mults=(1, 2, 2), blocks_per_level=2, periodic_upsample=False).double()
        authors.load_state_dict(net.state_dict())  # same weights, zero-padded transposed convolutions
        y = authors(x, cond)
        shifted = authors(torch.roll(x, (4,) * dim, axes), cond)
        assert (shifted - torch.roll(y, (4,) * dim, axes)).abs().max() > 1e-4 * y.abs().max()


def test_periodic_upsampling_is_the_transposed_convolution_of_the_periodic_extension():
    net = randomised(small(cumulative_mults=(1, 2))).double()
    periodic = next(m for m in net.up if isinstance(getattr(m, "conv", None), torch.nn.ConvTranspose1d))
    zero_padded = torch.nn.ConvTranspose1d(8, 8, 4, stride=2, padding=1).double()
    zero_padded.load_state_dict(periodic.conv.state_dict())
    x = torch.randn(2, 8, 16, dtype=torch.float64)
    with torch.no_grad():
        tiled = zero_padded(torch.cat([x, x, x], dim=-1))  # (2, 8, 96): the middle third is unaffected by the ends
        torch.testing.assert_close(periodic(x), tiled[..., 32:64], rtol=1e-12, atol=1e-12)


def test_gradients_reach_every_parameter():
    net = randomised(small())
    loss = net(torch.randn(2, 2, 32), 10 * torch.rand(2, 3)).pow(2).mean()
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().max() > 0, name


def test_conditions_act_per_sample_and_scale_shift_variant():
    for scale_shift in (False, True):
        net = randomised(small(scale_shift=scale_shift))
        x = torch.randn(2, 2, 32)
        cond = torch.full((2, 3), 5.0)
        changed = cond.clone()
        changed[0, 2] = 6.0
        with torch.no_grad():
            base, other = net(x, cond), net(x, changed)
        assert (other[0] - base[0]).abs().max() > 1e-3
        torch.testing.assert_close(other[1], base[1])


def test_bad_shapes_and_arguments():
    net = small()
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.randn(1, 2, 30), torch.rand(1, 3))
    with pytest.raises(ValueError, match="expected a"):
        net(torch.randn(1, 3, 32), torch.rand(1, 3))  # wrong channel count
    with pytest.raises(ValueError, match="expected a"):
        net(torch.randn(2, 32), torch.rand(1, 3))  # no channel axis
    with pytest.raises(ValueError, match="cond"):
        net(torch.randn(1, 2, 32))
    with pytest.raises(ValueError, match="cond"):
        net(torch.randn(1, 2, 32), torch.rand(1, 2))
    with pytest.raises(ValueError, match="dim"):
        PDEArenaUNet(1, 1, dim=3)
    with pytest.raises(ValueError, match="cumulative_mults"):
        PDEArenaUNet(1, 1, cumulative_mults=(1, 0))


def test_relative_to_cumulative():
    assert relative_to_cumulative([1, 2, 4, 16]) == (1, 2, 2, 4)  # our UNet's paper widths -> PDEArena's ch_mults
    with pytest.raises(ValueError):
        relative_to_cumulative([1, 2, 3])
