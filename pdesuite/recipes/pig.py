"""The PIG suite's reference data: `pig-helmholtz`, `pig-klein-gordon`, `pig-flow-mixing`,
`pig-nonlinear-diffusion` (Kang et al., ICLR 2025; problems in `pdesuite.problems.pig`).

Each dataset is one deterministic solution on a tensor grid, stored as ``u[k, i, j] = u(t_k, x_i, y_j)``
(``t = [0]`` for the steady Helmholtz case), ``fields = ["u"]``, and the problem parameters as the
sample's ``params``. The profiles put it in the ``test`` split (train = valid = 0): these are
evaluation grids for physics-informed models, which train on collocation points, not on data. If a
split is asked for more than one sample, every sample is the same solution (computed once).

The first three evaluate the exact solutions; `pig-nonlinear-diffusion` runs
`NonlinearDiffusionSolver` on a grid ``refine`` times finer than the stored one (the stored nodes
are a subset of the solver's) with ``substeps`` SDIRK2 steps per stored time interval.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY
from pdesuite.problems.pig import FlowMixing, Helmholtz2D, KleinGordon, NonlinearDiffusion, PIGProblem
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS


class PIGRecipe(Recipe):
    """A single solution of a `PIGProblem` on the grid t × x × y (subclasses: `make_problem`, `solve`)."""

    fields: ClassVar[list[str]] = ["u"]
    #: Parameters stored per sample (attributes of the problem).
    param_names: ClassVar[list[str]] = []
    steady: ClassVar[bool] = False

    def make_problem(self) -> PIGProblem:
        raise NotImplementedError

    def check_grid(self) -> None:
        self.require_int("n", 2)
        if not self.steady:
            self.require_int("n_t", 2)
            self.require_positive("t_end", "final time t_end")

    def validate(self) -> None:
        self.check_grid()
        try:
            self.problem_instance = self.make_problem()
        except BadInput as exc:
            raise BadInput(f"{self.name}: {exc}") from None

    def times(self) -> np.ndarray:
        if self.steady:
            return np.zeros(1)
        return np.linspace(0.0, float(self.params["t_end"]), self.params["n_t"])

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.problem_instance.bounds
        n = self.params["n"]
        return np.linspace(x0, x1, n), np.linspace(y0, y1, n)

    def layout(self) -> Layout:
        x, y = self.axes()
        t = self.times()
        return Layout(arrays={"t": t, "x": x, "y": y}, sample_shape=(len(t), len(x), len(y), 1),
                      param_names=list(self.param_names))

    def extra_attrs(self) -> dict:
        return {"grid_indexing": "u[..., k, i, j, :] = u(t_k, x_i, y_j)"}

    def solve(self) -> np.ndarray:
        """The solution on the grid, shape (n_t, n, n)."""
        problem, (x, y), t = self.problem_instance, self.axes(), self.times()
        X, Y = np.meshgrid(x, y, indexing="ij")
        if self.steady:
            return np.asarray(problem.exact((X, Y), NUMPY), dtype=float)[None]
        return np.broadcast_to(problem.exact((X[None], Y[None]), t[:, None, None], NUMPY), (len(t), *X.shape))

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None,
               tag: str = "") -> Sample:
        if getattr(self, "_solution", None) is None:
            self._solution = np.ascontiguousarray(self.solve(), dtype=float)[..., None]
        params = np.array([getattr(self.problem_instance, key) for key in self.param_names], dtype=float)
        return Sample(self._solution.copy(), params)


@DATASETS.register("pig-helmholtz")
class PIGHelmholtz(PIGRecipe):
    name: ClassVar[str] = "pig-helmholtz"
    problem: ClassVar[str] = "helmholtz-2d"
    solver: ClassVar[str] = "exact solution"
    description: ClassVar[str] = "Laplace(u) + k^2 u = f on [-1,1]^2, u = sin(a1 pi x) sin(a2 pi y) (PIG)"
    param_names: ClassVar[list[str]] = ["a1", "a2", "k"]
    steady: ClassVar[bool] = True

    def make_problem(self) -> Helmholtz2D:
        p = self.params
        return Helmholtz2D(a1=p["a1"], a2=p["a2"], k=p["k"])


@DATASETS.register("pig-klein-gordon")
class PIGKleinGordon(PIGRecipe):
    name: ClassVar[str] = "pig-klein-gordon"
    problem: ClassVar[str] = "klein-gordon"
    solver: ClassVar[str] = "exact solution"
    description: ClassVar[str] = "u_tt - Laplace(u) + u^2 = f on [-1,1]^2 x [0,T], u = (x+y) cos kt + xy sin kt (PIG)"
    param_names: ClassVar[list[str]] = ["k"]

    def make_problem(self) -> KleinGordon:
        return KleinGordon(k=self.params["k"], t_end=self.params["t_end"])


@DATASETS.register("pig-flow-mixing")
class PIGFlowMixing(PIGRecipe):
    name: ClassVar[str] = "pig-flow-mixing"
    problem: ClassVar[str] = "flow-mixing"
    solver: ClassVar[str] = "exact solution"
    description: ClassVar[str] = ("u_t + a u_x + b u_y = 0 on [-4,4]^2 x [0,T], rotating vortex, "
                                  "u = -tanh((y cos wt - x sin wt)/2) (PIG)")
    param_names: ClassVar[list[str]] = ["v_max"]

    def make_problem(self) -> FlowMixing:
        return FlowMixing(v_max=self.params["v_max"], t_end=self.params["t_end"])


@DATASETS.register("pig-nonlinear-diffusion")
class PIGNonlinearDiffusion(PIGRecipe):
    name: ClassVar[str] = "pig-nonlinear-diffusion"
    problem: ClassVar[str] = "nonlinear-diffusion"
    solver: ClassVar[str] = "NonlinearDiffusionSolver (5-point FD of Laplace(u^2)/2, SDIRK2)"
    description: ClassVar[str] = ("u_t = alpha div(u grad u) on [-1,1]^2 x [0,T], u = 0 on the boundary, "
                                  "three Gaussians initially (PIG)")
    param_names: ClassVar[list[str]] = ["alpha"]

    def check_grid(self) -> None:
        super().check_grid()
        self.require_int("refine", 1)
        self.require_int("substeps", 1)
        self.require_positive("alpha", "diffusivity alpha")

    def make_problem(self) -> NonlinearDiffusion:
        return NonlinearDiffusion(alpha=self.params["alpha"], t_end=self.params["t_end"])

    def solve(self) -> np.ndarray:
        from pdesuite.solvers.fd.nonlinear_diffusion import NonlinearDiffusionSolver

        p = self.params
        solver = NonlinearDiffusionSolver(self.problem_instance, (p["n"] - 1) * p["refine"])
        u = solver.solve(self.times(), substeps=p["substeps"])
        return u[:, :: p["refine"], :: p["refine"]]
