"""The ``time-stepping`` evaluator: a field marched in time (INSR) against its reference, step by step.

Metrics (`pdesuite.validation.metrics`): ``relative_l2`` over the whole march, ``final_relative_l2``
and ``per_time_relative_l2``; ``peak`` and ``reference_peak`` (max over space per step: numerical
dissipation shows as a falling peak) and the same for ``energy`` (mean of u² over the grid);
``nrmse``, ``vrmse``, ``fourier_band_errors``; ``parameters`` (the network's) against ``grid_points``
(the reference's); ``seconds_per_step`` (median wall time of a step's optimisation) and
``steps_done``. Figures: ``space_time.png``, ``error.png`` (relative L2 over time), ``peak.png``.

A surrogate with ``energy_curves()`` (`pdesuite.surrogates.marching`) adds each named energy per step
beside the reference's, e.g. ``kinetic_energy`` and ``reference_kinetic_energy`` for a flow (Euler
conserves it: a loss is numerical dissipation) or ``elastic_energy`` for a body, with a figure
``<name>.png``; 2D data add ``fields.png`` (the first field at the last time). A surrogate with
``divergence_grid()`` adds ``divergence_rms`` per step and ``max_divergence`` (∇·u on the grid, zero for
the exact flow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pdesuite.registry import EVALUATORS
from pdesuite.validation import metrics
from pdesuite.validation.evaluation import Evaluation, Evaluator, TrainedRun
from pdesuite.validation.plots import plot_curves, plot_prediction, plot_space_time
from pdesuite.validation.trajectory_sample import save_trajectory_sample


@EVALUATORS.register("time-stepping")
class TimeSteppingEvaluator(Evaluator):
    name = "time-stepping"
    description = "a field marched in time against its reference: error, peak and energy over time"

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        task = surrogate.task
        prediction, reference = surrogate.predict_grid(), task.reference
        done = ~np.isnan(prediction).any(axis=tuple(range(1, prediction.ndim)))
        pred, ref, t = prediction[done], reference[done], task.grids["t"][done]
        space = tuple(range(1, ref.ndim))
        seconds = surrogate.stage_seconds.cpu().numpy()[1 : int(done.sum())]  # the time steps, not the fit
        values = {
            "steps_done": int(done.sum()) - 1, "steps": len(task.grids["t"]) - 1,
            "relative_l2": metrics.relative_l2(pred, ref),
            "final_relative_l2": metrics.relative_l2(pred[-1], ref[-1]),
            "per_time_relative_l2": metrics.per_time_relative_l2(pred, ref), "times": t.tolist(),
            "max_error": metrics.max_error(pred, ref),
            "nrmse": metrics.nrmse(pred, ref), "vrmse": metrics.vrmse(pred, ref),
            "fourier_band_errors": metrics.fourier_band_errors(pred, ref),
            "peak": pred.max(axis=space).tolist(), "reference_peak": ref.max(axis=space).tolist(),
            "energy": (pred**2).mean(axis=space).tolist(), "reference_energy": (ref**2).mean(axis=space).tolist(),
            "parameters": surrogate.parameter_count, "grid_points": int(np.prod(ref.shape[1:-1])),
            "seconds_per_step": float(np.median(seconds)) if seconds.size else None,
        }
        name = run.config["surrogate"]
        figures = ["space_time.png", "error.png", "peak.png"]
        curves = surrogate.energy_curves() if hasattr(surrogate, "energy_curves") else {}
        for key, (energy, reference_energy) in curves.items():  # e.g. kinetic or elastic energy per time
            values[key], values[f"reference_{key}"] = list(energy), list(reference_energy)
            label = key.replace("_", " ")
            plot_curves({name: (t, energy)}, output / f"{key}.png", "t", label, title=f"{label} over time",
                        reference=(t, reference_energy))
            figures.append(f"{key}.png")
        if ref.ndim == 4 and done.all():  # (t, x, y, fields): the first field at the last time
            plot_prediction(task, prediction, output / "fields.png", title=f"{name} on {task.problem}")
            figures.append("fields.png")
        if hasattr(surrogate, "divergence_grid"):
            div = surrogate.divergence_grid()[done]
            values["divergence_rms"] = np.sqrt((div**2).mean(axis=tuple(range(1, div.ndim)))).tolist()
            values["max_divergence"] = float(np.abs(div).max())
        if ref.ndim == 3:  # (t, x, fields): one space-time picture
            plot_space_time(ref[1:, :, 0], pred[1:, :, 0], output / "space_time.png", x=task.grids[task.axes[1]],
                            t=t[1:], title=f"{name} on {task.problem}")
        else:
            figures.remove("space_time.png")
        if list(task.axes) == ["t", "x", "y"][: ref.ndim]:  # a grid, not mesh nodes
            sample = save_trajectory_sample(output, ref, pred, list(task.fields), times=t, grid=task.grids,
                                            label=name)
            figures += [sample] if sample else []
        plot_curves({name: (t, values["per_time_relative_l2"])}, output / "error.png", "t", "relative L2",
                    title=f"{name}: error over time", log=True)
        plot_curves({name: (t, values["peak"])}, output / "peak.png", "t", "max u", title="peak height (dissipation)",
                    reference=(t, values["reference_peak"]))
        summary = (f"{values['steps_done']} of {values['steps']} steps: relative L2 {values['relative_l2']:.3e}, "
                   f"final {values['final_relative_l2']:.3e}, final peak {values['peak'][-1]:.4f} "
                   f"(reference {values['reference_peak'][-1]:.4f}), {values['parameters']} parameters")
        for key in curves:
            summary += (f", final {key.replace('_', ' ')} {values[key][-1]:.4g} "
                        f"(reference {values['reference_' + key][-1]:.4g})")
        return Evaluation(values, figures, summary, {**run.provenance(), "sample": {"split": task.split,
                                                                                      "index": task.index}})
