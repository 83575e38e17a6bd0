"""`heat-random`: u_t = κΔu on the unit square, u = 0 on ∂Ω, random smooth initial field.

    u0(x, y) = Σ_{k,l=1..K} a_kl sin(kπx) sin(lπy),   a_kl ~ N(0, 1)/(1 + k² + l²)^(s/2),

whose exact solution is u(x, y, t) = Σ a_kl exp(-κπ²(k² + l²) t) sin(kπx) sin(lπy); the
dataset's check compares against it. Crank-Nicolson in time, Lagrange P_degree in space.
Stored: u at ``n_times`` equally spaced times in [0, T] on the (n+1)² vertex grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.base import NUMPY, Parametric
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.recipes.fourier import grid_permutation, random_coefficients, sine_series
from pdesuite.registry import DATASETS


def exact_solution(points: np.ndarray, t: np.ndarray, params: np.ndarray, kappa: float) -> np.ndarray:
    """u(x, t) for one sample: ``points`` (n, 2), ``t`` (n_t,) -> (n_t, n)."""
    K = int(round(np.sqrt(params.size)))
    a = params.reshape(K, K)
    k = np.arange(1, K + 1)
    rates = kappa * np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2)
    out = np.zeros((len(t), points.shape[0]))
    for n_t, time in enumerate(t):
        out[n_t] = sine_series(points.T, NUMPY, a * np.exp(-rates * time))
    return out


@DATASETS.register("heat-random")
class HeatRandom(Recipe):
    name: ClassVar[str] = "heat-random"
    problem: ClassVar[str] = "heat"
    solver: ClassVar[str] = "HeatSolver (Crank-Nicolson)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "u_t = kappa Laplace(u), u = 0 on the boundary, random sine-series initial field"

    def validate(self) -> None:
        p = self.params
        self.require_int("resolution", 2)
        self.require_int("degree", 1, 3)
        self.require_int("modes", 1, 8)
        self.require_int("n_times", 2)
        self.require_positive("kappa", "diffusivity kappa")
        self.require_positive("dt")
        self.require_positive("t_end")
        steps = p["t_end"] / p["dt"]
        per_output = steps / (p["n_times"] - 1)
        self.require(abs(per_output - round(per_output)) < 1e-6 and round(per_output) >= 1,
                     f"t_end/dt = {steps:g} steps must be a multiple of n_times - 1 = {p['n_times'] - 1}")

    def prepare(self) -> None:
        from mpi4py import MPI

        from pdesuite.problems import Heat
        from pdesuite.solvers.fem import HeatSolver, unit_square

        p = self.params
        self.u0 = Parametric(sine_series, (p["modes"], p["modes"]))
        self.domain = unit_square(p["resolution"], comm=MPI.COMM_SELF)
        problem = Heat(kappa=float(p["kappa"]), initial=self.u0, t_end=float(p["t_end"]))
        self.fem_solver = HeatSolver(problem, self.domain, degree=p["degree"], dt=float(p["dt"]),
                                     scheme="crank-nicolson")
        self.times = np.linspace(0.0, p["t_end"], p["n_times"])
        self.grid_index = grid_permutation(self.domain.mesh.geometry.x[:, :2], p["resolution"])

    def layout(self) -> Layout:
        n, K = self.params["resolution"], self.params["modes"]
        axis = np.linspace(0.0, 1.0, n + 1)
        return Layout(arrays={"t": self.times, "x": axis, "y": axis},
                      sample_shape=(len(self.times), n + 1, n + 1, 1),
                      param_names=[f"a_{k}_{l}" for k in range(1, K + 1) for l in range(1, K + 1)])

    def extra_attrs(self) -> dict:
        return {"grid_indexing": "u[..., i, j, :] = u(x_i, y_j)"}

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None,
               tag: str = "") -> Sample:
        p = self.params
        a = random_coefficients(rng, p["modes"], p["decay"], start=1)
        self.u0.set(a)
        series = self.fem_solver.solve(save_times=self.times)
        if export_dir is not None:
            series.export_xdmf(export_dir / f"{tag}.xdmf")
        n = p["resolution"]
        grid = np.zeros((len(self.times), n + 1, n + 1, 1))
        i, j = self.grid_index
        grid[:, i, j, 0] = series.nodal_values()[..., 0]
        return Sample(grid, a.ravel())
