"""Multilayer perceptrons and input embeddings for coordinate networks (PINN, LPINN).

Shapes:
    inputs (N, d_in) -> outputs (N, d_out).
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"tanh": torch.tanh, "sin": torch.sin, "gelu": nn.functional.gelu, "silu": nn.functional.silu}


class MLP(nn.Module):
    """Fully connected network: d_in -> width × depth -> d_out, Xavier-initialised.

    Args:
        d_in: Input dimension.
        d_out: Output dimension.
        width: Neurons per hidden layer.
        depth: Hidden layers.
        activation: "tanh", "sin", "gelu" or "silu".
    """

    def __init__(self, d_in: int, d_out: int, width: int = 64, depth: int = 4, activation: str = "tanh"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")
        sizes = [d_in] + [width] * depth + [d_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.activation = ACTIVATIONS[activation]
        for layer in self.layers:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


class FourierFeatures(nn.Module):
    """γ(x) = [cos(2π B x), sin(2π B x)] with a fixed Gaussian matrix B ~ N(0, σ²) (Tancik et al. 2020).

    Shapes: (N, d_in) -> (N, 2 m).
    """

    def __init__(self, d_in: int, features: int = 64, scale: float = 1.0, generator: torch.Generator | None = None):
        super().__init__()
        self.register_buffer("B", scale * torch.randn(d_in, features, generator=generator))

    @property
    def out_features(self) -> int:
        return 2 * self.B.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = 2 * math.pi * x @ self.B.to(x.dtype)
        return torch.cat([torch.cos(projected), torch.sin(projected)], dim=-1)


class PeriodicEmbedding(nn.Module):
    """Replace periodic coordinates x (period P) by cos(2πx/P), sin(2πx/P): exact periodicity.

    Args:
        periods: One entry per input column: the period, or None for a column passed through.

    Shapes: (N, d_in) -> (N, d_in + number of periodic columns).
    """

    def __init__(self, periods: list[float | None]):
        super().__init__()
        self.periods = list(periods)

    @property
    def out_features(self) -> int:
        return len(self.periods) + sum(p is not None for p in self.periods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = []
        for i, period in enumerate(self.periods):
            if period is None:
                columns.append(x[:, i : i + 1])
            else:
                angle = 2 * math.pi * x[:, i : i + 1] / period
                columns += [torch.cos(angle), torch.sin(angle)]
        return torch.cat(columns, dim=-1)
