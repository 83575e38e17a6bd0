"""Problem definitions: *what* is solved (equation, domain, coefficients, boundary and initial data).

Problems are frozen dataclasses and import no solver. Coefficients are plain numbers or
*expressions*: callables written once against a math namespace ``m`` (``m.sin``, ``m.exp``,
``m.pi``...), so the same code evaluates on numpy arrays (``m = NUMPY``) and builds UFL for
the finite-element solvers (``m = ufl`` namespace in `pdesuite.solvers.fem`). Coordinates are passed
as a sequence ``x`` with ``x[0]``, ``x[1]`` the components.
"""

from pdesuite.problems.base import NUMPY, Expr, Problem, TimeExpr, constant
from pdesuite.problems.heat import Heat
from pdesuite.problems.helmholtz import Helmholtz, ReactionDiffusion
from pdesuite.problems.navier_stokes import DFGCylinderFlow
from pdesuite.problems.poisson import Poisson

__all__ = [
    "NUMPY",
    "DFGCylinderFlow",
    "Expr",
    "Heat",
    "Helmholtz",
    "Poisson",
    "Problem",
    "ReactionDiffusion",
    "TimeExpr",
    "constant",
]
