"""The modern U-Net: shapes, exact circular-shift equivariance, conditioning."""

import pytest
import torch

from pdesuite.nn import UNet, UNet1d, UNet2d


def randomised(net: torch.nn.Module) -> torch.nn.Module:
    """Random weights everywhere (the zero-initialised residual convolutions would hide the conditions)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return net


@pytest.mark.parametrize(("cls", "shape"), [(UNet1d, (3, 2, 64)), (UNet2d, (3, 2, 16, 32))])
def test_output_shapes(cls, shape):
    net = cls(2, 5, hidden=8, channel_mults=[1, 2, 2], blocks_per_level=1, n_conditions=3)
    out = net(torch.randn(*shape), torch.rand(shape[0], 3))
    assert out.shape == (shape[0], 5, *shape[2:])
    plain = cls(2, 1, hidden=4, channel_mults=[1, 2])  # unconditioned
    assert plain(torch.randn(*shape)).shape == (shape[0], 1, *shape[2:])


@pytest.mark.parametrize("dim", [1, 2])
def test_circular_shift_equivariance(dim):
    """Exact for shifts divisible by 2^(levels - 1) = 4 (stride-2 downsampling twice), not for others."""
    net = randomised(UNet(2, 1, hidden=8, channel_mults=[1, 2, 2], n_conditions=2, dim=dim)).double()
    shape = (2, 2, 32) if dim == 1 else (2, 2, 16, 16)
    x, cond = torch.randn(*shape, dtype=torch.float64), 10 * torch.rand(2, 2, dtype=torch.float64)
    axes = tuple(range(2, 2 + dim))
    with torch.no_grad():
        y = net(x, cond)
        scale = y.abs().max()
        for shift in (4, 8, 12):
            shifted = net(torch.roll(x, (shift,) * dim, axes), cond)
            torch.testing.assert_close(shifted, torch.roll(y, (shift,) * dim, axes), rtol=0, atol=1e-12 * scale)
        odd = net(torch.roll(x, (1,) * dim, axes), cond)
        assert (odd - torch.roll(y, (1,) * dim, axes)).abs().max() > 1e-3 * scale  # only approximate


def test_conditioning_changes_the_output():
    net = randomised(UNet1d(1, 1, hidden=8, channel_mults=[1, 2], n_conditions=2))
    x = torch.randn(2, 1, 32)
    with torch.no_grad():
        base = net(x, torch.tensor([[5.0, 5.0], [5.0, 5.0]]))
        other = net(x, torch.tensor([[5.0, 6.0], [5.0, 5.0]]))
    assert (other[0] - base[0]).abs().max() > 1e-3
    torch.testing.assert_close(other[1], base[1])  # per sample


def test_bad_shapes():
    net = UNet1d(1, 1, hidden=4, channel_mults=[1, 2, 2], n_conditions=1)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.randn(1, 1, 30), torch.rand(1, 1))
    with pytest.raises(ValueError, match="cond"):
        net(torch.randn(1, 1, 32))
    with pytest.raises(ValueError, match="dim"):
        UNet(1, 1, dim=3)
