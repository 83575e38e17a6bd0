"""SIREN: sizes and parameter counts, the initialisation's scale, and a fit to a known function."""

import math

import pytest
import torch

from pdesuite.nn.siren import Siren


@pytest.mark.parametrize(("width", "depth", "count"), [(20, 2, 901), (8, 1, 97), (32, 3, 3265)])
def test_parameter_counts(width, depth, count):
    net = Siren(1, 1, width, depth)
    assert sum(p.numel() for p in net.parameters()) == count == Siren.parameter_count(1, 1, width, depth)


def test_initialisation_keeps_activations_spread_through_depth():
    """SIREN's §3.2: with its initialisation the hidden activations stay arcsine-distributed (std ≈ 1/√2)."""
    g = torch.Generator().manual_seed(0)
    net = Siren(1, 1, width=256, depth=5, generator=g)
    h = torch.linspace(-1, 1, 4096)[:, None]
    stds = []
    for layer in net.hidden:
        h = layer(h)
        stds.append(float(h.detach().std()))
    assert all(0.6 < s < 0.8 for s in stds[1:]), stds


def test_fits_a_gaussian_bump():
    """The advection case's initial condition, exp(-(x + 1.5)²/(2·0.1²)) on [-2, 2], by a 2 × 20 SIREN."""
    torch.manual_seed(0)
    net = Siren(1, 1, width=20, depth=2).double()
    x = torch.linspace(-2, 2, 401, dtype=torch.float64)[:, None]
    target = torch.exp(-((x + 1.5) ** 2) / (2 * 0.1**2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(1500):
        opt.zero_grad()
        loss = (net(x) - target).pow(2).mean()
        loss.backward()
        opt.step()
    error = float((net(x) - target).detach().norm() / target.norm())
    assert error < 2e-2, error  # measured 3e-3


def test_bad_sizes():
    with pytest.raises(ValueError, match="positive sizes"):
        Siren(1, 1, width=0)
    with pytest.raises(ValueError, match="omega0"):
        Siren(1, 1, omega0=-math.pi)
