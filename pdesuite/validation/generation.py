"""Evaluators of whole-trajectory models: ``reconstruction`` (an autoencoder alone) and
``trajectory-generation`` (a latent diffusion model, `text2pde`), and the metrics they share.

For trajectories p (predicted) and r (reference), each (T, *space, F):

* trajectory relative L2  ‖p - r‖ / ‖r‖ over all frames, points and fields (Text2PDE's metric);
* per-frame relative L2   e_k = ‖p_k - r_k‖ / ‖r_k‖, and the late-time growth e_last / e_1 (frame 0
  is the given one for first-frame models and rollouts, so frame 1 is the first predicted frame);
* smoke physics (grid data with fields s, vx, vy):
  - divergence of the cell-centred velocity by central differences on interior cells,
    rms(∂x vx + ∂y vy) · h / rms(|v|) per trajectory (generated against the reference's own value:
    the reference is divergence-free on its staggered grid, not exactly at the centres);
  - smoke mass drift max_k |M_k - M_0| / M_0 with M_k = Σ s_k h² (generated against reference: the
    solver conserves smoke up to its semi-Lagrangian advection).

The ``trajectory-generation`` evaluator generates every test trajectory (seed ``seed``, the run's
sampler and NFE unless ``sampler``/``nfe`` are given) from its first frame or prompt, scores it
against the reference solver's, times the generation, and for a text model also generates from the
null prompt (no condition) and reports whether the prompt moves the samples towards their references
(``text_gain`` = unconditional error / text error; > 1: the text helps) and, for smoke, how often the
densest smoke sits in the same ninth of the box as in the reference at the first and last frame, with
and without the prompt (``region_agreement``: what the prompts describe). Figures: per-frame error,
and a frame strip (reference over generated smoke) for the first samples.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from pdesuite.registry import EVALUATORS
from pdesuite.surrogates.trajectory_autoencoder import frame_l2, trajectory_l2
from pdesuite.validation.evaluation import Evaluation, Evaluator, TrainedRun
from pdesuite.validation.trajectory_sample import save_trajectory_sample


def smoke_fields(fields: list[str]) -> tuple[int, int, int] | None:
    """Indices of s, vx, vy, or None when the data are not smoke-like."""
    try:
        return fields.index("s"), fields.index("vx"), fields.index("vy")
    except ValueError:
        return None


def divergence_rms(u: np.ndarray, ivx: int, ivy: int, h: float) -> np.ndarray:
    """rms over interior cells and frames of (∂x vx + ∂y vy) h / rms|v| per trajectory: (n, T, X, Y, F) -> (n,)."""
    vx, vy = u[..., ivx].astype(np.float64), u[..., ivy].astype(np.float64)
    div = 0.5 * (vx[:, :, 2:, 1:-1] - vx[:, :, :-2, 1:-1] + vy[:, :, 1:-1, 2:] - vy[:, :, 1:-1, :-2])
    speed = np.sqrt(np.mean(vx**2 + vy**2, axis=(1, 2, 3)))
    return np.sqrt(np.mean(div**2, axis=(1, 2, 3))) / np.maximum(speed, 1e-30)


def mass_drift(u: np.ndarray, i_s: int) -> np.ndarray:
    """max_k |M_k - M_0| / M_0 of the smoke mass M_k = Σ s_k per trajectory: (n, T, X, Y, F) -> (n,)."""
    mass = u[..., i_s].astype(np.float64).sum(axis=(2, 3))
    return np.max(np.abs(mass - mass[:, :1]), axis=1) / np.maximum(np.abs(mass[:, 0]), 1e-30)


def trajectory_metrics(prediction: np.ndarray, reference: np.ndarray, fields: list[str],
                       spacing: float | None = None) -> dict[str, Any]:
    """The shared numbers of one model on one set of trajectories (see the module docstring)."""
    per_sample = trajectory_l2(prediction, reference)
    frames = frame_l2(prediction, reference)
    curve = frames.mean(axis=0)
    out: dict[str, Any] = {
        "trajectory_l2": float(per_sample.mean()), "trajectory_l2_median": float(np.median(per_sample)),
        "trajectory_l2_per_sample": per_sample.tolist(), "frame_l2": curve.tolist(),
        "first_frame_l2": float(curve[0]), "frame1_l2": float(curve[min(1, len(curve) - 1)]),
        "last_frame_l2": float(curve[-1]), "late_growth": float(curve[-1] / max(curve[min(1, len(curve) - 1)], 1e-30)),
        "field_l2": {name: float(np.mean(trajectory_l2(prediction[..., i], reference[..., i])))
                     for i, name in enumerate(fields)},
    }
    idx = smoke_fields(fields)
    if idx is not None and prediction.ndim == 5 and spacing:
        i_s, ivx, ivy = idx
        out["divergence"] = {"generated": float(divergence_rms(prediction, ivx, ivy, spacing).mean()),
                             "reference": float(divergence_rms(reference, ivx, ivy, spacing).mean())}
        out["mass_drift"] = {"generated": float(mass_drift(prediction, i_s).mean()),
                             "reference": float(mass_drift(reference, i_s).mean())}
    return out


def region_agreement(prediction: np.ndarray, reference: np.ndarray, fields: list[str],
                     grid: dict[str, np.ndarray] | None) -> dict[str, float] | None:
    """For smoke: the fraction of trajectories whose densest smoke (`pdesuite.recipes.prompts.densest_point`)
    lies in the same ninth of the box in the prediction as in the reference, at the first and at the last
    frame — what a prompt ("smoke starts at the bottom left and rises ...") says, so a text model should
    agree more often than the same model without its prompt. None for other data."""
    from pdesuite.recipes.prompts import densest_point, region

    idx = smoke_fields(fields)
    if idx is None or prediction.ndim != 5 or not grid or "x" not in grid or "y" not in grid:
        return None
    x, y = grid["x"], grid["y"]
    size = float(x[-1] + x[0])  # cell centres: x_0 = h/2, x_n-1 = size - h/2

    def where(u: np.ndarray, frame: int) -> list[str]:
        return [region(*(c / size for c in densest_point(sample[frame, ..., idx[0]], x, y))) for sample in u]

    return {name: float(np.mean([a == b for a, b in zip(where(prediction, k), where(reference, k), strict=True)]))
            for name, k in (("first_frame", 0), ("last_frame", -1))}


def plot_frame_strip(reference: np.ndarray, generated: np.ndarray, path: Path, field: int = 0,
                     title: str = "", frames: int = 5, label: str = "generated") -> Path:
    """For up to three samples, the reference (top) and ``label`` (bottom) field at ``frames`` times."""
    from pdesuite.io import pyplot, save_figure

    plt = pyplot()
    n = min(3, len(reference))
    t = np.linspace(0, reference.shape[1] - 1, frames).round().astype(int)
    fig, axes = plt.subplots(2 * n, frames, figsize=(1.6 * frames, 3.2 * n), constrained_layout=True, squeeze=False)
    for s in range(n):
        vmin, vmax = float(reference[s, ..., field].min()), float(reference[s, ..., field].max())
        for row, (data, name) in enumerate(((reference, "reference"), (generated, label))):
            for k, frame in enumerate(t):
                ax = axes[2 * s + row, k]
                ax.imshow(data[s, frame, ..., field].T, origin="lower", vmin=vmin, vmax=vmax, cmap="magma")
                ax.set_xticks([])
                ax.set_yticks([])
                if k == 0:
                    ax.set_ylabel(f"#{s} {name}", fontsize=8)
                if s == 0 and row == 0:
                    ax.set_title(f"frame {frame}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def grid_coordinates(path) -> dict[str, np.ndarray]:
    """The 1D grid coordinates (x, y) of a dataset file ({} for mesh data)."""
    from pdesuite.data.reader import open_dataset

    coords = open_dataset(path).coordinates()
    return {a: np.asarray(coords[a]) for a in ("x", "y") if a in coords and np.ndim(coords[a]) == 1}


def _spacing(path) -> float | None:
    """The grid spacing Δx of a dataset file (None for mesh data)."""
    x = grid_coordinates(path).get("x")
    return float(x[1] - x[0]) if x is not None and len(x) > 1 else None


def without_prompt(model, split: str, rows, generated: np.ndarray, reference: np.ndarray, seed: int,
                   **options: Any) -> dict[str, Any]:
    """A text model against itself without its prompt, from the same noise (seed ``seed``): the
    unconditional error and, for smoke, the region agreement with and without the prompt."""
    import torch

    free = model.generate(split, rows, generator=torch.Generator().manual_seed(seed), **{**options, "guidance": 0.0})
    fields, grid = list(model.autoencoder.fields), grid_coordinates(model.dataset)
    return {"unconditional_l2": float(np.mean(trajectory_l2(free, reference))),
            "region_agreement": region_agreement(generated, reference, fields, grid),
            "region_agreement_unconditional": region_agreement(free, reference, fields, grid)}


@EVALUATORS.register("reconstruction")
class ReconstructionEvaluator(Evaluator):
    name = "reconstruction"
    headline = "trajectory_l2"
    description = "an autoencoder's reconstruction of the test trajectories (per field, per frame)"
    options = {"seed": 0}

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        from pdesuite.validation.plots import plot_curves

        split = "test" if "test" in surrogate.available_splits else surrogate.available_splits[-1]
        reference, reconstruction = surrogate.reconstruct(split)
        metrics = {"split": split, "samples": len(reference), "latent_shape": list(surrogate.latent_shape),
                   "compression": float(np.prod(surrogate.sample_shape) / np.prod(surrogate.latent_shape)),
                   **trajectory_metrics(reconstruction, reference, surrogate.fields, _spacing(surrogate.dataset))}
        output.mkdir(parents=True, exist_ok=True)
        figures = []
        frames = np.arange(reference.shape[1])
        plot_curves({"reconstruction": (frames, np.asarray(metrics["frame_l2"]))}, output / "frame_error.png",
                    "frame", "relative L2", "autoencoder reconstruction error per frame")
        figures.append("frame_error.png")
        if not surrogate.mesh:
            plot_frame_strip(reference, reconstruction, output / "frames.png", label="reconstructed",
                             title="autoencoder: reference (top) and reconstruction (bottom), smoke density")
            figures.append("frames.png")
            sample = save_trajectory_sample(output, reference[0], reconstruction[0], surrogate.fields,
                                            grid=grid_coordinates(surrogate.dataset), label="reconstructed")
            figures += [sample] if sample else []
        summary = (f"reconstruction relative L2 {metrics['trajectory_l2']:.4f} on {len(reference)} {split} "
                   f"trajectories ({metrics['compression']:.0f}x compression)")
        return Evaluation(metrics, figures, summary, run.provenance())


@EVALUATORS.register("trajectory-generation")
class GenerationEvaluator(Evaluator):
    name = "trajectory-generation"
    headline = "trajectory_l2"
    description = "generated whole trajectories against the reference: relative L2, per frame, physics, text"
    options = {"seed": 0, "sampler": None, "nfe": None, "guidance": None, "samples": 0}

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        import torch

        from pdesuite.validation.plots import plot_curves

        o = self.settings
        split = "test" if "test" in surrogate.available_splits else surrogate.available_splits[-1]
        ae = surrogate.autoencoder
        reference = ae.split_arrays(split)["u"]
        rows = np.arange(len(reference) if not o["samples"] else min(int(o["samples"]), len(reference)))
        reference = reference[rows]
        options = {"sampler": o["sampler"], "nfe": o["nfe"], "guidance": o["guidance"]}
        sampler = surrogate.sampler(o["sampler"], o["nfe"])  # bad sampler or NFE: one line before any work
        start = time.perf_counter()
        generated = surrogate.generate(split, rows, generator=torch.Generator().manual_seed(int(o["seed"])), **options)
        seconds = time.perf_counter() - start
        spacing = _spacing(surrogate.dataset)
        metrics: dict[str, Any] = {
            "split": split, "samples": len(rows), "conditioning": surrogate.config["conditioning"],
            "sampler": sampler.name(), "nfe": sampler.steps,
            "guidance": surrogate.config["guidance"] if o["guidance"] is None else float(o["guidance"]),
            "seconds_per_trajectory": seconds / max(len(rows), 1),
            **trajectory_metrics(generated, reference, ae.fields, spacing),
        }
        reconstruction = ae.decode_array(surrogate.latents(split)["x0"][rows])
        metrics["autoencoder_l2"] = float(np.mean(trajectory_l2(reconstruction, reference)))
        if surrogate.config["conditioning"] == "text":
            # the same noise without the prompt: does the text move samples towards their references?
            effect = without_prompt(surrogate, split, rows, generated, reference, int(o["seed"]),
                                    sampler=o["sampler"], nfe=o["nfe"])
            metrics["unconditional_l2"] = effect["unconditional_l2"]
            metrics["text_gain"] = metrics["unconditional_l2"] / max(metrics["trajectory_l2"], 1e-30)
            if effect["region_agreement"] is not None:
                metrics["region_agreement"] = effect["region_agreement"]
                metrics["region_agreement_unconditional"] = effect["region_agreement_unconditional"]
        output.mkdir(parents=True, exist_ok=True)
        frames = np.arange(reference.shape[1])
        plot_curves({f"{metrics['conditioning']} ({metrics['sampler']}, {metrics['nfe']} NFE)":
                     (frames, np.asarray(metrics["frame_l2"])),
                     "autoencoder alone": (frames, frame_l2(reconstruction, reference).mean(axis=0))},
                    output / "frame_error.png", "frame", "relative L2", "generated trajectories: error per frame")
        figures = ["frame_error.png"]
        if reference.ndim == 5:
            plot_frame_strip(reference, generated, output / "frames.png",
                             title=f"text2pde ({metrics['conditioning']}): reference (top) and generated (bottom)")
            figures.append("frames.png")
        sample = save_trajectory_sample(output, reference[0], generated[0], ae.fields,
                                        grid=grid_coordinates(surrogate.dataset), label="generated")
        figures += [sample] if sample else []
        summary = (f"trajectory relative L2 {metrics['trajectory_l2']:.4f} (frame 1 {metrics['frame1_l2']:.3f}, "
                   f"last {metrics['last_frame_l2']:.3f}) on {len(rows)} {split} trajectories, "
                   f"{metrics['conditioning']} conditioning, {metrics['sampler']} {metrics['nfe']} NFE")
        if "text_gain" in metrics:
            summary += f"; without the prompt {metrics['unconditional_l2']:.4f}"
        return Evaluation(metrics, figures, summary, run.provenance())


#: The samplers and NFE budgets of the NFE study (Text2PDE samples with 1000-step DDPM).
STUDY_SAMPLERS = ("ddpm", "ddim", "dpm-solver++", "unipc", "plms-hb", "dpm-solver++-hb")
STUDY_NFES = (5, 10, 15, 20, 25, 40, 50)


def nfe_study(surrogate, split: str = "test", rows=None, samplers=STUDY_SAMPLERS, nfes=STUDY_NFES,
              reference: tuple[str, int] = ("ddpm", 1000), seed: int = 0, tolerance: float = 0.01,
              progress=None) -> dict[str, Any]:
    """Trajectory error against NFE for each sampler, and the fewest NFE within ``tolerance`` (relative)
    of the ``reference`` sampler's error (Text2PDE's 1000-step DDPM), all from the same initial noise.

    Returns {"reference": {sampler, nfe, trajectory_l2}, "curves": {sampler: {nfe: error}},
    "needed": {sampler: fewest NFE within tolerance or None}, "target": the error bound,
    "converged": {sampler: fewest NFE within tolerance of the sampler's own error at the largest NFE}}
    (a deterministic sampler converges to the probability-flow ODE's sample, whose error need not be
    the ancestral DDPM sampler's: "converged" says when a sampler stops changing, "needed" when it is as
    accurate as DDPM-1000).
    """
    import torch

    reference_u = surrogate.autoencoder.split_arrays(split)["u"]
    rows = np.arange(len(reference_u)) if rows is None else np.asarray(rows)
    reference_u = reference_u[rows]

    def error(name: str, nfe: int) -> float:
        generated = surrogate.generate(split, rows, sampler=name, nfe=nfe,
                                       generator=torch.Generator().manual_seed(seed))
        return float(np.mean(trajectory_l2(generated, reference_u)))

    name, steps = reference
    base = error(name, steps)
    target = base * (1.0 + tolerance)
    curves: dict[str, dict[int, float]] = {}
    needed: dict[str, int | None] = {}
    for sampler in samplers:
        curves[sampler] = {}
        needed[sampler] = None
        for nfe in sorted(nfes):
            curves[sampler][nfe] = error(sampler, nfe)
            if progress is not None:
                progress(sampler, nfe, curves[sampler][nfe])
            if needed[sampler] is None and curves[sampler][nfe] <= target:
                needed[sampler] = nfe
    converged = {}
    for sampler, curve in curves.items():
        final = curve[max(curve)]
        converged[sampler] = min(n for n, e in curve.items() if abs(e - final) <= tolerance * final)
    return {"reference": {"sampler": name, "nfe": steps, "trajectory_l2": base}, "curves": curves,
            "needed": needed, "converged": converged, "target": target, "tolerance": tolerance,
            "samples": len(rows)}


def sample_run(run_dir, output, prompts: list[str] | None = None, split: str = "test", count: int | None = None,
               sampler: str | None = None, nfe: int | None = None, guidance: float | None = None, seed: int = 0,
               overwrite: bool = False) -> tuple[Path, int]:
    """`pdesuite sample`: trajectories generated by a trained ``text2pde`` run into the HDF5 file
    ``output`` (``u`` (n, T, *space, F) float32, the prompts or the split rows that conditioned them,
    and the run, sampler and seed as attributes), written atomically. Returns (path, n)."""
    import datetime
    import json

    import h5py
    import torch

    from pdesuite import __version__
    from pdesuite.errors import BadInput
    from pdesuite.io import RunFolder, check_output_path, write_atomic
    from pdesuite.validation.validate import load_trained

    path = check_output_path(output, overwrite)
    config = RunFolder(run_dir).read_config()
    if config.get("surrogate") != "text2pde":
        raise BadInput(f"pdesuite sample generates with text2pde runs; {run_dir} is a {config.get('surrogate')!r} run")
    if count is not None and count < 1:
        raise BadInput(f"--count must be a positive integer, got {count}")
    if prompts is not None and count is not None:
        raise BadInput("give prompts or --count, not both (one trajectory is generated per prompt)")
    surrogate, trained = load_trained(run_dir, config)
    chosen = surrogate.sampler(sampler, nfe)
    generator = torch.Generator().manual_seed(int(seed))
    rows = None
    if prompts is not None:
        generated = surrogate.generate(split, prompts=list(prompts), sampler=sampler, nfe=nfe, guidance=guidance,
                                       generator=generator)
    else:
        n = len(surrogate.latents(split)["x0"])
        rows = np.arange(n if count is None else min(count, n))
        generated = surrogate.generate(split, rows, sampler=sampler, nfe=nfe, guidance=guidance, generator=generator)
        if surrogate.config["conditioning"] == "text":
            prompts = [surrogate.latents(split)["prompts"][i] for i in rows]

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"format": "pdesuite-samples", "pdesuite_version": __version__,
                            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                            "run": str(Path(run_dir).resolve()), "weights": trained.weights.name,
                            "step": -1 if trained.step is None else int(trained.step),
                            "conditioning": surrogate.config["conditioning"], "sampler": json.dumps(chosen.config()),
                            "seed": int(seed), "fields": json.dumps(list(surrogate.autoencoder.fields)),
                            "dataset": str(surrogate.dataset)})
            f.create_dataset("u", data=generated.astype(np.float32), compression="gzip")
            if prompts is not None:
                f.create_dataset("prompt", data=np.array(prompts, dtype=object), dtype=h5py.string_dtype())
            if rows is not None:
                f.create_dataset("rows", data=rows)
                f["rows"].attrs["split"] = split

    write_atomic(path, write)
    return path, len(generated)


def score_runs(folders: dict[str, Path], split: str = "test", seed: int = 0) -> dict[str, dict]:
    """Trained whole-trajectory models side by side on the same trajectories of ``split``, with one
    metric (`trajectory_metrics`): ``text2pde`` runs generate (seed ``seed``; a text model also without
    its prompt: ``unconditional``), autoregressive runs (``unet-mse``, ``fno``, ...) roll out from the
    first frame. Adds the network's parameter count (the autoencoder's separately) and the seconds
    per trajectory on this machine. ``folders``: name -> run folder."""
    import torch

    from pdesuite.nn.dit import count_parameters
    from pdesuite.validation.validate import load_trained

    results = {}
    for name, folder in folders.items():
        model, _ = load_trained(folder)
        extra: dict[str, Any] = {}
        start = time.perf_counter()
        if model.name == "text2pde":
            reference = model.autoencoder.split_arrays(split)["u"]
            fields = list(model.autoencoder.fields)
            prediction = model.generate(split, generator=torch.Generator().manual_seed(seed))
            seconds = time.perf_counter() - start
            extra["autoencoder_parameters"] = count_parameters(model.autoencoder.net)
            extra["conditioning"] = model.config["conditioning"]
            if model.config["conditioning"] == "text":
                effect = without_prompt(model, split, None, prediction, reference, seed)
                extra["unconditional"] = effect.pop("unconditional_l2")
                extra.update(effect)
        else:
            prediction = model.rollout_split(split)
            seconds = time.perf_counter() - start
            reference = model.trajectories(split)["u"][:, :: model.time_step]
            fields = list(model.fields)
        spacing = _spacing(model.dataset if model.name == "text2pde" else model.task.dataset)
        # complex (spectral) weights count as two real numbers (the FNO's parameter_count)
        parameters = getattr(model, "parameter_count", None) or count_parameters(model.net)
        results[name] = {**trajectory_metrics(prediction, reference, fields, spacing), **extra,
                         "parameters": int(parameters), "seconds_per_trajectory": seconds / len(reference)}
    return results
