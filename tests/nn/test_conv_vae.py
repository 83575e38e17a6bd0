"""The convolutional trajectory VAE (pdesuite.nn.conv_vae): latent shapes, the KL term, bad input."""

import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.nn.conv_vae import TrajectoryVAE, kl_divergence


@pytest.mark.parametrize("mults, factor", [((1,), 1), ((1, 2), 2), ((1, 2, 4), 4)])
def test_every_axis_is_downsampled_per_level(mults, factor):
    torch.manual_seed(0)
    vae = TrajectoryVAE(n_fields=3, latent_channels=5, hidden=4, channel_mults=mults)
    u = torch.randn(2, 8, 16, 8, 3)
    mean, logvar = vae.encode(u)
    assert mean.shape == logvar.shape == (2, 5, 8 // factor, 16 // factor, 8 // factor)
    assert vae.latent_shape((8, 16, 8, 3)) == (5, 8 // factor, 16 // factor, 8 // factor)
    assert vae.decode(mean).shape == u.shape


def test_kl_matches_torch_distributions():
    mean, logvar = torch.randn(3, 4, 2, 2, 2), torch.randn(3, 4, 2, 2, 2)
    posterior = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    expected = torch.distributions.kl_divergence(posterior, prior).mean()
    assert torch.allclose(kl_divergence(mean, logvar), expected, atol=1e-6)
    assert kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)) == 0


def test_bad_input():
    vae = TrajectoryVAE(n_fields=3, hidden=4, channel_mults=(1, 2))
    with pytest.raises(BadInput, match="divisible by 2"):
        vae.encode(torch.randn(1, 5, 8, 8, 3))
    with pytest.raises(BadInput, match="expects"):
        vae.encode(torch.randn(1, 4, 8, 8, 2))
    with pytest.raises(BadInput, match="decode expects"):
        vae.decode(torch.randn(1, 3, 2, 4, 4))
    with pytest.raises(BadInput, match="channel_mults"):
        TrajectoryVAE(n_fields=3, channel_mults=())
