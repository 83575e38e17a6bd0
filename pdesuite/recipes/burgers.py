"""`burgers` (random smooth initial data, viscosity range) and `burgers-lpinn` (LPINN's moving shock).

    u_t + u u_x = ν u_xx on [0, 2π), periodic,

solved pseudo-spectrally with ETDRK4 on ``nx_solve`` points (verified against Cole-Hopf solutions in
tests/solvers/spectral) and stored on every (nx_solve/nx)-th point.

`burgers`: u0 = Σ_{i=1..n_sines} A_i sin(l_i x + φ_i), A ~ U(-0.5, 0.5), φ ~ U(0, 2π),
l ∈ {1..l_max}, ν log-uniform in [nu_min, nu_max]; ``params`` = [nu]. (LPSDA instead solves the
heat equation and maps it through Cole-Hopf; the direct solve lets ν vary and keeps the data's
initial fields smooth sine sums.)

`burgers-lpinn`: u0 = sin x + C for C in the sweep (LPINN: C ∈ {0, 2}), ν = 0.01, t ∈ [0, 1];
``params`` = [C, nu]. With C ≠ 0 the steepening front travels at speed C.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pdesuite.problems.burgers import Burgers
from pdesuite.recipes.base import Layout, Recipe, Sample, SweepRecipe
from pdesuite.registry import DATASETS
from pdesuite.solvers.spectral.burgers import BurgersSolver


class _BurgersGrid:
    """What both Burgers recipes share: problem, solver, fields, CFL check, grids and solve."""

    params: dict
    problem: ClassVar[str] = "burgers"
    solver: ClassVar[str] = "BurgersSolver (pseudo-spectral, 2/3 dealiasing, ETDRK4)"
    fields: ClassVar[list[str]] = ["u"]

    def check_cfl(self, u_max: float) -> None:
        p = self.params
        h = p["t_end"] / (p["nt"] - 1) / p["substeps"]
        cfl = u_max * h / (2 * np.pi / p["nx_solve"])
        self.require(cfl <= 1.0, f"time step too large for stability: CFL {cfl:.2f} > 1 "
                                 f"(|u| up to {u_max:g}); raise substeps")

    def grids(self) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        return np.linspace(0.0, p["t_end"], p["nt"]), 2 * np.pi * np.arange(p["nx"]) / p["nx"]

    def solve(self, u0_fn, nu: np.ndarray) -> np.ndarray:
        """u on the stored grid, (batch, nt, nx), for initial functions of x and viscosities."""
        p = self.params
        solver = BurgersSolver.from_problems([Burgers(nu=float(v), t_end=float(p["t_end"])) for v in nu], p["nx_solve"])
        u0 = np.stack([f(solver.x[0]) for f in u0_fn])
        dt = p["t_end"] / (p["nt"] - 1)
        u = solver.solve(u0, dt, p["nt"] - 1, substeps=p["substeps"])
        return u[:, :, :: p["nx_solve"] // p["nx"]]


@DATASETS.register("burgers")
class BurgersData(_BurgersGrid, Recipe):
    name: ClassVar[str] = "burgers"
    description: ClassVar[str] = "viscous Burgers on [0, 2π), random sine-sum initial data, nu log-uniform"
    batch_size: ClassVar[int] = 16

    def validate(self) -> None:
        p = self.params
        self.require_time_grid()
        self.require(0 < p["nu_min"] <= p["nu_max"], f"need 0 < nu_min <= nu_max, got {p['nu_min']}, {p['nu_max']}")
        self.require_int("n_sines", 1)
        self.require_int("l_max", 1)
        self.check_cfl(0.5 * p["n_sines"])

    def layout(self) -> Layout:
        t, x = self.grids()
        return Layout(arrays={"t": t, "x": x}, sample_shape=(len(t), len(x), 1), param_names=["nu"])

    def sample_batch(self, rngs, split, export_dir=None, tags=None):
        p = self.params
        draws = []
        for rng in rngs:
            a = rng.uniform(-0.5, 0.5, p["n_sines"])
            phase = rng.uniform(0, 2 * np.pi, p["n_sines"])
            l = rng.integers(1, p["l_max"] + 1, p["n_sines"])
            nu = np.exp(rng.uniform(np.log(p["nu_min"]), np.log(p["nu_max"])))
            draws.append((a, phase, l, nu))
        u0_fn = [lambda x, a=a, ph=ph, l=l: np.sum(a[:, None] * np.sin(l[:, None] * x + ph[:, None]), axis=0)
                 for a, ph, l, _ in draws]
        u = self.solve(u0_fn, np.array([d[3] for d in draws]))
        return [Sample(u[b][..., None], np.array([d[3]])) for b, d in enumerate(draws)]

    def sample(self, rng, split, export_dir=None, tag=""):
        return self.sample_batch([rng], split)[0]


@DATASETS.register("burgers-lpinn")
class BurgersLPINN(_BurgersGrid, SweepRecipe):
    name: ClassVar[str] = "burgers-lpinn"
    description: ClassVar[str] = "Burgers with u0 = sin x + C, nu = 0.01 (LPINN's moving shock); sweep over C"
    sweep: ClassVar[tuple[str, ...]] = ("C", "nu")

    def validate(self) -> None:
        p = self.params
        self.require_time_grid()
        self.require(all(v >= 0 for v in p["nu"]), f"viscosity nu must be >= 0, got {p['nu']}")
        self.check_cfl(1.0 + max(abs(c) for c in p["C"]))

    def layout(self) -> Layout:
        t, x = self.grids()
        return Layout(arrays={"t": t, "x": x}, sample_shape=(len(t), len(x), 1), param_names=["C", "nu"])

    def sample_point(self, values, export_dir=None, tag=""):
        C, nu = float(values["C"]), float(values["nu"])
        u = self.solve([lambda x: np.sin(x) + C], np.array([nu]))
        return Sample(u[0][..., None], np.array([C, nu]))
