"""A convolutional variational autoencoder over whole grid trajectories (Text2PDE's grid autoencoder).

A trajectory u of shape (T, X, Y, F) — every stored frame of every field — is one 3D image with F
channels over (time, x, y). The encoder E maps it to a Gaussian posterior over a small latent
z ∈ R^(C × T/2^L × X/2^L × Y/2^L) (L = ``len(channel_mults) - 1`` stride-2 downsamplings of all
three axes); the decoder D maps a latent back to a trajectory:

    (μ, log σ²) = E(u),   z = μ + σ ⊙ ε  (ε ~ N(0, I), the reparameterisation),   û = D(z),
    L = ‖û - u‖² / n_values + β · KL(N(μ, σ²) ‖ N(0, I)) / n_latent,
    KL = ½ Σ (μ² + σ² - 1 - log σ²).

Text2PDE uses ch_mult [1, 2, 4, 4], hidden 64, 16 latent channels and β = 1e-7 on 48 × 128² × 3
smoke (latent 6 × 16²); the tiny β makes the model almost a plain autoencoder whose latent has a
roughly unit scale. Blocks: pre-activation residual blocks (GroupNorm, SiLU, 3³ convolution),
stride-2 convolutions down, nearest-neighbour upsampling plus a convolution up (no transposed
convolutions: no checkerboard artefacts).

Shapes:
    u: (batch, T, X, Y, F) channels-last, as stored in dataset files; T, X, Y divisible by 2^L.
    mean, logvar, z: (batch, C, T / 2^L, X / 2^L, Y / 2^L).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from pdesuite.errors import BadInput


def _groups(channels: int, wanted: int = 8) -> int:
    """The largest group count <= ``wanted`` that divides ``channels``."""
    return next(g for g in range(min(wanted, channels), 0, -1) if channels % g == 0)


class ResBlock3d(nn.Module):
    """x + conv(SiLU(GN(conv(SiLU(GN(x)))))) with a 1³ projection when the width changes."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(_groups(c_in), c_in), nn.SiLU(), nn.Conv3d(c_in, c_out, 3, padding=1),
            nn.GroupNorm(_groups(c_out), c_out), nn.SiLU(), nn.Conv3d(c_out, c_out, 3, padding=1))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv3d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)


class TrajectoryVAE(nn.Module):
    """Convolutional VAE over (time, x, y) with the fields as channels (see the module docstring).

    Args:
        n_fields: F, channels of the data.
        latent_channels: C.
        hidden: Width of the first level.
        channel_mults: Width of each level relative to ``hidden``; one stride-2 step between levels.
        blocks_per_level: Residual blocks per level.
    """

    def __init__(self, n_fields: int, latent_channels: int = 8, hidden: int = 16,
                 channel_mults: Sequence[int] = (1, 2, 4), blocks_per_level: int = 1):
        super().__init__()
        if n_fields < 1 or latent_channels < 1 or hidden < 1 or not channel_mults or blocks_per_level < 1:
            raise BadInput(f"TrajectoryVAE: need n_fields, latent_channels, hidden, blocks_per_level >= 1 and "
                           f"channel_mults, got {n_fields}, {latent_channels}, {hidden}, {blocks_per_level}, "
                           f"{list(channel_mults)}")
        self.n_fields, self.latent_channels = n_fields, latent_channels
        self.levels = len(channel_mults) - 1
        widths = [hidden * int(m) for m in channel_mults]
        down: list[nn.Module] = [nn.Conv3d(n_fields, widths[0], 3, padding=1)]
        for i, width in enumerate(widths):
            c = widths[max(i - 1, 0)]
            for _ in range(blocks_per_level):
                down.append(ResBlock3d(c, width))
                c = width
            if i < self.levels:
                down.append(nn.Conv3d(width, width, 3, stride=2, padding=1))
        down += [nn.GroupNorm(_groups(widths[-1]), widths[-1]), nn.SiLU(),
                 nn.Conv3d(widths[-1], 2 * latent_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*down)
        up: list[nn.Module] = [nn.Conv3d(latent_channels, widths[-1], 3, padding=1)]
        c = widths[-1]
        for i in range(self.levels, -1, -1):
            for _ in range(blocks_per_level):
                up.append(ResBlock3d(c, widths[i]))
                c = widths[i]
            if i > 0:
                up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv3d(c, widths[i - 1], 3, padding=1)]
                c = widths[i - 1]
        up += [nn.GroupNorm(_groups(widths[0]), widths[0]), nn.SiLU(), nn.Conv3d(widths[0], n_fields, 3, padding=1)]
        self.decoder = nn.Sequential(*up)

    @property
    def factor(self) -> int:
        """Downsampling factor of every axis."""
        return 2**self.levels

    def latent_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """(C, T', X', Y') of the latent of a trajectory of shape (T, X, Y[, F])."""
        self.check_shape(shape[:3])
        return (self.latent_channels, *(int(n) // self.factor for n in shape[:3]))

    def check_shape(self, shape: Sequence[int]) -> None:
        bad = [int(n) for n in shape if int(n) % self.factor]
        if bad:
            raise BadInput(f"TrajectoryVAE with {self.levels} downsamplings needs T, X, Y divisible by "
                           f"{self.factor}, got {tuple(int(n) for n in shape)}")

    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of the posterior for u (batch, T, X, Y, F)."""
        if u.dim() != 5 or u.shape[-1] != self.n_fields:
            raise BadInput(f"TrajectoryVAE.encode expects (batch, T, X, Y, {self.n_fields}), got {tuple(u.shape)}")
        self.check_shape(u.shape[1:4])
        h = self.encoder(u.permute(0, 4, 1, 2, 3))
        mean, logvar = h.chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The trajectory (batch, T, X, Y, F) of latent z (batch, C, T', X', Y')."""
        if z.dim() != 5 or z.shape[1] != self.latent_channels:
            raise BadInput(f"TrajectoryVAE.decode expects (batch, {self.latent_channels}, T', X', Y'), "
                           f"got {tuple(z.shape)}")
        return self.decoder(z).permute(0, 2, 3, 4, 1)


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean over latent entries of KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² - 1 - log σ²)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).mean()
