"""Every classical solver's declared order against the order observed in a refinement study.

One test (`test_declared_order`), parametrised over `CASES` in the spirit of diffrax's
``test_ode_order`` and scikit-fem's ``test_convergence``: each case runs a manufactured- or
exact-solution study of one solver and returns the refined quantity, the errors of one or more
declared rates and the declaration of the solver object that ran (its `convergence_order`,
`pdesuite.solvers.order`). The test then checks, per rate:

- algebraic order p: the least-squares slope of log(error) against log(h or Δt) is within the
  case's tolerance of p (for a rate declared as a lower bound, ``minimum``: in (p - tol, p + 1));
- `SPECTRAL`: the errors fall strictly and faster than any low power, i.e. their algebraic slope in
  n is at least ``spectral_min`` (8, above every algebraic order declared here), and, where the
  method declares its geometric rate c (error ~ exp(-c n)), the fitted c is within 10 % of it.

`test_every_declaration_is_covered` walks `pdesuite.solvers` and fails when a solver declares an
order that no case measures: a new solver adds one entry to CASES. The studies themselves live in
the packages' verification modules (`pdesuite.solvers.{fem,fd,spectral,laplace}.verification`),
which the benchmarks print as the docs' tables.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import pdesuite.solvers
from pdesuite.errors import MissingDependency
from pdesuite.solvers.fd import verification as fd
from pdesuite.solvers.fd.advection import AdvectionFD
from pdesuite.solvers.fd.chromatography import ColumnFD
from pdesuite.solvers.fd.nonlinear_diffusion import NonlinearDiffusionSolver
from pdesuite.solvers.fd.smoke import SmokeSolver
from pdesuite.solvers.fd.stable_fluids import StableFluids, taylor_green_space_study
from pdesuite.solvers.laplace import verification as laplace
from pdesuite.solvers.laplace.inversion import FourierSeries, talbot
from pdesuite.solvers.order import SPECTRAL, ConvergenceOrder, Rate, geometric_rate, local_rates, observed_rate
from pdesuite.solvers.spectral import verification as spectral
from pdesuite.solvers.spectral.allen_cahn import AllenCahnSolver
from pdesuite.solvers.spectral.burgers import BurgersSolver
from pdesuite.solvers.spectral.etd_adams import ETDAdams
from pdesuite.solvers.spectral.etdrk4 import ETDRK4
from pdesuite.solvers.spectral.ks import KSSolver
from pdesuite.solvers.spectral.ns2d import NS2DSolver
from pdesuite.solvers.spectral.periodic1d import SCHEMES

try:
    from pdesuite.solvers import fem as _fem  # noqa: F401 - dolfinx is optional
    from pdesuite.solvers.fem import verification as fem
except MissingDependency:  # pragma: no cover - the FEM cases need dolfinx
    fem = None


@dataclass(frozen=True)
class Study:
    """A refinement study's result: the refined quantity per run (h, Δt or n), the errors per declared
    rate name, and the declaration of the solver object that produced them."""

    steps: list[float]
    errors: dict[str, list[float]]
    declared: ConvergenceOrder


@dataclass(frozen=True)
class Case:
    """One entry: which solver (class or function) declares the order, and how to measure it.

    Attributes:
        solver: The declaring object (for the coverage check).
        keys: The declared rates the study measures.
        study: Runs the study.
        tolerance: Allowed |observed - declared| for algebraic rates.
        complete: The study measures every declared rate of its refined quantity (e.g. both L2 and H1).
        pinned: Declared orders this case expects (guards the declaration itself).
        finest_below: The finest run's error must also be below this.
        spectral_min: For spectral rates, the least algebraic slope in n.
        extra: Further case-specific checks on the study.
    """

    solver: object
    keys: tuple[str, ...]
    study: Callable[[], Study]
    tolerance: float = 0.3
    complete: bool = True
    pinned: dict = field(default_factory=dict)
    finest_below: float | None = None
    spectral_min: float = 8.0
    extra: Callable[[Study], None] | None = None


def _study(result: dict, steps: str, key: str | None = None) -> Study:
    """A verification module's dict as a `Study` (errors under ``key``, or per name if a dict)."""
    errors = result["errors"] if isinstance(result["errors"], dict) else {key: result["errors"]}
    return Study(list(result[steps]), errors, result.get("declared") or result["expected"])


# -- case-specific checks that came with the studies -----------------------------------------------
def _burgers_spectral(study: Study) -> None:
    errors = study.errors["space"]  # ν = 0.1 on 16, 32, 64 points: faster than any power
    assert spectral.burgers_error(64, 0.01) == errors[2] < 1e-6, errors
    assert errors[1] < 1e-2 * errors[0] and errors[2] < 1e-4 * errors[1], errors


def _ns2d_spectral(study: Study) -> None:
    errors = dict(zip(study.steps, study.errors["space"], strict=True))
    assert errors[32] < 1e-10, errors
    assert errors[16] / errors[32] > 1e5, errors  # an algebraic order p would give 2^p


def _fem_cases() -> dict[str, Case]:
    if fem is None:
        return {}
    from pdesuite.solvers.fem import (
        AdvectionDiffusionSolver,
        HeatSolver,
        HelmholtzSolver,
        HyperelasticSolver,
        NavierStokesIPCS,
        NavierStokesSteady,
        PoissonSolver,
        ReactionDiffusionSolver,
    )

    cases = {}
    solvers = {"poisson": PoissonSolver, "reaction": ReactionDiffusionSolver, "helmholtz": HelmholtzSolver}
    for name in fem.SPATIAL_CASES:
        for degree in (1, 2):
            cases[f"fem-{name}-P{degree}"] = Case(
                solvers[name.split("-")[0]], ("L2", "H1"),
                lambda name=name, degree=degree: _study(fem.spatial_study(name, degree), "h"), tolerance=0.1)
    for velocity, solver in ((None, HeatSolver), ((1.0, -0.5), AdvectionDiffusionSolver)):
        for degree in (1, 2):
            cases[f"fem-{solver.name}-space-P{degree}"] = Case(
                solver, ("L2", "H1"),
                lambda velocity=velocity, degree=degree: _study(fem.heat_space_study(degree, velocity), "h"),
                tolerance=0.1)
    for scheme, expected in (("backward-euler", 1), ("crank-nicolson", 2), (0.75, 1)):
        cases[f"fem-heat-time-{scheme}"] = Case(
            HeatSolver, ("time",), lambda scheme=scheme: _study(fem.heat_time_study(scheme), "dt", "time"),
            tolerance=0.1, pinned={"time": expected})
    for degree in (1, 2):
        cases[f"fem-hyperelastic-P{degree}"] = Case(
            HyperelasticSolver, ("L2", "H1"), lambda degree=degree: _study(fem.hyperelastic_space_study(degree), "h"),
            tolerance=0.2)
    cases["fem-navier-stokes-steady-P2"] = Case(
        NavierStokesSteady, ("velocity_L2", "velocity_H1", "pressure_L2"),
        lambda: _study(fem.navier_stokes_space_study(2), "h"), tolerance=0.15)
    cases["fem-navier-stokes-ipcs-time"] = Case(
        NavierStokesIPCS, ("time_velocity", "time_pressure"), lambda: _study(fem.ipcs_time_study(), "dt"),
        tolerance=0.15, pinned={"time_velocity": 2, "time_pressure": 1})
    return cases


def _scheme_time(q: int) -> Study:
    scheme = f"etd-adams{q}"
    declared = SCHEMES[scheme].convergence_order
    assert declared == ETDAdams(np.zeros(1), 0.1, order=q).convergence_order  # the registry and the stepper agree
    result = spectral.burgers_time_study(dts=(0.08, 0.04, 0.02), scheme=scheme)
    return Study(result["dt"], {"time": result["errors"]}, declared)


CASES: dict[str, Case] = {
    **_fem_cases(),
    # -- finite differences
    "nonlinear-diffusion-space": Case(
        NonlinearDiffusionSolver, ("space",), lambda: _study(fd.nonlinear_diffusion_space_study(), "h", "space"),
        finest_below=3e-4),
    "nonlinear-diffusion-time": Case(
        NonlinearDiffusionSolver, ("time",), lambda: _study(fd.nonlinear_diffusion_time_study(), "dt", "time")),
    **{f"column-fd-{scheme}": Case(
        ColumnFD, ("space",), lambda scheme=scheme: _study(fd.column_space_study(scheme), "h", "space"),
        tolerance=0.2 if scheme in ("vanleer", "vanalbada", "koren") else 0.15) for scheme in fd.COLUMN_CASES},
    **{f"advection-{scheme}{'-' + interp if interp != 'cubic' else ''}": Case(
        AdvectionFD, ("space",), lambda scheme=scheme, interp=interp: _study(
            fd.advection_space_study(scheme, interp), "h", "space"), tolerance=0.25)
       for scheme, interp in (("upwind", "cubic"), ("crank-nicolson", "cubic"), ("semi-lagrangian", "cubic"),
                              ("semi-lagrangian", "linear"))},
    "smoke-time": Case(SmokeSolver, ("time",), lambda: _study(fd.smoke_time_study(), "dt", "time")),
    "smoke-space": Case(SmokeSolver, ("space",), lambda: _study(fd.smoke_space_study(), "h", "space")),
    "stable-fluids-space": Case(StableFluids, ("space",), lambda: _study(taylor_green_space_study(), "h", "space"),
                                tolerance=0.1),
    # -- spectral: ETDRK4 and the exponential Adams schemes (Cole-Hopf), the 1D solvers, 2D Navier-Stokes
    "etdrk4-burgers": Case(ETDRK4, ("time",), lambda: Study(*_burgers_time(), ETDRK4.convergence_order),
                           pinned={"time": 4}),
    **{f"etd-adams{q}-burgers": Case(ETDAdams, ("time",), lambda q=q: _scheme_time(q),
                                     pinned={"time": q}) for q in range(2, 7)},
    "etd-adams5-ks": Case(  # two independent schemes agree to ~5e-9 at 8 substeps
        ETDAdams, ("time",),
        lambda: Study(*_ks_time("etd-adams5", (4, 6, 8), 256), SCHEMES["etd-adams5"].convergence_order),
        pinned={"time": 5}, finest_below=1e-8),
    "ks-time": Case(KSSolver, ("time",),
                    lambda: Study(*_ks_time("etdrk4", (1, 2, 4, 8), 64), KSSolver.convergence_order)),
    "ks-space": Case(KSSolver, ("space",), lambda: _study(spectral.ks_space_study((32, 48, 64, 96)), "n", "space")),
    "burgers-time": Case(BurgersSolver, ("time",), lambda: Study(*_burgers_time(), BurgersSolver.convergence_order)),
    "burgers-space": Case(BurgersSolver, ("space",),
                          lambda: _study(spectral.burgers_space_study((16, 32, 64))
                                         | {"declared": BurgersSolver.convergence_order}, "n", "space"),
                          extra=_burgers_spectral),
    "allen-cahn-time": Case(AllenCahnSolver, ("time",),
                            lambda: _study(spectral.allen_cahn_time_study()
                                           | {"declared": AllenCahnSolver.convergence_order}, "h", "time")),
    "allen-cahn-space": Case(AllenCahnSolver, ("space",),
                             lambda: _study(spectral.smooth_allen_cahn_space_study(), "n", "space")),
    **{f"ns2d-{name}": Case(NS2DSolver, (key,), lambda name=name: _ns2d_time(name), complete=False)
       for name, (_, _, key) in spectral.NS2D_TIME_CASES.items()},
    "ns2d-space": Case(NS2DSolver, ("space",), lambda: _study(spectral.ns2d_space_study(), "n", "space"),
                       extra=_ns2d_spectral),
    # -- Laplace inversion
    **{f"talbot-{name}": Case(talbot, ("nodes",), lambda name=name: _study(laplace.talbot_study(name), "n", "nodes"))
       for name in laplace.TALBOT_CASES},
    "fourier-series-gaussian": Case(FourierSeries, ("terms",),
                                    lambda: _study(laplace.fourier_series_study(), "n", "terms")),
}


def _burgers_time() -> tuple[list, dict]:
    result = spectral.burgers_time_study()
    return result["dt"], {"time": result["errors"]}


def _ks_time(scheme: str, substeps, reference_substeps: int) -> tuple[list, dict]:
    result = spectral.ks_time_study(substeps=substeps, reference_substeps=reference_substeps, scheme=scheme)
    return result["h"], {"time": result["errors"]}


def _ns2d_time(name: str) -> Study:
    result = spectral.ns2d_time_study(name)
    return Study(result["dt"], {result["key"]: result["errors"]}, result["declared"])


def check(rate: Rate, steps: list[float], errors: list[float], case: Case) -> str:
    """Assert that ``errors`` over ``steps`` show ``rate``; returns the observed order as text."""
    assert len(steps) >= 3 and len(errors) == len(steps), (steps, errors)
    assert all(np.isfinite(errors)) and min(errors) > 0, errors
    if rate.order == SPECTRAL:
        assert rate.parameter == "n" and all(b > a for a, b in zip(steps, steps[1:], strict=False)), steps
        assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), f"errors do not fall: {errors}"
        slope = -observed_rate(steps, errors)
        assert slope >= case.spectral_min, f"algebraic slope {slope:.2f} in n: not spectral ({errors})"
        text = f"spectral (slope {slope:.1f}"
        if rate.geometric is not None:
            c = geometric_rate(steps, errors)
            assert abs(c - rate.geometric) <= 0.1 * rate.geometric, f"geometric rate {c:.3f}, declared {rate.geometric}"
            text += f", exp(-{c:.3f} n)"
        return text + ")"
    assert all(b < a for a, b in zip(steps, steps[1:], strict=False)), f"{rate.parameter} must be refined: {steps}"
    observed = observed_rate(steps, errors)
    p = rate.order
    if rate.minimum:
        assert p - case.tolerance < observed < p + 1, f"observed {observed:.3f}, declared at least {p} ({errors})"
    else:
        assert abs(observed - p) < case.tolerance, f"observed {observed:.3f}, declared {p} ({errors})"
    return f"{observed:.2f}"


@pytest.mark.parametrize("name", list(CASES))
def test_declared_order(name, record_property):
    case = CASES[name]
    study = case.study()
    declared = study.declared
    assert isinstance(declared, ConvergenceOrder), type(declared)
    for key, value in case.pinned.items():
        assert declared[key] == value, f"{name}: declared {key} = {declared[key]}, expected {value}"
    assert set(study.errors) == set(case.keys), f"{name}: measured {set(study.errors)}, listed {case.keys}"
    assert set(study.errors) <= set(declared), f"{name}: measures {set(study.errors)}, declares {set(declared)}"
    parameters = {declared.rates[key].parameter for key in study.errors}
    assert len(parameters) == 1, f"{name}: one study refines one quantity, got {parameters}"
    if case.complete:  # e.g. both L2 and H1 of an FEM solver
        same = {key for key, rate in declared.rates.items() if rate.parameter in parameters}
        assert set(study.errors) == same, f"{name}: measures {set(study.errors)} of {same}"
    for key, errors in study.errors.items():
        observed = check(declared.rates[key], study.steps, errors, case)
        record_property(key, f"declared {declared.rates[key]}; observed {observed}")
    if case.finest_below is not None:
        finest = [errors[-1] for errors in study.errors.values()]
        assert max(finest) < case.finest_below, finest
    if case.extra is not None:
        case.extra(study)


# -- the check itself must be able to fail ------------------------------------------------------------
def test_the_fit_detects_a_wrong_order():
    h = [0.1, 0.05, 0.025]
    first = list(h)  # first-order data is not second order
    assert abs(observed_rate(h, first) - 1.0) < 1e-12 and abs(observed_rate(h, first) - 2.0) > 0.1
    case = Case(None, (), lambda: None)
    with pytest.raises(AssertionError, match="declared 2"):
        check(Rate(2, "h"), h, first, case)
    with pytest.raises(AssertionError, match="not spectral"):  # fourth order in n is algebraic
        check(Rate(SPECTRAL, "n"), [16, 32, 64], [16.0**-4, 32.0**-4, 64.0**-4], case)
    with pytest.raises(AssertionError, match="geometric rate"):
        check(Rate(SPECTRAL, "n", geometric=1.358), [6, 10, 14], list(np.exp(-2.0 * np.array([6, 10, 14]))), case)
    assert check(Rate(1, "h", minimum=True), h, [x**1.8 for x in h], case) == "1.80"
    assert local_rates([1, 2, 4], [1.0, 0.25, 0.0625]) == pytest.approx([-2.0, -2.0])


def test_rates_and_orders_are_validated():
    with pytest.raises(ValueError, match="positive integer"):
        Rate(0, "h")
    with pytest.raises(ValueError, match="parameter"):
        Rate(2, "cells")
    with pytest.raises(ValueError, match="spectral"):
        Rate(2, "n")
    with pytest.raises(ValueError, match="geometric"):
        Rate(2, "h", geometric=1.0)
    order = ConvergenceOrder(L2=Rate(3, "h", "L2"), H1=Rate(2, "h", "H1 seminorm"))
    assert order == {"L2": 3, "H1": 2} and order["L2"] == 3 and "3 in h (L2)" in repr(order)
    assert order.merged(time=Rate(2, "dt"))["time"] == 2 and "time" not in order


# -- every declaration is measured ----------------------------------------------------------------------
def declaring_objects() -> dict[str, object]:
    """Public classes and functions of pdesuite.solvers that declare a `convergence_order`."""
    found = {}
    for module_info in pkgutil.walk_packages(pdesuite.solvers.__path__, "pdesuite.solvers."):
        try:
            module = importlib.import_module(module_info.name)
        except MissingDependency:  # pragma: no cover - dolfinx absent: the FEM cases are absent too
            continue
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and hasattr(obj, "convergence_order"):
                found[f"{module.__name__}.{name}"] = obj
    return found


#: Declaring classes that are bases only: their subclasses carry the cases.
BASES = {"pdesuite.solvers.fem.base.LinearFEMSolver", "pdesuite.solvers.spectral.periodic1d.Periodic1DSolver"}


def test_every_declaration_is_covered():
    objects = declaring_objects()
    assert "pdesuite.solvers.laplace.inversion.talbot" in objects and "pdesuite.solvers.fd.smoke.SmokeSolver" in objects
    covered = {id(case.solver) for case in CASES.values()}
    missing = [name for name, obj in objects.items() if name not in BASES and id(obj) not in covered]
    assert not missing, f"solvers that declare an order without a case in CASES: {missing}"
    for name, obj in objects.items():  # class-level declarations: every rate has a case
        declared = inspect.getattr_static(obj, "convergence_order", None)
        if isinstance(declared, ConvergenceOrder) and name not in BASES:
            measured = {key for case in CASES.values() if case.solver is obj for key in case.keys}
            assert set(declared) <= measured, f"{name}: rates {set(declared) - measured} have no case"
