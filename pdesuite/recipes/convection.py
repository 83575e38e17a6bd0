"""`convection`: u_t + c u_x = ν u_xx on [0, 2π), periodic, u0 = sin x, t ∈ [0, 1] — the exact solution.

The benchmark on which plain PINNs fail as c grows (Krishnapriyan et al. 2021) and LPINNs do not
(Mojgani et al. 2023). A fixed sweep over c and ν (all samples in the test split); restrict it
with ``--set c=30`` or ``--set nu=0``. Values from the exact Fourier solution e^{-νt} sin(x - ct) on
nx × nt points (x = 2πj/nx, t = linspace(0, T, nt)). ``params`` = [c, nu].
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pdesuite.problems.convection import Convection
from pdesuite.recipes.base import Layout, Sample, SweepRecipe
from pdesuite.registry import DATASETS
from pdesuite.solvers.spectral.convection import convection_solution_for


@DATASETS.register("convection")
class ConvectionData(SweepRecipe):
    name: ClassVar[str] = "convection"
    problem: ClassVar[str] = "convection"
    solver: ClassVar[str] = "exact Fourier solution"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "u_t + c u_x = nu u_xx, u0 = sin x, exact; sweep over c and nu (PINN failure mode)"
    sweep: ClassVar[tuple[str, ...]] = ("c", "nu")

    def validate(self) -> None:
        p = self.params
        self.require_int("nx", 4)
        self.require(p["nx"] % 2 == 0, f"nx must be a positive even number, got {p['nx']}")
        self.require_int("nt", 2)
        self.require_positive("t_end")
        self.require(all(isinstance(v, int | float) and v >= 0 for v in p["nu"]),
                     f"viscosity nu must be >= 0, got {p['nu']}")
        self.require(all(isinstance(v, int | float) and np.isfinite(v) for v in p["c"]),
                     f"convection speeds c must be numbers, got {p['c']}")
        self.x = 2 * np.pi * np.arange(p["nx"]) / p["nx"]
        self.t = np.linspace(0.0, p["t_end"], p["nt"])

    def layout(self) -> Layout:
        p = self.params
        return Layout(arrays={"t": self.t, "x": self.x}, sample_shape=(p["nt"], p["nx"], 1), param_names=["c", "nu"])

    def sample_point(self, values, export_dir=None, tag=""):
        problem = Convection(c=values["c"], nu=values["nu"], t_end=self.params["t_end"])
        u = convection_solution_for(problem, np.sin(self.x), self.t)
        return Sample(u[..., None], np.array([values["c"], values["nu"]], dtype=float))
