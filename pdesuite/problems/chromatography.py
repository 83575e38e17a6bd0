"""Gas-chromatography column: advection-diffusion of analytes with adsorption on the stationary phase.

Cabrera-Codony, Valverde, Born, Noreldin, Myers, "Mathematical modelling of flow and adsorption in a
gas chromatograph" (arXiv 2501.00001, PDEs in Applied Mathematics). On 0 < x < L, for analytes i:

    ∂c_i/∂t + ∂(u c_i)/∂x = D ∂²c_i/∂x² − α ∂q_i/∂t
    ∂q_i/∂t = k_a,i c_i (1 − Σ_j q_j / q_m) − k_d,i q_i        (q_m = ∞: linear kinetics)

with the column initially clean, the injection c_i(0, t) = c0_i f(t) (Danckwerts flux condition
u c − D c_x = u c_in when D > 0) and c_x(L, t) = 0. The chromatogram is c_i(L, t).

Velocity: constant, or set by an isothermal ideal carrier gas with a pressure drop,
p(x)² = p_in² − (p_in² − p_out²) x / L and u p = const. ``velocity`` is always the *mean* linear
velocity ū = L / t0, with t0 = ∫ dx / u the hold-up (dead) time that GC users measure with an
unretained marker; the outlet velocity is ū / j with the James-Martin factor
j = 3 (P² − 1) / (2 (P³ − 1)), P = p_in / p_out.

Scaling (docs/chromatography.md): x = L x̂, t = t0 t̂, c_i = c_ref ĉ_i, q_i = c_ref θ_i / α, u = ū û.
The dimensionless system is

    ∂ĉ_i/∂t̂ + ∂(û ĉ_i)/∂x̂ = Pe⁻¹ ∂²ĉ_i/∂x̂² − ∂θ_i/∂t̂
    ∂θ_i/∂t̂ = Da_a,i ĉ_i (1 − λ Σ_j θ_j) − Da_i θ_i

with Pe = ū L / D, the Damköhler numbers Da_a,i = α k_a,i t0 (adsorption) and Da_i = k_d,i t0
(desorption), and the loading λ = c_ref / (α q_m). Their ratio k'_i = Da_a,i / Da_i = α k_a,i / k_d,i
is the retention factor: the peak leaves at t0 (1 + k'_i) after the injection.

Here k_a is the *linear* adsorption rate (1/s), so the Langmuir form reduces to the linear one at low
loading with the same k_a; the issue's k_a c (q_m − Σq) corresponds to k_a^here = k_a^issue q_m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pdesuite.problems.base import Problem, require
from pdesuite.registry import PROBLEMS

INJECTION_SHAPES = ("pulse", "gaussian")


def _finite_positive(value, name: str) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    require(ok, f"{name} must be positive, got {value!r}")


def _finite_nonnegative(value, name: str) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    require(ok, f"{name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Analyte:
    """One compound.

    Attributes:
        name: Label (e.g. "benzene").
        k_a: Linear adsorption rate constant k_a > 0 (1/s).
        k_d: Desorption rate constant k_d > 0 (1/s).
        c0: Injected concentration: height of the inlet profile (> 0, any unit; c_ref is the largest).
    """

    name: str = "A"
    k_a: float = 20.0
    k_d: float = 10.0
    c0: float = 1.0

    def __post_init__(self) -> None:
        _finite_positive(self.k_a, f"adsorption rate k_a of {self.name}")
        _finite_positive(self.k_d, f"desorption rate k_d of {self.name}")
        _finite_positive(self.c0, f"injected concentration c0 of {self.name}")


@dataclass(frozen=True)
class Injection:
    """Inlet profile f(t) (peak height 1), scaled by each analyte's c0.

    Attributes:
        shape: "pulse" (f = 1 for t_inj < t < t_inj + width) or "gaussian"
            (f = exp(−(t − t_inj)² / (2 width²)) for t >= 0).
        width: Pulse duration τ or Gaussian standard deviation σ (s).
        t_inj: Pulse start or Gaussian centre (s, >= 0).
    """

    shape: str = "pulse"
    width: float = 0.5
    t_inj: float = 0.0

    def __post_init__(self) -> None:
        require(self.shape in INJECTION_SHAPES,
                f"injection shape must be one of {', '.join(INJECTION_SHAPES)}, got {self.shape!r}")
        _finite_positive(self.width, "injection width")
        _finite_nonnegative(self.t_inj, "injection time t_inj")

    @property
    def area(self) -> float:
        """∫ f dt (the Gaussian truncated at t = 0)."""
        if self.shape == "pulse":
            return self.width
        from scipy.special import erfc

        return self.width * math.sqrt(math.pi / 2) * erfc(-self.t_inj / (self.width * math.sqrt(2)))

    @property
    def mean_time(self) -> float:
        """First moment of f (s): the centre of the injected band."""
        if self.shape == "pulse":
            return self.t_inj + 0.5 * self.width
        return self.t_inj  # the truncation at t = 0 is negligible when t_inj >~ 4 width

    @property
    def variance(self) -> float:
        """Second central moment of f (s²)."""
        return self.width**2 / 12 if self.shape == "pulse" else self.width**2

    def profile(self, t) -> np.ndarray:
        """f(t), peak height 1."""
        t = np.asarray(t, dtype=float)
        if self.shape == "pulse":
            return ((t > self.t_inj) & (t < self.t_inj + self.width)).astype(float)
        return np.where(t >= 0, np.exp(-0.5 * ((t - self.t_inj) / self.width) ** 2), 0.0)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """Times where f jumps (an ODE integrator must stop there)."""
        return (self.t_inj, self.t_inj + self.width) if self.shape == "pulse" else ()


@PROBLEMS.register("chromatography")
@dataclass(frozen=True)
class Chromatography(Problem):
    """Analytes through a gas-chromatography column (advection, diffusion, adsorption kinetics).

    Attributes:
        length: Column length L > 0 (m).
        velocity: Mean linear carrier velocity ū = L / t0 > 0 (m/s).
        p_in, p_out: Inlet and outlet pressures (any one unit); both None for a constant velocity.
        diffusion: Axial diffusion (dispersion) coefficient D >= 0 (m²/s).
        alpha: Phase ratio α > 0 in the mass balance (stationary to mobile volume).
        q_m: Langmuir capacity (∞ = linear kinetics, the default).
        analytes: The compounds.
        injection: Inlet profile shared by all analytes.
        t_end: End of the chromatogram (s); None = after the last peak has eluted.
    """

    name = "chromatography"
    dim: int = 1
    length: float = 1.0
    velocity: float = 0.1
    p_in: float | None = None
    p_out: float | None = None
    diffusion: float = 0.0
    alpha: float = 1.0
    q_m: float = math.inf
    analytes: tuple[Analyte, ...] = field(default_factory=lambda: (Analyte(),))
    injection: Injection = field(default_factory=Injection)
    t_end: float | None = None

    def __post_init__(self) -> None:
        _finite_positive(self.length, "column length L")
        _finite_positive(self.velocity, "carrier velocity u")
        _finite_nonnegative(self.diffusion, "diffusion coefficient D")
        _finite_positive(self.alpha, "phase ratio alpha")
        require(isinstance(self.q_m, int | float) and not isinstance(self.q_m, bool) and self.q_m > 0
                and not math.isnan(self.q_m),
                f"Langmuir capacity q_m must be positive (inf = linear), got {self.q_m!r}")
        require((self.p_in is None) == (self.p_out is None), "give both p_in and p_out, or neither")
        if self.p_in is not None:
            _finite_positive(self.p_in, "inlet pressure p_in")
            _finite_positive(self.p_out, "outlet pressure p_out")
            require(self.p_in >= self.p_out, f"inlet pressure p_in = {self.p_in} is below the outlet pressure "
                                             f"p_out = {self.p_out}: the carrier would flow backwards")
        require(isinstance(self.analytes, tuple) and len(self.analytes) > 0
                and all(isinstance(a, Analyte) for a in self.analytes), "need at least one analyte")
        require(isinstance(self.injection, Injection), "injection must be an Injection")
        if self.t_end is not None:
            _finite_positive(self.t_end, "end time t_end")

    # -- flow ----------------------------------------------------------------------------------------
    @property
    def variable_velocity(self) -> bool:
        return self.p_in is not None and self.p_in != self.p_out

    @property
    def pressure_ratio(self) -> float:
        """P = p_in / p_out (1 for a constant velocity)."""
        return self.p_in / self.p_out if self.variable_velocity else 1.0

    @property
    def james_martin(self) -> float:
        """j = 3 (P² − 1) / (2 (P³ − 1)) = ū / u_out (1 for a constant velocity)."""
        P = self.pressure_ratio
        return 1.0 if P == 1.0 else 1.5 * (P**2 - 1) / (P**3 - 1)

    @property
    def hold_up_time(self) -> float:
        """t0 = ∫_0^L dx / u = L / ū (s): the travel time of an unretained compound."""
        return self.length / self.velocity

    @property
    def outlet_velocity(self) -> float:
        return self.velocity / self.james_martin

    @property
    def inlet_velocity(self) -> float:
        return self.outlet_velocity / self.pressure_ratio

    def pressure(self, x) -> np.ndarray:
        """p(x) / p_out = sqrt(P² − (P² − 1) x / L)."""
        P = self.pressure_ratio
        return np.sqrt(P**2 - (P**2 - 1) * np.asarray(x, dtype=float) / self.length)

    def velocity_at(self, x) -> np.ndarray:
        """u(x) = u_out p_out / p(x) (m/s)."""
        return self.outlet_velocity / self.pressure(x)

    # -- analytes ------------------------------------------------------------------------------------
    @property
    def c_ref(self) -> float:
        return max(a.c0 for a in self.analytes)

    def retention_factor(self, analyte: Analyte) -> float:
        """k' = α k_a / k_d."""
        return self.alpha * analyte.k_a / analyte.k_d

    def retention_time(self, analyte: Analyte) -> float:
        """Mean outlet time t0 (1 + k') plus the injection's mean time (exact first moment, D = 0)."""
        return self.hold_up_time * (1 + self.retention_factor(analyte)) + self.injection.mean_time

    def peak_variance(self, analyte: Analyte) -> float:
        """Second central moment of the outlet peak (s²) for linear kinetics, D = 0 (exact):
        2 k' t0 / k_d plus the injection's variance."""
        return 2 * self.retention_factor(analyte) * self.hold_up_time / analyte.k_d + self.injection.variance

    def end_time(self) -> float:
        """t_end, or the last peak's mean plus 8 standard deviations (its tail then < 1e-8 of the peak)."""
        if self.t_end is not None:
            return self.t_end
        return max(self.retention_time(a) + 8 * math.sqrt(self.peak_variance(a)) for a in self.analytes)

    def replace_analytes(self, analytes) -> Chromatography:
        from dataclasses import replace

        return replace(self, analytes=tuple(analytes))


def dimensionless_groups(problem: Chromatography) -> dict:
    """The scales and dimensionless groups of ``problem`` (see the module docstring).

    Returns:
        ``{"t0", "Pe", "P", "j", "lambda", "analytes": {name: {"Da", "Da_a", "k_prime", "t_R", "sigma_t",
        "plates", "diffusion_share", "saturation"}}}``. ``plates`` = t_R² / σ² of the kinetic peak (D = 0);
        ``diffusion_share`` estimates the fraction of the peak variance due to D, Da (1 + k')² / (Pe k'),
        the paper's reason for neglecting D when it is small; ``saturation`` = k_a c0 / (k_d q_m) bounds
        Σ q / q_m (competition is negligible when it is small).
    """
    t0 = problem.hold_up_time
    pe = math.inf if problem.diffusion == 0 else problem.velocity * problem.length / problem.diffusion
    out = {"t0": t0, "Pe": pe, "P": problem.pressure_ratio, "j": problem.james_martin,
           "lambda": problem.c_ref / (problem.alpha * problem.q_m), "analytes": {}}
    for a in problem.analytes:
        k = problem.retention_factor(a)
        da = a.k_d * t0
        plates = (1 + k) ** 2 * da / (2 * k)
        out["analytes"][a.name] = {
            "Da": da, "Da_a": problem.alpha * a.k_a * t0, "k_prime": k,
            "t_R": problem.retention_time(a), "sigma_t": math.sqrt(problem.peak_variance(a)), "plates": plates,
            "diffusion_share": 0.0 if pe == math.inf else da * (1 + k) ** 2 / (pe * k),
            "saturation": a.k_a * a.c0 / (a.k_d * problem.q_m),
        }
    return out
