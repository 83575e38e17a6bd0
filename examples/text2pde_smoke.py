"""Text2PDE on buoyant smoke: latent diffusion of whole trajectories against autoregressive baselines.

    ∂u/∂t + (u·∇)u = -∇p + ν Δu + (0, b s),  ∇·u = 0,  ∂s/∂t + u·∇s = 0   (closed 32 × 32 box, ν = 0.01)

Data: `pdesuite generate smoke --profile small` (300 / 30 / 30 trajectories, 32², 16 frames of s, vx, vy;
each with a prompt written from its buoyancy and where its smoke starts and goes). Per seed:

1. `trajectory-ae`: a convolutional VAE compresses a whole trajectory (16 × 32 × 32 × 3 = 49,152 numbers)
   to an 8 × 4 × 8 × 8 latent (24× fewer), trained alone; its reconstruction error is the floor of
   everything generated through it.
2. `text2pde` (first-frame): a DiT (~1.1 M parameters) generates the latent of the whole trajectory
   conditioned on the latent of the first frame; the decoder returns all 16 frames at once.
3. `text2pde` (text): the same DiT conditioned on the prompt's sentence embedding (frozen MiniLM), no
   first frame at all; classifier-free guidance weight 1 (the plain conditional model).
4. `unet-mse` and `fno` (the `neuraloperator` package): one-step models of about the same parameter
   count, rolled out autoregressively from the same first frame.

All are scored on the same test trajectories with the same metric: relative L2 over the whole
trajectory (Text2PDE's metric), the error at frame 1 and at the last frame (late-time growth), the
time to produce one trajectory on this machine. Then the NFE study on the first-frame model: the
trajectory error of DDIM, DPM-Solver++(2M), UniPC and the heavy-ball samplers against NFE, and the
fewest NFE within 1 % of 1000-step DDPM's error (Text2PDE samples with 1000-step DDPM).

The claim (Text2PDE): at equal model size the latent model matches or beats the autoregressive
baselines on whole-trajectory relative L2 with no late-time error growth; text conditioning works
without a first frame (its error is below the unconditional model's on the same noise).

    .venv/bin/python examples/text2pde_smoke.py --out examples-output/text2pde [--seeds 0 1 2] [--jobs 2]
        [--profile small] [--samples N] [--ae-steps N] [--dit-steps N] [--baseline-steps N] [--no-nfe]

Writes OUT/results.json, OUT/table.md (with the exact commands) and OUT/frame_error.png; finished runs
are reused.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _runs import generate_once, train_once

from pdesuite.validation.generation import score_runs
from pdesuite.validation.tables import markdown, mean_std

MODELS = ("text2pde first-frame", "text2pde text", "unet-mse", "fno")


def train_all(out: Path, data: Path, seeds: list[int], profile: str, steps: dict[str, int | None], jobs: int,
              commands: dict[int, list[str]]) -> dict[int, dict[str, Path]]:
    """Train (or reuse) every run: the seeds' autoencoders first, then their four models, ``jobs`` at a
    time (threads; each training uses one core). Returns {seed: {model: run folder}}."""
    def common(seed: int) -> list[str]:
        return ["--data", str(data), "--profile", profile, "--seed", str(seed), "--device", "cpu", "-q"]

    def budget(kind: str) -> list[str]:
        return ["--steps", str(steps[kind])] if steps.get(kind) else []

    folders = {seed: {"autoencoder": out / f"s{seed}" / "autoencoder"} for seed in seeds}
    first = {seed: ["train", "trajectory-ae", "-o", str(folders[seed]["autoencoder"]), *common(seed), *budget("ae")]
             for seed in seeds}
    then = {}
    for seed in seeds:
        for conditioning in ("first-frame", "text"):
            folder = folders[seed][f"text2pde {conditioning}"] = out / f"s{seed}" / f"text2pde-{conditioning}"
            then[seed, conditioning] = ["train", "text2pde", "-o", str(folder), *common(seed), *budget("dit"),
                                        "--set", f"autoencoder={folders[seed]['autoencoder']}",
                                        "--set", f"conditioning={conditioning}"]
        for baseline in ("unet-mse", "fno"):
            folder = folders[seed][baseline] = out / f"s{seed}" / baseline
            then[seed, baseline] = ["train", baseline, "-o", str(folder), *common(seed), *budget("baseline")]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for phase in (first, then):
            futures = [pool.submit(train_once, Path(argv[argv.index("-o") + 1]), argv, commands[key if key in commands
                                                                                              else key[0]])
                       for key, argv in phase.items()]
            for future in futures:
                future.result()
    return folders


def nfe_table(folder: Path, out: Path) -> dict:
    """The NFE study of one first-frame model (`pdesuite.validation.generation.nfe_study`)."""
    from pdesuite.validation.generation import nfe_study
    from pdesuite.validation.validate import load_trained

    target = out / "nfe.json"
    if target.exists():
        return json.loads(target.read_text())
    model, _ = load_trained(folder)
    study = nfe_study(model, "test", progress=lambda s, n, e: print(f"  {s:16s} NFE {n:3d}: {e:.4f}", flush=True))
    target.write_text(json.dumps(study, indent=2))
    return json.loads(target.read_text())  # NFE keys as strings, as a reused file has them


def guidance_table(folder: Path, out: Path, weights=(0.0, 1.0, 2.0, 4.0)) -> dict:
    """One text model's test error and region agreement against the classifier-free guidance weight w
    (0: the unconditional model, 1: the plain conditional one)."""
    import torch

    from pdesuite.validation.generation import grid_coordinates, region_agreement, trajectory_l2
    from pdesuite.validation.validate import load_trained

    target = out / "guidance.json"
    if target.exists():
        return json.loads(target.read_text())
    model, _ = load_trained(folder)
    reference = model.autoencoder.split_arrays("test")["u"]
    grid, fields = grid_coordinates(model.dataset), list(model.autoencoder.fields)
    rows = {}
    for w in weights:
        generated = model.generate("test", generator=torch.Generator().manual_seed(0), guidance=w)
        rows[str(w)] = {"trajectory_l2": float(np.mean(trajectory_l2(generated, reference))),
                        "region_agreement": region_agreement(generated, reference, fields, grid)}
    target.write_text(json.dumps(rows, indent=2))
    return rows


def plot_frame_errors(scores: dict, path: Path) -> Path:
    """Per-frame relative L2 of every model, mean over seeds (``scores``: {seed: {model: metrics}})."""
    from pdesuite.validation.plots import plot_curves

    curves = {}
    for name in MODELS:
        runs = np.array([scores[seed][name]["frame_l2"] for seed in scores])
        curves[f"{name} ({runs.mean(axis=0).mean():.3f})"] = (np.arange(runs.shape[1]), runs.mean(axis=0))
    return plot_curves(curves, path, "frame", "relative L2 (mean over seeds)",
                       "smoke test trajectories: error per frame (legend: mean over frames)")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/text2pde"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="small", help="dataset and training profile (default small)")
    parser.add_argument("--samples", type=int, help="training trajectories (default: the profile's 300)")
    parser.add_argument("--ae-steps", type=int, help="autoencoder steps (default: the profile's)")
    parser.add_argument("--dit-steps", type=int, help="DiT steps (default: the profile's)")
    parser.add_argument("--baseline-steps", type=int, help="U-Net and FNO steps (default: the profile's)")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (one core each)")
    parser.add_argument("--no-nfe", action="store_true", help="skip the NFE study")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "smoke.h5"
    shared: list[str] = []
    generate_once(data, ["generate", "smoke", "--profile", args.profile, "-o", str(data), "-q",
                         *(["--samples", str(args.samples)] if args.samples else [])], shared)
    steps = {"ae": args.ae_steps, "dit": args.dit_steps, "baseline": args.baseline_steps}
    commands = {seed: [] for seed in args.seeds}
    folders = train_all(args.out, data, args.seeds, args.profile, steps, args.jobs, commands)
    scores = {seed: score_runs({name: folders[seed][name] for name in MODELS}) for seed in args.seeds}

    rows = []
    for name in MODELS:
        runs = [scores[seed][name] for seed in args.seeds]

        def col(key, runs=runs):
            return [r[key] for r in runs]

        rows.append([name, runs[0]["parameters"], mean_std(col("trajectory_l2"), ".4f"),
                     mean_std(col("frame1_l2"), ".3f"), mean_std(col("last_frame_l2"), ".3f"),
                     mean_std(col("late_growth"), ".2f"),
                     mean_std([r["divergence"]["generated"] for r in runs], ".3f") if "divergence" in runs[0] else "-",
                     mean_std([r["mass_drift"]["generated"] for r in runs], ".3f") if "mass_drift" in runs[0] else "-",
                     mean_std(np.array(col("seconds_per_trajectory")) * 1e3, ".1f")])
    reference = scores[args.seeds[0]]["unet-mse"]
    rows.append(["reference solver", "-", "0", "0", "0", "-", f"{reference['divergence']['reference']:.3f}",
                 f"{reference['mass_drift']['reference']:.3f}", "-"])
    header = ["model", "parameters", "trajectory rel. L2", "frame 1", "last frame", "last / frame 1",
              "divergence (rms·h/|v|)", "smoke mass drift", "ms per trajectory"]
    text = markdown(header, rows)
    ae = [scores[seed]["text2pde first-frame"] for seed in args.seeds]
    text_runs = [scores[seed]["text2pde text"] for seed in args.seeds]
    notes = [f"autoencoder parameters {ae[0]['autoencoder_parameters']}; text model without its prompt (same noise): "
             f"{mean_std([r['unconditional'] for r in text_runs], '.4f')} against "
             f"{mean_std([r['trajectory_l2'] for r in text_runs], '.4f')} with it"]
    agree = [r["region_agreement"] for r in text_runs]
    free = [r["region_agreement_unconditional"] for r in text_runs]
    def both(runs: list[dict]) -> str:
        return " / ".join(mean_std([a[k] for a in runs], ".2f") for k in ("first_frame", "last_frame"))

    notes.append(f"densest smoke in the reference's ninth of the box, first / last frame: text model {both(agree)}, "
                 f"without its prompt {both(free)}")
    guidance = guidance_table(folders[args.seeds[0]]["text2pde text"], args.out / f"s{args.seeds[0]}")
    text += ("\n\nClassifier-free guidance (seed " + str(args.seeds[0]) + ", text model, 25 NFE):\n\n"
             + markdown(["w", "trajectory rel. L2", "region agreement first / last frame"],
                        [[w, f"{g['trajectory_l2']:.4f}", f"{g['region_agreement']['first_frame']:.2f} / "
                          f"{g['region_agreement']['last_frame']:.2f}"] for w, g in guidance.items()]))
    result = {"seeds": args.seeds, "scores": {str(s): v for s, v in scores.items()}, "guidance": guidance}
    if not args.no_nfe:
        study = nfe_table(folders[args.seeds[0]]["text2pde first-frame"], args.out / f"s{args.seeds[0]}")
        nfes = sorted({int(n) for curve in study["curves"].values() for n in curve})
        nfe_rows = [[s, *(f"{study['curves'][s][str(n)]:.4f}" for n in nfes),
                     study["needed"][s] or f"> {nfes[-1]}", study["converged"][s]] for s in study["curves"]]
        nfe_text = markdown(["sampler", *(f"NFE {n}" for n in nfes), "NFE within 1 % of DDPM-1000",
                             f"NFE within 1 % of its own at {nfes[-1]}"], nfe_rows)
        text += (f"\n\nNFE study (seed {args.seeds[0]}, first-frame model, {study['samples']} test trajectories; "
                 f"DDPM 1000 steps: {study['reference']['trajectory_l2']:.4f}):\n\n{nfe_text}")
        result["nfe"] = study
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    plot_frame_errors(scores, args.out / "frame_error.png")
    listed = [f"    {cmd}" for cmd in shared] + [f"    {cmd}" for seed in args.seeds for cmd in commands[seed]]
    (args.out / "table.md").write_text(f"{text}\n\n" + "\n\n".join(notes) + "\n\ncommands:\n\n" + "\n".join(listed)
                                       + "\n")
    print(text, *notes, "commands:", *listed, sep="\n")
    return result


if __name__ == "__main__":
    main()
