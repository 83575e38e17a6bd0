"""What a physics-informed surrogate learns: one reference solution (a sample of a dataset file) and
the problem whose PDE it satisfies (`pdesuite.problems.base.PhysicsInformed`: residual, spatial
operator, periodic axes)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pdesuite.data.reader import open_dataset
from pdesuite.errors import BadInput
from pdesuite.nn.interpolation import TrigonometricInterpolant
from pdesuite.problems.autodiff import TORCH, columns
from pdesuite.problems.base import PhysicsInformed, physics_problems, problem_instance

#: Relative precision of stored values (float32 with margin), for the initial-value interpolant.
STORAGE_PRECISION = 1e-6
#: How `Task.sample_interior` draws collocation points (the ``sampler`` setting).
SAMPLERS = ("uniform", "sobol", "hammersley")
#: Bases of the radical inverses of the Hammersley set's second, third, ... coordinates.
_PRIMES = (2, 3, 5, 7, 11, 13, 17)


class AnalyticInitial(torch.nn.Module):
    """A problem's ``initial(x, m)`` evaluated with torch: (N, d) -> (N, 1)."""

    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.problem.initial(columns(x, 0), TORCH)


@dataclass
class Task:
    """A reference solution on a grid and the PDE it satisfies.

    Attributes:
        dataset: The dataset file.
        split, index: Which sample.
        problem: The dataset's problem name.
        params: The sample's parameters by name (c, nu, ...).
        axes: Coordinate names in network-column order, e.g. ("t", "x").
        grids: Axis -> 1D grid.
        reference: Values on the grid, shape (*[len(grids[a]) for a in axes], n_fields).
        fields: Field names.
        physics: The problem object built from the sample's parameters (residual, spatial operator,
            periodic axes), or None for data-driven use.
    """

    dataset: Path
    split: str
    index: int
    problem: str
    params: dict
    axes: tuple[str, ...]
    grids: dict[str, np.ndarray]
    reference: np.ndarray
    fields: list[str]
    physics: PhysicsInformed | None

    @classmethod
    def from_dataset(cls, path: str | os.PathLike, split: str | None = None, index: int = 0,
                     physics: bool = True) -> Task:
        """Load sample ``index`` of ``split`` (default: the test split, or the first one present)."""
        data = open_dataset(path)
        split = split or ("test" if "test" in data.splits else data.splits[0])
        arrays = data.split(split)
        n = arrays["u"].shape[0]
        if not 0 <= index < n:
            raise BadInput(f"sample {index} out of range: {split} of {path} has {n} samples")
        problem = data.attrs["problem"]
        params = dict(zip(arrays["param_names"], (float(v) for v in arrays["params"][index]), strict=True))
        spec = None
        if physics:
            spec = _physics(problem, params)
            if spec is None:
                raise BadInput(f"no PDE residual is defined for problem {problem!r} of {path} "
                               f"(physics-informed surrogates support: {', '.join(physics_problems())})")
        coords = data.coordinates()
        if "mesh_points" in coords:
            raise BadInput(f"{path} holds mesh data; this surrogate needs grid data (t, x[, y])")
        u = arrays["u"][index].astype(np.float64)  # (n_t, *spatial, n_fields)
        if not np.all(np.isfinite(u)):
            raise BadInput(f"{path}: sample {index} of {split} contains {int(np.sum(~np.isfinite(u)))} NaN/inf "
                           f"value(s); a reference must be finite (pdesuite inspect {path} checks a file)")
        grids = {"t": coords["t"]}
        for axis in ("x", "y", "z"):
            if axis in arrays and arrays[axis].ndim == 2:
                grids[axis] = arrays[axis][index]
            elif axis in coords:
                grids[axis] = coords[axis]
        axes = tuple(a for a in ("t", "x", "y", "z") if a in grids)
        if u.shape[0] == 1 and (spec is None or spec.steady):  # steady: drop the time axis
            u, axes = u[0], axes[1:]
        if spec is not None and tuple(spec.axes) != axes:
            raise BadInput(f"{path} has axes {axes}, but the {problem} PDE expects {spec.axes}")
        return cls(Path(path), split, index, problem, params, axes, {a: grids[a] for a in axes}, u,
                   list(data.fields), spec)

    # -- geometry --------------------------------------------------------------------------------
    def period(self, axis: str) -> float | None:
        return None if self.physics is None else self.physics.periodic.get(axis)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Axis -> (low, high); a periodic axis spans one period from its first grid point."""
        out = {}
        for axis in self.axes:
            grid = self.grids[axis]
            period = self.period(axis)
            out[axis] = (float(grid[0]), float(grid[0] + period) if period else float(grid[-1]))
        return out

    def grid_points(self) -> np.ndarray:
        """All grid points (N, d), in the order of ``reference.reshape(-1, n_fields)``."""
        mesh = np.meshgrid(*(self.grids[a] for a in self.axes), indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def sample_interior(self, n: int, generator: torch.Generator, dtype=torch.float32,
                        sampler: str = "uniform") -> torch.Tensor:
        """n points in the space(-time) box, shape (n, d), drawn by ``sampler``:

        * ``"uniform"``: independent uniform points (clusters and holes of ~1/√n of the box);
        * ``"sobol"``: the first n points of a scrambled Sobol sequence, the scrambling seeded from
          ``generator`` (random, but low-discrepancy: for n = 2^m every cell of a 2^j × 2^(m-j)
          grid of the first two coordinates holds exactly one point);
        * ``"hammersley"``: the Hammersley set, coordinate 0 = (i + ½)/n and coordinate k = the
          radical inverse of i in the k-th prime, centred in its cell (deterministic, low-discrepancy,
          the same net property, no point on a face; DeepXDE's default training points are a
          Hammersley set); ``generator`` is not used.
        """
        bounds = self.bounds()
        low = torch.tensor([bounds[a][0] for a in self.axes], dtype=dtype)
        high = torch.tensor([bounds[a][1] for a in self.axes], dtype=dtype)
        d = len(self.axes)
        if sampler == "uniform":
            unit = torch.rand(n, d, generator=generator, dtype=dtype)
        elif sampler == "sobol":
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            unit = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed).draw(n, dtype=torch.float64).to(dtype)
        elif sampler == "hammersley":
            unit = _hammersley(n, d).to(dtype)
        else:
            raise BadInput(f"unknown sampler {sampler!r} (known: {', '.join(SAMPLERS)})")
        return low + (high - low) * unit

    def initial_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Points (n, d) at t = t0 and the reference values there (n, n_fields)."""
        if "t" not in self.axes:
            raise BadInput("steady problem: no initial condition")
        mesh = np.meshgrid(*(self.grids[a] for a in self.axes[1:]), indexing="ij")
        points = np.stack([np.full(mesh[0].size, self.grids["t"][0])] + [m.ravel() for m in mesh], axis=1)
        return points, self.reference[0].reshape(-1, self.reference.shape[-1])

    def normalized_time(self, t: torch.Tensor) -> torch.Tensor:
        """τ = (t - t0)/(T - t0): 0 at the initial time, 1 at the last stored time."""
        times = self.grids["t"]
        return (t - float(times[0])) / float(times[-1] - times[0])

    def initial_function(self) -> torch.nn.Module:
        """u0 as a differentiable torch function of the spatial coordinates, (N, d-1) -> (N, n_fields),
        for hard initial conditions: the problem's closed-form ``initial(x, m)`` where it has one and
        it matches the stored t0 values (cheap, exact: Allen-Cahn's kinked u0 needs many Fourier modes),
        else the trigonometric interpolant of the stored values when every spatial axis is periodic
        (spectrally exact for smooth data)."""
        if "t" not in self.axes:
            raise BadInput("steady problem: no initial condition")
        space = self.axes[1:]
        problem = self.physics if self.physics is not None else _physics(self.problem, self.params)
        mismatch = None
        if problem is not None and hasattr(problem, "initial"):
            function = AnalyticInitial(problem)
            points, values = self.initial_data()
            with torch.no_grad():
                predicted = function(torch.as_tensor(points[:, 1:], dtype=torch.float64)).numpy()
            scale = max(float(np.abs(values).max()), 1e-300)
            mismatch = float(np.abs(predicted - values).max())
            if mismatch <= 1e-6 * scale:
                return function
        if all(self.period(a) for a in space):
            # dataset values are stored in float32: Fourier coefficients below ~1e-6 of the largest are
            # storage round-off (they would cost time at every collocation point, not add accuracy)
            return TrigonometricInterpolant(self.reference[0], [self.grids[a][0] for a in space],
                                            [self.period(a) for a in space], drop_below=STORAGE_PRECISION)
        if mismatch is not None:
            raise BadInput(f"hard initial condition: {self.problem}'s initial(x) differs from the t0 values in "
                           f"{self.dataset} by {mismatch:.3g}")
        raise BadInput(f"hard initial condition: {self.problem} has non-periodic axes and no analytic "
                       "initial condition (use the initial-condition loss)")

    def boundary_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid points on the non-periodic spatial boundary (all times) and their reference values."""
        points, values = self.grid_points(), self.reference.reshape(-1, self.reference.shape[-1])
        on = np.zeros(points.shape[0], dtype=bool)
        for i, axis in enumerate(self.axes):
            if axis == "t" or self.period(axis):
                continue
            grid = self.grids[axis]
            on |= np.isclose(points[:, i], grid[0]) | np.isclose(points[:, i], grid[-1])
        return points[on], values[on]


def _hammersley(n: int, d: int) -> torch.Tensor:
    """The centred n-point Hammersley set in (0, 1)^d (float64): ((i + ½)/n, φ_2(i) + ½·2^-k₂, φ_3(i) +
    ½·3^-k₃, ...), with φ_b the radical inverse in base b (the digits of i mirrored about the radix
    point) and b^k_b >= n. Centring keeps every point in its cell, so the net property holds, and off
    the box's faces: a point on a face made the hard-BC factor exactly 0 there, which sent
    `torch.prod`'s backward down its slow zero-safe path (8.5 against 6.8 ms per Helmholtz step)."""
    if d - 1 > len(_PRIMES):
        raise BadInput(f"the Hammersley sampler supports up to {len(_PRIMES) + 1} coordinates, got {d}")
    index = torch.arange(n, dtype=torch.int64)
    columns = [(index.to(torch.float64) + 0.5) / n]
    for base in _PRIMES[: d - 1]:
        value, scale, rest = torch.zeros(n, dtype=torch.float64), 1.0 / base, index.clone()
        while bool((rest > 0).any()):
            value += scale * (rest % base).to(torch.float64)
            rest = rest // base
            scale /= base
        digits = 0
        while base**digits < n:
            digits += 1
        columns.append(value + 0.5 * float(base) ** -digits)
    return torch.stack(columns, dim=1)


def _physics(problem: str, params: dict) -> PhysicsInformed | None:
    """The problem object of a sample built from its parameters (None when the problem is not
    registered or has no residual)."""
    from pdesuite.registry import PROBLEMS

    if problem not in PROBLEMS or not issubclass(PROBLEMS.get(problem), PhysicsInformed):
        return None
    return problem_instance(problem, params)
