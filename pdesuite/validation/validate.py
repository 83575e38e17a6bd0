"""`pdesuite validate RUNDIR`: best weights -> prediction on the reference -> metrics.json + plots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.validation import metrics


def validate_run(run_dir: str | os.PathLike, data: str | os.PathLike | None = None,
                 output: str | os.PathLike | None = None, seed: int = 0,
                 uncertainty_samples: int | None = None) -> dict:
    """Evaluate a run's best weights (``best.pt``, else the last checkpoint) against its reference.

    ``data`` replaces the dataset the run was trained with (same layout required). Writes
    ``metrics.json`` and ``prediction.png`` into ``output`` (default: the run folder). Data-driven
    one-step surrogates (unet-mse, pde-refiner) are rolled out over the whole test split instead
    (`pdesuite.validation.rollout_model`; ``seed`` drives their sampling noise and
    ``uncertainty_samples`` overrides the run's setting).
    """
    from pdesuite.training.trainer import _atomic_json, build

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise BadInput(f"{run_dir} is not a run folder (no config.json)")
    config = json.loads((run_dir / "config.json").read_text())
    if data is not None:
        config["data"] = str(Path(data).resolve())
    weights = run_dir / "best.pt" if (run_dir / "best.pt").is_file() else run_dir / "checkpoint.pt"
    if not weights.is_file():
        raise BadInput(f"{run_dir} has no weights yet (best.pt or checkpoint.pt)")
    surrogate, task = build(config)
    state = torch.load(weights, weights_only=False, map_location=surrogate.device)
    surrogate.load_state_dict(state["model"])
    surrogate.eval()
    output = Path(output) if output else run_dir
    if hasattr(surrogate, "rollout"):
        from pdesuite.validation.rollout_model import validate_rollouts

        return validate_rollouts(surrogate, config, weights, state, output, seed=seed,
                                 uncertainty_samples=uncertainty_samples)
    prediction = surrogate.predict_grid()
    reference = task.reference
    result = {
        "relative_l2": metrics.relative_l2(prediction, reference),
        "max_error": metrics.max_error(prediction, reference),
        "weights": weights.name,
        "step": state.get("step", state.get("state", {}).get("step")),
        "surrogate": config["surrogate"],
        "sample": {"split": task.split, "index": task.index, "params": task.params},
        "reference": {"file": str(task.dataset), **config.get("dataset_provenance", {})},
    }
    if "t" in task.axes:
        result["per_time_relative_l2"] = metrics.per_time_relative_l2(prediction, reference)
        result["times"] = task.grids["t"].tolist()
        if len(task.axes) == 2:
            offset = task.params.get("C", 0.0)
            result["lpinn_error"] = metrics.lpinn_error(prediction, reference, offset=offset)
    output.mkdir(parents=True, exist_ok=True)
    _atomic_json(result, output / "metrics.json")
    plot_prediction(task, prediction, output / "prediction.png", title=f"{config['surrogate']} on {task.problem} "
                    f"{task.params} · rel. L2 {result['relative_l2']:.2e}")
    return result


def plot_prediction(task, prediction: np.ndarray, png: Path, title: str = "") -> Path:
    """Reference, prediction and error side by side (space-time for 1D, images for 2D)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = task.reference
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    panels = [(reference, "reference"), (prediction, "prediction"), (prediction - reference, "error")]
    if len(task.axes) == 2:
        (a0, a1) = task.axes
        g0, g1 = task.grids[a0], task.grids[a1]
        extent = [g1[0], g1[-1], g0[0], g0[-1]]
        for ax, (values, name) in zip(axes, panels, strict=True):
            image = ax.imshow(values[..., 0], origin="lower", aspect="auto", extent=extent,
                              cmap="RdBu_r" if name == "error" else "viridis")
            ax.set_xlabel(a1)
            ax.set_ylabel(a0)
            ax.set_title(name)
            fig.colorbar(image, ax=ax)
    else:  # (t, x, y, f): the last time
        for ax, (values, name) in zip(axes, panels, strict=True):
            image = ax.imshow(values[-1, ..., 0].T, origin="lower", cmap="RdBu_r" if name == "error" else "viridis")
            ax.set_title(f"{name} (t = {task.grids['t'][-1]:.3g})" if "t" in task.axes else name)
            fig.colorbar(image, ax=ax)
    fig.suptitle(title, fontsize=10)
    tmp = png.with_name(f".{png.name}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, png)
    return png
