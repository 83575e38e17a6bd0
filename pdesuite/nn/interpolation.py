"""Differentiable trigonometric interpolation of periodic grid data (hard initial conditions).

For values v_j on a uniform periodic grid x_j = x0 + j·L/n (per axis), the trigonometric interpolant

    I[v](x) = Re Σ_k c_k exp(i k·(x - x0)),   c = FFT(v) / n,   k = 2π m / L,  m = -n/2 .. n/2 - 1,

matches v at every grid point, is smooth, and is exact for data band-limited below the Nyquist mode
(sin x on any grid of ≥ 3 points). Taking the real part gives the Nyquist mode (even n) the symmetric
cos form. Modes with |c_k| ≤ drop_below·max|c| are dropped, which changes I by at most
n·drop_below·max|c| and makes evaluation cost proportional to the modes actually present: set
drop_below at the data's precision (float32-stored sin x: 2 modes instead of n/2 round-off modes).

Shapes: values (n_1, ..., n_d, F) -> forward((N, d)) -> (N, F).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Default relative size below which a Fourier coefficient is dropped (float64 round-off).
DROP_BELOW = 1e-14


class TrigonometricInterpolant(nn.Module):
    """I[v](x) on a d-dimensional periodic box; autograd gives its derivatives.

    Args:
        values: Grid values, shape (n_1, ..., n_d, F); axis a holds n_a points x0_a + j·L_a/n_a.
        origin: x0 per axis (d,).
        periods: L per axis (d,).
        drop_below: Relative size below which Fourier coefficients are dropped.
    """

    def __init__(self, values: np.ndarray, origin, periods, drop_below: float = DROP_BELOW):
        super().__init__()
        values = np.asarray(values, dtype=np.float64)
        shape = values.shape[:-1]
        if len(shape) != len(periods) or len(origin) != len(periods):
            raise ValueError(f"values of shape {values.shape} do not match {len(periods)} periodic axes")
        coefficients = np.fft.fftn(values, axes=tuple(range(len(shape)))) / np.prod(shape)
        modes = np.meshgrid(*(2 * np.pi * np.fft.fftfreq(n, d=L / n) for n, L in zip(shape, periods, strict=True)),
                            indexing="ij")
        wavevectors = np.stack([m.ravel() for m in modes], axis=1)  # (M, d)
        coefficients = coefficients.reshape(-1, values.shape[-1])  # (M, F)
        size = np.abs(coefficients).max(axis=1)
        keep = size > drop_below * max(size.max(), np.finfo(float).tiny)
        self.register_buffer("wavevectors", torch.tensor(wavevectors[keep]), persistent=False)
        self.register_buffer("real", torch.tensor(coefficients[keep].real), persistent=False)
        self.register_buffer("imag", torch.tensor(coefficients[keep].imag), persistent=False)
        self.register_buffer("origin", torch.tensor(np.asarray(origin, dtype=np.float64)), persistent=False)

    @property
    def n_modes(self) -> int:
        return self.wavevectors.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        phase = (x - self.origin.to(x.dtype)) @ self.wavevectors.to(x.dtype).T  # (N, M)
        # Re Σ_k c_k e^{iφ_k} = Σ_k Re c_k cos φ_k - Im c_k sin φ_k
        return torch.cos(phase) @ self.real.to(x.dtype) - torch.sin(phase) @ self.imag.to(x.dtype)
