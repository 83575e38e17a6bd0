"""`advection`: u_t + a u_x = 0 on [-2, 2], a Gaussian pulse, zero inflow — the exact solution (INSR's 1D case).

The reference of the INSR comparison (Chen et al. 2023): the pulse u0 = exp(-(x - μ)²/(2σ²)) carried
at speed a, u(x, t) = u0(x - a t), stored on ``nx`` equally spaced points of [x_min, x_max] (ends
included) at the ``steps`` + 1 times t = k·dt. A sweep over a (one sample by default, in the test
split); ``params`` = [a]. Profiles: ``small`` dt 0.1 for 30 steps (the pulse moves 0.75), ``gpu`` and
``paper`` dt 0.05 for 240 steps (from -1.5 to 1.5, the paper's run).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pdesuite.problems.advection import Advection
from pdesuite.problems.base import NUMPY
from pdesuite.recipes.base import Layout, Sample, SweepRecipe
from pdesuite.registry import DATASETS


@DATASETS.register("advection")
class AdvectionData(SweepRecipe):
    name: ClassVar[str] = "advection"
    problem: ClassVar[str] = "advection"
    solver: ClassVar[str] = "exact solution (translated pulse)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "u_t + a u_x = 0 on [-2, 2], Gaussian pulse, zero inflow: exact (INSR's 1D case)"
    sweep: ClassVar[tuple[str, ...]] = ("a",)

    def problem_for(self, a: float) -> Advection:
        p = self.params
        return Advection(a=a, mu=p["mu"], sigma=p["sigma"], x_min=p["x_min"], x_max=p["x_max"],
                         t_end=p["dt"] * p["steps"])

    def validate(self) -> None:
        p = self.params
        self.require_int("nx", 3)
        self.require_int("steps", 1)
        self.require_positive("dt")
        self.require_positive("sigma")
        self.require(p["x_min"] < p["x_max"], f"need x_min < x_max, got {p['x_min']}, {p['x_max']}")
        for a in p["a"]:
            problem = self.problem_for(a)
            end = problem.mu + problem.a * problem.t_end
            # 5σ (INSR's setting): the translated pulse is below 4e-6 at the ends, the zero inflow datum's error
            self.require(p["x_min"] + 5 * p["sigma"] <= min(problem.mu, end) + 1e-12 and
                         max(problem.mu, end) <= p["x_max"] - 5 * p["sigma"] + 1e-12,
                         f"the pulse (mu {problem.mu} -> {end:.3g}) must stay 5 sigma inside [{p['x_min']}, "
                         f"{p['x_max']}] for the exact solution to hold with zero boundary data")

    def layout(self) -> Layout:
        p = self.params
        t = p["dt"] * np.arange(p["steps"] + 1)
        x = np.linspace(p["x_min"], p["x_max"], p["nx"])
        return Layout(arrays={"t": t, "x": x}, sample_shape=(p["steps"] + 1, p["nx"], 1), param_names=["a"])

    def sample_point(self, values, export_dir=None, tag=""):
        p = self.params
        problem = self.problem_for(values["a"])
        t = p["dt"] * np.arange(p["steps"] + 1)
        x = np.linspace(p["x_min"], p["x_max"], p["nx"])
        u = problem.exact([x[None, :]], t[:, None], NUMPY)
        return Sample(u[..., None], np.array([values["a"]]))
