"""Finite-element reference solvers on dolfinx 0.11 (the only package that imports dolfinx).

    from pdesuite.solvers.fem import PoissonSolver, unit_square
    from pdesuite.problems import Poisson
    u = PoissonSolver(Poisson(source=1.0), unit_square(32)).solve()
    u.eval([[0.5, 0.5]])

dolfinx's MPI library is loaded through mpi4py, which therefore is imported first.
"""

from pdesuite.errors import MissingDependency

try:
    from mpi4py import MPI  # noqa: F401  - must come before dolfinx (loads libmpi)

    import dolfinx  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without dolfinx
    raise MissingDependency(
        "pdesuite.solvers.fem needs dolfinx 0.11: pip install 'dolfinx-solver-real==0.11.0.post0' "
        f"(Python >= 3.12), or run 'make test' to build .venv ({exc})"
    ) from exc

from pdesuite.solvers.fem.heat import AdvectionDiffusionSolver, HeatSolver
from pdesuite.solvers.fem.helmholtz import HelmholtzSolver, ReactionDiffusionSolver
from pdesuite.solvers.fem.hyperelastic import HyperelasticSolver
from pdesuite.solvers.fem.mesh import (
    Domain,
    from_arrays,
    input_order,
    read_mesh,
    rectangle,
    unit_square,
    write_mesh,
)
from pdesuite.solvers.fem.monge_ampere import (
    ConstantMonitor,
    ExpressionMonitor,
    HessianMonitor,
    MeshTangled,
    MongeAmpereMover,
)
from pdesuite.solvers.fem.navier_stokes import NavierStokesIPCS, NavierStokesSteady, force_coefficients
from pdesuite.solvers.fem.poisson import PoissonSolver
from pdesuite.solvers.fem.solution import FEMSolution, TimeSeries
from pdesuite.solvers.fem.unstructured import dfg_channel, unstructured_rectangle

__all__ = [
    "AdvectionDiffusionSolver",
    "ConstantMonitor",
    "ExpressionMonitor",
    "HessianMonitor",
    "MeshTangled",
    "MongeAmpereMover",
    "Domain",
    "FEMSolution",
    "HeatSolver",
    "HelmholtzSolver",
    "HyperelasticSolver",
    "NavierStokesIPCS",
    "NavierStokesSteady",
    "PoissonSolver",
    "ReactionDiffusionSolver",
    "TimeSeries",
    "dfg_channel",
    "force_coefficients",
    "from_arrays",
    "input_order",
    "read_mesh",
    "rectangle",
    "unit_square",
    "unstructured_rectangle",
    "write_mesh",
]
