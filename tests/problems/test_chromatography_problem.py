"""The GC column problem: validation, the pressure-driven velocity, the dimensionless groups."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection, dimensionless_groups
from pdesuite.registry import PROBLEMS


def test_pressure_drop_hold_up_time_and_groups():
    problem = Chromatography(length=2.0, velocity=0.1, p_in=300e3, p_out=100e3, diffusion=1e-5, alpha=0.1,
                             analytes=(Analyte("b", 300.0, 25.0, 1.0),), injection=Injection("pulse", 0.5, 0.0))
    assert PROBLEMS.get("chromatography") is Chromatography
    # t0 = ∫ dx / u equals L / ū; u p is constant and p(L) = p_out
    integral, _ = quad(lambda x: 1.0 / problem.velocity_at(x), 0.0, 2.0)
    assert integral == pytest.approx(problem.hold_up_time, rel=1e-12) and problem.hold_up_time == 20.0
    x = np.linspace(0, 2, 7)
    np.testing.assert_allclose(problem.velocity_at(x) * problem.pressure(x), problem.outlet_velocity, rtol=1e-14)
    assert problem.pressure(2.0) == pytest.approx(1.0) and problem.pressure(0.0) == pytest.approx(3.0)
    assert problem.james_martin == pytest.approx(1.5 * 8 / 26)
    g = dimensionless_groups(problem)
    b = g["analytes"]["b"]
    assert g["Pe"] == pytest.approx(0.1 * 2.0 / 1e-5) and b["Da"] == pytest.approx(500.0)
    assert b["Da_a"] == pytest.approx(600.0) and b["k_prime"] == pytest.approx(1.2)
    assert b["t_R"] == pytest.approx(20 * 2.2 + 0.25)
    assert b["plates"] == pytest.approx(2.2**2 * 500 / 2.4)
    assert b["diffusion_share"] == pytest.approx(500 * 2.2**2 / (2e4 * 1.2))
    assert math.isinf(dimensionless_groups(Chromatography())["Pe"])


@pytest.mark.parametrize("kwargs,message", [
    ({"length": 0.0}, "column length L must be positive"),
    ({"velocity": -0.1}, "carrier velocity u must be positive"),
    ({"diffusion": -1e-6}, "diffusion coefficient D must be >= 0"),
    ({"p_in": 1.0, "p_out": 2.0}, "below the outlet pressure"),
    ({"p_in": 1.0}, "both p_in and p_out"),
    ({"alpha": 0.0}, "phase ratio alpha"),
    ({"q_m": -1.0}, "Langmuir capacity"),
    ({"analytes": ()}, "at least one analyte"),
    ({"t_end": -1.0}, "end time"),
])
def test_bad_values(kwargs, message):
    with pytest.raises(BadInput, match=message):
        Chromatography(**kwargs)


def test_bad_analytes_and_injections():
    with pytest.raises(BadInput, match="adsorption rate k_a"):
        Analyte("a", -1.0, 1.0)
    with pytest.raises(BadInput, match="desorption rate k_d"):
        Analyte("a", 1.0, 0.0)
    with pytest.raises(BadInput, match="injection shape"):
        Injection("box")
    with pytest.raises(BadInput, match="injection width"):
        Injection("pulse", 0.0)
