"""Error metrics between a prediction and a reference on the same grid.

Shapes: arrays (n_t, *spatial, n_fields) for time-dependent data, (*spatial, n_fields) for steady.
"""

from __future__ import annotations

import numpy as np


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """‖u_pred - u_ref‖₂ / ‖u_ref‖₂ over all grid points (PIG's metric)."""
    return float(np.linalg.norm(prediction - reference) / np.linalg.norm(reference))


def max_error(prediction: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(prediction - reference).max())


def lpinn_error(prediction: np.ndarray, reference: np.ndarray, offset: float = 0.0, trim: int = 2) -> float:
    """Mojgani et al.'s error ‖U_ref - U_pred‖₂ / ‖U_ref - C‖₂ with matrix 2-norms (largest singular
    values) of the (n_t, n_x) solution matrices, ``trim`` boundary columns removed on each side of x,
    and C the constant offset of the initial condition (u0 = sin x + C)."""
    ref, pred = reference[..., 0], prediction[..., 0]
    if ref.ndim != 2:
        raise ValueError("the LPINN error norm is defined for 1D time-dependent (n_t, n_x) data")
    if trim:
        ref, pred = ref[:, trim:-trim], pred[:, trim:-trim]
    return float(np.linalg.norm(ref - pred, 2) / np.linalg.norm(ref - offset, 2))


def per_time_relative_l2(prediction: np.ndarray, reference: np.ndarray) -> list[float]:
    """Relative L2 error at each time slice (first axis)."""
    axes = tuple(range(1, reference.ndim))
    num = np.sqrt(np.sum((prediction - reference) ** 2, axis=axes))
    den = np.sqrt(np.sum(reference**2, axis=axes))
    return (num / np.where(den > 0, den, 1.0)).tolist()
