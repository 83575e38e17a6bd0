"""Observed convergence orders of the FEM solvers against manufactured solutions.

Each case fits the slope of log(error) over at least three refinements and requires it to be
within 0.1 of the order the solver declares (`pdesuite.solvers.fem.verification` holds the cases).
"""

import pytest

verification = pytest.importorskip("pdesuite.solvers.fem.verification", reason="needs dolfinx")


@pytest.mark.parametrize("degree", [1, 2])
@pytest.mark.parametrize("case", list(verification.SPATIAL_CASES))
def test_spatial_order(case, degree):
    study = verification.spatial_study(case, degree)
    assert set(study["expected"]) == {"L2", "H1"}
    for norm, expected in study["expected"].items():
        rate = study["rates"][norm]
        assert abs(rate - expected) < 0.1, f"{case} P{degree} {norm}: rate {rate:.3f}, expected {expected}"


@pytest.mark.parametrize("degree", [1, 2])
@pytest.mark.parametrize("velocity", [None, (1.0, -0.5)], ids=["heat", "advection-diffusion"])
def test_heat_spatial_order(degree, velocity):
    study = verification.heat_space_study(degree, velocity)
    for norm, expected in study["expected"].items():
        assert abs(study["rates"][norm] - expected) < 0.1, f"P{degree} {norm}: {study['rates'][norm]:.3f}"


@pytest.mark.parametrize("scheme,expected", [("backward-euler", 1), ("crank-nicolson", 2), (0.75, 1)])
def test_heat_time_order(scheme, expected):
    study = verification.heat_time_study(scheme)
    assert study["expected"] == expected
    assert abs(study["rate"] - expected) < 0.1, f"{scheme}: time rate {study['rate']:.3f}, expected {expected}"


def test_observed_rate_detects_a_wrong_order():
    # the fit itself must be able to fail: first-order data is not second order
    h = [0.1, 0.05, 0.025]
    assert abs(verification.observed_rate(h, [x for x in h]) - 1.0) < 1e-12
    assert abs(verification.observed_rate(h, [x for x in h]) - 2.0) > 0.1


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
