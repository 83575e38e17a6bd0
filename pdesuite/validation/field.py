"""The ``field`` evaluator: a surrogate's prediction of one sample on the reference grid (PINN,
LPINN, PIG).

Metrics (`pdesuite.validation.metrics`): ``relative_l2`` (PIG's metric), ``max_error``, ``rmse``,
``nrmse`` (PDEBench), ``vrmse`` (The Well), ``fourier_band_errors`` over the spatial axes, and for
time-dependent data ``per_time_relative_l2`` with its ``times``; for 1D time-dependent data also
``lpinn_error`` (Mojgani et al.'s matrix-norm error, offset C of the initial condition removed).
Figure: ``prediction.png`` (reference, prediction, error).
"""

from __future__ import annotations

from pathlib import Path

from pdesuite.registry import EVALUATORS
from pdesuite.validation import metrics
from pdesuite.validation.evaluation import Evaluation, Evaluator, TrainedRun
from pdesuite.validation.plots import plot_prediction


@EVALUATORS.register("field")
class FieldEvaluator(Evaluator):
    name = "field"
    description = "one sample predicted on the reference grid: relative L2, nRMSE, VRMSE, Fourier bands, ..."

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        task = surrogate.task
        prediction, reference = surrogate.predict_grid(), task.reference
        time_axis = 0 if "t" in task.axes else None
        values = {
            "relative_l2": metrics.relative_l2(prediction, reference),
            "max_error": metrics.max_error(prediction, reference),
            "rmse": metrics.rmse(prediction, reference),
            "nrmse": metrics.nrmse(prediction, reference, time_axis=time_axis),
            "vrmse": metrics.vrmse(prediction, reference, time_axis=time_axis),
            "fourier_band_errors": metrics.fourier_band_errors(prediction, reference, time_axis=time_axis),
        }
        if time_axis is not None:
            values["per_time_relative_l2"] = metrics.per_time_relative_l2(prediction, reference)
            values["times"] = task.grids["t"].tolist()
            if len(task.axes) == 2:
                values["lpinn_error"] = metrics.lpinn_error(prediction, reference, offset=task.params.get("C", 0.0))
        provenance = {**run.provenance(), "sample": {"split": task.split, "index": task.index, "params": task.params}}
        plot_prediction(task, prediction, output / "prediction.png", title=f"{run.config['surrogate']} on "
                        f"{task.problem} {task.params} · rel. L2 {values['relative_l2']:.2e}")
        summary = ", ".join(f"{k} {values[k]:.3e}" for k in ("relative_l2", "lpinn_error", "max_error") if k in values)
        return Evaluation(values, ["prediction.png"], summary, provenance)
