"""The full GC column model by finite volumes: the D → 0 limit against the Laplace solution,
competitive Langmuir kinetics, conservation, TVD behaviour, defaults, bad input. (The observed orders
of the advection schemes are cases of tests/solvers/test_orders.py.)"""

from dataclasses import replace

import numpy as np
import pytest

from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.solvers.fd.chromatography import ColumnFD
from pdesuite.solvers.fd.verification import single_analyte
from pdesuite.solvers.laplace.column import LaplaceColumn


def single(k_a, k_d, injection, **kw):
    return single_analyte(k_a, k_d, injection, **kw)


@pytest.mark.parametrize("pressures", [{}, {"p_in": 3.0, "p_out": 1.0}])
def test_agrees_with_the_laplace_solution_in_the_limit_d_to_0(pressures):
    """D = 0, linear kinetics, a 0.5 s plug, with and without a 3:1 pressure drop: better than 1e-3 of
    the peak; a small D (Pe = 1e6) only moves the curve by about the kinetic-to-Pe ratio."""
    problem = Chromatography(length=2.0, velocity=0.1, alpha=0.1, analytes=(Analyte("b", 120.0, 10.0, 1.0),),
                             injection=Injection("pulse", 0.5, 0.0), **pressures)
    t = np.linspace(0.0, problem.end_time(), 300)
    exact = LaplaceColumn(problem).outlet(t)[:, 0]
    fd = ColumnFD(problem, 500, "kappa3", rtol=1e-7, atol=1e-10).solve(t)[:, 0]
    assert np.abs(fd - exact).max() / exact.max() < 1e-3
    if pressures:
        small_d = ColumnFD(replace(problem, diffusion=2e-7), 500, "kappa3", rtol=1e-7, atol=1e-10).solve(t)[:, 0]
        shift = np.abs(small_d - fd).max() / exact.max()
        assert 1e-4 < shift < 1e-2, shift


def test_langmuir_competition_vanishes_at_low_loading_and_speeds_peaks_at_high_loading():
    analytes = (Analyte("a", 60.0, 10.0, 1.0), Analyte("b", 90.0, 10.0, 1.0))
    linear = Chromatography(length=1.0, velocity=0.1, alpha=0.2, analytes=analytes,
                            injection=Injection("pulse", 1.0, 0.0), p_in=2.0, p_out=1.0)
    t = np.linspace(0.0, linear.end_time(), 300)
    lin = ColumnFD(linear, 300, "kappa3").solve(t)
    low = ColumnFD(replace(linear, q_m=1e7), 300, "kappa3").solve(t)
    assert np.abs(low - lin).max() / lin.max() < 1e-4
    high_problem = replace(linear, q_m=10.0, diffusion=1e-5)
    high = ColumnFD(high_problem, 300, "kappa3", rtol=1e-6, atol=1e-9).solve(t)
    for i in range(2):  # saturation: fewer free sites, earlier and taller (fronted) peaks
        assert t[np.argmax(high[:, i])] < t[np.argmax(lin[:, i])]
    # every analyte leaves the column: u_out ∫ c_out dt = u_in ∫ c_in dt (conservative form)
    flux_in = high_problem.inlet_velocity * high_problem.injection.area
    outflow = high_problem.outlet_velocity * np.trapezoid(high, t, axis=0)
    np.testing.assert_allclose(outflow, flux_in * np.array([a.c0 for a in analytes]), rtol=1e-4)


def test_koren_is_free_of_the_undershoots_of_the_unlimited_scheme():
    problem = single(0.5, 5.0, Injection("pulse", 1.0, 0.0))  # a steep plug, weakly retained
    t = np.linspace(0.0, 14.0, 141)
    c_koren, _ = ColumnFD(problem, 100, "koren", rtol=1e-6, atol=1e-9).profiles(t)
    c_kappa, _ = ColumnFD(problem, 100, "kappa3", rtol=1e-6, atol=1e-9).profiles(t)
    assert c_koren.min() > -1e-6
    assert c_kappa.min() < -1e-3


def test_defaults_are_those_of_the_command_line_and_the_dataset():
    """kappa3 on 800 cells: `pdesuite chromatography simulate --solver fd` and datasets/chromatography.toml."""
    import argparse

    from pdesuite.recipes.chromatography import ChromatographyData
    from pdesuite.solvers.laplace.commands import add_parsers

    column = ColumnFD(single(1.0, 1.0, Injection()))
    assert (column.scheme, column.cells) == ("kappa3", 800)
    assert column.convergence_order == {"space": 3}
    small = ChromatographyData.profiles()["small"]
    assert (small["scheme"], small["cells"]) == (column.scheme, column.cells)
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False))
    args = parser.parse_args(["chromatography", "simulate", "-o", "x.csv"])
    assert (args.scheme, args.cells) == (column.scheme, column.cells)


def test_bad_input():
    problem = single(1.0, 1.0, Injection())
    with pytest.raises(BadInput, match="scheme"):
        ColumnFD(problem, 100, "weno")
    with pytest.raises(BadInput, match="cells"):
        ColumnFD(problem, 4)
    with pytest.raises(BadInput, match="output times"):
        ColumnFD(problem, 50).solve([1.0, 0.5])
    with pytest.raises(BadInput, match="BDF or Radau"):
        ColumnFD(problem, 50, method="RK45")
