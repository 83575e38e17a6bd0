"""`allen-cahn`: u_t = ε u_xx + a(u - u³), x ∈ [-1, 1) periodic, u0 = x² cos(πx), t ∈ [0, 1].

The PINN benchmark (ε = 1e-4, a = 5; Raissi et al. 2019's AC data has 512 × 201 points). Solved
pseudo-spectrally with ETDRK4 on ``nx_solve`` points — the interfaces have width ~ sqrt(ε/a) ≈ 0.0045,
so 512 points do not resolve them; 2048 do (tests/solvers/spectral) — and stored on every
(nx_solve/nx)-th point. A sweep over ε and a (one sample by default, in the test split).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pdesuite.problems.allen_cahn import AllenCahn
from pdesuite.problems.base import NUMPY
from pdesuite.recipes.base import Layout, Sample, SweepRecipe
from pdesuite.registry import DATASETS
from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver


@DATASETS.register("allen-cahn")
class AllenCahnData(SweepRecipe):
    name: ClassVar[str] = "allen-cahn"
    problem: ClassVar[str] = "allen-cahn"
    solver: ClassVar[str] = "AllenCahnSolver (pseudo-spectral, 2/3 dealiasing, ETDRK4)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "Allen-Cahn u_t = 1e-4 u_xx + 5u - 5u^3, u0 = x^2 cos(pi x) (PINN benchmark)"
    sweep: ClassVar[tuple[str, ...]] = ("epsilon", "reaction")

    def validate(self) -> None:
        p = self.params
        self.require_time_grid()
        self.require(all(e > 0 for e in p["epsilon"]), f"diffusivity epsilon must be positive, got {p['epsilon']}")

    def layout(self) -> Layout:
        p = self.params
        t = np.linspace(0.0, p["t_end"], p["nt"])
        x = -1.0 + 2.0 * np.arange(p["nx"]) / p["nx"]
        return Layout(arrays={"t": t, "x": x}, sample_shape=(p["nt"], p["nx"], 1), param_names=["epsilon", "reaction"])

    def sample_point(self, values, export_dir=None, tag=""):
        p = self.params
        problem = AllenCahn(epsilon=values["epsilon"], reaction=values["reaction"], t_end=p["t_end"])
        solver = AllenCahnSolver.from_problem(problem, p["nx_solve"])
        u0 = problem.initial([solver.x], NUMPY)
        u = solver.solve(u0, p["t_end"] / (p["nt"] - 1), p["nt"] - 1, substeps=p["substeps"])
        return Sample(u[0, :, :: p["nx_solve"] // p["nx"], None], np.array([values["epsilon"], values["reaction"]]))
