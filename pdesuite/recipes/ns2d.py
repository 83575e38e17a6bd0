"""`ns2d`: forced 2D Navier-Stokes (vorticity form) on the periodic unit square, the FNO setting.

    ∂ω/∂t + u·∇ω = ν Δω + f,   u = ∇^⊥ψ,  -Δψ = ω,   f = 0.1 (sin 2π(x + y) + cos 2π(x + y)),

ω0 a Gaussian random field with covariance 7^(3/2) (-Δ + 49 I)^(-2.5) (Li et al. 2021). Solved by
`NS2DSolver` (pseudo-spectral, 2/3 dealiasing, RK3/Crank-Nicolson, order 2) at ``resolution``² and
stored at ``store_resolution``² by taking every (resolution/store_resolution)-th grid point, at the
times 0, record_every, ..., t_end (the initial field included). Field: ["w"] (vorticity).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.ns2d import NS2D
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS


@DATASETS.register("ns2d")
class NS2DRecipe(Recipe):
    name: ClassVar[str] = "ns2d"
    problem: ClassVar[str] = "ns2d"
    solver: ClassVar[str] = "NS2DSolver (pseudo-spectral, 2/3 dealiasing, RK3/Crank-Nicolson)"
    fields: ClassVar[list[str]] = ["w"]
    description: ClassVar[str] = ("2D Navier-Stokes vorticity on the periodic unit square, FNO forcing, "
                                  "Gaussian random field initial vorticity")

    def validate(self) -> None:
        p = self.params
        self.require_int("resolution", 4)
        self.require(p["resolution"] % 2 == 0, f"resolution must be a positive even number, got {p['resolution']}")
        self.require_int("store_resolution", 1)
        self.require(p["resolution"] % p["store_resolution"] == 0,
                     f"store_resolution {p['store_resolution']} must divide resolution {p['resolution']}")
        self.require_int("batch_size", 1)
        self.require_int("forcing_wavenumber", 1)
        for key in ("dt", "t_end", "record_every"):
            self.require_positive(key)
        for key in ("nu", "forcing_amplitude", "grf_alpha", "grf_tau"):
            value = p[key]
            self.require(isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
                         f"{key} must be a finite number, got {value!r}")
        self.require(p["nu"] >= 0, f"viscosity nu must be >= 0, got {p['nu']}")
        outputs = p["t_end"] / p["record_every"]
        self.require(abs(outputs - round(outputs)) < 1e-9 * max(1.0, outputs) and round(outputs) >= 1,
                     f"t_end / record_every = {outputs:g} must be a whole number")
        per_output = p["record_every"] / p["dt"]
        self.require(abs(per_output - round(per_output)) < 1e-6 * max(1.0, per_output) and round(per_output) >= 1,
                     f"record_every / dt = {per_output:g} must be a whole number of steps")
        self.batch_size = p["batch_size"]
        try:
            problem = self.make_problem()
        except BadInput as exc:
            raise BadInput(f"{self.name}: {exc}") from None
        from pdesuite.solvers.spectral.ns2d import NS2DSolver

        cfl = problem.velocity_bound() * p["resolution"] * p["dt"]
        self.require(cfl <= NS2DSolver.cfl_max,
                     f"dt = {p['dt']:g} is too large: estimated CFL number {cfl:.3g} > {NS2DSolver.cfl_max} "
                     f"at resolution {p['resolution']} (velocity bound {problem.velocity_bound():.3g})")

    def make_problem(self) -> NS2D:
        p = self.params
        return NS2D(nu=float(p["nu"]), forcing_amplitude=float(p["forcing_amplitude"]),
                    forcing_wavenumber=p["forcing_wavenumber"], t_end=float(p["t_end"]),
                    grf_alpha=float(p["grf_alpha"]), grf_tau=float(p["grf_tau"]))

    def prepare(self) -> None:
        from pdesuite.solvers.spectral.ns2d import NS2DSolver

        p = self.params
        self.ns = self.make_problem()
        self.ns_solver = NS2DSolver(self.ns, p["resolution"], float(p["dt"]))
        n_out = int(round(p["t_end"] / p["record_every"]))
        self.times = np.arange(n_out + 1) * float(p["record_every"])

    def layout(self) -> Layout:
        m = self.params["store_resolution"]
        axis = np.arange(m) / m
        return Layout(arrays={"t": self.times, "x": axis, "y": axis},
                      sample_shape=(len(self.times), m, m, 1), param_names=["nu"])

    def extra_attrs(self) -> dict:
        return {"grid_indexing": "u[..., i, j, :] = u(x_i, y_j)", "periodic": True,
                "domain": [[0.0, 1.0], [0.0, 1.0]]}

    def sample_batch(self, rngs: list[np.random.Generator], split: str, export_dir: Path | None = None,
                     tags: list[str] | None = None) -> list[Sample]:
        p = self.params
        n, stride = p["resolution"], p["resolution"] // p["store_resolution"]
        w0 = np.stack([self.ns.initial_vorticity(rng, n) for rng in rngs])
        w = self.ns_solver.solve(w0, self.times)[:, :, ::stride, ::stride]
        nu = np.array([self.ns.nu])
        return [Sample(sample[..., None], nu) for sample in w]

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        return self.sample_batch([rng], split, export_dir, [tag])[0]
