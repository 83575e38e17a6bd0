"""The papers' claims that `pdesuite report` checks each run against.

A `Claim` says what a method's paper claims, in our words, on which metric of ``metrics.json`` (the
record `pdesuite validate` writes, keys from the surrogate's evaluator in `pdesuite.validation`), where
the paper and our docs discuss it, and how to decide from measured numbers whether a run reproduces
it: ``test(metrics, baseline_metrics) -> True | False | None`` (None: the numbers cannot tell). Every
rule is the one the method's docs page applies to its own results; where that page states the
paper's own figure for the same metric and setting, it is `Claim.paper`, otherwise None.

`verdict` turns a claim and a run's metrics (and, for a comparison, the metrics of the baseline
surrogate's run on the same data) into a `Verdict` with one line of numbers for people; `assess` picks
the first claim that applies to a run. The registry covers:

===============  ==================================  =================================================
surrogate        data                                claim (docs page)
===============  ==================================  =================================================
pde-refiner      ks, ks-conditional                  longer high-correlation rollouts than unet-mse;
                                                     lower one-step high-wavenumber error (pde-refiner.md)
pig              pig-*, allen-cahn, any other        below PINN at equal budget; Kang et al.'s Table 1
                                                     figure beside it (training.md)
pinn             pig-*, allen-cahn, convection       the same comparisons seen from the PINN's row, with
                                                     the PINN figures Kang et al. cite (training.md)
lpinn            convection                          below PINN; below 1e-2 at every c (training.md)
insr             advection                           more accurate and less dissipative than the
                                                     equal-memory grids the docs measured (insr.md)
insr-fluid       taylor-green                        the same against Stable Fluids at 47² (insr.md)
insr-elastic     hyperelastic                        more accurate than P1 at equal unknowns (insr.md)
um2n             um2n-helmholtz                      the evaluator's ``claim``: ≥ 10x faster than MA at
                                                     ≥ 0.7 of its error reduction, untangled (um2n.md)
text2pde         smoke (first-frame conditioning)    whole-trajectory error at most unet-mse's; less
                                                     late-time error growth (text2pde.md)
===============  ==================================  =================================================

unet-mse, fno and trajectory-ae are baselines or parts of another method: no claim of their own.
Text2PDE's third claim (a prompt alone conditions the generation) has no rule here: its docs judge it
by eye against the seed spread ("the sentence hardly matters", text_gain 1.003), and no threshold is
stated that a single run's ``text_gain`` could be held to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

REPRODUCED, NOT_REPRODUCED, NOT_APPLICABLE = "reproduced", "not reproduced", "not applicable"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One paper claim, as the method's docs test it.

    Attributes:
        surrogate: Registry name of the surrogate (`pdesuite.registry.SURROGATES`).
        metric: The headline key of ``metrics.json``; a dotted path into nested dicts and lists
            (``correlation_time.0.8.seconds``: the key "0.8" is matched whole; ``peak.-1``: the last entry).
        lower_is_better: Direction of ``metric``.
        statement: What the paper claims, one sentence.
        source: The paper and where in it.
        docs: The docs page (``page.md#anchor``, relative to docs/) that tests the claim.
        paper: The paper's own figure for ``metric`` in this setting, where our docs state one.
        datasets: Dataset names (``dataset_provenance["dataset"]``) the claim is for; () = any.
        baseline: Surrogate whose run on the same dataset file the rule compares with.
        test: ``(metrics, baseline_metrics or None) -> bool | None``: reproduced? (None: cannot tell).
        rule: The test in words, for people.
        baseline_metric: The baseline's key, where it is not ``metric`` (another evaluator).
        setting: (dotted path in metrics.json, value) pairs the claim needs, e.g. the paper's problem
            parameters (``reference.params.a1``: the dataset's parameters, recorded by validate); a path
            the record lacks does not count against the claim.
    """

    surrogate: str
    metric: str
    lower_is_better: bool
    statement: str
    source: str
    docs: str
    paper: float | None = None
    datasets: tuple[str, ...] = ()
    baseline: str | None = None
    test: Callable[[dict, dict | None], bool | None]
    rule: str = ""
    baseline_metric: str | None = None
    setting: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Verdict:
    """``status``: "reproduced", "not reproduced" or "not applicable"; ``reason``: one line for people."""

    status: str
    reason: str


# -- reading metrics ----------------------------------------------------------------------------------

def metric_value(metrics: Mapping | None, dotted: str) -> Any:
    """The value at ``dotted`` in ``metrics`` (None when absent).

    A path segment may be a key that itself contains dots (``correlation_time.0.8.steps``: the longest
    key that exists is taken) or, inside a list, an integer index (``peak.-1``).
    """
    if metrics is None or not dotted:
        return None
    return _walk(metrics, dotted.split("."))


def _walk(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, Mapping):
        for j in range(len(parts), 0, -1):  # the longest matching key first
            key = ".".join(parts[:j])
            if key in node:
                found = _walk(node[key], parts[j:])
                if found is not None:
                    return found
        return None
    if isinstance(node, list | tuple):
        try:
            index = int(parts[0])
        except ValueError:
            return None
        if -len(node) <= index < len(node):
            return _walk(node[index], parts[1:])
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _same(actual: Any, expected: Any) -> bool:
    """A recorded setting against the claim's: numbers within round-off, one-element sweeps as scalars."""
    if isinstance(actual, list | tuple) and len(actual) == 1:
        actual = actual[0]
    if _number(actual) and _number(expected):
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-12)
    return actual == expected


def setting_mismatch(claim: Claim, metrics: Mapping) -> str | None:
    """Why the run's recorded setting is not the claim's (None: it is, as far as the record tells)."""
    for path, expected in claim.setting:
        actual = metric_value(metrics, path)
        if actual is not None and not _same(actual, expected):
            return f"{path.rsplit('.', 1)[-1]} = {_fmt(actual)}, the claim's setting has {_fmt(expected)}"
    return None


# -- rules ----------------------------------------------------------------------------------------------

class Rule:
    """A claim's test. ``rule(metrics, baseline)`` -> bool | None; `explain` gives the numbers compared
    (and, when the rule cannot tell, why). Subclasses implement `judge`."""

    def judge(self, m: Mapping, b: Mapping | None) -> tuple[bool | None, str]:
        raise NotImplementedError

    def __call__(self, m: Mapping, b: Mapping | None) -> bool | None:
        return self.judge(m, b)[0]

    def explain(self, m: Mapping, b: Mapping | None) -> str:
        return self.judge(m, b)[1]


def _samples(m: Mapping, b: Mapping) -> str | None:
    """For one-sample evaluations (the ``field`` evaluator): why two runs scored different samples."""
    mine, theirs = metric_value(m, "sample.params"), metric_value(b, "sample.params")
    if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
        differs = [k for k in sorted(set(mine) | set(theirs)) if not _same(mine.get(k), theirs.get(k))]
        if differs:
            shown = ", ".join(f"{k} {_fmt(mine.get(k))} here, {_fmt(theirs.get(k))} there" for k in differs)
            return f"the baseline scored another sample of the file ({shown})"
    return None


@dataclass(frozen=True)
class AgainstBaseline(Rule):
    """``metric`` better than the baseline's ``baseline_metric`` by ``factor``: lower is better: value ×
    factor < baseline; higher: value > factor × baseline (≤ and ≥ where ``strict`` is False: "at least")."""

    metric: str
    baseline: str
    lower_is_better: bool
    factor: float = 1.0
    baseline_metric: str | None = None
    same_sample: bool = False
    strict: bool = True

    def judge(self, m, b):
        if b is None:
            return None, f"no {self.baseline} run to compare with"
        if self.same_sample and (why := _samples(m, b)):
            return None, why
        value, base = metric_value(m, self.metric), metric_value(b, self.baseline_metric or self.metric)
        if not (_number(value) and _number(base)):
            return None, f"{self.metric} or the {self.baseline} run's value is missing"
        lhs, rhs = (value * self.factor, base) if self.lower_is_better else (self.factor * base, value)
        ok = lhs < rhs if self.strict else lhs <= rhs
        ratio = f"{value / base:.3g}x" if base else "n/a"
        theirs = f"{self.baseline_metric} " if self.baseline_metric else ""
        return ok, f"{self.metric} {_fmt(value)} against {theirs}{_fmt(base)} for {self.baseline} (ratio {ratio})"


@dataclass(frozen=True)
class Bound(Rule):
    """``metric`` at most (lower is better) or at least ``limit``."""

    metric: str
    limit: float
    lower_is_better: bool = True

    def judge(self, m, b):
        value = metric_value(m, self.metric)
        if not _number(value):
            return None, f"no {self.metric}"
        ok = value <= self.limit if self.lower_is_better else value >= self.limit
        return ok, f"{self.metric} {_fmt(value)} against the bound {_fmt(self.limit)}"


# UM2N: the mesh-movement evaluator's verdict and its thresholds (pdesuite/validation/mesh_movement.py,
# CLAIM_SPEEDUP and CLAIM_ER_FRACTION; tests/validation/test_claims.py checks they agree).
UM2N_SPEEDUP, UM2N_ER_FRACTION = 10.0, 0.7


class UM2NClaim(Rule):
    """The evaluator's boolean ``claim`` (speed-up, error-reduction fraction and tangling, all measured on
    the run's test split), with the numbers behind it."""

    def judge(self, m, b):
        speedup, fraction = metric_value(m, "speedup"), metric_value(m, "er_fraction")
        failed, samples = metric_value(m, "failed"), metric_value(m, "samples")
        numbers = (f"speed-up {_fmt(speedup)}x (≥ {UM2N_SPEEDUP:g}), ER net / ER MA {_fmt(fraction)} "
                   f"(≥ {UM2N_ER_FRACTION:g}), {failed} of {samples} meshes tangled")
        claim = m.get("claim")
        if not isinstance(claim, bool):
            return None, f"{numbers}; the evaluator gave no verdict (FEM errors or MA timing need dolfinx)"
        return claim, numbers


class LateGrowth(Rule):
    """Text2PDE: the generated trajectory's error growth last / first predicted frame (``late_growth``)
    against the rollout baseline's (its ``per_step_relative_l2``, last over first)."""

    def judge(self, m, b):
        if b is None:
            return None, "no unet-mse run to compare with"
        growth, steps = metric_value(m, "late_growth"), metric_value(b, "per_step_relative_l2")
        if not _number(growth) or not isinstance(steps, list) or len(steps) < 2 or not _number(steps[0]) \
                or not steps[0] or not _number(steps[-1]):
            return None, "late_growth or the unet-mse run's per_step_relative_l2 is missing"
        base = steps[-1] / steps[0]
        return growth < base, f"last / first predicted frame error {_fmt(growth)} against {_fmt(base)} for unet-mse"


# INSR: the equal-memory baselines of docs/insr.md. The grid and FEM solvers are deterministic, so these
# figures are what rerunning the examples gives for the same data; a run in another setting cannot be
# judged (None).

#: examples/insr_advection.py, docs/insr.md "The advection case": (dt, steps) -> unknowns -> scheme ->
#: (relative L2 over the march, final peak). The docs' check is against upwind and Crank-Nicolson;
#: semi-Lagrangian (exact in time for a constant velocity) is shown beside it.
ADVECTION_GRIDS: dict[tuple[float, int], dict[int, dict[str, tuple[float, float]]]] = {
    (0.1, 30): {
        97: {"upwind": (2.11e-1, 0.6649), "Crank-Nicolson": (1.72e-1, 0.9219), "semi-Lagrangian": (3.60e-2, 0.9549)},
        901: {"upwind": (1.61e-2, 0.9686), "Crank-Nicolson": (3.19e-2, 0.9958), "semi-Lagrangian": (1.60e-4, 0.9998)},
        3265: {"upwind": (2.62e-3, 0.9948), "Crank-Nicolson": (3.02e-2, 0.9962), "semi-Lagrangian": (1.19e-5, 1.0)},
    },
    (0.05, 60): {
        97: {"upwind": (2.94e-1, 0.559), "Crank-Nicolson": (1.58e-1, 0.930), "semi-Lagrangian": (6.07e-2, 0.928)},
        901: {"upwind": (2.39e-2, 0.954), "Crank-Nicolson": (9.62e-3, 0.9994), "semi-Lagrangian": (1.71e-4, 0.9998)},
        3265: {"upwind": (3.45e-3, 0.993), "Crank-Nicolson": (7.83e-3, 0.9995), "semi-Lagrangian": (1.20e-5, 1.0)},
    },
}
ADVECTION_CHECKED = ("upwind", "Crank-Nicolson")

#: examples/insr_taylor_green.py, docs/insr.md "The Taylor-Green case": Stable Fluids on a 47² MAC grid
#: (6627 unknowns, the two networks' count), 10 steps of 0.05: relative L2 over the march, KE(T) / KE_ref(0).
STABLE_FLUIDS_47 = {"single": (1.91e-2, 0.940), "multi": (2.60e-1, 0.519)}
TAYLOR_GREEN_UNKNOWNS = 6627

#: examples/insr_elasticity.py, docs/insr.md "The hyperelastic case": P1 at equal unknowns (84², 168 × 42,
#: 84²), relative L2 over the march against the P2 reference, as the docs round them; the dynamic cases ran
#: 20 steps of 0.1.
P1_EQUAL = {"stretch": 1.0e-4, "sag": 3.4e-3, "collide": 2.7e-6}
ELASTIC_UNKNOWNS = 14418


def _march(m: Mapping) -> str | None:
    done, steps = metric_value(m, "steps_done"), metric_value(m, "steps")
    if _number(done) and _number(steps) and done < steps:
        return f"the march stopped after {done} of {steps} steps"
    return None


def _insr_case(m: Mapping, table: Mapping, unknowns: int, what: str) -> tuple[Any, str | None]:
    """The run's case (``reference.params.case``) when docs/insr.md has ``what``'s figures for it at
    ``unknowns`` network parameters (equal memory), else (None, why not)."""
    if why := _march(m):
        return None, why
    case, parameters = metric_value(m, "reference.params.case"), metric_value(m, "parameters")
    if case not in table:
        return None, f"no {what} figures in docs/insr.md for the case {case!r}"
    if parameters != unknowns:
        return None, f"{parameters} parameters; {what} at equal memory was measured for {unknowns}"
    return case, None


def _close(a: Any, b: float) -> bool:
    return _number(a) and math.isclose(float(a), b, rel_tol=1e-9)


@dataclass(frozen=True)
class AdvectionGrids(Rule):
    """INSR on the advection pulse against the equal-memory grids the docs measured at the same Δt,
    step count and unknowns: ``accuracy`` (relative L2 below each checked scheme's) or ``dissipation``
    (final peak above each checked scheme's)."""

    aspect: str  # "accuracy" | "dissipation"

    def judge(self, m, b):
        if why := _march(m):
            return None, why
        dt, steps, unknowns = (metric_value(m, "reference.params.dt"), metric_value(m, "reference.params.steps"),
                               metric_value(m, "parameters"))
        table = next((rows for (t, n), rows in ADVECTION_GRIDS.items() if _close(dt, t) and steps == n), None)
        if table is None or unknowns not in table:
            known = ", ".join(f"Δt {t:g} × {n} steps" for t, n in ADVECTION_GRIDS)
            return None, (f"no equal-memory grid figures in docs/insr.md for Δt {_fmt(dt)}, {_fmt(steps)} steps, "
                          f"{_fmt(unknowns)} parameters (measured: {known}; 97, 901, 3265 unknowns)")
        grids = table[unknowns]
        index, key, label = (0, "relative_l2", "relative L2") if self.aspect == "accuracy" else (1, "peak.-1",
                                                                                                  "final peak")
        value = metric_value(m, key)
        if not _number(value):
            return None, f"no {key}"
        if self.aspect == "accuracy":
            ok = all(value < grids[s][0] for s in ADVECTION_CHECKED)
        else:
            ok = all(value > grids[s][1] for s in ADVECTION_CHECKED)
        others = ", ".join(f"{s} {_fmt(v[index])}" for s, v in grids.items())
        return ok, f"{label} {_fmt(value)} against {others} at {unknowns} unknowns"


@dataclass(frozen=True)
class StableFluids(Rule):
    """INSR on the Taylor-Green vortex against Stable Fluids at equal unknowns: ``accuracy`` (relative L2
    over the march lower) or ``dissipation`` (kinetic energy kept, KE(T) / KE_ref(0), higher)."""

    aspect: str

    def judge(self, m, b):
        case, why = _insr_case(m, STABLE_FLUIDS_47, TAYLOR_GREEN_UNKNOWNS, "Stable Fluids")
        if why:
            return None, why
        error, kept = STABLE_FLUIDS_47[case]
        if self.aspect == "accuracy":
            value = metric_value(m, "relative_l2")
            if not _number(value):
                return None, "no relative_l2"
            return value < error, f"relative L2 {_fmt(value)} against {_fmt(error)} for Stable Fluids 47² ({case})"
        energy, reference = metric_value(m, "kinetic_energy.-1"), metric_value(m, "reference_kinetic_energy.0")
        if not (_number(energy) and _number(reference)) or reference <= 0:
            return None, "no kinetic energy curves"
        ratio = energy / reference
        return ratio > kept, f"KE(T) / KE_ref(0) {_fmt(ratio)} against {_fmt(kept)} for Stable Fluids 47² ({case})"


class P1Equal(Rule):
    """INSR on a hyperelastic body against P1 finite elements with as many unknowns: relative L2 lower."""

    def judge(self, m, b):
        case, why = _insr_case(m, P1_EQUAL, ELASTIC_UNKNOWNS, "P1")
        if why:
            return None, why
        if case != "stretch" and not (_close(metric_value(m, "reference.params.dt"), 0.1)
                                      and metric_value(m, "reference.params.steps") == 20):
            return None, "the docs' P1 figures are for 20 steps of 0.1"
        value = metric_value(m, "relative_l2")
        if not _number(value):
            return None, "no relative_l2"
        return value < P1_EQUAL[case], f"relative L2 {_fmt(value)} against {_fmt(P1_EQUAL[case])} for P1 ({case})"


# -- the registry ----------------------------------------------------------------------------------------

_TRAINING = "training.md#the-papers-claims-at-the-small-profile"
_PIG_SOURCE = "Kang et al. 2025 (ICLR), Table 1"
#: The PIG benchmark datasets at the paper's settings (our recipes' defaults): name -> (setting, PIG's
#: Table 1 relative L2, the PINN figure the paper cites or None, our docs' factor PIG must beat PINN by).
_PIG_SUITE: dict[str, tuple[tuple[tuple[str, Any], ...], float, float | None, float]] = {
    "pig-helmholtz": ((("reference.params.a1", 1.0), ("reference.params.a2", 4.0), ("reference.params.k", 1.0)),
                      4.13e-5, 4.02e-1, 10.0),  # the 10x goal (docs: "met on every seed")
    "pig-klein-gordon": ((("reference.params.k", 2.0), ("reference.params.t_end", 10.0)), 2.76e-3, 3.43e-2, 1.0),
    "pig-flow-mixing": ((("reference.params.v_max", 0.385), ("reference.params.t_end", 4.0)), 4.51e-4, None, 1.0),
    "pig-nonlinear-diffusion": ((("reference.params.alpha", 0.05), ("reference.params.t_end", 1.0)), 2.69e-3,
                                9.50e-3, 1.0),
    "allen-cahn": ((("reference.params.epsilon", 1e-4), ("reference.params.reaction", 5.0)), 1.04e-4, None, 1.0),
}


def _pig_claims() -> list[Claim]:
    claims = []
    for dataset, (setting, pig, pinn, factor) in _PIG_SUITE.items():
        by = f"at least {factor:g}x" if factor != 1 else "strictly"
        claims.append(Claim(
            surrogate="pig", metric="relative_l2", lower_is_better=True, datasets=(dataset,), setting=setting,
            statement=("Physics-informed Gaussians reach a lower relative L2 error than an MLP PINN given the same "
                       "optimiser steps and collocation points" + (", by an order of magnitude on Helmholtz."
                                                                   if factor != 1 else ".")),
            source=_PIG_SOURCE, docs=_TRAINING, paper=pig, baseline="pinn",
            test=AgainstBaseline("relative_l2", "pinn", True, factor=factor, same_sample=True, strict=factor == 1),
            rule=f"PIG's relative L2 {by} below the pinn run's on the same data"))
        claims.append(Claim(
            surrogate="pinn", metric="relative_l2", lower_is_better=True, datasets=(dataset,), setting=setting,
            statement=("The PIG paper's comparison seen from the PINN: at equal steps and points an MLP PINN stays "
                       "above PIG's error" + (" by an order of magnitude on Helmholtz." if factor != 1 else ".")
                       + (" The paper's figure is the PINN result it cites from earlier work." if pinn else "")),
            source=_PIG_SOURCE + (" (PINN figure cited from earlier work)" if pinn else ""), docs=_TRAINING,
            paper=pinn, baseline="pig",
            test=AgainstBaseline("relative_l2", "pig", False, factor=factor, same_sample=True, strict=factor == 1),
            rule=f"the PINN's relative L2 {by} above the pig run's on the same data"))
    return claims


_REFINER_SOURCE = "Lippe et al. 2023 (NeurIPS), Kuramoto-Sivashinsky experiments"
#: docs/pde-refiner.md: the refiner's high-correlation time should be at least this multiple of the MSE model's.
REFINER_GOAL = 1.25
_LPINN_SOURCE = "Mojgani et al. 2023 (CMAME 404), convection experiments"
_ADVECTION = (("reference.params.a", 0.25), ("reference.params.mu", -1.5), ("reference.params.sigma", 0.1),
              ("reference.params.x_min", -2.0), ("reference.params.x_max", 2.0), ("reference.params.nx", 801))
_TAYLOR_GREEN = (("reference.params.dt", 0.05), ("reference.params.steps", 10), ("reference.params.n", 128))
_HYPERELASTIC = (("reference.params.mu", 200.0), ("reference.params.lam", 300.0), ("reference.params.rho", 1.0),
                 ("reference.params.gravity", 2.0), ("reference.params.h", 0.025),
                 ("reference.params.resolution", 64), ("reference.params.degree", 2))
_INSR_STATEMENT = ("At equal memory (network parameters = grid unknowns) the time-stepped neural field is {what} "
                   "than {grids}.")
_TEXT2PDE_SOURCE = "Zhou et al. 2025 (ICLR), smoke buoyancy (NS2D) experiments"

CLAIMS: tuple[Claim, ...] = (
    Claim(surrogate="pde-refiner", metric="correlation_time.0.8.seconds", lower_is_better=False,
          datasets=("ks", "ks-conditional"), baseline="unet-mse", source=_REFINER_SOURCE, docs="pde-refiner.md#results",
          statement=("Refining each step with a few denoising passes keeps the rollout correlated with the "
                     "reference (Pearson > 0.8) clearly longer than the same U-Net trained on the one-step MSE."),
          test=AgainstBaseline("correlation_time.0.8.seconds", "unet-mse", False, factor=REFINER_GOAL, strict=False),
          rule=f"high-correlation time at least {REFINER_GOAL:g}x the unet-mse run's (the docs' goal)"),
    Claim(surrogate="pde-refiner", metric="high_wavenumber_error", lower_is_better=True,
          datasets=("ks", "ks-conditional"), baseline="unet-mse", docs="pde-refiner.md#results",
          source="Lippe et al. 2023 (NeurIPS), frequency analysis of one-step errors on KS",
          statement=("The refinement steps make the network model the low-amplitude, high-wavenumber modes the MSE "
                     "model neglects, so its one-step error there is smaller."),
          test=AgainstBaseline("high_wavenumber_error", "unet-mse", True),
          rule="first-step error energy in modes m ≥ n_x/8 (relative) below the unet-mse run's"),
    *_pig_claims(),
    Claim(surrogate="pig", metric="relative_l2", lower_is_better=True, baseline="pinn", source=_PIG_SOURCE,
          docs=_TRAINING,
          statement=("Physics-informed Gaussians reach a lower relative L2 error than an MLP PINN given the same "
                     "optimiser steps and collocation points."),
          test=AgainstBaseline("relative_l2", "pinn", True, same_sample=True),
          rule="PIG's relative L2 below the pinn run's on the same data"),
    Claim(surrogate="lpinn", metric="lpinn_error", lower_is_better=True, datasets=("convection",), baseline="pinn",
          source=_LPINN_SOURCE, docs=_TRAINING,
          statement=("Following the characteristics, the Lagrangian PINN's error stays small as the convection "
                     "speed grows, where an Eulerian PINN fails (error of order one from c ≈ 30)."),
          test=AgainstBaseline("lpinn_error", "pinn", True, same_sample=True),
          rule="LPINN's error (Mojgani et al.'s norm) below the pinn run's on the same sample"),
    Claim(surrogate="lpinn", metric="lpinn_error", lower_is_better=True, datasets=("convection",),
          source=_LPINN_SOURCE, docs=_TRAINING,
          statement="The Lagrangian PINN's error is insensitive to the convection speed and stays at 1e-2 or below.",
          test=Bound("lpinn_error", 1e-2), rule="LPINN's error (Mojgani et al.'s norm) at most 1e-2"),
    Claim(surrogate="pinn", metric="lpinn_error", lower_is_better=True, datasets=("convection",), baseline="lpinn",
          source=_LPINN_SOURCE, docs=_TRAINING,
          statement=("The LPINN paper's comparison seen from the PINN: on convection an Eulerian PINN's error is "
                     "above the Lagrangian PINN's, and of order one from c ≈ 30."),
          test=AgainstBaseline("lpinn_error", "lpinn", False, same_sample=True),
          rule="the PINN's error (Mojgani et al.'s norm) above the lpinn run's on the same sample"),
    Claim(surrogate="insr", metric="relative_l2", lower_is_better=True, datasets=("advection",), setting=_ADVECTION,
          source="Chen et al. 2023 (ICML), 1D advection", docs="insr.md#the-advection-case",
          statement=_INSR_STATEMENT.format(what="more accurate", grids="upwind and Crank-Nicolson grids"),
          test=AdvectionGrids("accuracy"),
          rule="relative L2 over the march below upwind's and Crank-Nicolson's at the same Δt and unknowns"),
    Claim(surrogate="insr", metric="peak.-1", lower_is_better=False, datasets=("advection",), setting=_ADVECTION,
          source="Chen et al. 2023 (ICML), 1D advection", docs="insr.md#the-advection-case",
          statement=_INSR_STATEMENT.format(what="less dissipative (keeps a higher pulse peak)",
                                           grids="upwind and Crank-Nicolson grids"),
          test=AdvectionGrids("dissipation"),
          rule="final peak above upwind's and Crank-Nicolson's at the same Δt and unknowns"),
    Claim(surrogate="insr-fluid", metric="relative_l2", lower_is_better=True, datasets=("taylor-green",),
          setting=_TAYLOR_GREEN, source="Chen et al. 2023 (ICML), 2D incompressible Euler (Taylor-Green)",
          docs="insr.md#the-taylor-green-case-pdesuitesurrogatesinsr_fluidpy",
          statement=_INSR_STATEMENT.format(what="more accurate", grids="a Stable Fluids grid"),
          test=StableFluids("accuracy"), rule="relative L2 over the march below Stable Fluids' on a 47² grid"),
    Claim(surrogate="insr-fluid", metric="kinetic_energy.-1", lower_is_better=False, datasets=("taylor-green",),
          setting=_TAYLOR_GREEN, source="Chen et al. 2023 (ICML), 2D incompressible Euler (Taylor-Green)",
          docs="insr.md#the-taylor-green-case-pdesuitesurrogatesinsr_fluidpy",
          statement=_INSR_STATEMENT.format(what="less dissipative (keeps more kinetic energy)",
                                           grids="a Stable Fluids grid"),
          test=StableFluids("dissipation"), rule="KE(T) / KE_ref(0) above Stable Fluids' on a 47² grid"),
    Claim(surrogate="insr-elastic", metric="relative_l2", lower_is_better=True, datasets=("hyperelastic",),
          setting=_HYPERELASTIC, source="Chen et al. 2023 (ICML), elasticity",
          docs="insr.md#the-hyperelastic-case-pdesuitesurrogatesinsr_elasticpy",
          statement=_INSR_STATEMENT.format(what="more accurate", grids="P1 finite elements"),
          test=P1Equal(), rule="relative L2 over the march below P1's at equal unknowns"),
    Claim(surrogate="um2n", metric="er_fraction", lower_is_better=False, datasets=("um2n-helmholtz",),
          source="Zhang et al. 2024 (NeurIPS), Helmholtz mesh movement (error reduction, time, tangling)",
          docs="um2n.md#results",
          statement=("Once trained, the network moves meshes much faster than the Monge-Ampère solver it learnt "
                     "from while keeping most of its FEM error reduction, without tangling any mesh."),
          test=UM2NClaim(),
          rule=(f"speed-up ≥ {UM2N_SPEEDUP:g}, ER_network ≥ {UM2N_ER_FRACTION:g} ER_MA and no tangled mesh "
                "(the mesh-movement evaluator's claim)")),
    Claim(surrogate="text2pde", metric="trajectory_l2", lower_is_better=True, datasets=("smoke",),
          setting=(("conditioning", "first-frame"),), baseline="unet-mse", baseline_metric="relative_l2",
          source=_TEXT2PDE_SOURCE, docs="text2pde.md#results",
          statement=("Generating the whole trajectory at once in a latent space matches or beats an autoregressive "
                     "baseline of the same size on whole-trajectory relative L2 (here against unet-mse's rollout "
                     "relative L2 over its predicted frames, close to but not the same average)."),
          test=AgainstBaseline("trajectory_l2", "unet-mse", True, baseline_metric="relative_l2", strict=False),
          rule="trajectory relative L2 at most the unet-mse run's rollout relative L2"),
    Claim(surrogate="text2pde", metric="late_growth", lower_is_better=True, datasets=("smoke",),
          setting=(("conditioning", "first-frame"),), baseline="unet-mse", baseline_metric="per_step_relative_l2",
          source=_TEXT2PDE_SOURCE, docs="text2pde.md#results",
          statement=("With no autoregressive rollout, the generated trajectory's error does not pile up late: its "
                     "last-frame to first-frame error ratio stays below the rollout's."),
          test=LateGrowth(), rule="last / first predicted frame error below the unet-mse rollout's"),
)


# -- looking up and judging -------------------------------------------------------------------------------

def claims_for(surrogate: str, dataset: str | None, metrics: Mapping | None = None) -> list[Claim]:
    """The claims for ``surrogate`` on ``dataset``, those naming the dataset before the generic ones (in
    registry order within each). With ``metrics``, claims whose setting the run's record contradicts are left out."""
    found = [c for c in CLAIMS if c.surrogate == surrogate and (not c.datasets or dataset in c.datasets)]
    if metrics is not None:
        found = [c for c in found if setting_mismatch(c, metrics) is None]
    return sorted(found, key=lambda c: 0 if c.datasets else 1)


def verdict(claim: Claim | None, metrics: Mapping | None, baseline_metrics: Mapping | None = None) -> Verdict:
    """Judge one run (its ``metrics.json``) on ``claim``; ``baseline_metrics``: the baseline surrogate's
    run on the same data, where the claim compares with one."""
    if claim is None:
        return Verdict(NOT_APPLICABLE, "no paper claim is registered for this surrogate on this dataset")
    if metrics is None:
        return Verdict(NOT_APPLICABLE, "not validated: the run has no metrics.json (run pdesuite validate)")
    if why := setting_mismatch(claim, metrics):
        return Verdict(NOT_APPLICABLE, f"another setting than the claim's: {why}")
    if not _number(metric_value(metrics, claim.metric)):
        return Verdict(NOT_APPLICABLE, f"metrics.json has no {claim.metric}")
    if claim.baseline:
        if baseline_metrics is None:
            return Verdict(NOT_APPLICABLE, f"no {claim.baseline} run on the same data in this report")
        key = claim.baseline_metric or claim.metric
        if metric_value(baseline_metrics, key) is None:
            return Verdict(NOT_APPLICABLE, f"the {claim.baseline} run's metrics.json has no {key}")
    else:
        baseline_metrics = None
    try:
        result = claim.test(metrics, baseline_metrics)
        numbers = _explain(claim, metrics, baseline_metrics)
    except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
        return Verdict(NOT_APPLICABLE, f"cannot tell: unexpected metrics ({type(exc).__name__}: {exc})")
    if result is None:
        return Verdict(NOT_APPLICABLE, f"cannot tell: {numbers}")
    return Verdict(REPRODUCED if result else NOT_REPRODUCED, numbers)


def _explain(claim: Claim, metrics: Mapping, baseline: Mapping | None) -> str:
    explain = getattr(claim.test, "explain", None)
    if explain is not None:
        text = explain(metrics, baseline)
    else:
        text = f"{claim.metric} {_fmt(metric_value(metrics, claim.metric))}"
        if baseline is not None:
            key = claim.baseline_metric or claim.metric
            text += f" against {_fmt(metric_value(baseline, key))} for {claim.baseline}"
    parts = [text]
    if claim.rule:
        parts.append(f"rule: {claim.rule}")
    if claim.paper is not None:
        parts.append(f"paper: {_fmt(claim.paper)}")
    return "; ".join(parts)


def assess(surrogate: str, dataset: str | None, metrics: Mapping | None,
           baselines: Mapping[str, Mapping | None] | None = None) -> tuple[Claim | None, Verdict]:
    """The claim a report row shows and its verdict: the first of `claims_for` (setting-matched) that can
    be judged, else the first one with why it cannot. ``baselines``: surrogate name -> metrics of that
    surrogate's run on the same data (None or absent: no such run)."""
    baselines = baselines or {}
    candidates = claims_for(surrogate, dataset, metrics)
    first: tuple[Claim | None, Verdict] | None = None
    for claim in candidates:
        result = verdict(claim, metrics, baselines.get(claim.baseline) if claim.baseline else None)
        if result.status != NOT_APPLICABLE:
            return claim, result
        first = first or (claim, result)
    if first is None:  # none registered, or none in this setting: say which
        others = claims_for(surrogate, dataset)
        if others and metrics is not None:
            return others[0], verdict(others[0], metrics)
        return None, verdict(None, metrics)
    return first
