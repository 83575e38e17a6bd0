"""The ``rollout`` evaluator: a one-step surrogate rolled out over whole trajectories (unet-mse,
pde-refiner; `pdesuite.surrogates.autoregressive`).

``pdesuite validate RUNDIR`` rolls the model (EMA weights of ``best.pt``) out over every trajectory
of the test split — from the first ``history`` states at the model's resolution (every
``time_step``-th stored state; the KS test data's 640 stored steps give 160 states, so 159 predicted
ones with history 1) — batched and deterministic for a seed, and reports (definitions in
`pdesuite.validation.metrics` and docs/pde-refiner.md):

* ``correlation_time``: PDE-Refiner's high-correlation times for 0.8/0.9/0.95 (steps and seconds,
  one model step = time_step × the mean stored dt), plus per-trajectory times;
* ``correlation_mean`` and ``mse_over_time``: the batch-mean Pearson correlation and the MSE per
  predicted step; ``per_step_relative_l2``; over the whole rollout ``relative_l2``, ``nrmse``,
  ``vrmse`` and ``fourier_band_errors``;
* ``error_spectrum``: error and reference energy per wavenumber index, for the first predicted
  step (one-step error, the paper's frequency analysis) and for the first ``spectrum_steps``
  steps; ``high_wavenumber_error``: first-step error energy in the modes m ≥ n_x/8, relative to the
  reference's energy there (``..._absolute``: not divided);
* ``timing``: the rollout's wall time (the speed against the KS solver is measured by
  ``benchmarks/rollout_speed.py``);
* 2D or multi-field data (smoke: (n_x, n_y, F) states): the correlation of a step is taken over
  all grid points and fields; nrmse, vrmse and the Fourier bands per field; no 1D error spectrum;
* for pde-refiner with ``uncertainty_samples`` S ≥ 2: the paper's uncertainty estimate — S more
  stochastic rollouts (seeds seed+1..seed+S), the per-trajectory time at which their mutual
  correlation drops below 0.8, and its agreement with the true per-trajectory time.

Figures: ``space_time.png`` (reference, prediction, error of test trajectory 0),
``correlation.png``, ``error_spectra.png``; for 2D or multi-field data ``correlation.png`` and
``relative_l2.png`` (per step).
"""


from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.registry import EVALUATORS
from pdesuite.validation import metrics
from pdesuite.validation.evaluation import Evaluation, Evaluator, TrainedRun
from pdesuite.validation.generation import grid_coordinates
from pdesuite.validation.plots import plot_correlation, plot_curves, plot_error_spectra, plot_space_time
from pdesuite.validation.trajectory_sample import save_trajectory_sample

HIGH_WAVENUMBER_FRACTION = 8  # high wavenumbers: mode index >= n_x / 8


def rollout_split(surrogate, path, split: str = "test", seed: int = 0, batch: int = 64,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Roll ``surrogate`` out over the trajectories of ``split``.

    Returns:
        {"prediction": (B, T, *state), "reference": (B, T, *state) (the predicted steps only; state
         (n_x,) for KS, (n_x, n_y, F) for smoke), "initial": (B, history, *state), "step_seconds": float,
         "seconds": wall time of the rollout, "data": the split (`AutoregressiveSurrogate.trajectories`)}.
    """
    data = surrogate.trajectories(split, path=path) if data is None else data
    u = data["u"][:, :: surrogate.time_step]
    h = surrogate.history
    if u.shape[1] <= h:
        raise BadInput(f"the {split} trajectories of {path} are too short for history {h} × time_step "
                       f"{surrogate.time_step}")
    started = time.perf_counter()
    rolled = surrogate.rollout_split(split, generator=torch.Generator().manual_seed(seed), batch=batch, path=path,
                                     data=data)
    if surrogate.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    prediction = rolled[:, h:, ..., 0] if surrogate.n_fields == 1 else rolled[:, h:]
    prediction = prediction.astype(np.float64)
    return {"prediction": prediction, "reference": u[:, h:].astype(np.float64), "initial": u[:, :h],
            "seconds": seconds, "data": data,
            "step_seconds": float(surrogate.time_step * np.mean(data["conditions"]["dt"]))}


@EVALUATORS.register("rollout")
class RolloutEvaluator(Evaluator):
    name = "rollout"
    headline = "correlation_time.0.8.seconds"
    description = "whole-trajectory rollouts of a one-step surrogate: correlation time, spectra, uncertainty"
    options = {"seed": 0, "uncertainty_samples": None}

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        from pdesuite.data.reader import open_dataset
        from pdesuite.training.trainer import cpu_threads

        seed = int(self.settings["seed"])
        path = run.config["data"]
        meta = open_dataset(path)
        split = "test" if "test" in meta.splits else meta.splits[-1]
        threads = torch.get_num_threads()
        if surrogate.device.type == "cpu":
            torch.set_num_threads(cpu_threads())
        try:
            rolled = rollout_split(surrogate, path, split, seed=seed)
            values = self.rollout_metrics(surrogate, rolled, split)
            samples = self.settings["uncertainty_samples"]
            samples = surrogate.config.get("uncertainty_samples", 0) if samples is None else int(samples)
            if samples >= 2 and surrogate.stochastic:
                runs = [rollout_split(surrogate, path, split, seed=seed + 1 + i, data=rolled["data"])["prediction"]
                        for i in range(samples)]
                estimated = metrics.sample_correlation_time(np.stack(runs), 0.8)
                true = np.asarray(values["correlation_time"]["per_trajectory"]["0.8"])
                values["uncertainty"] = {"samples": samples, "threshold": 0.8, "estimated_steps": estimated.tolist(),
                                         "true_steps": true.tolist(), **metrics.uncertainty_agreement(estimated, true)}
        finally:
            torch.set_num_threads(threads)
        figures = self.plot(surrogate, run, rolled, values, output, meta.attrs.get("dataset"), split)
        times = values["correlation_time"]
        summary = ", ".join(f"corr > {th} for {times[th]['steps']} steps ({times[th]['seconds']:.1f} s)"
                            for th in ("0.8", "0.9", "0.95"))
        if "high_wavenumber_error" in values:
            summary += f"; high-wavenumber error {values['high_wavenumber_error']:.3e}"
        else:
            summary += f"; relative L2 {values['relative_l2']:.3e}"
        return Evaluation(values, figures, summary, {**run.provenance(), "split": split, "seed": seed})

    @staticmethod
    def rollout_metrics(surrogate, rolled: dict[str, Any], split: str) -> dict[str, Any]:
        pred, ref = rolled["prediction"], rolled["reference"]
        step_seconds = rolled["step_seconds"]
        corr = metrics.pearson_correlation(pred, ref)  # over all grid points (and fields) of a step
        one_field = getattr(surrogate, "n_fields", 1) == 1
        fields = (pred[..., None], ref[..., None]) if one_field else (pred, ref)  # (B, T, *spatial, F)
        values = {
            "trajectories": int(pred.shape[0]), "model_steps": int(pred.shape[1]),
            "time_step": surrogate.time_step, "history": surrogate.history, "step_seconds": step_seconds,
            "correlation_time": metrics.correlation_times(pred, ref, step_seconds=step_seconds),
            "correlation_mean": corr.mean(axis=0).tolist(),
            "mse_over_time": metrics.mse_over_time(pred, ref).tolist(),
            "per_step_relative_l2": metrics.per_time_relative_l2(np.moveaxis(pred, 1, 0), np.moveaxis(ref, 1, 0)),
            "one_step_mse": float(np.mean((pred[:, 0] - ref[:, 0]) ** 2)),
            "relative_l2": metrics.relative_l2(pred, ref),
            "nrmse": metrics.nrmse(*fields, time_axis=1, sample_axis=0),
            "vrmse": metrics.vrmse(*fields, time_axis=1, sample_axis=0),
            "fourier_band_errors": metrics.fourier_band_errors(*fields, time_axis=1, sample_axis=0),
        }
        if pred.ndim == 3:  # one field on a periodic 1D grid: the spectra of PDE-Refiner's analysis
            n_x = pred.shape[-1]
            spectrum_steps = min(16, pred.shape[1])
            k, err1, ref1 = metrics.error_spectrum(pred, ref, steps=slice(0, 1))
            _, errn, refn = metrics.error_spectrum(pred, ref, steps=slice(0, spectrum_steps))
            high = k >= n_x // HIGH_WAVENUMBER_FRACTION
            values.update({
                "error_spectrum": {"k": k.tolist(), "first_step": err1.tolist(), "reference_first_step": ref1.tolist(),
                                   "steps": spectrum_steps, "first_steps": errn.tolist(),
                                   "reference_first_steps": refn.tolist()},
                "high_wavenumber_from": int(n_x // HIGH_WAVENUMBER_FRACTION),
                "high_wavenumber_error": float(err1[high].sum() / max(ref1[high].sum(), 1e-300)),
                "high_wavenumber_error_absolute": float(err1[high].sum()),
            })
        values["timing"] = {"surrogate_seconds": rolled["seconds"], "device": str(surrogate.device),
                            "threads": torch.get_num_threads(), "trajectories": int(pred.shape[0]),
                            "model_steps": int(pred.shape[1])}
        return values

    @staticmethod
    def plot(surrogate, run: TrainedRun, rolled: dict[str, Any], values: dict[str, Any], output: Path,
             dataset: str | None, split: str) -> list[str]:
        name = run.config["surrogate"]
        pred, ref = rolled["prediction"], rolled["reference"]
        step_seconds = rolled["step_seconds"]
        t_axis = (np.arange(pred.shape[1]) + 1) * step_seconds
        x_axis = rolled["data"]["x"][0] if rolled["data"]["x"] is not None else None
        fields = list(surrogate.fields)
        first = (ref[0], pred[0]) if len(fields) > 1 else (ref[0][..., None], pred[0][..., None])
        grid = grid_coordinates(run.config["data"]) | ({"x": x_axis} if x_axis is not None else {})
        sample = save_trajectory_sample(output, *first, fields, times=t_axis, grid=grid, label="rollout")
        sample = [sample] if sample else []
        if pred.ndim != 3:  # 2D or several fields
            plot_correlation({name: metrics.pearson_correlation(pred, ref)}, output / "correlation.png",
                             step_seconds=step_seconds)
            plot_curves({name: (t_axis, np.asarray(values["per_step_relative_l2"]))}, output / "relative_l2.png",
                        xlabel="time after the initial state", ylabel="relative L2 (all trajectories)",
                        title=f"{name} on {dataset} ({split})")
            return ["correlation.png", "relative_l2.png", *sample]
        plot_space_time(ref[0], pred[0], output / "space_time.png", x=x_axis, t=t_axis,
                        title=f"{name} on {dataset} ({split} trajectory 0)")
        plot_correlation({name: metrics.pearson_correlation(pred, ref)}, output / "correlation.png",
                         step_seconds=step_seconds)
        spectrum = values["error_spectrum"]
        k = np.asarray(spectrum["k"])
        plot_error_spectra({f"{name}, step 1": (k, np.asarray(spectrum["first_step"])),
                            f"{name}, steps 1-{spectrum['steps']}": (k, np.asarray(spectrum["first_steps"]))},
                           output / "error_spectra.png",
                           reference_energy=(k, np.asarray(spectrum["reference_first_step"])))
        return ["space_time.png", "correlation.png", "error_spectra.png", *sample]
