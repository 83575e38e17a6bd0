"""ETDRK4: fourth-order exponential time differencing Runge-Kutta for stiff diagonal systems.

For v' = L v + N(v) with L diagonal (a Fourier symbol), one step of size h is (Cox & Matthews 2002,
J. Comput. Phys. 176, eq. 26-29)

    a = e^{Lh/2} v + Q N(v)
    b = e^{Lh/2} v + Q N(a)
    c = e^{Lh/2} a + Q (2 N(b) - N(v))
    v⁺ = e^{Lh} v + f1 N(v) + 2 f2 (N(a) + N(b)) + f3 N(c)

with the φ-function coefficients

    Q  = h ((e^{z/2} - 1)/z),                         z = hL,
    f1 = h (-4 - z + e^z (4 - 3z + z²)) / z³,
    f2 = h ( 2 + z + e^z (z - 2)) / z³,
    f3 = h (-4 - 3z - z² + e^z (4 - z)) / z³,

evaluated, as Kassam & Trefethen (2005, SIAM J. Sci. Comput. 26, eq. 2.5) propose, as means over M
points of a circle of radius 1 around each z (a contour integral), which avoids the cancellation of the
formulas near z = 0. Global error O(h⁴).

When the nonlinearity factors as N(v) = G ⊙ M(v) with a diagonal G (for u u_x: G = -ik/2), the
stepper folds G into Q and the weights once (``factor=G``) and is handed M instead of N: the same
arithmetic with fewer array operations per stage — about 1.5x faster per step for KS at N = 256
(benchmarks/ks_generation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from pdesuite.solvers.order import ConvergenceOrder, Rate


def _real_type(array: np.ndarray) -> type:
    """np.longdouble for (complex) long-double arrays, else np.float64."""
    return np.longdouble if array.dtype in (np.longdouble, np.clongdouble) else np.float64


def complex_tensor(value, device):
    """A coefficient array as a complex128 torch tensor on ``device`` (the steppers' `to_torch`)."""
    import torch

    return torch.as_tensor(np.asarray(value, dtype=np.complex128), device=device)


def phi_coefficients(z: np.ndarray, contour_points: int = 32) -> tuple[np.ndarray, ...]:
    """(e^{z/2} - 1)/z and the three ETDRK4 weights divided by h, for an array of z = hL.

    Uses the full circle of ``contour_points`` points, so complex z (advection symbols) work; for
    real z the imaginary parts cancel and are dropped.
    """
    z = np.asarray(z)
    # the circle's points in z's precision (extended precision references need more than float64 π)
    real = _real_type(z)
    angle = 2 * np.arccos(real(-1)) * (np.arange(1, contour_points + 1, dtype=real) - real(0.5)) / contour_points
    roots = np.cos(angle) + 1j * np.sin(angle)
    lr = z[..., None] + roots
    e = np.exp(lr)
    q = np.mean((np.exp(lr / 2) - 1) / lr, axis=-1)
    f1 = np.mean((-4 - lr + e * (4 - 3 * lr + lr**2)) / lr**3, axis=-1)
    f2 = np.mean((2 + lr + e * (lr - 2)) / lr**3, axis=-1)
    f3 = np.mean((-4 - 3 * lr - lr**2 + e * (4 - lr)) / lr**3, axis=-1)
    if np.isrealobj(z):
        return q.real, f1.real, f2.real, f3.real
    return q, f1, f2, f3


class ETDRK4:
    """ETDRK4 stepper for v' = L v + N(v), L diagonal; batched over leading axes.

    Args:
        linear: The symbol L, shape (..., n_modes); a leading batch axis lets L differ per sample
            (e.g. a domain length or viscosity per trajectory).
        dt: Step h: a number, or an array broadcastable against ``linear`` (e.g. (batch, 1)).
        contour_points: M, the points of the contour mean (32 is ample in double precision).
        factor: Optional diagonal G with N(v) = G ⊙ M(v); `step` is then given M, not N.

    Shapes:
        v: (..., n_modes) complex spectral coefficients, broadcast-compatible with ``linear``.
    """

    #: Global error O(h⁴) for smooth N (Cox & Matthews 2002; observed on Burgers and KS in test_orders.py).
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(time=Rate(4, "dt", "max"))

    def __init__(self, linear: np.ndarray, dt: float | np.ndarray, contour_points: int = 32,
                 factor: np.ndarray | None = None):
        self.linear = np.asarray(linear)
        self.dt = np.asarray(dt, dtype=_real_type(self.linear))
        z = self.dt * self.linear
        self.e = np.exp(z)
        self.e2 = np.exp(z / 2)
        q, f1, f2, f3 = phi_coefficients(z, contour_points)
        g = 1 if factor is None else np.asarray(factor)
        # v⁺ = e v + w_v N(v) + w_ab (N(a) + N(b)) + w_c N(c), with G folded in
        self.q = self.dt * q * g
        self.w_v, self.w_ab, self.w_c = self.dt * f1 * g, 2 * self.dt * f2 * g, self.dt * f3 * g

    def to_torch(self, device) -> None:
        """Hold the coefficients as complex128 torch tensors on ``device``; `step` then takes tensors."""
        for name in ("e", "e2", "q", "w_v", "w_ab", "w_c"):
            setattr(self, name, complex_tensor(getattr(self, name), device))

    def step(self, v: np.ndarray, nonlinear: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """One step of size h from spectral state ``v``; ``nonlinear`` maps v to N(v) (to M(v) when
        the stepper was built with ``factor``), returning a new array. Returns v⁺; ``v`` is not modified."""
        nv = nonlinear(v)
        e2v = self.e2 * v
        a = e2v + self.q * nv
        na = nonlinear(a)
        b = e2v + self.q * na
        nb = nonlinear(b)
        c = self.e2 * a + self.q * (2 * nb - nv)
        nc = nonlinear(c)
        na += nb  # in place: stage arrays are no longer needed
        return self.e * v + self.w_v * nv + self.w_ab * na + self.w_c * nc
