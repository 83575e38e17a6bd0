"""`cylinder-flow`: transient flow past a cylinder in the DFG channel, Reynolds number varying per sample.

    ρ(∂u/∂t + (u·∇)u) - μΔu + ∇p = 0,  ∇·u = 0  in the DFG 2D channel (Schäfer & Turek 1996),

started from rest with the parabolic inflow of peak U_m = 1.5 Re ν / D, Re ~ U(re_min, re_max),
solved with Taylor-Hood P2/P1 and the IPCS projection scheme (`NavierStokesIPCS`). Stored at
``n_times`` equally spaced times in [t_start, t_end]: fields [vx, vy, p] at the mesh vertices
(velocity interpolated from P2), the drag and lift coefficients at those times as extras, and
``params`` = [reynolds, max_inflow]. The data plays the role of MeshGraphNets' cylinder set.

Each sample has a ``prompt`` (a string extra, `pdesuite.recipes.prompts.cylinder_prompt`) from its
Reynolds number, its peak inflow speed and whether it sheds vortices (the lift coefficient over the
second half of the run oscillates), in one of several phrasings (Text2PDE's text conditioning).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np

from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.recipes.prompts import cylinder_prompt
from pdesuite.registry import DATASETS


@DATASETS.register("cylinder-flow")
class CylinderFlow(Recipe):
    name: ClassVar[str] = "cylinder-flow"
    problem: ClassVar[str] = "navier-stokes-dfg"
    solver: ClassVar[str] = "NavierStokesIPCS (Taylor-Hood P2/P1)"
    fields: ClassVar[list[str]] = ["vx", "vy", "p"]
    description: ClassVar[str] = "transient DFG channel flow past a cylinder, Reynolds number varying per sample"

    def validate(self) -> None:
        p = self.params
        self.require(0 < p["re_min"] <= p["re_max"],
                     f"need 0 < re_min <= re_max, got {p['re_min']}, {p['re_max']}")
        self.require(p["re_max"] <= 1000, f"re_max above 1000 is beyond this 2D laminar setup, got {p['re_max']}")
        self.require(0.002 <= p["h_cylinder"] <= p["h_max"] <= 0.2,
                     f"need 0.002 <= h_cylinder <= h_max <= 0.2, got {p['h_cylinder']}, {p['h_max']}")
        self.require_positive("dt")
        self.require_positive("t_end")
        self.require(0 <= p["t_start"] < p["t_end"], f"need 0 <= t_start < t_end, got {p['t_start']}, {p['t_end']}")
        self.require_int("n_times", 1)
        self.require(p["dt"] <= (p["t_end"] - p["t_start"]) / max(p["n_times"] - 1, 1) + 1e-12,
                     "dt must not exceed the spacing of the stored times")

    def prepare(self) -> None:
        from mpi4py import MPI

        from pdesuite.solvers.fem import dfg_channel

        p = self.params
        self.domain = dfg_channel(float(p["h_cylinder"]), float(p["h_max"]), comm=MPI.COMM_SELF)
        self.times = np.linspace(p["t_start"], p["t_end"], p["n_times"])

    def layout(self) -> Layout:
        mesh = self.domain.mesh
        points = mesh.geometry.x[:, :2].copy()
        n_t = len(self.times)
        return Layout(
            arrays={"t": self.times, "mesh/points": points, "mesh/cells": mesh.geometry.dofmaps[0].astype(np.int64)},
            array_attrs={"mesh/cells": {"cell_type": "triangle", "mesh": self.domain.description,
                                        "markers": self.domain.markers}},
            sample_shape=(n_t, points.shape[0], 3),
            param_names=["reynolds", "max_inflow"],
            extras={"drag": ((n_t,), np.float64), "lift": ((n_t,), np.float64), "prompt": ((), h5py.string_dtype())},
        )

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None,
               tag: str = "") -> Sample:
        from pdesuite.problems import DFGCylinderFlow
        from pdesuite.solvers.fem import NavierStokesIPCS

        p = self.params
        reynolds = float(rng.uniform(p["re_min"], p["re_max"]))
        problem = DFGCylinderFlow.from_reynolds(reynolds, t_end=float(p["t_end"]))
        result = NavierStokesIPCS(problem, self.domain, dt=float(p["dt"])).run(save_times=self.times)
        if export_dir is not None:
            result.velocity.export_xdmf(export_dir / f"{tag}_velocity.xdmf", name="u")
            result.pressure.export_xdmf(export_dir / f"{tag}_pressure.xdmf", name="p")
        u = np.concatenate([result.velocity.nodal_values(), result.pressure.nodal_values()], axis=-1)
        stored = np.searchsorted(result.times, result.velocity.times - 1e-9)
        stored = np.clip(stored, 0, len(result.times) - 1)
        at = lambda series: np.where(result.velocity.times > 0, series[stored], np.nan)  # noqa: E731
        late = np.asarray(result.lift)[len(result.lift) // 2:]  # the developed part of the run
        prompt = cylinder_prompt(reynolds, problem.max_inflow, late, rng)  # drawn after the physics
        return Sample(u, np.array([reynolds, problem.max_inflow]),
                      {"drag": at(result.drag), "lift": at(result.lift), "prompt": prompt})
