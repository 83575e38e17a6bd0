"""Rollouts of a trained one-step surrogate over whole trajectories, and `pdesuite validate` for them.

For `unet-mse` and `pde-refiner` (`pdesuite.surrogates.autoregressive`), ``pdesuite validate RUNDIR``
rolls the model (EMA weights of ``best.pt``) out over every trajectory of the test split — from
the first ``history`` states at the model's resolution (every ``time_step``-th stored state; the
KS test data's 640 stored steps give 160 states, so 159 predicted ones with history 1) — batched
and deterministic for a seed, and writes ``metrics.json`` with (definitions in
`pdesuite.validation.rollout` and docs/pde-refiner.md):

* ``correlation_time``: PDE-Refiner's high-correlation times for 0.8/0.9/0.95 (steps and seconds,
  one model step = time_step × the mean stored dt), plus per-trajectory times;
* ``correlation_mean`` and ``mse_over_time``: the batch-mean Pearson correlation and the MSE per
  predicted step;
* ``error_spectrum``: error and reference energy per wavenumber index, for the first predicted
  step (one-step error, the paper's frequency analysis) and for the first ``spectrum_steps``
  steps; ``high_wavenumber_error``: first-step error energy in the modes m ≥ n_x/8, relative to the
  reference's energy there (``..._absolute``: not divided);
* ``timing``: the rollout's wall time against the batched solver (`KSSolver`, the dataset's scheme
  and substeps) integrating the same trajectories over the same horizon, in the same process, on the
  same machine, with the same number of threads (``speedup`` = solver / surrogate);
* for pde-refiner with ``uncertainty_samples`` S ≥ 2: the paper's uncertainty estimate — S more
  stochastic rollouts (seeds seed+1..seed+S), the per-trajectory time at which their mutual
  correlation drops below 0.8, and its agreement with the true per-trajectory time.

Plots: ``space_time.png`` (reference, prediction, error of test trajectory 0),
``correlation.png``, ``error_spectra.png``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.surrogates.autoregressive import load_trajectories
from pdesuite.validation import rollout as metrics

HIGH_WAVENUMBER_FRACTION = 8  # high wavenumbers: mode index >= n_x / 8


def rollout_split(surrogate, path, split: str = "test", seed: int = 0, batch: int = 64,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Roll ``surrogate`` out over the trajectories of ``split``.

    Returns:
        {"prediction": (B, T, n_x), "reference": (B, T, n_x) (the predicted steps only),
         "initial": (B, history, n_x), "step_seconds": float,
         "seconds": wall time of the rollout, "data": the split (see `load_trajectories`)}.
    """
    data = load_trajectories(path, split, surrogate.name) if data is None else data
    n = data["u"].shape[0]
    u = data["u"][:, :: surrogate.time_step]
    h = surrogate.history
    if u.shape[1] <= h:
        raise BadInput(f"the {split} trajectories of {path} are too short for history {h} × time_step "
                       f"{surrogate.time_step}")
    raw = np.stack([data["conditions"][name] for name in surrogate.condition_names], axis=1)
    initial, cond = torch.as_tensor(u[:, :h]), torch.as_tensor(raw)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    parts = [surrogate.rollout(initial[i : i + batch], cond[i : i + batch], u.shape[1] - h, generator)
             for i in range(0, n, batch)]
    if surrogate.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    prediction = torch.cat(parts).double().cpu().numpy()
    return {"prediction": prediction, "reference": u[:, h:].astype(np.float64), "initial": u[:, :h],
            "seconds": seconds, "data": data,
            "step_seconds": float(surrogate.time_step * np.mean(data["conditions"]["dt"]))}


def solver_rollout(meta_params: dict, data: dict, start: np.ndarray, steps: int, time_step: int) -> dict[str, Any]:
    """The KS reference solver from the stored states ``start`` (B, n_x) over ``steps`` model steps;
    returns its states at the model's resolution (B, steps, n_x) and the wall time."""
    from pdesuite.solvers.spectral.ks import KSSolver

    n = start.shape[0]
    params = data["params"]
    nu = params["nu"][:n] if "nu" in params else 1.0
    solver = KSSolver(start.shape[1], params["L"][:n], nu=nu, batch=n)
    substeps = int(meta_params.get("substeps", 4))
    scheme = str(meta_params.get("scheme", "etdrk4"))  # files written before schemes were selectable
    started = time.perf_counter()
    out = solver.solve(start.astype(np.float64), params["dt"][:n], n_steps=steps * time_step, substeps=substeps,
                       scheme=scheme)
    seconds = time.perf_counter() - started
    return {"states": out[:, time_step::time_step], "seconds": seconds, "substeps": substeps, "scheme": scheme,
            "solver_steps": steps * time_step}


def validate_rollouts(surrogate, config: dict, weights: Path, state: dict, output: Path, seed: int = 0,
                      uncertainty_samples: int | None = None) -> dict[str, Any]:
    """Metrics and plots of a trained autoregressive surrogate on its dataset's test split."""
    from pdesuite.data.reader import open_dataset
    from pdesuite.training.trainer import _atomic_json, cpu_threads

    path = config["data"]
    meta = open_dataset(path)
    split = "test" if "test" in meta.splits else meta.splits[-1]
    threads = torch.get_num_threads()
    if surrogate.device.type == "cpu":  # the solver (numpy FFT) runs on one thread: time both alike
        torch.set_num_threads(cpu_threads())
    try:
        run = rollout_split(surrogate, path, split, seed=seed)
        pred, ref = run["prediction"], run["reference"]
        step_seconds = run["step_seconds"]
        times = metrics.correlation_times(pred, ref, step_seconds=step_seconds)
        corr = metrics.pearson_correlation(pred, ref)
        n_x = pred.shape[-1]
        spectrum_steps = min(16, pred.shape[1])
        k, err1, ref1 = metrics.error_spectrum(pred, ref, steps=slice(0, 1))
        _, errn, refn = metrics.error_spectrum(pred, ref, steps=slice(0, spectrum_steps))
        high = k >= n_x // HIGH_WAVENUMBER_FRACTION
        result: dict[str, Any] = {
            "surrogate": config["surrogate"], "weights": weights.name,
            "step": state.get("step", state.get("state", {}).get("step")),
            "split": split, "trajectories": int(pred.shape[0]), "model_steps": int(pred.shape[1]),
            "time_step": surrogate.time_step, "history": surrogate.history, "step_seconds": step_seconds,
            "seed": seed,
            "correlation_time": times,
            "correlation_mean": corr.mean(axis=0).tolist(),
            "mse_over_time": metrics.mse_over_time(pred, ref).tolist(),
            "one_step_mse": float(np.mean((pred[:, 0] - ref[:, 0]) ** 2)),
            "error_spectrum": {"k": k.tolist(), "first_step": err1.tolist(), "reference_first_step": ref1.tolist(),
                               "steps": spectrum_steps, "first_steps": errn.tolist(),
                               "reference_first_steps": refn.tolist()},
            "high_wavenumber_from": int(n_x // HIGH_WAVENUMBER_FRACTION),
            "high_wavenumber_error": float(err1[high].sum() / max(ref1[high].sum(), 1e-300)),
            "high_wavenumber_error_absolute": float(err1[high].sum()),
            "reference": {"file": str(path), **config.get("dataset_provenance", {})},
        }
        timing = {"surrogate_seconds": run["seconds"], "device": str(surrogate.device),
                  "threads": torch.get_num_threads(), "trajectories": int(pred.shape[0]),
                  "model_steps": int(pred.shape[1])}
        if meta.attrs.get("problem") == "ks" and "L" in run["data"]["params"]:
            solved = solver_rollout(meta.params, run["data"], run["initial"][:, -1], pred.shape[1],
                                    surrogate.time_step)
            timing.update({"solver": f"KSSolver ({solved['scheme']})", "solver_seconds": solved["seconds"],
                           "solver_steps": solved["solver_steps"], "solver_substeps": solved["substeps"],
                           "speedup": solved["seconds"] / max(run["seconds"], 1e-12)})
            # the solver restarted from the stored (float32) states: how long it stays on the reference
            result["solver_restart_correlation_time"] = metrics.correlation_times(
                solved["states"], ref, step_seconds=step_seconds)["0.8"]
        result["timing"] = timing
        samples = surrogate.config.get("uncertainty_samples", 0) if uncertainty_samples is None \
            else int(uncertainty_samples)
        if samples >= 2 and surrogate.stochastic:
            runs = [rollout_split(surrogate, path, split, seed=seed + 1 + i, data=run["data"])["prediction"]
                    for i in range(samples)]
            estimated = metrics.sample_correlation_time(np.stack(runs), 0.8)
            true = np.asarray(times["per_trajectory"]["0.8"])
            result["uncertainty"] = {"samples": samples, "threshold": 0.8, "estimated_steps": estimated.tolist(),
                                     "true_steps": true.tolist(),
                                     **metrics.uncertainty_agreement(estimated, true)}
    finally:
        torch.set_num_threads(threads)

    output.mkdir(parents=True, exist_ok=True)
    name = config["surrogate"]
    t_axis = (np.arange(pred.shape[1]) + 1) * step_seconds
    x_axis = run["data"]["x"][0] if run["data"]["x"] is not None else None
    metrics.plot_space_time(ref[0], pred[0], output / "space_time.png", x=x_axis, t=t_axis,
                            title=f"{name} on {meta.attrs.get('dataset')} ({split} trajectory 0)")
    metrics.plot_correlation({name: corr}, output / "correlation.png", step_seconds=step_seconds)
    metrics.plot_error_spectra({f"{name}, step 1": (k, err1), f"{name}, steps 1-{spectrum_steps}": (k, errn)},
                               output / "error_spectra.png", reference_energy=(k, ref1))
    result["plots"] = ["space_time.png", "correlation.png", "error_spectra.png"]
    _atomic_json(result, output / "metrics.json")
    return result
