"""Pseudo-spectral solvers for 1D periodic semilinear PDEs u_t = 𝓛u + 𝓝(u), batched over samples.

A subclass states the mathematics: the Fourier symbol of 𝓛 (`linear_symbol`) and the nonlinear
term in spectral space (`nonlinear`). This base provides the grid, 2/3-rule dealiasing, exponential
time stepping (ETDRK4 by default, or an exponential Adams method: `SCHEMES`) with output
sub-sampling, and blow-up detection.

A subclass whose nonlinearity is a diagonal factor times a core, 𝓝(v) = G ⊙ M(v) (KS and Burgers:
G = -ik/2 with the 2/3 mask, M(v) = F[u²]), may also state `nonlinear_factor` and `nonlinear_core`;
the solver then folds G into the ETDRK4 weights and keeps the state dealiased, which saves the
masking and multiplying of every stage (same scheme, ≈1.5x fewer seconds per step).

``dtype=np.longdouble`` runs the whole computation in x87 extended precision (numpy's FFT supports
it): slower, but with a round-off floor about 2000x lower — used for the reference trajectories of
the chaotic KS benchmark, where float64 round-off is amplified to ~1e-8 over T = 100.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput, SolverError
from pdesuite.solvers.order import SPECTRAL, ConvergenceOrder, Rate
from pdesuite.solvers.spectral.etd_adams import MAX_CFL, ETDAdams
from pdesuite.solvers.spectral.etdrk4 import ETDRK4


@dataclass(frozen=True)
class Scheme:
    """A time stepper for v' = Lv + N(v): ``make(linear, dt, factor=G)`` returns an object with
    ``step(v, nonlinear)`` and ``to_torch(device)``; its declared order (`convergence_order`, in the
    step h), and the advective CFL number |u|max·h/Δx below which it ran stably on
    Kuramoto-Sivashinsky (recipes check it up front)."""

    make: Callable
    convergence_order: ConvergenceOrder
    max_cfl: float


def _time_order(q: int) -> ConvergenceOrder:
    return ConvergenceOrder(time=Rate(q, "dt", "max"))


#: Time-stepping schemes by name. ETDRK4 (4 evaluations of N per step) is the default; the exponential
#: Adams methods take one evaluation per step and reach ETDRK4's accuracy at a fraction of its cost on
#: KS (benchmarks/ks_generation.py), with smaller stable steps.
SCHEMES: dict[str, Scheme] = {
    "etdrk4": Scheme(ETDRK4, ETDRK4.convergence_order, 1.5),
    **{f"etd-adams{q}": Scheme(partial(ETDAdams, order=q), _time_order(q), cfl) for q, cfl in MAX_CFL.items()},
}


def get_scheme(name: str) -> Scheme:
    if name not in SCHEMES:
        raise BadInput(f"unknown time-stepping scheme {name!r} (known: {', '.join(SCHEMES)})")
    return SCHEMES[name]


def as_batch(value, batch: int, name: str) -> np.ndarray:
    """A per-sample parameter as an array of shape (batch,)."""
    array = np.broadcast_to(np.asarray(value, dtype=float), (batch,)).copy()
    if not np.all(np.isfinite(array)):
        raise BadInput(f"{name} must be finite")
    return array


def _is_tensor(array) -> bool:
    """A torch tensor (without importing torch for numpy arrays)."""
    return not isinstance(array, np.ndarray) and hasattr(array, "device")


class Periodic1DSolver(ABC):
    """u_t = 𝓛u + 𝓝(u) on [x0, x0 + L) with periodic boundary conditions.

    Args:
        n: Grid points (positive and even).
        length: Domain length L, a number or one per sample, shape (batch,).
        batch: Number of samples solved together.
        dealias: Apply the 2/3 rule to the nonlinear term.
        x0: Left end of the domain.
        dtype: Real floating type of the computation (float64, or np.longdouble for references).

    Shapes:
        u: (batch, n) on the grid ``x[b] = x0 + L_b j / n``, j = 0..n-1.
    """

    #: Max-norm error: 4 in the time step with the default scheme (ETDRK4; `SCHEMES[name].convergence_order`
    #: for the others), spectral in the number of points n for analytic solutions.
    convergence_order: ClassVar[ConvergenceOrder] = ConvergenceOrder(
        time=Rate(4, "dt", "max", "scheme etdrk4 (the default)"), space=Rate(SPECTRAL, "n", "max"))

    def __init__(self, n: int, length, batch: int = 1, dealias: bool = True, x0: float = 0.0,
                 dtype=np.float64):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 4 or n % 2:
            raise BadInput(f"grid size n must be a positive even integer >= 4, got {n}")
        if isinstance(batch, bool) or int(batch) != batch or batch < 1:
            raise BadInput(f"batch must be a positive integer, got {batch}")
        if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.longdouble)):
            raise BadInput(f"dtype must be float64 or longdouble, got {np.dtype(dtype)}")
        self.n, self.batch, self.x0, self.dtype = int(n), int(batch), float(x0), np.dtype(dtype)
        self.length = as_batch(length, self.batch, "domain length").astype(self.dtype)
        if np.any(self.length <= 0):
            raise BadInput(f"domain length must be positive, got {self.length.min()}")
        modes = np.arange(self.n // 2 + 1, dtype=self.dtype)  # 0, 1, ..., n/2
        two_pi = 2 * np.arccos(self.dtype.type(-1))
        self.k = two_pi * modes[None, :] / self.length[:, None]  # (batch, n/2 + 1) wavenumbers
        self.mask = (modes <= self.n / 3).astype(self.dtype)[None, :] if dealias \
            else np.ones((1, modes.size), self.dtype)
        # ∂x in Fourier space; the Nyquist mode's derivative of a real field is taken as zero
        self.ik = 1j * self.k * (modes < self.n / 2)[None, :]

    @classmethod
    def from_problem(cls, problem, n: int, **options):
        """The solver for one problem object on ``n`` points (batch 1); ``options`` as `from_problems`."""
        return cls.from_problems([problem], n, **options)

    @classmethod
    def from_problems(cls, problems, n: int, **options):
        """A batched solver, one sample per problem object (each with its own coefficients where the
        solver allows it); the problems are kept in ``solver.problems``. Subclasses say which problem."""
        raise NotImplementedError(f"{cls.__name__} has no problem class; construct it from numbers")

    @staticmethod
    def _checked_problems(problems, kind: type, solver: str) -> tuple:
        """``problems`` as a non-empty tuple of ``kind`` instances (BadInput otherwise)."""
        problems = tuple(problems)
        if not problems:
            raise BadInput(f"{solver} needs at least one {kind.__name__} problem")
        wrong = [type(p).__name__ for p in problems if not isinstance(p, kind)]
        if wrong:
            raise BadInput(f"{solver} solves {kind.__name__} problems, got {wrong[0]}")
        return problems

    @property
    def x(self) -> np.ndarray:
        """Grid, shape (batch, n)."""
        return self.x0 + self.length[:, None] * np.arange(self.n)[None, :] / self.n

    # -- the mathematics (subclasses) --------------------------------------------------------------
    @abstractmethod
    def linear_symbol(self) -> np.ndarray:
        """𝓛 in Fourier space, shape (batch, n/2 + 1)."""

    @abstractmethod
    def nonlinear(self, v: np.ndarray) -> np.ndarray:
        """𝓝(u) in Fourier space for spectral state v (batch, n/2 + 1)."""

    def nonlinear_factor(self) -> np.ndarray | None:
        """G of a factored nonlinearity 𝓝(v) = G ⊙ M(v), shape (batch or 1, n/2 + 1), including
        the dealiasing mask; None (the default) when 𝓝 has no such form."""
        return None

    def nonlinear_core(self, v: np.ndarray) -> np.ndarray:
        """M(v) of the factored form, for a dealiased state v (modes above n/3 are zero)."""
        raise NotImplementedError

    # -- helpers for subclasses ------------------------------------------------------------------
    def to_grid(self, v: np.ndarray) -> np.ndarray:
        if _is_tensor(v):  # solve(device=...)
            import torch

            return torch.fft.irfft(v, n=self.n, dim=-1)
        return np.fft.irfft(v, n=self.n, axis=-1)

    def to_spectral(self, u: np.ndarray) -> np.ndarray:
        if _is_tensor(u):
            import torch

            return torch.fft.rfft(u, dim=-1)
        return np.fft.rfft(u, axis=-1)

    def product(self, v: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """Spectrum of the pointwise product u·w (u² when w is None), dealiased by the 2/3 rule."""
        u = self.to_grid(self.mask * v)
        other = u if w is None else self.to_grid(self.mask * w)
        return self.mask * self.to_spectral(u * other)

    # -- time stepping -----------------------------------------------------------------------------
    def solve(self, u0: np.ndarray, dt, n_steps: int, substeps: int = 1, keep_from: int = 0,
              device: str | None = None, scheme: str = "etdrk4") -> np.ndarray:
        """March ``n_steps`` output steps of size dt (each split into ``substeps`` steps of ``scheme``).

        Args:
            u0: Initial field (batch, n).
            dt: Output time step, a number or one per sample (batch,).
            n_steps: Output steps; the result holds u at steps ``keep_from .. n_steps`` (step 0 = u0).
            substeps: Time steps per output step (accuracy).
            keep_from: First output step kept (earlier ones are not stored: memory stays O(kept)).
            device: None (numpy), or a torch device ("cpu", "cuda"): the same float64 scheme with
                torch's FFT on that device, for large batches on a GPU (factored nonlinearities only).
            scheme: A name in `SCHEMES`: "etdrk4" (default) or "etd-adams2" ... "etd-adams6".

        Returns:
            Array (batch, n_steps + 1 - keep_from, n).
        """
        u0 = np.asarray(u0, dtype=self.dtype)
        if u0.shape != (self.batch, self.n):
            raise BadInput(f"initial field shape {u0.shape}, expected {(self.batch, self.n)}")
        dt = as_batch(dt, self.batch, "dt").astype(self.dtype)
        if np.any(dt <= 0):
            raise BadInput(f"time step dt must be positive, got {dt.min()}")
        if int(n_steps) != n_steps or n_steps < 1 or not 0 <= keep_from <= n_steps:
            raise BadInput(f"need n_steps >= 1 and 0 <= keep_from <= n_steps, got {n_steps}, {keep_from}")
        if int(substeps) != substeps or substeps < 1:
            raise BadInput(f"substeps must be a positive integer, got {substeps}")
        factor = self.nonlinear_factor()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # a linear symbol that overflows exp(L h) (a huge reaction rate) makes non-finite weights: the
            # solution is non-finite at the first step and reported there, in one line
            stepper = get_scheme(scheme).make(self.linear_symbol(), (dt / substeps)[:, None], factor=factor)
        rhs = self.nonlinear if factor is None else self.nonlinear_core
        out = np.empty((self.batch, n_steps + 1 - keep_from, self.n), dtype=self.dtype)
        v = self.to_spectral(u0)
        if factor is not None:  # the factored form keeps the state dealiased (the core relies on it)
            v *= self.mask
        if device is not None:
            v = self._to_device(stepper, v, device, factor)
        finite = np.isfinite if device is None else (lambda a: a.isfinite().cpu().numpy())
        if keep_from == 0:
            out[:, 0] = u0
        for step in range(1, n_steps + 1):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a blow-up is reported below
                for _ in range(substeps):
                    v = stepper.step(v, rhs)
            ok = finite(v)
            if not np.all(ok):
                bad = np.flatnonzero(~np.all(ok, axis=-1))
                raise SolverError(f"{type(self).__name__}: solution blew up at output step {step} "
                                  f"(t = {step * dt[bad[0]]:.4g}) in batch member(s) {bad.tolist()}")
            if step >= keep_from:
                u = self.to_grid(v)
                out[:, step - keep_from] = u if device is None else u.cpu().numpy()
        return out

    def _to_device(self, stepper, v: np.ndarray, device: str, factor):
        """Check ``device``, move the stepper's coefficients there and return the state as a tensor."""
        import torch

        if factor is None or self.dtype != np.float64:
            raise BadInput(f"{type(self).__name__}: device= needs a factored nonlinearity and float64")
        try:
            target = torch.device(device)
            torch.empty(1, device=target)
        except (RuntimeError, AssertionError) as exc:
            raise BadInput(f"torch device {device!r} is not available: {exc}") from None
        stepper.to_torch(target)
        return torch.as_tensor(v, device=target)


class QuadraticFlux:
    """𝓝(u) = -(u²/2)_x = -u u_x (Burgers, KS) for a `Periodic1DSolver`, in the factored form
    G ⊙ M(v) with G = -(ik/2)·mask and M(v) = F[u²]."""

    def nonlinear(self, v: np.ndarray) -> np.ndarray:
        return -0.5 * self.ik * self.product(v)

    def nonlinear_factor(self) -> np.ndarray:
        return -0.5 * self.ik * self.mask

    def nonlinear_core(self, v: np.ndarray) -> np.ndarray:
        u = self.to_grid(v)
        u *= u
        return self.to_spectral(u)
