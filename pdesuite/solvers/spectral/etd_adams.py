"""Exponential Adams-Bashforth (ETD multistep) methods of order q for stiff diagonal systems.

For v' = L v + N(v) with L diagonal, the exact variation-of-constants step over [t_n, t_n + h] is

    v(t_n + h) = e^{Lh} v(t_n) + h ∫_0^1 e^{Lh(1-s)} N(v(t_n + s h)) ds.

Replacing N by the polynomial through the last q values N_{n-j} = N(v_{n-j}) (nodes s = -j,
j = 0..q-1; Lagrange basis ℓ_j) gives the q-step method (Cox & Matthews 2002, J. Comput. Phys. 176,
§2.1, "ETDq"; Beylkin, Keiser & Vozovoi 1998, J. Comput. Phys. 147; Hochbruck & Ostermann 2010,
Acta Numerica 19, §2.5)

    v_{n+1} = e^{z} v_n + h Σ_j β_j(z) N_{n-j},   β_j(z) = ∫_0^1 e^{z(1-s)} ℓ_j(s) ds,   z = hL.

Writing ℓ_j(s) = Σ_m a_jm s^m and ∫_0^1 e^{z(1-s)} s^m ds = m! φ_{m+1}(z) with the φ-functions
φ_0(z) = e^z, φ_{k+1}(z) = (φ_k(z) - 1/k!)/z, the weights are β_j = Σ_m a_jm m! φ_{m+1}(z). At z = 0
they are the classical Adams-Bashforth coefficients (q = 4: 55/24, -59/24, 37/24, -9/24). The φ_k are
summed from their Taylor series Σ_i z^i/(i + k)! for |z| < 4 (where the recursion cancels) and by the
recursion elsewhere.

One step costs a single evaluation of N (two FFTs for a quadratic nonlinearity), against four for
ETDRK4, and the error is O(h^q). The price is a smaller stability region, which shrinks as q grows:
`MAX_CFL` holds the advective CFL numbers measured stable on Kuramoto-Sivashinsky (ν = 0.5 and 1),
with margin. The first q - 1 steps are taken by ETDRK4 with `STARTUP_SUBSTEPS` substeps each (local
error O((h/8)^5) per substep), small enough that the observed orders are q up to q = 6 (tested).

As with `ETDRK4`, a diagonal factor of the nonlinearity, N(v) = G ⊙ M(v), can be folded into the
weights (``factor=G``); `step` is then handed M.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from pdesuite.solvers.order import ConvergenceOrder, Rate
from pdesuite.solvers.spectral.etdrk4 import ETDRK4, _real_type, complex_tensor

#: ETDRK4 substeps per step while the history fills (the first q - 1 steps).
STARTUP_SUBSTEPS = 8
#: Largest advective CFL number |u|max·h/Δx (|u|max ≈ 3 for KS) per order, from KS runs with
#: ν = 0.5 and 1 (T ≈ 100, 64 trajectories): stable up to 1.45 (q = 2, 3; the largest tried), 0.73
#: (q = 4), 0.18 (q = 5), 0.09 (q = 6) at ν = 0.5, unstable at 0.97 / 0.36 / 0.12 for q = 4 / 5 / 6;
#: the limits keep a ~1.5x margin below the stable values.
MAX_CFL = {2: 1.0, 3: 1.0, 4: 0.5, 5: 0.12, 6: 0.06}


def phi_functions(z: np.ndarray, k_max: int) -> list[np.ndarray]:
    """[φ_0(z), ..., φ_k_max(z)] for an array z (real or complex), in z's precision."""
    z = np.asarray(z)
    small = np.abs(z) < 4
    z_small = np.where(small, z, 0)
    z_large = np.where(small, 1, z)
    phis = [np.exp(z)]
    for k in range(1, k_max + 1):
        recursion = (phis[-1] - 1 / z.dtype.type(math.factorial(k - 1))) / z_large
        # Σ_i z^i/(i + k)!: 60 terms leave < 4^60/60! ≈ 1e-46 of the sum at |z| < 4
        term = np.ones_like(z_small) / z.dtype.type(math.factorial(k))
        series = np.zeros_like(term)
        for i in range(60):
            series = series + term
            term = term * z_small / (i + k + 1)
        phis.append(np.where(small, series, recursion))
    return phis


def lagrange_monomials(order: int) -> list[list[Fraction]]:
    """Exact ascending-power coefficients a_jm of ℓ_j(s) = Π_{i≠j} (s - s_i)/(s_j - s_i), s_i = -i."""
    rows = []
    for j in range(order):
        coefficients = [Fraction(1)]
        for i in range(order):
            if i != j:  # multiply by (s + i)/(i - j)
                shifted = [Fraction(0)] + coefficients
                scaled = [i * c for c in coefficients] + [Fraction(0)]
                coefficients = [(a + b) / (i - j) for a, b in zip(shifted, scaled, strict=True)]
        rows.append(coefficients)
    return rows


def adams_weights(z: np.ndarray, order: int) -> list[np.ndarray]:
    """[β_0(z), ..., β_{q-1}(z)]: the weights of N_n, N_{n-1}, ... (each shaped like z)."""
    real = _real_type(np.asarray(z))
    phis = phi_functions(z, order)
    return [sum(real(a.numerator) / real(a.denominator) * math.factorial(m) * phis[m + 1] for m, a in enumerate(row))
            for row in lagrange_monomials(order)]


class ETDAdams:
    """Exponential Adams-Bashforth stepper of order q for v' = L v + N(v), L diagonal; batched.

    Args:
        linear: The symbol L, shape (..., n_modes).
        dt: Step h: a number or an array broadcastable against ``linear``.
        order: q in 2..6 (q = 7 was unstable on KS at every step size tried).
        factor: Optional diagonal G with N(v) = G ⊙ M(v); `step` is then given M.

    `step` keeps the last q nonlinear evaluations. It must be handed its own previous result; given
    any other array object (a new trajectory, a copy) it starts again with ETDRK4 start-up steps.
    Editing the returned array in place is not detected: copy it first.
    """

    def __init__(self, linear: np.ndarray, dt: float | np.ndarray, order: int = 5,
                 factor: np.ndarray | None = None):
        if order not in MAX_CFL:
            raise ValueError(f"ETD Adams order must be one of {sorted(MAX_CFL)}, got {order}")
        self.order = order
        self.linear = np.asarray(linear)
        self.dt = np.asarray(dt, dtype=_real_type(self.linear))
        z = self.dt * self.linear
        self.e = np.exp(z)
        g = 1 if factor is None else np.asarray(factor)
        self.weights = [self.dt * beta * g for beta in adams_weights(z, order)]
        self.startup = ETDRK4(self.linear, self.dt / STARTUP_SUBSTEPS, factor=factor)
        self.history: list = []  # N_n, N_{n-1}, ... (newest first)
        self._last = None

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """Global error O(h^q) (Cox & Matthews 2002, §2.1)."""
        return ConvergenceOrder(time=Rate(self.order, "dt", "max"))

    def to_torch(self, device) -> None:
        """Hold the coefficients as complex128 torch tensors on ``device``; `step` then takes tensors."""
        self.e = complex_tensor(self.e, device)
        self.weights = [complex_tensor(w, device) for w in self.weights]
        self.startup.to_torch(device)

    def step(self, v: np.ndarray, nonlinear: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """One step of size h from ``v`` (not modified); ``nonlinear`` maps v to N(v) (M(v) with a
        factor). Returns v⁺."""
        if v is not self._last:  # a state this stepper did not produce: the history does not apply
            self.history = []
        self.history.insert(0, nonlinear(v))
        del self.history[self.order:]
        if len(self.history) < self.order:
            out = v
            for _ in range(STARTUP_SUBSTEPS):
                out = self.startup.step(out, nonlinear)
        else:
            out = self.e * v
            for weight, past in zip(self.weights, self.history, strict=True):
                out += weight * past
        self._last = out
        return out
