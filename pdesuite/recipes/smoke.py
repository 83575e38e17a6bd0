"""`smoke`: buoyancy-driven smoke in a closed 32 × 32 box (the PDEArena / Text2PDE `NavierStokes2D` data).

    ∂u/∂t + (u·∇)u = -∇p + ν Δu + (0, b_y s),   ∇·u = 0,   ∂s/∂t + u·∇s = 0,

ν = 0.01, b_y ~ U(buoyancy_min, buoyancy_max) per sample, zero initial velocity, smoke from |noise|
(PhiFlow ``Noise(scale=11, smoothness=6)``), closed no-slip walls. Solved by `SmokeSolver`
(MAC grid, semi-Lagrangian advection, explicit viscosity, exact DCT pressure projection) with
Δt = 1.5; the first ``n_skip`` steps are dropped and then every ``frame_every``-th step is stored,
``n_frames`` of them, at times t = k Δt. Fields ["s", "vx", "vy"] at the cell centres.

Each sample has a ``prompt`` (a string extra, `pdesuite.recipes.prompts.smoke_prompt`): a sentence
from its buoyancy and from where its smoke starts and goes, in one of several phrasings (Text2PDE's
text conditioning).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.smoke import Smoke
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.recipes.prompts import smoke_descriptors, smoke_prompt
from pdesuite.registry import DATASETS


@DATASETS.register("smoke")
class SmokeRecipe(Recipe):
    name: ClassVar[str] = "smoke"
    problem: ClassVar[str] = "smoke"
    solver: ClassVar[str] = "SmokeSolver (MAC grid, semi-Lagrangian, explicit viscosity, DCT projection)"
    fields: ClassVar[list[str]] = ["s", "vx", "vy"]
    description: ClassVar[str] = ("buoyant smoke in a closed box: smoke density and cell-centred velocity, "
                                  "random noise smoke, buoyancy b_y per sample")

    def validate(self) -> None:
        from pdesuite.solvers.fd.smoke import BACKTRACES, SmokeSolver

        p = self.params
        self.require_int("resolution", 4)
        self.require_int("n_skip", 0)
        self.require_int("n_frames", 1)
        self.require_int("frame_every", 1)
        self.require_int("batch_size", 1)
        for key in ("size", "dt", "noise_scale", "noise_smoothness"):
            self.require_positive(key)
        for key in ("nu", "buoyancy_min", "buoyancy_max"):
            value = p[key]
            self.require(isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
                         f"{key} must be a finite number, got {value!r}")
        self.require(p["nu"] >= 0, f"viscosity nu must be >= 0, got {p['nu']}")
        self.require(p["buoyancy_min"] <= p["buoyancy_max"],
                     f"buoyancy_min {p['buoyancy_min']} must not exceed buoyancy_max {p['buoyancy_max']}")
        self.require(p["backtrace"] in BACKTRACES, f"backtrace must be one of {', '.join(BACKTRACES)}, "
                                                   f"got {p['backtrace']!r}")
        h = p["size"] / p["resolution"]
        number = SmokeSolver.diffusion_number(p["nu"], p["dt"], h, h)
        self.require(number <= 0.5, f"dt = {p['dt']:g} is too large for the explicit viscous step: "
                                    f"nu dt (1/dx^2 + 1/dy^2) = {number:.3g} > 0.5")
        self.batch_size = p["batch_size"]
        try:
            self.make_problem()
        except BadInput as exc:
            raise BadInput(f"{self.name}: {exc}") from None

    def make_problem(self) -> Smoke:
        p = self.params
        return Smoke(size=(float(p["size"]), float(p["size"])), nu=float(p["nu"]),
                     buoyancy=(0.0, float(p["buoyancy_max"])), noise_scale=float(p["noise_scale"]),
                     noise_smoothness=float(p["noise_smoothness"]))

    @property
    def record_steps(self) -> list[int]:
        p = self.params
        return [p["n_skip"] + 1 + i * p["frame_every"] for i in range(p["n_frames"])]

    def prepare(self) -> None:
        from pdesuite.solvers.fd.smoke import SmokeSolver

        p = self.params
        self.smoke = self.make_problem()
        n = p["resolution"]
        self.smoke_solver = SmokeSolver(self.smoke, n, n, float(p["dt"]), backtrace=p["backtrace"])
        self.times = np.array(self.record_steps, dtype=float) * float(p["dt"])

    def layout(self) -> Layout:
        n = self.params["resolution"]
        x, y = self.smoke.cell_centres(n, n)
        return Layout(arrays={"t": self.times, "x": x, "y": y},
                      sample_shape=(len(self.times), n, n, 3), param_names=["buoyancy_y"],
                      extras={"prompt": ((), h5py.string_dtype())})

    def extra_attrs(self) -> dict:
        size = float(self.params["size"])
        return {"grid_indexing": "u[..., i, j, :] = u(x_i, y_j) at cell centres", "domain": [[0.0, size]] * 2,
                "boundary": "closed box: no-through-flow and no-slip walls; zero-gradient smoke"}

    def sample_batch(self, rngs: list[np.random.Generator], split: str, export_dir: Path | None = None,
                     tags: list[str] | None = None) -> list[Sample]:
        p, n = self.params, self.params["resolution"]
        buoyancy = np.array([rng.uniform(p["buoyancy_min"], p["buoyancy_max"]) for rng in rngs])
        s0 = np.stack([self.smoke.initial_smoke(rng, n, n) for rng in rngs])
        out = self.smoke_solver.solve(s0, self.record_steps, buoyancy_y=buoyancy)
        fields = np.stack([out["s"], out["vx"], out["vy"]], axis=-1)
        x, y = self.smoke.cell_centres(n, n)
        samples = []
        for rng, u, b, initial in zip(rngs, fields, buoyancy, s0, strict=True):
            described = smoke_descriptors(initial, u[-1, ..., 0], x, y, float(p["size"]))
            prompt = smoke_prompt(float(b), described, (p["buoyancy_min"], p["buoyancy_max"]), rng)  # after the physics
            samples.append(Sample(u, np.array([b]), {"prompt": prompt}))
        return samples

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        return self.sample_batch([rng], split, export_dir, [tag])[0]
