"""Random smooth fields as truncated Fourier series on the unit square, and grid helpers."""

from __future__ import annotations

import numpy as np


def _modes(coefficients) -> int:
    """K for a (K, K) coefficient array: numpy array or UFL/dolfinx Constant."""
    shape = getattr(coefficients, "ufl_shape", None) or np.shape(coefficients)
    return int(shape[0])


def sine_series(x, m, coefficients):
    """Σ_{k,l=1..K} a_kl sin(kπx) sin(lπy) (zero on the boundary of the unit square)."""
    K = _modes(coefficients)
    total = 0.0 * x[0]
    for k in range(K):
        for l in range(K):
            total = total + coefficients[k, l] * m.sin((k + 1) * m.pi * x[0]) * m.sin((l + 1) * m.pi * x[1])
    return total


def cosine_series(x, m, coefficients):
    """Σ_{k,l=0..K-1} a_kl cos(kπx) cos(lπy) (zero normal derivative on the unit square)."""
    K = _modes(coefficients)
    total = 0.0 * x[0]
    for k in range(K):
        for l in range(K):
            total = total + coefficients[k, l] * m.cos(k * m.pi * x[0]) * m.cos(l * m.pi * x[1])
    return total


def random_coefficients(rng: np.random.Generator, modes: int, decay: float, start: int = 1) -> np.ndarray:
    """a_kl ~ N(0, 1) / (1 + k² + l²)^(decay/2) for wavenumbers k, l = start .. start + modes - 1."""
    k = np.arange(start, start + modes)
    scale = (1.0 + k[:, None] ** 2 + k[None, :] ** 2) ** (-decay / 2)
    return rng.standard_normal((modes, modes)) * scale


def grid_permutation(points: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Map the nodes of a structured (n × n cells) unit-square mesh to grid indices (i, j).

    Returns ``(i, j)`` with ``grid[i[k], j[k]] = nodal[k]``, i.e. arrays index as ``u[x_i, y_j]``.
    """
    i = np.rint(points[:, 0] * n).astype(int)
    j = np.rint(points[:, 1] * n).astype(int)
    if points.shape[0] != (n + 1) ** 2 or np.unique(i * (n + 1) + j).size != points.shape[0]:
        raise ValueError("mesh nodes are not the (n+1)² grid points of a structured unit square")
    return i, j
