"""`hyperelastic`: a plane-strain neo-Hookean body (INSR's 2D elasticity cases).

The displacement u = q − X (fields ``ux``, ``uy``) on a regular grid of material points X of the body,
spacing ``h`` with both ends and both sides included, at the stored times. ``case`` picks the problem
of `pdesuite.problems.hyperelastic`:

* ``stretch``: Ω₀ = [−1, 1]², left end clamped, right end moved by (``stretch``, 0); one static step
  (``steps`` and ``dt`` are not used): t = 0 (u = 0) and t = 1 (the equilibrium).
* ``sag``: the beam [−1, 1] × [−¼, ¼] clamped at x = −1, released from rest in gravity; ``steps``
  implicit-Euler steps of ``dt`` (INSR: 20 × 0.1).
* ``collide``: the free square [−1, 1]² launched with velocity (``vx``, ``vy``) in gravity onto the
  rigid floor y = ``floor``, contact by the boundary penalty energy of stiffness ``kappa``; ``steps``
  implicit-Euler steps of ``dt``.

The reference is `HyperelasticSolver` (Newton on the energy, UFL/dolfinx) with P_``degree`` elements on
a structured triangle mesh of ``resolution`` cells per unit length (stretch: 2r × 2r cells, sag: 2r ×
r/2; collide: 2r × 2r), evaluated at the grid points; static stretch in ``load_steps`` increments. One
sample (test split); ``params`` = [dynamic, mu, lam, rho, gravity, stretch, dt, kappa, floor, vx, vy]
(what the surrogate needs to set up the same energy; each case ignores the ones it does not use). The
file's attrs record the mesh, the element degree, the unknowns, Newton's iterations and seconds per
step, and the reference's elastic energy ∫Ψ dX and kinetic energy per time; collide adds the contact
energy E_c, the total energy (kinetic + elastic + gravity + contact) and the deepest penetration below
the floor per time.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.hyperelastic import CASES, Hyperelastic
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS

PARAMS = ["dynamic", "mu", "lam", "rho", "gravity", "stretch", "dt", "kappa", "floor", "vx", "vy"]


def material_grid(problem: Hyperelastic, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates (x, y) of the body with spacing about ``h``, ends included."""
    x0, x1, y0, y1 = problem.body
    nx, ny = max(2, round((x1 - x0) / h) + 1), max(2, round((y1 - y0) / h) + 1)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def mesh_cells(problem: Hyperelastic, resolution: int) -> tuple[int, int]:
    """Cells (nx, ny) of a mesh with ``resolution`` cells per unit length."""
    x0, x1, y0, y1 = problem.body
    return max(1, round((x1 - x0) * resolution)), max(1, round((y1 - y0) * resolution))


@DATASETS.register("hyperelastic")
class HyperelasticData(Recipe):
    name: ClassVar[str] = "hyperelastic"
    problem: ClassVar[str] = "hyperelastic"
    solver: ClassVar[str] = "HyperelasticSolver (Newton on the incremental potential, dolfinx P2)"
    fields: ClassVar[list[str]] = ["ux", "uy"]
    description: ClassVar[str] = ("2D plane-strain neo-Hookean body: static stretch, sagging beam or a square "
                                  "hitting a floor (INSR elasticity)")

    def validate(self) -> None:
        p = self.params
        self.require(p["case"] in CASES, f"unknown case {p['case']!r} (known: {', '.join(CASES)})")
        self.require_int("steps", 1)
        self.require_int("resolution", 1)
        self.require_int("degree", 1, 2)
        self.require_int("load_steps", 1)
        self.require_positive("h")
        self.require(p["h"] <= 0.5, f"h must be at most 0.5 (the beam is 0.5 thick), got {p['h']}")
        self.make_problem()  # the problem's own checks (their messages name the problem)

    def make_problem(self) -> Hyperelastic:
        p = self.params
        return Hyperelastic(dynamic=float(CASES.index(p["case"])), mu=p["mu"], lam=p["lam"], rho=p["rho"],
                            gravity=p["gravity"], stretch=p["stretch"], dt=p["dt"], kappa=p["kappa"],
                            floor=p["floor"], vx=p["vx"], vy=p["vy"])

    def n_steps(self) -> int:
        return int(self.params["steps"]) if self.make_problem().dynamic else 1

    def times(self) -> np.ndarray:
        problem = self.make_problem()
        return problem.dt * np.arange(self.n_steps() + 1) if problem.dynamic else np.array([0.0, 1.0])

    def layout(self) -> Layout:
        x, y = material_grid(self.make_problem(), self.params["h"])
        return Layout(arrays={"t": self.times(), "x": x, "y": y},
                      sample_shape=(self.n_steps() + 1, len(x), len(y), 2), param_names=list(PARAMS))

    def extra_attrs(self) -> dict:
        problem = self.make_problem()
        nx, ny = mesh_cells(problem, self.params["resolution"])
        attrs = {"grid_indexing": "u[..., i, j, :] = u(x_i, y_j) (material points)", "case": self.params["case"],
                 "body": list(problem.body), "fem_mesh": [nx, ny], "fem_degree": self.params["degree"],
                 "fem_cell": "triangle"}
        return {**attrs, **getattr(self, "_solve_info", {})}

    def prepare(self) -> None:
        """Solve the one sample here, before the file's attrs are written, so that they can hold the
        reference's mesh, unknowns, energies and timings."""
        from pdesuite.solvers.fem.hyperelastic import HyperelasticSolver

        p = self.params
        problem = self.make_problem()
        nx, ny = mesh_cells(problem, p["resolution"])
        solver = HyperelasticSolver(problem, nx, ny, p["degree"], load_steps=p["load_steps"])
        x, y = material_grid(problem, p["h"])
        X, Y = np.meshgrid(x, y, indexing="ij")
        points = np.stack([X.ravel(), Y.ravel()], axis=1)
        # time 0: u = 0 (no elastic energy); the kinetic energy is ∫ρ/2 |v_0|² (zero from rest)
        elastic, kinetic = [0.0], [solver.kinetic_energy()]
        contact, total, depth = ([solver.contact_energy()], [solver.total_energy()], [solver.penetration()]) \
            if problem.collide else ([], [], [])

        def record(k, s):
            elastic.append(s.elastic_energy())
            kinetic.append(s.kinetic_energy())
            if problem.collide:
                contact.append(s.contact_energy())
                total.append(s.total_energy())
                depth.append(s.penetration())

        u = solver.march(self.n_steps(), points, record)
        self._u = u.reshape(len(u), len(x), len(y), 2)
        self._solve_info = {"fem_dofs": solver.dofs, "elastic_energy": elastic, "kinetic_energy": kinetic,
                            "newton_iterations": [i["newton_iterations"] for i in solver.info],
                            "seconds_per_step": [i["seconds"] for i in solver.info]}
        if problem.collide:
            self._solve_info |= {"contact_energy": contact, "total_energy": total, "penetration": depth}

    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        if getattr(self, "_u", None) is None:
            self.prepare()
        problem = self.make_problem()
        return Sample(self._u.copy(), np.array([getattr(problem, name) for name in PARAMS], dtype=float))
