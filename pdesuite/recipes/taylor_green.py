"""`taylor-green`: 2D incompressible Euler in the box [-1, 1]², Taylor-Green vortex (INSR's fluid case).

The velocity (u, v) on ``n`` × ``n`` cell centres x_i = -1 + (i + ½)·2/n, at the ``steps`` + 1 times
t = k·dt (Chen et al. 2023: dt 0.05, 100 steps). One sample (test split), ``params`` = [multiscale].
``case`` picks the initial velocity of `pdesuite.problems.taylor_green`:

* ``single``: the vortex is a steady solution, so the reference is exact: u(t) = u0.
* ``multi``: no closed form. The reference is the pseudo-spectral `NS2DSolver` at ν = 0 (no forcing)
  on the periodic box [-1, 3)², the mirror image of the wall box. Why this is the same problem:
  reflect the flow in the walls (the normal velocity odd, the tangential one even, so the vorticity is
  odd in x about x = ±1 and in y about y = ±1). Euler commutes with reflections, so the periodic flow
  of period 4 started from the mirrored field keeps this symmetry for all time; a field with it has zero
  normal velocity on the lines x, y = ±1, and restricted to [-1, 1]² it is the solution with
  no-penetration (free-slip) walls, its pressure the even extension (zero normal gradient). In Fourier
  terms the wall problem is the periodic one on the sine-sine vorticity modes, which the 2/3-dealiased
  Galerkin truncation keeps exactly. The mirrored u0 is as smooth as u0 itself: both blocks of the
  authors' field vanish in their normal velocity and in their vorticity on the walls they touch
  (sin(0) = sin(2π) = 0), so the reflection adds no jump. Scaled to the unit box (x' = (x + 1)/4),
  Euler is unchanged with u' = u/4 and ω' = ω. The solver starts from the curl of the mirrored u0,
  i.e. from its divergence-free part P u0: the authors' multi-scale u0 is not divergence-free in its
  fade zones (‖u0 - P u0‖ = 5.5 % of ‖P u0‖ on the 128² grid), and the Euler flow from it is the flow
  from P u0 for t > 0, as in INSR and the grid solver, whose first projection removes that part. The
  stored t = 0 field is u0 as given (what INSR fits and the grid samples). Convergence in
  ``resolution`` (docs/insr.md): on the 128² grid the 512 and 1024 solutions differ by 1.2 % after one
  step and 4.4 % after ten, about first order: the field's vorticity jumps across the fade zones (the
  corner patch's fade is 0.0125 wide, under a cell of the 256 grid) and inviscid shear layers roll up,
  so it is far from spectral. Treat the multi-scale reference as good to a few per cent early on.

The stored cell centres are points of the periodic grid (``resolution`` a multiple of 4n), so no
interpolation enters the reference. ``substeps`` solver steps per stored step; the solver refuses a
Courant number above 0.7.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.taylor_green import CASES, TaylorGreen
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS


def cell_centres(n: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """n cell centres of [low, high]."""
    return low + (np.arange(n) + 0.5) * (high - low) / n


def mirrored_vorticity(problem: TaylorGreen, resolution: int) -> np.ndarray:
    """ω' of the mirror-extended u0 on the periodic unit grid j/resolution (x = 4x' - 1 ∈ [-1, 3)),
    by spectral differentiation of u' = u/4; shape (resolution, resolution)."""
    x = 4.0 * np.arange(resolution) / resolution - 1.0
    fold = np.where(x <= 1.0, x, 2.0 - x)
    sign = np.where(x <= 1.0, 1.0, -1.0)
    X, Y = np.meshgrid(fold, fold, indexing="ij")
    u, v = problem.initial_velocity(X, Y)
    u, v = sign[:, None] * u / 4.0, sign[None, :] * v / 4.0
    k = np.fft.fftfreq(resolution, 1.0 / resolution)
    kr = np.fft.rfftfreq(resolution, 1.0 / resolution)
    w_hat = 2j * math.pi * (k[:, None] * np.fft.rfft2(v) - kr[None, :] * np.fft.rfft2(u))
    return np.fft.irfft2(w_hat, s=(resolution, resolution))


def spectral_reference(problem: TaylorGreen, n: int, dt: float, steps: int, resolution: int,
                       substeps: int) -> np.ndarray:
    """The velocity of the Euler flow from u0 on n × n cell centres of [-1, 1]² at t = k dt, k = 0..steps,
    shape (steps + 1, n, n, 2), by `NS2DSolver` (ν = 0) on the mirrored periodic box (module docstring)."""
    from pdesuite.problems.ns2d import NS2D
    from pdesuite.solvers.spectral.ns2d import NS2DSolver

    solver = NS2DSolver(NS2D(nu=0.0, forcing_amplitude=0.0, t_end=max(dt * steps, 1e-12)), resolution,
                        dt / substeps)
    w = solver.truncate(mirrored_vorticity(problem, resolution)[None])
    first, stride = resolution // (4 * n), resolution // (2 * n)  # x' = (i + ½)/(2n) = (first + i·stride)/resolution
    pick = slice(first, first + n * stride, stride)
    out = np.empty((steps + 1, n, n, 2))
    x, y = np.meshgrid(cell_centres(n), cell_centres(n), indexing="ij")
    out[0, ..., 0], out[0, ..., 1] = problem.initial_velocity(x, y)
    for k in range(1, steps + 1):
        w = solver.solve(w, [dt])[:, 0]
        ux, uy = solver.velocity(np.fft.rfft2(w))
        out[k, ..., 0], out[k, ..., 1] = 4.0 * ux[0][pick, pick], 4.0 * uy[0][pick, pick]
    return out


@DATASETS.register("taylor-green")
class TaylorGreenData(Recipe):
    name: ClassVar[str] = "taylor-green"
    problem: ClassVar[str] = "taylor-green"
    solver: ClassVar[str] = "exact (single: steady) | NS2DSolver at nu = 0 on the mirrored periodic box (multi)"
    fields: ClassVar[list[str]] = ["vx", "vy"]
    description: ClassVar[str] = "2D Euler in [-1, 1]^2 with walls, Taylor-Green vortex single or multi-scale (INSR)"

    def validate(self) -> None:
        p = self.params
        self.require(p["case"] in CASES, f"unknown case {p['case']!r} (known: {', '.join(CASES)})")
        self.require_int("n", 2)
        self.require_int("steps", 1)
        self.require_int("resolution", 4)
        self.require_int("substeps", 1)
        self.require_positive("dt")
        self.require(p["resolution"] % (4 * p["n"]) == 0,
                     f"resolution {p['resolution']} must be a multiple of 4 n = {4 * p['n']} (the stored cell "
                     f"centres are points of the periodic grid)")
        self.make_problem()  # the problem's own checks (their messages name the problem)

    def make_problem(self) -> TaylorGreen:
        p = self.params
        return TaylorGreen(multiscale=float(CASES.index(p["case"])), t_end=p["dt"] * p["steps"])

    def layout(self) -> Layout:
        p = self.params
        axis = cell_centres(p["n"])
        return Layout(arrays={"t": p["dt"] * np.arange(p["steps"] + 1), "x": axis, "y": axis},
                      sample_shape=(p["steps"] + 1, p["n"], p["n"], 2), param_names=["multiscale"])

    def extra_attrs(self) -> dict:
        return {"grid_indexing": "u[..., i, j, :] = u(x_i, y_j)", "domain": [[-1.0, 1.0], [-1.0, 1.0]],
                "case": self.params["case"]}

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        p = self.params
        problem = self.make_problem()
        if problem.multiscale:
            u = spectral_reference(problem, p["n"], float(p["dt"]), p["steps"], p["resolution"], p["substeps"])
        else:
            x, y = np.meshgrid(cell_centres(p["n"]), cell_centres(p["n"]), indexing="ij")
            u = np.broadcast_to(np.stack(problem.exact_velocity(x, y), axis=-1), (p["steps"] + 1, p["n"], p["n"], 2))
        return Sample(np.array(u), np.array([problem.multiscale]))
