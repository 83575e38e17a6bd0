"""A modern U-Net for fields on periodic 1D and 2D grids, conditioned on scalars.

The "modern" U-Net of the diffusion literature (Ho et al. 2020; Nichol & Dhariwal 2021) as used by
PDE-Refiner and PDEArena (Gupta & Brandstetter 2022, "Unetmod"): pre-activation residual blocks
(GroupNorm → GELU → conv) on every level, stride-2 convolutions down, nearest-neighbour ×2 then a
convolution up, skip connections by concatenation, and a middle of two residual blocks (no
attention). Every convolution pads circularly, so the network sees a periodic domain.

Scalar conditions (time step Δt, grid spacing Δx, viscosity ν, the refinement step k, ...) are each
mapped to sinusoidal features sin(c ω_j), cos(c ω_j) with ω_j = 10000^(-j/(h/2)), j < h/2 (h =
``hidden``); the features of all conditions are concatenated and passed through an MLP to an
embedding e, and every residual block turns e into a per-channel scale and shift applied after its
second normalisation:  h ← GN(h)·(1 + scale(e)) + shift(e)  ("AdaGN"). Inputs of the conditions
should be pre-scaled so that their interesting range spans a few units (e.g. [0, 10]): the highest
frequency is 1 rad per unit.

Translation equivariance: with circular padding, convolutions, GroupNorm (statistics over the whole
domain), GELU and nearest-neighbour upsampling all commute with circular shifts. Each stride-2
downsampling commutes with shifts by an even number of points only, so the whole network satisfies
net(roll(x, s)) = roll(net(x), s) exactly (to round-off) when s is divisible by 2^(levels - 1), and
only approximately for other shifts (tested).

Channel widths: level i has ``hidden · channel_mults[i]`` channels (multipliers relative to
``hidden``, as in diffusers; PDEArena's ``ch_mults`` multiply cumulatively, so its (1, 2, 2, 4)
with hidden 64 is (1, 2, 4, 16) here).

Shapes:
    x: (batch, in_channels, n) for ``dim=1`` or (batch, in_channels, n_x, n_y) for ``dim=2``;
    each spatial size must be divisible by 2^(levels - 1).
    cond: (batch, n_conditions), or None when ``n_conditions == 0``.
    output: (batch, out_channels, *spatial).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def _groups(channels: int, wanted: int) -> int:
    return math.gcd(channels, max(1, wanted))


def _conv(dim: int, c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> nn.Module:
    cls = nn.Conv1d if dim == 1 else nn.Conv2d
    return cls(c_in, c_out, kernel, stride=stride, padding=kernel // 2, padding_mode="circular")


def sinusoidal_features(values: torch.Tensor, n_features: int, max_period: float = 10000.0) -> torch.Tensor:
    """sin/cos features of scalars: (batch,) -> (batch, n_features), frequencies max_period^(-j/half)."""
    half = n_features // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=values.dtype, device=values.device) / half)
    angles = values[:, None] * freqs[None, :]
    out = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if n_features % 2:
        out = torch.cat([out, torch.zeros_like(out[:, :1])], dim=1)
    return out


class ConditionEmbedding(nn.Module):
    """Scalars (batch, n) -> sinusoidal features per scalar, concatenated -> MLP -> (batch, width).

    Shapes:
        cond: (batch, n_conditions) -> (batch, width).
    """

    def __init__(self, n_conditions: int, features: int, width: int):
        super().__init__()
        self.n_conditions, self.features = n_conditions, features
        self.mlp = nn.Sequential(nn.Linear(n_conditions * features, width), nn.GELU(), nn.Linear(width, width))

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        feats = [sinusoidal_features(cond[:, i], self.features) for i in range(self.n_conditions)]
        return self.mlp(torch.cat(feats, dim=1))


class ResidualBlock(nn.Module):
    """GN → GELU → conv → GN·(1+scale)+shift → GELU → conv, plus a (1×1-projected) skip.

    With ``additive`` the condition is added before the second normalisation instead,
    GN(h + W e) (PDEArena's blocks, `pdesuite.nn.unet_pdearena`). The second convolution starts at
    zero, so every block starts as its skip path.
    """

    def __init__(self, dim: int, c_in: int, c_out: int, emb_width: int, groups: int, additive: bool = False):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in, groups), c_in)
        self.conv1 = _conv(dim, c_in, c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out, groups), c_out)
        self.conv2 = _conv(dim, c_out, c_out)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Identity() if c_in == c_out else _conv(dim, c_in, c_out, kernel=1)
        self.additive = additive
        self.film = nn.Linear(emb_width, (1 if additive else 2) * c_out) if emb_width else None
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        if self.film is None or emb is None:
            h = self.norm2(h)
        else:
            e = self.film(emb).reshape(*emb.shape[:1], -1, *([1] * (h.ndim - 2)))
            if self.additive:
                h = self.norm2(h + e)
            else:
                scale, shift = e.chunk(2, dim=1)
                h = self.norm2(h) * (1 + scale) + shift
        return self.conv2(self.act(h)) + self.skip(x)


class Upsample(nn.Module):
    """Nearest-neighbour ×2 then a circular 3-point (3×3) convolution."""

    def __init__(self, dim: int, channels: int):
        super().__init__()
        self.conv = _conv(dim, channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    """Modern U-Net on periodic 1D (``dim=1``) or 2D (``dim=2``) grids (see the module docstring).

    Args:
        in_channels, out_channels: Field channels in and out.
        hidden: Base width (PDE-Refiner: 64).
        channel_mults: Width of each level relative to ``hidden``; ``len`` = number of levels.
        blocks_per_level: Residual blocks per level on the way down (one more on the way up).
        n_conditions: Number of scalar conditions (0: unconditioned).
        dim: Spatial dimension, 1 or 2.
        norm_groups: GroupNorm groups (reduced to a divisor of each width).
        middle: Two residual blocks at the coarsest level.

    Shapes:
        x: (batch, in_channels, *spatial), spatial sizes divisible by 2^(len(channel_mults) - 1).
        cond: (batch, n_conditions) or None.
        returns: (batch, out_channels, *spatial).
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64,
                 channel_mults: Sequence[int] = (1, 2, 2, 4), blocks_per_level: int = 2, n_conditions: int = 0,
                 dim: int = 1, norm_groups: int = 8, middle: bool = True):
        super().__init__()
        if dim not in (1, 2):
            raise ValueError(f"dim must be 1 or 2, got {dim}")
        if hidden < 1 or blocks_per_level < 1 or not channel_mults or min(channel_mults) < 1:
            raise ValueError("hidden, blocks_per_level and every channel multiplier must be positive")
        self.dim, self.levels, self.n_conditions = dim, len(channel_mults), n_conditions
        emb_width = 4 * hidden if n_conditions else 0
        self.embed = ConditionEmbedding(n_conditions, hidden, emb_width) if n_conditions else None
        widths = [hidden * m for m in channel_mults]

        self.stem = _conv(dim, in_channels, hidden)
        self.down = nn.ModuleList()
        skips, c = [hidden], hidden
        for level, width in enumerate(widths):
            for _ in range(blocks_per_level):
                self.down.append(ResidualBlock(dim, c, width, emb_width, norm_groups))
                c = width
                skips.append(c)
            if level < self.levels - 1:
                self.down.append(_conv(dim, c, c, kernel=3, stride=2))
                skips.append(c)
        self.middle = nn.ModuleList([ResidualBlock(dim, c, c, emb_width, norm_groups) for _ in range(2)]
                                    if middle else [])
        self.up = nn.ModuleList()
        for level in reversed(range(self.levels)):
            width = widths[level]
            for _ in range(blocks_per_level + 1):
                self.up.append(ResidualBlock(dim, c + skips.pop(), width, emb_width, norm_groups))
                c = width
            if level > 0:
                self.up.append(Upsample(dim, c))
        self.head = nn.Sequential(nn.GroupNorm(_groups(c, norm_groups), c), nn.GELU(), _conv(dim, c, out_channels))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != self.dim + 2:
            raise ValueError(f"expected a (batch, channels, {'n' if self.dim == 1 else 'n_x, n_y'}) tensor, "
                             f"got shape {tuple(x.shape)}")
        factor = 2 ** (self.levels - 1)
        if any(n % factor for n in x.shape[2:]):
            raise ValueError(f"spatial sizes {tuple(x.shape[2:])} must be divisible by {factor}")
        emb = None
        if self.embed is not None:
            if cond is None or cond.shape != (x.shape[0], self.n_conditions):
                got = None if cond is None else tuple(cond.shape)
                raise ValueError(f"expected cond of shape {(x.shape[0], self.n_conditions)}, got {got}")
            emb = self.embed(cond)
        h = self.stem(x)
        stack = [h]
        for module in self.down:
            h = module(h, emb) if isinstance(module, ResidualBlock) else module(h)
            stack.append(h)
        for module in self.middle:
            h = module(h, emb)
        for module in self.up:
            if isinstance(module, ResidualBlock):
                h = module(torch.cat([h, stack.pop()], dim=1), emb)
            else:
                h = module(h)
        return self.head(h)


class UNet1d(UNet):
    """`UNet` with ``dim=1``: x (batch, channels, n)."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__(in_channels, out_channels, dim=1, **kwargs)


class UNet2d(UNet):
    """`UNet` with ``dim=2``: x (batch, channels, n_x, n_y)."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__(in_channels, out_channels, dim=2, **kwargs)
