"""The PDEArena modern U-Net ("Unetmod"), as PDE-Refiner's authors trained it on Kuramoto–Sivashinsky.

Gupta & Brandstetter 2022, "Towards Multi-spatiotemporal-scale Generalized PDE Modeling" (PDEArena),
and Lippe, Veeling, Perdikaris, Turner & Brandstetter 2023, "PDE-Refiner" (NeurIPS), whose KS config
``configs/kuramotosivashinsky1d.yaml`` selects ``Unetmod-1d-64``: ``pdearena/modules/conditioned/
oned_unet.py::Unet`` with hidden 64, ch_mults (1, 2, 2, 4), 2 blocks per level, GroupNorm, GELU, no
attention, additive conditioning, every ``nn.Conv1d`` padded circularly (pdearena commit 78a8b03).
This is an independent implementation of that network; `pdesuite.nn.unet.UNet` is our own variant.

Widths: level i has w_i = hidden · m_0 ··· m_i channels, the multipliers being *cumulative* (each
multiplies the previous level's width): (1, 2, 2, 4) with hidden 64 gives 64, 128, 256, 1024.

Residual block (c_in → c_out, conditioning vector e of width 4·hidden):
    h = conv3(GELU(GN(x)));  h = GN(h + W e)  (or GN(h)·(1 + scale) + shift with ``scale_shift``);
    out = conv3₀(GELU(h)) + skip(x),  skip = 1×1 conv if c_in ≠ c_out else identity,
with GN = GroupNorm(``norm_groups`` = 1 as the authors, i.e. statistics over all channels and the
whole domain) and conv3₀ initialised to zero.

Layout (every skip is the output of the stem, of a block or of a downsampling, used once, last in first out):
    stem conv3: in_channels → hidden
    down, level i: ``blocks_per_level`` blocks → w_i; then (not on the last level) a stride-2 conv3
    middle: two blocks w_L → w_L (no attention)
    up, level i = L..0: ``blocks_per_level`` blocks (w_i + skip) → w_i, then one block
        (w_i + w_{i-1}) → w_{i-1} (w_{-1} = hidden) that narrows *before* the upsampling; then (i > 0)
        a transposed conv (kernel 4, stride 2) at width w_{i-1}
    head: GroupNorm(8) → GELU → conv3 → out_channels, initialised to zero (the initial output is 0)
Our `UNet` instead keeps width w_i in all up blocks of level i and upsamples (nearest + conv) at w_i.

Conditions: each scalar c_j gets sinusoidal features of width ``hidden`` (frequencies
10000^(-k/(hidden/2)), `sinusoidal_features`; the authors order them cos, sin: a permutation of the
first layer's inputs) and its *own* MLP Linear(hidden, 4h) → GELU →
Linear(4h, 4h); the MLP outputs are summed (the authors: ``time_embed`` for the refinement step,
``pde_emb[j]`` for dt, dx). This is not `ConditionEmbedding` (one MLP on the concatenation).

Padding: in the authors' run every Conv1d is circular (``PDERefiner.__init__`` patches ``nn.Conv1d``),
but ``nn.ConvTranspose1d`` pads with zeros (it crops the ends), so their net is not exactly periodic.
With ``periodic_upsample`` (default) the transposed convolution wraps around instead (same weights:
circular pad 1, then crop 3), and net(roll(x, s)) = roll(net(x), s) for s divisible by 2^(levels-1);
``periodic_upsample=False`` is the authors' function exactly.

Parameters for KS (hidden 64, (1, 2, 2, 4), 2 blocks, 1 output): 53,924,225 with 2 input channels
and 3 conditions (PDE-Refiner: dt, dx, refinement step; equal to the authors' module), 53,841,601 with
1 input channel and 2 conditions (the MSE baseline; the authors' module would add its unused
82,432-parameter ``time_embed``).

Shapes:
    x: (batch, in_channels, n) for ``dim=1`` or (batch, in_channels, n_x, n_y) for ``dim=2``;
    each spatial size divisible by 2^(levels - 1).
    cond: (batch, n_conditions), pre-scaled floats, or None when ``n_conditions == 0``.
    output: (batch, out_channels, *spatial).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from pdesuite.nn.unet import ResidualBlock, _conv, _groups, sinusoidal_features


def relative_to_cumulative(mults: Sequence[int]) -> tuple[int, ...]:
    """Width multipliers relative to ``hidden`` (our `UNet`: (1, 2, 4, 16)) -> cumulative ((1, 2, 2, 4))."""
    mults = [int(m) for m in mults]
    if not mults or min(mults) < 1 or any(b % a for a, b in zip(mults, mults[1:], strict=False)):
        raise ValueError(f"each multiplier must be a positive multiple of the previous one, got {mults}")
    return (mults[0], *(b // a for a, b in zip(mults, mults[1:], strict=False)))


class _Upsample(nn.Module):
    """Transposed convolution, kernel 4, stride 2: n -> 2n points, periodic or zero-padded at the ends."""

    def __init__(self, dim: int, channels: int, periodic: bool):
        super().__init__()
        cls = nn.ConvTranspose1d if dim == 1 else nn.ConvTranspose2d
        # periodic: one wrapped input point each side contributes the 2 output points that overhang,
        # and cropping 3 (not 1) keeps exactly the 2n points of the unpadded transposed convolution
        self.periodic, self.dim = periodic, dim
        self.conv = cls(channels, channels, 4, stride=2, padding=3 if periodic else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.periodic:
            x = nn.functional.pad(x, (1, 1) * self.dim, mode="circular")
        return self.conv(x)


class PDEArenaUNet(nn.Module):
    """PDEArena's modern U-Net ("Unetmod-1d-64" for KS) on periodic grids (see the module docstring).

    Args:
        in_channels, out_channels: Field channels in and out (PDE-Refiner on KS: 2 → 1; MSE: 1 → 1).
        hidden: Base width (64).
        cumulative_mults: PDEArena's ``ch_mults``: level i has hidden · Π_{j≤i} m_j channels;
            ``len`` = number of levels. Convert ours with `relative_to_cumulative`.
        blocks_per_level: Residual blocks per level down (``n_blocks``, 2); the up path has one more.
        n_conditions: Scalar conditions, one embedding MLP each (0: unconditioned).
        dim: Spatial dimension, 1 or 2.
        norm_groups: GroupNorm groups in the residual blocks (the authors: 1; reduced to a divisor).
        head_norm_groups: GroupNorm groups before the final convolution (the authors: 8).
        scale_shift: Scale-and-shift (AdaGN) conditioning instead of the authors' additive one
            (their ``use_scale_shift_norm``, off for KS).
        periodic_upsample: Wrap the transposed convolutions around (exact shift equivariance);
            False reproduces the authors' zero-padded ones.

    Shapes:
        x: (batch, in_channels, *spatial), spatial sizes divisible by 2^(len(cumulative_mults) - 1).
        cond: (batch, n_conditions) or None.
        returns: (batch, out_channels, *spatial).
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64,
                 cumulative_mults: Sequence[int] = (1, 2, 2, 4), blocks_per_level: int = 2, n_conditions: int = 0,
                 dim: int = 1, norm_groups: int = 1, head_norm_groups: int = 8, scale_shift: bool = False,
                 periodic_upsample: bool = True):
        super().__init__()
        if dim not in (1, 2):
            raise ValueError(f"dim must be 1 or 2, got {dim}")
        if min(in_channels, out_channels, hidden, blocks_per_level) < 1 or n_conditions < 0:
            raise ValueError("channels, hidden and blocks_per_level must be positive, n_conditions non-negative")
        if not cumulative_mults or min(cumulative_mults) < 1:
            raise ValueError(f"cumulative_mults must be positive integers, got {list(cumulative_mults)}")
        self.dim, self.levels = dim, len(cumulative_mults)
        self.in_channels, self.n_conditions = in_channels, n_conditions
        self.widths = [hidden * math.prod(cumulative_mults[: i + 1]) for i in range(self.levels)]
        emb_width = 4 * hidden if n_conditions else 0
        self.hidden = hidden
        self.embed = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, emb_width), nn.GELU(), nn.Linear(emb_width, emb_width))
            for _ in range(n_conditions))

        def block(c_in: int, c_out: int) -> ResidualBlock:
            return ResidualBlock(dim, c_in, c_out, emb_width, norm_groups, additive=not scale_shift)

        c = hidden
        self.stem = _conv(dim, in_channels, c)
        self.down = nn.ModuleList()
        skips = [c]
        for level, width in enumerate(self.widths):
            for _ in range(blocks_per_level):
                self.down.append(block(c, width))
                c = width
                skips.append(c)
            if level < self.levels - 1:
                self.down.append(_conv(dim, c, c, kernel=3, stride=2))
                skips.append(c)
        self.middle = nn.ModuleList([block(c, c), block(c, c)])
        self.up = nn.ModuleList()
        for level in reversed(range(self.levels)):
            for j in range(blocks_per_level + 1):
                width = self.widths[level] if j < blocks_per_level else skips[-1]  # the last one narrows
                self.up.append(block(c + skips.pop(), width))
                c = width
            if level > 0:
                self.up.append(_Upsample(dim, c, periodic_upsample))
        final = _conv(dim, c, out_channels)
        nn.init.zeros_(final.weight)
        nn.init.zeros_(final.bias)
        self.head = nn.Sequential(nn.GroupNorm(_groups(c, head_norm_groups), c), nn.GELU(), final)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != self.dim + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected a (batch, {self.in_channels}, {'n' if self.dim == 1 else 'n_x, n_y'}) "
                             f"tensor, got shape {tuple(x.shape)}")
        factor = 2 ** (self.levels - 1)
        if any(n % factor for n in x.shape[2:]):
            raise ValueError(f"spatial sizes {tuple(x.shape[2:])} must be divisible by {factor}")
        emb = None
        if self.n_conditions:
            if cond is None or cond.shape != (x.shape[0], self.n_conditions):
                got = None if cond is None else tuple(cond.shape)
                raise ValueError(f"expected cond of shape {(x.shape[0], self.n_conditions)}, got {got}")
            emb = sum(mlp(sinusoidal_features(cond[:, j], self.hidden)) for j, mlp in enumerate(self.embed))
        h = self.stem(x)
        stack = [h]
        for module in self.down:
            h = module(h, emb) if isinstance(module, ResidualBlock) else module(h)
            stack.append(h)
        for module in self.middle:
            h = module(h, emb)
        for module in self.up:
            h = module(torch.cat([h, stack.pop()], dim=1), emb) if isinstance(module, ResidualBlock) else module(h)
        return self.head(h)
