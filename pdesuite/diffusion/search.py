"""Search a sampler's time grid (and per-step orders) for one model at a fixed NFE.

The fixed spacings (uniform in t, in log-SNR, quadratic, Karras) are guesses made without the model.
With a trained model and a little validation data the grid can be chosen for that model instead, the
idea shared by AutoDiffusion (Li et al., ICCV 2023: evolutionary search of the time steps against a
sample-quality score), USF / S³ (Liu et al. 2024; Frankel et al. 2024: search of the steps and of the
solver's per-step choices — order, corrector — against the distance to a many-step reference) and the
learned grids of DPM-Solver-v3 (Zheng et al. 2023). This module is the search; the objective is the
caller's (`objective(sampler) -> float`, lower is better): the exact law error on the Gaussian test bed
(`pdesuite.diffusion.testing.law_error`), or a surrogate's trajectory error on validation samples from
fixed noise (`pdesuite.validation.schedule_search`).

**Search space.** The grid keeps its ends t_start (noise) and t_end (data) and, with
``final_sigma_zero``, the appended step to σ = 0. Its n intervals have log-SNR increments
h_i = (λ_end - λ_start) softmax(θ)_i > 0, so every θ ∈ R^n is a valid, strictly monotone grid and
θ_i ± δ shrinks or stretches one interval against all others; the times are t(λ) of the schedule.
For `dpm-solver++` (2M, 3M) and `unipc` the order of every step is searched too (``search_orders``):
step k in 1..min(order, k + 1), the step to σ = 0 first order.

**Method.** A seeded pattern search, started from the best of the fixed spacings: every sweep tries
θ_i ± δ for each interval in a random order and keeps any improvement, then each step's other orders,
then ± a random direction of length δ√n; a sweep without improvement halves δ (from 0.5 down to
``min_step``). It stops after ``budget`` objective calls. The same seed gives the same result; the
result is never worse than the best fixed spacing (it starts there).

Example:
    >>> from pdesuite.diffusion.search import search_schedule
    >>> from pdesuite.diffusion.testing import law_error, random_gaussian
    >>> bed = random_gaussian(4)
    >>> found = search_schedule("ddim", lambda s: law_error(bed, s), nfe=5, budget=60)
    >>> found.objective["value"] < min(found.objective["baselines"].values())
    True
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import torch

from pdesuite.diffusion.base import Sampler, make_sampler
from pdesuite.diffusion.schedules import SPACINGS, NoiseSchedule
from pdesuite.diffusion.searched import SearchedSchedule, count_nfe, schedule_fingerprint
from pdesuite.errors import BadInput

Objective = Callable[[Sampler], float]


def grid_times(sampler: Sampler) -> list[float]:
    """The grid times of a sampler without the appended clean point (what ``timesteps=`` takes)."""
    t = list(sampler.grid().t)
    return t[:-1] if sampler.final_sigma_zero else t


def default_orders(sampler: Sampler) -> list[int] | None:
    """The per-step orders a sampler uses on its grid, for samplers that accept ``step_orders``."""
    if "step_orders" not in inspect.signature(type(sampler).__init__).parameters or sampler.singlestep:
        return None
    return list(sampler.step_orders(sampler.grid().intervals))


def allowed_orders(k: int, n: int, order: int, final_first_order: bool) -> list[int]:
    """Orders step k of n may take (its history; the step to σ = 0 is first order)."""
    if final_first_order and k == n - 1:
        return [1]
    return list(range(1, min(order, k + 1) + 1))


class GridParameters:
    """θ <-> grid times: softmax(θ) splits the log-SNR range from t_start to t_end into n intervals."""

    def __init__(self, schedule: NoiseSchedule, t_start: float, t_end: float) -> None:
        self.schedule, self.t_start, self.t_end = schedule, float(t_start), float(t_end)
        self.lam0, self.lam1 = float(schedule.lambda_(t_start)), float(schedule.lambda_(t_end))
        if not (math.isfinite(self.lam0) and math.isfinite(self.lam1)) or self.lam1 <= self.lam0:
            raise BadInput(f"cannot search a grid from t={t_start} to t={t_end}: its log-SNR range "
                           f"[{self.lam0}, {self.lam1}] is not finite and increasing (a grid starting at pure noise "
                           "has no log-SNR to spread; search the levels instead)")

    def theta(self, times: Sequence[float]) -> list[float]:
        lam = self.schedule.lambda_(torch.tensor(list(times), dtype=torch.float64)).tolist()
        return [math.log(max(b - a, 1e-12)) for a, b in zip(lam, lam[1:], strict=False)]

    def times(self, theta: Sequence[float]) -> list[float]:
        w = torch.softmax(torch.tensor(list(theta), dtype=torch.float64), 0)
        lam = self.lam0 + (self.lam1 - self.lam0) * torch.cat([torch.zeros(1, dtype=torch.float64), w.cumsum(0)])
        ts = self.schedule.t_of_lambda(lam)
        ts[0], ts[-1] = self.t_start, self.t_end
        return ts.tolist()


def search_schedule(sampler: str, objective: Objective, nfe: int, *, schedule: Any = "vp-linear",
                    prediction: str = "eps", options: dict[str, Any] | None = None, final_sigma_zero: bool = False,
                    t_start: float | None = None, t_end: float | None = None, search_orders: bool = True,
                    spacings: Sequence[str] = SPACINGS, budget: int = 150, min_step: float = 0.02, seed: int = 0,
                    model: dict[str, Any] | None = None, name: str | None = None,
                    objective_name: str = "objective") -> SearchedSchedule:
    """Search the grid (and per-step orders) of ``sampler`` with ``nfe`` evaluations that minimises
    ``objective``; see the module docstring.

    Args:
        sampler: Registry name (``pdesuite list samplers``).
        objective: ``objective(sampler) -> float`` (lower is better; NaN counts as +inf).
        nfe: Model evaluations per run (at least the sampler's order).
        schedule, prediction, final_sigma_zero, t_start, t_end: As for `make_sampler`; the model's.
        options: Further sampler arguments (variant, order, eta, ...), kept fixed.
        search_orders: Also search the per-step orders (samplers that take ``step_orders``).
        spacings: The fixed spacings evaluated as baselines; the best is the start.
        budget: Objective calls of the search (the baselines come on top).
        min_step: Stop when the step in θ falls below this.
        seed: Seed of the coordinate order and random directions.
        model: What the result is for: at least ``{"fingerprint": ...}`` (`searched.model_fingerprint`).
        name: The result's name (default ``SAMPLER-NFE``).
        objective_name: Recorded with the values.

    Returns:
        The `SearchedSchedule` (objective value, baselines, start spacing and evaluations recorded).
    """
    options = dict(options or {})
    if isinstance(nfe, bool) or not isinstance(nfe, int) or nfe < 1:
        raise BadInput(f"nfe must be a positive integer, got {nfe!r}")
    common = {"schedule": schedule, "prediction": prediction, "final_sigma_zero": final_sigma_zero, **options}
    base = make_sampler(sampler, steps=nfe, t_start=t_start, t_end=t_end, **common)
    if nfe < base.order:
        raise BadInput(f"{sampler} has order {base.order}: it needs nfe >= {base.order}, got {nfe}")
    if budget < 0:
        raise BadInput(f"budget must be >= 0, got {budget}")
    common["schedule"] = base.schedule
    params = GridParameters(base.schedule, base.t_start, base.t_end)

    def fixed(spacing: str) -> Sampler:
        return make_sampler(sampler, steps=nfe, spacing=spacing, t_start=base.t_start, t_end=base.t_end, **common)

    def build(times: Sequence[float], orders: Sequence[int] | None) -> Sampler:
        extra = {} if orders is None else {"step_orders": list(orders)}
        return make_sampler(sampler, timesteps=list(times), **common, **extra)

    def value(s: Sampler) -> float:
        v = float(objective(s))
        return v if math.isfinite(v) else math.inf

    baselines = {sp: value(fixed(sp)) for sp in spacings}
    start = min(baselines, key=baselines.get) if baselines else base.spacing
    first = fixed(start)
    times0 = grid_times(first)
    probe = build(times0, None)
    if count_nfe(probe) != nfe:
        raise BadInput(f"{sampler} cannot spend exactly {nfe} NFE on an explicit grid (a singlestep sampler takes "
                       f"its order per interval): choose a multiple of {base.order}")
    orders0 = default_orders(first) if search_orders else None
    theta = theta0 = params.theta(times0)
    cache: dict[tuple, float] = {}
    calls = 0

    def times_of(th: Sequence[float]) -> list[float]:
        # the start's own times, not their round trip through θ (off by ~1e-16), so that the start
        # scores exactly the best fixed spacing's value and the result is never worse than it
        return list(times0) if list(th) == theta0 else params.times(th)

    def f(th: Sequence[float], orders: Sequence[int] | None) -> float:
        nonlocal calls
        key = (tuple(round(x, 12) for x in th), None if orders is None else tuple(orders))
        if key not in cache:
            calls += 1
            try:
                cache[key] = value(build(times_of(th), orders))
            except BadInput:  # a grid the sampler refuses (e.g. two times equal after rounding)
                cache[key] = math.inf
        return cache[key]

    best = f(theta, orders0)
    orders = orders0
    rng = random.Random(seed)
    n, step = len(theta), 0.5
    while calls < budget and step >= min_step:
        improved = False
        for i in rng.sample(range(n), n) if n > 1 else []:
            for sign in rng.sample((1.0, -1.0), 2):
                if calls >= budget:
                    break
                trial = list(theta)
                trial[i] += sign * step
                v = f(trial, orders)
                if v < best:
                    theta, best, improved = trial, v, True
                    break
        if orders is not None and calls < budget:
            for k in rng.sample(range(len(orders)), len(orders)):
                for o in allowed_orders(k, len(orders), base.order, final_sigma_zero):
                    if o != orders[k] and calls < budget:
                        trial_orders = [*orders[:k], o, *orders[k + 1:]]
                        v = f(theta, trial_orders)
                        if v < best:
                            orders, best, improved = trial_orders, v, True
        if n > 1 and calls < budget:
            d = [rng.gauss(0.0, 1.0) for _ in range(n)]
            norm = math.sqrt(sum(x * x for x in d)) or 1.0
            for sign in (1.0, -1.0):
                if calls >= budget:
                    break
                trial = [a + sign * step * math.sqrt(n) * b / norm for a, b in zip(theta, d, strict=True)]
                v = f(trial, orders)
                if v < best:
                    theta, best, improved = trial, v, True
                    break
        if not improved:
            step *= 0.5
    found_times = times_of(theta)
    found_options = dict(options)
    if orders is not None:
        found_options["step_orders"] = list(orders)
    sched = base.schedule
    return SearchedSchedule(
        name=name or f"{sampler}-{nfe}", sampler=sampler, nfe=nfe, timesteps=tuple(found_times),
        schedule=sched.config(), schedule_fingerprint=schedule_fingerprint(sched), prediction=base.prediction,
        final_sigma_zero=bool(final_sigma_zero), options=found_options, model=dict(model or {}),
        objective={"name": objective_name, "value": best, "baselines": baselines, "start": start},
        search={"method": "pattern search on log-SNR increments" + (" and per-step orders" if orders else ""),
                "seed": seed, "evaluations": calls, "budget": budget, "min_step": min_step})


def search_samplers(candidates: Sequence[tuple[str, dict[str, Any]]], objective: Objective, nfe: int,
                    **kwargs: Any) -> tuple[SearchedSchedule, list[SearchedSchedule]]:
    """`search_schedule` for each (sampler, options) candidate; the best result and all of them.

    The choice of solver family (e.g. DPM-Solver++ 2M against 3M against UniPC bh1/bh2) is a discrete
    part of the search space that a grid search over candidates covers exactly.
    """
    if not candidates:
        raise BadInput("search_samplers needs at least one (sampler, options) candidate")
    results = [search_schedule(name, objective, nfe, options=opts, **kwargs) for name, opts in candidates]
    return min(results, key=lambda r: r.objective["value"]), results
