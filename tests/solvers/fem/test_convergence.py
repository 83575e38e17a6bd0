"""FEM solvers: failures and bad input.

The observed convergence orders against manufactured solutions (within 0.1 of the declared ones)
are cases of the single order test, tests/solvers/test_orders.py (studies in
`pdesuite.solvers.fem.verification`).
"""

import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")


def test_non_finite_solution_raises_solver_error():
    import numpy as np

    from pdesuite.errors import SolverError
    from pdesuite.problems import Heat, Poisson
    from pdesuite.problems.base import Field
    from pdesuite.solvers.fem import HeatSolver, PoissonSolver, unit_square

    nan_field = Field(lambda x: np.full(x.shape[1], np.nan))
    with pytest.raises(SolverError, match="not finite"):
        PoissonSolver(Poisson(source=nan_field), unit_square(4)).solve()
    with pytest.raises(SolverError, match="not finite"):
        HeatSolver(Heat(initial=nan_field), unit_square(4), dt=0.5).solve()


@pytest.mark.parametrize("make", [
    lambda fem: fem.HeatSolver(fem.Heat(initial=0.0), fem.unit_square(4), dt=0.0),
    lambda fem: fem.HeatSolver(fem.Heat(initial=0.0), fem.unit_square(4), dt=-1.0),
    lambda fem: fem.HeatSolver(fem.Heat(initial=0.0), fem.unit_square(4), scheme="forward-euler"),
    lambda fem: fem.HeatSolver(fem.Heat(initial=0.0), fem.unit_square(4), scheme=0.2),
    lambda fem: fem.PoissonSolver(fem.Poisson(), fem.unit_square(4), degree=0),
    lambda fem: fem.unit_square(0),
    lambda fem: fem.Heat(kappa=-1.0, initial=0.0),
    lambda fem: fem.Poisson(kappa=0.0),
    lambda fem: fem.ReactionDiffusion(reaction=-1.0),
    lambda fem: fem.AdvectionDiffusionSolver(fem.Heat(initial=0.0), fem.unit_square(4)),
])
def test_invalid_values_are_bad_input(make):
    import types

    from pdesuite import problems, solvers
    from pdesuite.errors import BadInput
    from pdesuite.solvers import fem

    namespace = types.SimpleNamespace(**{**vars(fem), **vars(problems)})
    assert solvers  # imported for the side effect of loading dolfinx once
    with pytest.raises(BadInput):
        make(namespace)
