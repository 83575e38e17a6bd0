"""`poisson-random`: -∇·(κ∇u) = f, u = 0 on ∂Ω, Ω the unit square, with random smooth κ and f.

    κ(x, y) = exp(Σ_{k,l=0..K-1} a_kl cos(kπx) cos(lπy)),  a_kl ~ N(0, σ_κ²)/(1 + k² + l²)^(s/2)
    f(x, y) = Σ_{k,l=1..K} b_kl sin(kπx) sin(lπy),          b_kl ~ N(0, 1)/(1 + k² + l²)^(s/2)

solved with Lagrange P_degree on a structured n × n triangle mesh. Stored on the (n+1)² grid of
vertices: fields [kappa, f, u] (kappa and f are the inputs of an operator-learning surrogate);
``params`` holds the coefficients a and b, so κ and f can be recomputed from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.base import NUMPY, Parametric
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.recipes.fourier import cosine_series, grid_permutation, random_coefficients, sine_series
from pdesuite.registry import DATASETS


def log_kappa(x, m, a):
    return cosine_series(x, m, a)


@DATASETS.register("poisson-random")
class PoissonRandom(Recipe):
    name: ClassVar[str] = "poisson-random"
    problem: ClassVar[str] = "poisson"
    solver: ClassVar[str] = "PoissonSolver"
    fields: ClassVar[list[str]] = ["kappa", "f", "u"]
    description: ClassVar[str] = "-div(kappa grad u) = f, u = 0, random smooth log-kappa and f (Fourier series)"

    def validate(self) -> None:
        self.require_int("resolution", 2)
        self.require_int("degree", 1, 3)
        self.require_int("modes", 1, 8)
        self.require(self.params["kappa_std"] >= 0, f"kappa_std must be >= 0, got {self.params['kappa_std']}")
        self.require(self.params["decay"] >= 0, f"decay must be >= 0, got {self.params['decay']}")

    def prepare(self) -> None:
        from mpi4py import MPI

        from pdesuite.problems import Poisson
        from pdesuite.solvers.fem import PoissonSolver, unit_square

        K = self.params["modes"]
        self.a = Parametric(lambda x, m, a: m.exp(log_kappa(x, m, a)), (K, K))
        self.b = Parametric(sine_series, (K, K))
        n = self.params["resolution"]
        self.domain = unit_square(n, comm=MPI.COMM_SELF)
        self.fem_solver = PoissonSolver(Poisson(kappa=self.a, source=self.b, dirichlet_value=0.0),
                                    self.domain, degree=self.params["degree"])
        points = self.domain.mesh.geometry.x[:, :2]
        self.grid_index = grid_permutation(points, n)
        self.points = points.copy()

    def layout(self) -> Layout:
        n, K = self.params["resolution"], self.params["modes"]
        axis = np.linspace(0.0, 1.0, n + 1)
        names = [f"a_{k}_{l}" for k in range(K) for l in range(K)] + \
                [f"b_{k}_{l}" for k in range(1, K + 1) for l in range(1, K + 1)]
        return Layout(arrays={"t": np.zeros(1), "x": axis, "y": axis},
                      sample_shape=(1, n + 1, n + 1, 3), param_names=names)

    def extra_attrs(self) -> dict:
        return {"input_fields": ["kappa", "f"], "grid_indexing": "u[..., i, j, :] = u(x_i, y_j)"}

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None,
               tag: str = "") -> Sample:
        K, p = self.params["modes"], self.params
        a = random_coefficients(rng, K, p["decay"], start=0) * p["kappa_std"]
        b = random_coefficients(rng, K, p["decay"], start=1)
        self.a.set(a)
        self.b.set(b)
        solution = self.fem_solver.solve()
        if export_dir is not None:
            solution.export_xdmf(export_dir / f"{tag}.xdmf")
        n = p["resolution"]
        grid = np.zeros((1, n + 1, n + 1, 3))
        i, j = self.grid_index
        xs = self.points.T
        grid[0, i, j, 0] = self.a(xs, NUMPY)
        grid[0, i, j, 1] = self.b(xs, NUMPY)
        grid[0, i, j, 2] = solution.nodal_values()[:, 0]
        return Sample(grid, np.concatenate([a.ravel(), b.ravel()]))
