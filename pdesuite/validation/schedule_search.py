"""Searched sampler schedules for trained generative surrogates: Text2PDE's denoiser and PDE-Refiner's chain.

**Text2PDE.** The objective of `pdesuite.diffusion.search.search_schedule` is the trajectory relative
L2 (Text2PDE's metric, `trajectory_l2`) of the trajectories generated for the first ``samples`` rows of
the validation split from fixed noise (seed ``seed``), against the model's own converged sample from
the same noise (``against="converged"``, the default: the sampler's error) or against the reference
solver's trajectories (``against="data"``: the model's error too; a grid lowers it mostly by ending
with a long first-order jump that returns the posterior mean, and the samples' spread collapses).
Everything the sampler does is searched: the grid between the model's t_max and t_min (log-SNR increments) and the
per-step orders of DPM-Solver++ / UniPC. The result is saved as ``RUNDIR/schedules/NAME.json`` with
the model's fingerprint (`Text2PDE.fingerprint`: a SHA-256 of its weights), and loads by name:
``model.sampler("NAME.json")`` (``pdesuite validate RUNDIR --sampler NAME.json`` once the run folder is
known to the model, or the file's path). It is scored on the *test* split with other noise, so what
the table reports is not the fitted value.

**PDE-Refiner.** Its network is trained only at the K + 1 noise levels σ_k of its chain (the refinement
step k enters the network as a condition, 10 k / K), so a grid between those levels would ask it for
something it never learned, and the lowest level (min_noise_std) is a training setting. What is
searchable after training is which trained levels the chain visits — level 0 (pure noise, the
MSE-like prediction) and any NFE - 1 of the levels 1..K, in order, then the step to σ = 0 — and the
posterior variance of the ancestral steps between them (``small``: the DDPM posterior, the authors'
choice; ``large``: β). There are C(K, NFE - 1) subsets, searched exhaustively against the rollout (or
one-step) relative L2 of validation trajectories over their first model steps, with fixed noise. At
NFE = K + 1 only the variance is left to choose.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesuite.diffusion import Sampler, make_sampler
from pdesuite.diffusion.search import search_schedule
from pdesuite.diffusion.searched import FOLDER, SearchedSchedule, schedule_fingerprint
from pdesuite.errors import BadInput
from pdesuite.surrogates.trajectory_autoencoder import trajectory_l2


def load_run(run_dir: str | Path):
    """A trained run's surrogate (best weights, eval mode) that knows its run folder (``schedules/``:
    `load_trained` sets ``run_folder``)."""
    from pdesuite.validation.validate import load_trained

    model, _ = load_trained(run_dir)
    return model


def rows_of(n_available: int, samples: int | None) -> np.ndarray:
    if samples is not None and (isinstance(samples, bool) or samples < 1):
        raise BadInput(f"samples must be a positive integer, got {samples!r}")
    return np.arange(n_available if samples is None else min(samples, n_available))


# -- Text2PDE ------------------------------------------------------------------------------------------
AGAINST = ("data", "converged")
#: The sampler and NFE whose output from the same noise stands for the exact ODE sample ("converged").
CONVERGED = ("unipc", 100)


def generated(model, sampler: Sampler | str | SearchedSchedule, split: str, rows: np.ndarray, seed: int,
              nfe: int | None = None) -> np.ndarray:
    """Trajectories generated for ``rows`` of ``split`` with ``sampler`` from noise ``seed``."""
    return model.generate(split, rows, sampler=sampler, nfe=nfe, generator=torch.Generator().manual_seed(seed))


def text2pde_target(model, split: str, rows: np.ndarray, seed: int, against: str = "data") -> np.ndarray:
    """What generated trajectories are compared with: the reference solver's (``data``), or the model's
    own probability-flow sample from the same noise (``converged``: `CONVERGED`), which isolates the
    sampler's error from the model's."""
    if against not in AGAINST:
        raise BadInput(f"against must be one of {', '.join(AGAINST)}, got {against!r}")
    if against == "data":
        return model.autoencoder.split_arrays(split)["u"][rows]
    return generated(model, CONVERGED[0], split, rows, seed, CONVERGED[1])


def text2pde_error(model, sampler: Sampler | str | SearchedSchedule, split: str, rows: np.ndarray, seed: int,
                   target: np.ndarray | None = None) -> float:
    """Mean trajectory relative L2 of ``rows`` of ``split`` generated with ``sampler`` from noise ``seed``,
    against ``target`` (default: the reference solver's trajectories)."""
    target = model.autoencoder.split_arrays(split)["u"][rows] if target is None else target
    return float(np.mean(trajectory_l2(generated(model, sampler, split, rows, seed), target)))


def text2pde_spread(model, sampler: Sampler | str | SearchedSchedule, split: str, rows: np.ndarray,
                    seeds: tuple[int, int] = (11, 12)) -> float:
    """Mean ‖g_a - g_b‖ / ‖reference‖ of two samples from different noise: how much the generated
    trajectories still vary. A schedule that wins on the data error by returning (close to) the posterior
    mean shows it here: its spread collapses."""
    reference = model.autoencoder.split_arrays(split)["u"][rows]
    a, b = (generated(model, sampler, split, rows, s) for s in seeds)
    return float(np.mean(np.linalg.norm((a - b).reshape(len(rows), -1), axis=1)
                         / np.maximum(np.linalg.norm(reference.reshape(len(rows), -1), axis=1), 1e-30)))


def text2pde_objective(model, split: str = "valid", samples: int | None = 4, seed: int = 0,
                       against: str = "data") -> Callable[[Sampler], float]:
    """objective(sampler): `text2pde_error` on the first ``samples`` rows of ``split`` from noise ``seed``,
    against the data or the converged sample (`text2pde_target`)."""
    rows = rows_of(len(model.latents(split)["x0"]), samples)
    target = text2pde_target(model, split, rows, seed, against)
    return lambda sampler: text2pde_error(model, sampler, split, rows, seed, target)


def search_text2pde(run_dir: str | Path, nfe: int, *, model=None, sampler: str | None = None,
                    options: dict[str, Any] | None = None, split: str = "valid", samples: int | None = 4,
                    seed: int = 0, against: str = "converged", budget: int = 60, search_seed: int = 0,
                    search_orders: bool = True, name: str | None = None, save: bool = True) -> SearchedSchedule:
    """Search the grid (and orders) of a text2pde run's sampler at ``nfe`` against its validation error.

    Args:
        run_dir: The text2pde run folder (its best weights are used).
        nfe: Model evaluations per generated trajectory.
        model: The run's loaded surrogate (`load_run`), to avoid loading it again.
        sampler, options: The sampler (default: the run's) and its fixed options (e.g. variant).
        split, samples, seed: The validation trajectories and the noise of the objective.
        against: ``converged`` (the model's own converged sample from the same noise, `text2pde_target`:
            the sampler's error alone) or ``data`` (the reference solver's trajectories: the model's error
            too, which a grid can lower by returning the posterior mean — see docs/diffusion/search.md).
        budget, search_seed, search_orders: Of `search_schedule`.
        name: Saved as ``RUNDIR/schedules/NAME.json`` (default ``SAMPLER-NFE``) when ``save``.
    """
    model = load_run(run_dir) if model is None else model
    if model.name != "text2pde":
        raise BadInput(f"search_text2pde searches text2pde runs; {run_dir} is a {model.name!r} run")
    if split not in model.available_splits:
        raise BadInput(f"{model.dataset} has no {split!r} split (it has {', '.join(model.available_splits)})")
    sampler = sampler or model.config["sampler"]
    rows = rows_of(len(model.latents(split)["x0"]), samples)
    described = {"fingerprint": model.fingerprint(), "surrogate": "text2pde", "run": str(Path(run_dir).resolve()),
                 "dataset": str(model.dataset), "split": split, "rows": len(rows), "noise_seed": seed,
                 "against": against}
    what = "the reference solver" if against == "data" else f"the {CONVERGED[0]}-{CONVERGED[1]} sample"
    found = search_schedule(
        sampler, text2pde_objective(model, split, samples, seed, against), nfe, schedule=model.schedule,
        prediction=model.config["prediction"], options=options, budget=budget, seed=search_seed,
        search_orders=search_orders, model=described, name=name,
        objective_name=f"trajectory relative L2 to {what}, {len(rows)} {split} trajectories, noise seed {seed}")
    if save:
        found.save(Path(run_dir) / FOLDER)
    return found


def text2pde_curves(run_dir: str | Path, nfes: Sequence[int], *, sampler: str | None = None,
                    options: dict[str, Any] | None = None, search: dict[str, Any] | None = None,
                    test_split: str = "test", test_samples: int | None = None, test_seed: int = 1,
                    save: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Error against NFE in one run: the sampler at its default spacing, at the fixed spacing that was best
    on the validation rows, and with the grid searched on them (`search_text2pde`, keyword arguments
    ``search``), all scored on ``test_split`` from noise ``test_seed``: against the data, against the
    converged sample from the same noise, and the spread between two noise draws (`text2pde_spread`).

    Returns {"sampler", "options", "against", "test": {split, samples, seed}, "rows": {label: {nfe:
    {"data", "converged", "spread", "validation"}}}, "searched": {nfe: the searched schedule's record},
    "converged_to_data": the converged sample's own data error}.
    """
    model = load_run(run_dir)
    sampler = sampler or model.config["sampler"]
    options = dict(options or {})
    search = dict(search or {})
    rows = rows_of(len(model.latents(test_split)["x0"]), test_samples)
    data_target = text2pde_target(model, test_split, rows, test_seed, "data")
    ode_target = text2pde_target(model, test_split, rows, test_seed, "converged")
    prediction = model.config["prediction"]
    default_spacing = make_sampler(sampler, schedule=model.schedule, steps=max(nfes), prediction=prediction,
                                   **options).spacing
    labels = (f"default ({default_spacing})", "best fixed spacing (on validation)", "searched (on validation)")
    table: dict[str, dict[int, dict[str, float]]] = {label: {} for label in labels}
    records = {}
    for nfe in nfes:
        found = search_text2pde(run_dir, nfe, model=model, sampler=sampler, options=options, save=save, **search)
        baselines = found.objective["baselines"]
        best = min(baselines, key=baselines.get)
        chosen = {labels[0]: (make_sampler(sampler, schedule=model.schedule, steps=nfe, prediction=prediction,
                                           **options), baselines.get(default_spacing, math.nan)),
                  labels[1]: (make_sampler(sampler, schedule=model.schedule, steps=nfe, spacing=best,
                                           prediction=prediction, **options), baselines[best]),
                  labels[2]: (found, found.objective["value"])}
        for label, (spec, fitted) in chosen.items():
            table[label][nfe] = {"data": text2pde_error(model, spec, test_split, rows, test_seed, data_target),
                                 "converged": text2pde_error(model, spec, test_split, rows, test_seed, ode_target),
                                 "spread": text2pde_spread(model, spec, test_split, rows), "validation": fitted}
            if progress is not None:
                progress(f"NFE {nfe:3d} {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in table[label][nfe].items()))
        records[nfe] = found.record()
    return {"sampler": sampler, "options": options, "against": search.get("against", "converged"),
            "test": {"split": test_split, "samples": len(rows), "seed": test_seed}, "rows": table,
            "searched": records, "converged_to_data": float(np.mean(trajectory_l2(ode_target, data_target))),
            "converged_spread": text2pde_spread(model, model.sampler(*CONVERGED), test_split, rows)}


# -- PDE-Refiner -----------------------------------------------------------------------------------------
def refiner_level_sets(num_refinement_steps: int, nfe: int) -> list[tuple[int, ...]]:
    """Every chain of ``nfe`` trained refinement levels: level 0 (pure noise) and NFE - 1 of 1..K, in order."""
    K = num_refinement_steps
    if isinstance(nfe, bool) or not isinstance(nfe, int) or not 1 <= nfe <= K + 1:
        raise BadInput(f"pde-refiner with K = {K} refinement steps visits 1 to {K + 1} trained noise levels "
                       f"(one network call each), got nfe={nfe!r}")
    return [(0, *rest) for rest in itertools.combinations(range(1, K + 1), nfe - 1)]


def refiner_schedule_for(model, levels: Sequence[int], variance: str = "small", *, name: str | None = None,
                         objective: dict[str, Any] | None = None, search: dict[str, Any] | None = None,
                         fingerprint: str | None = None) -> SearchedSchedule:
    """The chain over refinement ``levels`` of a pde-refiner model as a `SearchedSchedule` (a DDPM sampler
    on the refiner's table at the schedule times K - k, then the step to σ = 0)."""
    from pdesuite.surrogates.pde_refiner import refiner_schedule

    K = int(model.config["num_refinement_steps"])
    levels = [int(k) for k in levels]
    if not levels or levels[0] != 0 or any(b <= a for a, b in zip(levels, levels[1:], strict=False)) \
            or levels[-1] > K:
        raise BadInput(f"pde-refiner levels must start at 0 (pure noise) and increase within 0..{K}, got {levels}")
    schedule = refiner_schedule(K, float(model.config["min_noise_std"]))
    return SearchedSchedule(
        name=name or f"refiner-{'-'.join(map(str, levels))}-{variance}", sampler="ddpm", nfe=len(levels),
        timesteps=tuple(float(K - k) for k in levels), schedule=schedule.config(),
        schedule_fingerprint=schedule_fingerprint(schedule), prediction="v", final_sigma_zero=True,
        options={"variance": variance},
        model={"fingerprint": fingerprint or model.fingerprint(), "surrogate": "pde-refiner"},
        objective=dict(objective or {}), search=dict(search or {}))


def refiner_error(model, found: SearchedSchedule | None, split: str, rows: np.ndarray, seed: int,
                  kind: str = "rollout", horizon: int | None = 16) -> float:
    """Mean relative L2 of ``rows`` of ``split`` over ``horizon`` model steps (None: the whole
    trajectory) with the refinement chain ``found`` (None: the trained chain): a rollout from the first
    ``history`` states (``rollout``) or each one-step prediction from the reference window
    (``one-step``); noise from seed ``seed``. KS is chaotic: whole rollouts decorrelate from the
    reference after a few dozen steps, and their error then measures the rollout's amplitude, not its
    accuracy, hence the default horizon (the first 16 steps, where the refiner's spectra are compared)."""
    if kind not in ("rollout", "one-step"):
        raise BadInput(f"pde-refiner objective must be 'rollout' or 'one-step', got {kind!r}")
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1):
        raise BadInput(f"horizon must be a positive integer or None, got {horizon!r}")
    data = model.trajectories(split)
    u = data["u"][rows][:, :: model.time_step]
    if horizon is not None:
        u = u[:, : model.history + horizon]
    cond = torch.as_tensor(model.condition_array(data, model.task.dataset)[rows])
    previous = model.refinement
    model.use_refinement(found)
    try:
        generator = torch.Generator().manual_seed(seed)
        h = model.history
        states = torch.as_tensor(u)
        if kind == "rollout":
            pred = model.rollout(states[:, :h], cond, states.shape[1] - h, generator).cpu().numpy()
        else:
            with torch.no_grad():
                scaled = model.scale_conditions(cond.to(model.device, model.dtype))
                pred = torch.stack([model.predict_next(states[:, k - h:k].to(model.device, model.dtype), scaled,
                                                       generator) for k in range(h, states.shape[1])], dim=1)
            pred = pred.cpu().numpy()
    finally:
        model.use_refinement(previous)
    ref = u[:, h:]
    pred, ref = pred.reshape(len(rows), pred.shape[1], -1), ref.reshape(len(rows), ref.shape[1], -1)
    return float(np.mean(np.linalg.norm(pred - ref, axis=(1, 2)) / np.maximum(np.linalg.norm(ref, axis=(1, 2)),
                                                                             1e-30)))


def search_refiner(run_dir: str | Path, nfe: int, *, model=None, split: str = "valid", samples: int | None = 8,
                   seed: int = 0, kind: str = "rollout", horizon: int | None = 16,
                   variances: Sequence[str] = ("small", "large"), name: str | None = None,
                   save: bool = True) -> tuple[SearchedSchedule, dict[str, float]]:
    """Exhaustive search of a pde-refiner run's chain at ``nfe`` network calls per model step (see the
    module docstring). Returns the best `SearchedSchedule` (saved as ``RUNDIR/schedules/NAME.json``) and
    every candidate's validation error (``"0-2-3 small"`` -> error); the default chain is ``"0-1-..-K small"``."""
    model = load_run(run_dir) if model is None else model
    if model.name != "pde-refiner":
        raise BadInput(f"search_refiner searches pde-refiner runs; {run_dir} is a {model.name!r} run")
    for variance in variances:
        if variance not in ("small", "large"):
            raise BadInput(f"pde-refiner variance must be 'small' or 'large', got {variance!r}")
    K = int(model.config["num_refinement_steps"])
    rows = rows_of(model.trajectories(split)["u"].shape[0], samples)
    fingerprint = model.fingerprint()
    values: dict[str, float] = {}
    choices: dict[str, tuple[tuple[int, ...], str]] = {}
    for levels in refiner_level_sets(K, nfe):
        for variance in variances:
            label = f"{'-'.join(map(str, levels))} {variance}"
            choices[label] = levels, variance
            values[label] = refiner_error(model, refiner_schedule_for(model, levels, variance, fingerprint=fingerprint),
                                          split, rows, seed, kind, horizon)
    best = min(values, key=values.get)
    default = f"{'-'.join(map(str, range(K + 1)))} small"
    found = refiner_schedule_for(
        model, *choices[best], name=name or f"refiner-{nfe}", fingerprint=fingerprint,
        objective={"name": f"{kind} relative L2 over {horizon or 'all'} model steps, {len(rows)} {split} "
                           f"trajectories, noise seed {seed}",
                   "value": values[best], "baselines": values, "start": default if default in values else None},
        search={"method": "exhaustive over trained level subsets and posterior variances", "evaluations": len(values)})
    found = SearchedSchedule(**{**found.__dict__, "model": {**found.model, "run": str(Path(run_dir).resolve()),
                                                             "dataset": str(model.task.dataset)}})
    if save:
        found.save(Path(run_dir) / FOLDER)
    return found, values


# -- one entry point (`pdesuite search-schedule`) ------------------------------------------------------------
def parse_options(items: Sequence[str] | None) -> dict[str, Any]:
    """``["variant=3M", "order=3"]`` -> sampler options (values read as JSON when they parse: numbers, true)."""
    import json

    from pdesuite.settings import parse_assignments

    out: dict[str, Any] = {}
    for key, text in parse_assignments(list(items or [])).items():
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


def search_run(run_dir: str | Path, nfe: int, *, sampler: str | None = None, options: Sequence[str] | None = None,
               against: str = "converged", kind: str = "rollout", samples: int | None = None, budget: int = 60,
               seed: int = 0, name: str | None = None) -> tuple[SearchedSchedule, Path, str]:
    """Search a text2pde or pde-refiner run at ``nfe`` and save the result in ``RUNDIR/schedules/``.

    Returns the schedule, its file and a one-line summary (the searched value against the default
    grid's and the best fixed spacing's). ``options`` are ``key=value`` sampler options (text2pde);
    ``kind`` is the pde-refiner objective (``rollout`` or ``one-step``); ``samples`` the validation
    trajectories (default 4 for text2pde, 8 for pde-refiner); ``seed`` the search's (text2pde).
    """
    from pdesuite.io import RunFolder

    surrogate = RunFolder(run_dir).read_config().get("surrogate")
    if surrogate not in ("text2pde", "pde-refiner"):
        raise BadInput(f"schedule search needs a text2pde or pde-refiner run; {run_dir} is a {surrogate!r} run")
    model = load_run(run_dir)
    if surrogate == "text2pde":
        chosen = sampler or model.config["sampler"]
        opts = parse_options(options)
        found = search_text2pde(run_dir, nfe, model=model, sampler=chosen, options=opts, samples=samples or 4,
                                against=against, budget=budget, search_seed=seed, name=name)
        default = make_sampler(chosen, schedule=model.schedule, steps=nfe, prediction=model.config["prediction"],
                               **opts).spacing
        base = found.objective["baselines"]
        best = min(base, key=base.get)
        summary = (f"{chosen} at {nfe} NFE: searched {found.objective['value']:.4g} against default {default} "
                   f"{base[default]:.4g} and best fixed {best} {base[best]:.4g} ({found.objective['name']})")
    else:
        if sampler or options:
            raise BadInput("pde-refiner's chain is DDPM over its trained levels: --sampler and --option do not apply")
        found, values = search_refiner(run_dir, nfe, model=model, samples=samples or 8, kind=kind, name=name)
        K = int(model.config["num_refinement_steps"])
        rows = rows_of(model.trajectories("valid")["u"].shape[0], samples or 8)
        trained = refiner_error(model, None, "valid", rows, 0, kind)
        summary = (f"pde-refiner at {nfe} network calls per step: levels {min(values, key=values.get)} "
                   f"{found.objective['value']:.4g}, the trained chain ({K + 1} calls) {trained:.4g} "
                   f"({found.objective['name']})")
    return found, Path(run_dir) / FOLDER / f"{found.name}.json", summary
