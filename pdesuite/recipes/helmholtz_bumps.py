"""`helmholtz-bumps`: UM2N's training problem.

    -Δu + u = f on the unit square, u = u_exact on the boundary, P1 on an unstructured mesh, with

    u_exact(x, y) = Σ_{i=1..n} z_i exp(-((x - μx_i)²/σx_i² + (y - μy_i)²/σy_i²)),

n ~ U{1..6}, z ~ U(0, 1), μ ~ U(0, 1)², σ ~ N(1/4, 1/6) clipped to >= 1/8 (as UM2N's
``build_helmholtz_square.py``). f = -Δu_exact + u_exact is exact in the form (θ are Constants).
Stored: u_h at the mesh nodes; ``params`` = [n_bumps, (z, mux, muy, sigx, sigy) × 6] with z = 0
for unused bumps, so `exact_solution` recomputes u_exact from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.base import NUMPY, Parametric
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS

MAX_BUMPS = 6
PARAM_NAMES = ["n_bumps"] + [f"{q}_{i}" for i in range(1, MAX_BUMPS + 1)
                             for q in ("z", "mux", "muy", "sigx", "sigy")]


def bumps(x, m, theta):
    """Σ_i θ[i,0] exp(-((x - θ[i,1])²/θ[i,3]² + (y - θ[i,2])²/θ[i,4]²)) over the rows of θ."""
    total = 0.0 * x[0]
    for i in range(MAX_BUMPS):
        z, mx, my, sx, sy = (theta[i, j] for j in range(5))
        total = total + z * m.exp(-((x[0] - mx) ** 2 / sx**2 + (x[1] - my) ** 2 / sy**2))
    return total


def draw_bumps(rng: np.random.Generator) -> np.ndarray:
    """θ of shape (6, 5): rows (z, μx, μy, σx, σy); unused rows have z = 0 and σ = 1."""
    theta = np.zeros((MAX_BUMPS, 5))
    theta[:, 3:] = 1.0
    n = int(rng.integers(1, MAX_BUMPS + 1))
    theta[:n, 0] = rng.uniform(0.0, 1.0, n)
    theta[:n, 1:3] = rng.uniform(0.0, 1.0, (n, 2))
    theta[:n, 3:5] = np.maximum(rng.normal(0.25, 1.0 / 6.0, (n, 2)), 0.125)
    return theta


def exact_solution(points: np.ndarray, params: np.ndarray) -> np.ndarray:
    """u_exact at ``points`` (n, 2) for one sample's ``params`` row (as stored in the file)."""
    theta = np.asarray(params[1:], dtype=float).reshape(MAX_BUMPS, 5)
    return bumps(points.T, NUMPY, theta)


def bump_problem(domain, degree: int = 1):
    """(θ, problem, solver): the bump problem -Δu + u = f on ``domain`` with its Lagrange P_degree solver;
    θ is the `Parametric` of the bumps (``θ.set(theta)``, theta (6, 5), before solving), compiled once."""
    from pdesuite.problems import ReactionDiffusion
    from pdesuite.solvers.fem import ReactionDiffusionSolver

    theta = Parametric(bumps, (MAX_BUMPS, 5))
    problem = ReactionDiffusion(kappa=1.0, reaction=1.0, exact=theta)
    return theta, problem, ReactionDiffusionSolver(problem, domain, degree=degree)


@DATASETS.register("helmholtz-bumps")
class HelmholtzBumps(Recipe):
    name: ClassVar[str] = "helmholtz-bumps"
    problem: ClassVar[str] = "reaction-diffusion"
    solver: ClassVar[str] = "ReactionDiffusionSolver (P1, MUMPS LU)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "-Δu + u = f with 1-6 Gaussian bumps as exact solution (UM2N training data)"

    def validate(self) -> None:
        h = self.params["mesh_size"]
        self.require(isinstance(h, float | int) and 0.005 <= h <= 0.5, f"mesh_size must lie in [0.005, 0.5], got {h}")
        self.require_int("degree", 1, 3)

    def prepare(self) -> None:
        from mpi4py import MPI

        from pdesuite.solvers.fem import unstructured_rectangle

        self.domain = unstructured_rectangle(float(self.params["mesh_size"]), comm=MPI.COMM_SELF)
        self.theta, _, self.fem_solver = bump_problem(self.domain, int(self.params["degree"]))

    def layout(self) -> Layout:
        mesh = self.domain.mesh
        points = mesh.geometry.x[:, :2].copy()
        return Layout(
            arrays={"t": np.zeros(1), "mesh/points": points, "mesh/cells": mesh.geometry.dofmaps[0].astype(np.int64)},
            array_attrs={"mesh/cells": {"cell_type": "triangle", "mesh": self.domain.description}},
            sample_shape=(1, points.shape[0], 1),
            param_names=PARAM_NAMES,
        )

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None,
               tag: str = "") -> Sample:
        theta = draw_bumps(rng)
        self.theta.set(theta)
        solution = self.fem_solver.solve()
        if export_dir is not None:
            solution.export_xdmf(export_dir / f"{tag}.xdmf")
        params = np.concatenate([[np.count_nonzero(theta[:, 0])], theta.ravel()])
        return Sample(solution.nodal_values()[None, :, :1], params)
