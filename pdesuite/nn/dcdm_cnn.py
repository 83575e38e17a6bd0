"""The convolutional network of the Deep Conjugate Direction Method, in 2D.

Kaneda, Akar, Chen, Kala, Hyde, Teran, "A Deep Conjugate Direction Method for Iteratively Solving
Linear Systems", ICML 2023. The network f maps a residual r on a structured grid to a search
direction d = f(r); training asks A f(r) to be parallel to r (f approximates A⁻¹ up to a scale), and
`pdesuite.surrogates.dcdm` then A-orthogonalises each direction against the previous two.

The paper's network (3D, N = 64) is kept, with 2D convolutions:

    h_0 = relu(W_e * (W_in * r))                     (3 × 3 convolutions, in_channels → c channels)
    h_0 ← h_0 + relu(W'' * relu(W' * h_0))           (``fine_blocks`` residual blocks)
    h_1 = avgpool_2(h_0),  h_1 ← residual blocks     (``coarse_blocks`` blocks, half resolution)
    u   = upsample(h_1) + h_0,  u ← residual blocks  (``up_blocks`` blocks)
    d   = W_out u                                     (1 × 1, c → 1, no activation)

with c = ``channels`` (16 in the paper) and 3 × 3 convolutions padded with zeros (the grid's outside
is a Dirichlet boundary). ``levels = L > 1`` (not in the paper) repeats the pool / blocks step L
times on the way down (``fine_blocks`` blocks before each pooling, ``coarse_blocks`` at the coarsest
level) and the upsample / skip / ``up_blocks`` step L times on the way up: the receptive field then
spans the whole grid, which the inverse of an elliptic operator needs, for about 1.3× the work of one
level. Average pooling rounds an odd size up and the upsampling returns to the exact fine size, so
any grid size works; the network is fully convolutional, so one trained on a 64 × 64 grid runs
unchanged on 256 × 256.

An extension for variable coefficients (not in the paper): with ``in_channels = 2`` the network also
sees a picture of the operator, log(A_ii / median A_jj) on every grid point (zero on Dirichlet
dofs), so that it can tell where the coefficient κ is large; a residual alone gives a translation-
equivariant CNN no way to know (`pdesuite.surrogates.dcdm.operator_features`).

Shapes:
    r: (batch, in_channels, n_x, n_y), any n_x, n_y >= 1: the residual, then the operator's features.
    output: (batch, 1, n_x, n_y).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ResidualBlock(nn.Module):
    """h + relu(conv(relu(conv(h)))): two 3 × 3 convolutions with a skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, padding=1)
        self.second = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + F.relu(self.second(F.relu(self.first(h))))


class DCDMNet2d(nn.Module):
    """Residual CNN with average-pool / upsample levels (one in the DCDM paper, here in 2D).

    Args:
        channels: Feature channels on every level (16 in the paper).
        fine_blocks: Residual blocks before each pooling.
        coarse_blocks: Residual blocks at the coarsest resolution.
        up_blocks: Residual blocks after each upsampling.
        in_channels: 1 (the residual) or more (the residual and the operator's features).
        levels: Pooling levels; 1 is the paper's network, more reach further at little cost.
    """

    def __init__(self, channels: int = 16, fine_blocks: int = 2, coarse_blocks: int = 3, up_blocks: int = 2,
                 in_channels: int = 1, levels: int = 1):
        super().__init__()
        for name, value in (("channels", channels), ("fine_blocks", fine_blocks), ("in_channels", in_channels),
                            ("levels", levels)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, value in (("coarse_blocks", coarse_blocks), ("up_blocks", up_blocks)):
            if int(value) != value or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        self.config = {"channels": int(channels), "fine_blocks": int(fine_blocks),
                       "coarse_blocks": int(coarse_blocks), "up_blocks": int(up_blocks),
                       "in_channels": int(in_channels), "levels": int(levels)}
        self.in_channels = int(in_channels)

        def stage(blocks: int) -> nn.Sequential:
            return nn.Sequential(*(ResidualBlock(channels) for _ in range(blocks)))

        self.lift = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.entry = nn.Conv2d(channels, channels, 3, padding=1)
        self.down = nn.ModuleList(stage(fine_blocks) for _ in range(levels))
        self.bottom = stage(coarse_blocks)
        self.up = nn.ModuleList(stage(up_blocks) for _ in range(levels))
        self.project = nn.Conv2d(channels, 1, 1)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        if r.ndim != 4 or r.shape[1] != self.in_channels:
            raise ValueError(f"DCDMNet2d expects (batch, {self.in_channels}, n_x, n_y), got {tuple(r.shape)}")
        h = F.relu(self.entry(self.lift(r)))
        skips = []
        for stage in self.down:
            h = stage(h)
            skips.append(h)
            h = F.avg_pool2d(h, 2, ceil_mode=True)
        h = self.bottom(h)
        for stage, skip in zip(reversed(self.up), reversed(skips), strict=True):
            h = stage(F.interpolate(h, size=skip.shape[-2:], mode="nearest") + skip)
        return self.project(h)
