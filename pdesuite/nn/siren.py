"""SIREN: a coordinate network with sine activations (Sitzmann et al., NeurIPS 2020), as INSR uses it.

    h_1 = sin(ω₀ (W_1 x + b_1)),   h_{k+1} = sin(ω₀ (W_{k+1} h_k + b_{k+1})),   f(x) = W_L h_{L-1} + b_L,

with ω₀ = 30 and the SIREN initialisation: first layer W ~ U(-1/n_in, 1/n_in), later layers
W ~ U(-√(6/n_in)/ω₀, √(6/n_in)/ω₀), which keeps the pre-activations' distribution the same through
the depth (the paper's §3.2); biases alike. INSR (Chen et al., ICML 2023) represents the field at each
time step by such a network; its sizes are "hidden layers × width" in SIREN's own convention, where
``hidden_layers`` counts the width → width sine layers after the input layer (advection: 2 × 20 is three
sine layers, 901 parameters with one input and one output; 1 × 8 has 97).

Shapes:
    x: (N, d_in) -> (N, d_out).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SineLayer(nn.Module):
    """x -> sin(ω₀ (W x + b)) with the SIREN initialisation (``first``: the input layer's)."""

    def __init__(self, d_in: int, d_out: int, omega0: float, first: bool, generator: torch.Generator | None = None):
        super().__init__()
        self.omega0 = float(omega0)
        self.linear = nn.Linear(d_in, d_out)
        bound = 1.0 / d_in if first else math.sqrt(6.0 / d_in) / self.omega0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound, generator=generator)
            self.linear.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.omega0 * self.linear(x))


class Siren(nn.Module):
    """A SIREN: an input sine layer, ``depth`` more sine layers of ``width`` units, a linear output.

    Args:
        d_in, d_out: Input and output dimensions.
        width: Units per sine layer (> 0).
        depth: Sine layers after the input one (>= 0; SIREN's ``hidden_layers``).
        omega0: Frequency factor ω₀ (30 in SIREN and INSR).
        generator: Random generator of the initialisation (None: torch's global one).
    """

    def __init__(self, d_in: int, d_out: int, width: int = 20, depth: int = 2, omega0: float = 30.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        if width < 1 or depth < 0 or d_in < 1 or d_out < 1:
            raise ValueError(f"a SIREN needs positive sizes, got d_in {d_in}, d_out {d_out}, width {width}, "
                             f"depth {depth}")
        if not omega0 > 0:
            raise ValueError(f"omega0 must be positive, got {omega0}")
        sizes = [d_in] + [width] * (depth + 1)
        self.hidden = nn.ModuleList(SineLayer(a, b, omega0, i == 0, generator)
                                    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)))
        self.output = nn.Linear(width, d_out)
        bound = math.sqrt(6.0 / width) / omega0
        with torch.no_grad():
            self.output.weight.uniform_(-bound, bound, generator=generator)
            self.output.bias.uniform_(-bound, bound, generator=generator)

    @staticmethod
    def parameter_count(d_in: int, d_out: int, width: int, depth: int) -> int:
        """Weights and biases of a SIREN of this size (advection 2 × 20, 1 → 1: 901)."""
        return (d_in + 1) * width + depth * (width + 1) * width + (width + 1) * d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = layer(x)
        return self.output(x)
