"""The trainer: configuration, seeds, optimiser phases, logging, validation, checkpoints, resume, DDP.

Run folder (docs/training.md):
    config.json     everything needed to rebuild the surrogate and continue training
    checkpoint.pt   latest state: weights, optimiser, scheduler, step, phase, every RNG state
    best.pt         weights with the lowest validation error so far
    log.jsonl       one JSON line per logged step

Determinism: all randomness (initial weights, collocation points) comes from generators seeded by
``seed`` and saved in checkpoints, so an interrupted run resumed with ``--resume`` ends with the
same weights as an uninterrupted one (tested, bitwise on CPU).

Data-parallel training: under ``torchrun --nproc-per-node N``, each rank evaluates its share of the
same collocation points (or of the same minibatch, for data-driven surrogates) and gradients are
averaged with an all-reduce (gloo on CPU, NCCL on GPU). The gradient is then that of the full loss,
so N processes follow the single-process run to floating-point round-off (tested). (The all-reduce
is explicit because PINN losses differentiate through input gradients, which DistributedDataParallel's
reducer does not handle.)
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pdesuite.errors import BadInput, SolverError
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.task import Task


class TrainingError(SolverError):
    """Training diverged (NaN or exploding loss); the last good checkpoint is kept."""


class Interrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM ended training at a step boundary, after a checkpoint there (``signum``: which)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _StopRequests:
    """Turns SIGINT/SIGTERM during training into a request to stop at the next step boundary.

    The step in flight finishes and is checkpointed, so ``--resume`` continues exactly as after an
    uninterrupted run (raising KeyboardInterrupt inside a step would checkpoint half of it). A second
    signal stops at once, keeping the last periodic checkpoint. Only the main thread can own signal
    handlers; elsewhere (a test's worker thread) signals keep their previous meaning.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: str) -> torch.device:
    if device not in ("auto", "cpu", "cuda"):
        raise BadInput(f"--device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda requested but no CUDA device is available")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _atomic_json(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def cpu_threads() -> int:
    """torch intra-op threads for CPU work: 1, or PDESUITE_THREADS (two threads on a loaded 2-core
    machine made a PINN step 25x slower)."""
    return int(os.environ.get("PDESUITE_THREADS", "1"))


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def set_float32_precision(tf32: bool) -> None:
    """float32 matrix products and convolutions on the GPU: full precision, or TF32 (10-bit mantissa)
    where ``tf32``. Set explicitly both ways: cuDNN convolutions default to TF32, which cannot
    represent PDE-Refiner's smallest noise level (std 6.3e-4) next to an O(1) signal."""
    torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
    torch.backends.cudnn.allow_tf32 = bool(tf32)


def build(config: dict) -> tuple[Any, Task]:
    """Rebuild task and surrogate from a run's config.json content."""
    set_float32_precision(config.get("tf32", False))
    cls = SURROGATES.get(config["surrogate"])
    settings = config["settings"]
    task = Task.from_dataset(config["data"], split=settings["split"], index=settings["index"],
                             physics=getattr(cls, "physics", True))
    torch.manual_seed(config["seed"])
    surrogate = cls(task, **settings)
    return surrogate.to(device=resolve_device(config["device"]), dtype=DTYPES[config["dtype"]]), task


def make_config(name: str, data: str | os.PathLike, profile: str = "small", steps: int | None = None,
                device: str = "auto", seed: int = 0, dtype: str = "float32", amp: bool = False,
                overrides: dict[str, str] | None = None, tf32: bool = False, compile: bool = False) -> dict:
    """The run configuration: surrogate defaults, then profile, then --steps, then --set.

    ``amp`` (bfloat16 autocast of the loss), ``tf32`` (TF32 matrix products and convolutions) and
    ``compile`` (`torch.compile` of the surrogate's networks) are GPU speed settings; each changes the
    arithmetic, so each is recorded in the configuration and kept on --resume.
    """
    from pdesuite.data.reader import open_dataset
    from pdesuite.recipes.base import _coerce

    cls = SURROGATES.get(name)
    if dtype not in DTYPES:
        raise BadInput(f"--dtype must be float32 or float64, got {dtype!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"--seed must be a non-negative integer, got {seed!r}")
    resolve_device(device)
    meta = open_dataset(data)
    settings = {**cls.all_defaults(), **cls.profile(profile, meta.attrs.get("problem"))}
    if steps is not None:
        if isinstance(steps, bool) or int(steps) != steps or steps < 1:
            raise BadInput(f"--steps must be a positive integer, got {steps}")
        settings["adam_steps"] = int(steps)
    if "epochs" in settings and (steps is not None or "adam_steps" in (overrides or {})):
        settings["epochs"] = 0  # an explicit step count replaces a budget in epochs
    for key, text in (overrides or {}).items():
        if key not in settings:
            raise BadInput(f"unknown setting {key!r} for {name} (known: {', '.join(sorted(settings))})")
        settings[key] = _coerce(key, text, settings[key])
    cls.resolve_config(settings)
    return {"surrogate": name, "data": str(Path(data).resolve()), "profile": profile, "seed": seed,
            "device": device, "dtype": dtype, "amp": bool(amp), "tf32": bool(tf32), "compile": bool(compile),
            "settings": settings,
            "dataset_provenance": {k: meta.attrs.get(k) for k in ("dataset", "problem", "seed", "created", "params")}}


def record_command(run_dir: str | os.PathLike, command: list[str]) -> None:
    """For scripts that reuse finished runs (examples/): record the command that makes ``run_dir``
    (in run_dir/command.json), and refuse a folder that another command made, so that a table is
    never filled with numbers from other settings."""
    run_dir = Path(run_dir)
    record = run_dir / "command.json"
    if record.exists() and json.loads(record.read_text()) != list(command):
        raise BadInput(f"{run_dir} holds a run made with other settings; choose another output folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_json(list(command), record)


def _rng_state(generator: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "collocation": generator.get_state()}


def _set_rng_state(state: dict, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    generator.set_state(state["collocation"])


def train(run_dir: str | os.PathLike, config: dict | None = None, resume: bool = False, progress: bool = True,
          stop_at: int | None = None, time_limit: float | None = None, warmup_steps: int = 0) -> dict:
    """Train into ``run_dir`` (new: ``config`` from `make_config`; ``resume``: continue from checkpoint).

    ``stop_at`` ends the run after that many steps in total (as an interruption would; used by tests).
    ``time_limit`` (seconds of this call) ends it at the first step boundary past that time, with a
    checkpoint there, so ``--resume`` continues exactly; its clock starts after ``warmup_steps`` steps
    (compilation, autotuning: throughput probes). SIGINT/SIGTERM also stop at a step boundary
    (checkpoint, then `Interrupted`). Returns a summary (steps, final loss, best validation error,
    and ``stopped``: why it ended before the planned steps, or None).
    """
    if time_limit is not None and not time_limit > 0:
        raise BadInput(f"--time-limit must be a positive number of seconds, got {time_limit}")
    from tqdm.auto import tqdm

    run_dir = Path(run_dir)
    rank, world = _distributed()
    if resume:
        if not (run_dir / "config.json").is_file() or not (run_dir / "checkpoint.pt").is_file():
            raise BadInput(f"nothing to resume in {run_dir} (needs config.json and checkpoint.pt)")
        config = json.loads((run_dir / "config.json").read_text())
    else:
        if config is None:
            raise ValueError("train() needs a config unless resuming")
        if (run_dir / "checkpoint.pt").exists():
            raise BadInput(f"{run_dir} already holds a run; use --resume to continue it or another -o folder")
        build(config)  # a surrogate/dataset mismatch is reported before anything is written
        if rank == 0:
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
                _atomic_json(config, run_dir / "config.json")
            except OSError as exc:
                raise BadInput(f"cannot write the run folder {run_dir}: {exc.strerror}") from None
    settings = config["settings"]
    for key in ("n_collocation", "batch_size"):  # every rank takes an equal share
        if settings.get(key, world) % world:
            raise BadInput(f"{key} ({settings[key]}) must be divisible by the {world} processes")

    if resolve_device(config["device"]).type == "cpu":
        # coordinate networks are small: intra-op threads mostly contend (measured 25x slower steps
        # with 2 threads on a loaded 2-core machine); PDESUITE_THREADS raises it
        torch.set_num_threads(cpu_threads())
    for module in (random, np.random):
        module.seed(config["seed"])
    surrogate, task = build(config)
    if config.get("compile"):
        surrogate.compile_networks()
    settings = surrogate.config  # the settings with defaults filled in (and derived ones, e.g. epochs -> steps)
    metric = surrogate.validation_metric
    generator = torch.Generator().manual_seed(config["seed"] + 1)
    device = surrogate.device
    use_amp = config.get("amp", False) and device.type == "cuda"

    phases = [("adam", int(settings["adam_steps"])), ("lbfgs", int(settings["lbfgs_steps"]))]
    total = sum(n for _, n in phases)
    state = {"step": 0, "best": math.inf, "first_loss": None}
    optimizer = scheduler = None

    def make_optimizer(phase: str):
        if phase == "adam":
            opt = torch.optim.Adam(surrogate.parameters(), lr=settings["lr"])
            n = max(1, phases[0][1])
            floor = settings.get("min_lr", 0.0) / settings["lr"] if settings["lr"] else 0.0
            schedules = {
                "constant": lambda s: 1.0,
                "cosine": lambda s: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(s, n) / n)),
                "exponential": lambda s: 0.1 ** (min(s, n) / n),
            }
            if settings["schedule"] not in schedules:
                raise BadInput(f"unknown schedule {settings['schedule']!r} (known: {', '.join(schedules)})")
            return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedules[settings["schedule"]])
        surrogate.fix_collocation()
        # one iteration per trainer step; max_eval must be given: its default (max_iter * 5 // 4 = 1)
        # leaves the strong-Wolfe line search no evaluation after its first trial, so one rejected
        # trial step returned t = 0 and L-BFGS stalled for good (seen on PIG Helmholtz)
        return torch.optim.LBFGS(surrogate.parameters(), lr=settings["lbfgs_lr"], max_iter=1, max_eval=25,
                                 history_size=50, line_search_fn="strong_wolfe"), None

    def phase_of(step: int) -> str:
        return "adam" if step < phases[0][1] else "lbfgs"

    if resume:
        checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=False, map_location=device)
        surrogate.load_state_dict(checkpoint["model"])
        state.update(checkpoint["state"])
        if state["step"] < total:
            optimizer, scheduler = make_optimizer(phase_of(state["step"]))
            if checkpoint["phase"] == phase_of(state["step"]):
                optimizer.load_state_dict(checkpoint["optimizer"])
                if scheduler is not None and checkpoint["scheduler"] is not None:
                    scheduler.load_state_dict(checkpoint["scheduler"])
        _set_rng_state(checkpoint["rng"], generator)
        if rank == 0:
            _truncate_log(run_dir / "log.jsonl", state["step"])

    def save_checkpoint() -> None:
        if rank != 0:
            return
        _atomic_save({"model": surrogate.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
                      "scheduler": scheduler.state_dict() if scheduler else None, "phase": phase_of(state["step"] - 1)
                      if state["step"] else "adam", "state": dict(state), "rng": _rng_state(generator)},
                     run_dir / "checkpoint.pt")

    def validate() -> float:
        error = surrogate.validation_error()
        if error < state["best"] and rank == 0:
            state["best"] = error
            _atomic_save({"model": surrogate.state_dict(), "step": state["step"], metric: error,
                          "validation_metric": metric}, run_dir / "best.pt")
        return error

    def all_reduce_gradients() -> None:
        if world > 1:
            import torch.distributed as dist

            for p in surrogate.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= world

    def evaluate() -> dict[str, torch.Tensor]:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            terms = surrogate.loss(generator, shard=(rank, world))
        terms["loss"].backward()
        all_reduce_gradients()
        if world > 1:  # the global loss, so L-BFGS's line search is the same on every rank
            import torch.distributed as dist

            terms = {k: v.detach().clone() for k, v in terms.items()}
            for value in terms.values():
                dist.all_reduce(value)
                value /= world
        if settings["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(surrogate.parameters(), settings["grad_clip"])
        return terms

    def stop_requested(stop: _StopRequests) -> str | None:
        """Why to end after this step (a signal, the time limit), the same answer on every rank."""
        if clock["limit_from"] is None and state["step"] >= first_step + warmup_steps:
            clock["limit_from"] = time.perf_counter()
        over = time_limit is not None and clock["limit_from"] is not None and \
            time.perf_counter() - clock["limit_from"] >= time_limit
        wanted = [stop.signum or 0, int(over)]
        if world > 1:
            import torch.distributed as dist

            flags = torch.tensor(wanted, dtype=torch.int64)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            wanted = flags.tolist()
            stop.signum = stop.signum or int(wanted[0]) or None
        if wanted[0]:
            return "signal"
        return "time limit" if wanted[1] else None

    log = open(run_dir / "log.jsonl", "a") if rank == 0 else None  # noqa: SIM115 - closed in finally
    bar = tqdm(total=total, initial=state["step"], desc=f"train {config['surrogate']}", unit="step",
               disable=not progress or rank != 0)
    started = time.perf_counter()
    first_step = state["step"]
    clock = {"limit_from": started if warmup_steps == 0 else None}
    last_terms: dict[str, float] = {}
    stopped = None
    stop = _StopRequests()
    try:
        stop.__enter__()
        while state["step"] < total and (stop_at is None or state["step"] < stop_at):
            phase = phase_of(state["step"])
            if optimizer is None or (phase == "lbfgs" and isinstance(optimizer, torch.optim.Adam)):
                optimizer, scheduler = make_optimizer(phase)
            if phase == "adam":
                terms = evaluate()
                optimizer.step()
                scheduler.step()
            else:
                captured: dict = {}

                def closure(captured=captured):
                    captured.update(evaluate())
                    return captured["loss"]

                optimizer.step(closure)
                terms = captured
            surrogate.after_step()
            loss = float(terms["loss"].detach())
            state["step"] += 1
            if state["first_loss"] is None:
                state["first_loss"] = loss
            if not math.isfinite(loss) or loss > settings["explode_factor"] * max(state["first_loss"], 1e-30):
                raise TrainingError(f"training diverged at step {state['step']} (loss {loss:.3g}); the last good "
                                    f"checkpoint is kept in {run_dir} (lower the learning rate or clip gradients)")
            last_terms = {k: float(v.detach()) for k, v in terms.items()}
            bar.update()
            bar.set_postfix(loss=f"{loss:.3e}", refresh=False)
            step = state["step"]
            record = None
            if step % settings["log_every"] == 0 or step == total:
                elapsed = time.perf_counter() - started
                record = {"step": step, "phase": phase, **last_terms,
                          "lr": optimizer.param_groups[0]["lr"],
                          "steps_per_second": (step - first_step) / max(elapsed, 1e-9), "elapsed": elapsed}
            if step % settings["val_every"] == 0 or step == total:
                record = record or {"step": step, "phase": phase, **last_terms}
                record[metric] = validate()
            if record is not None and log is not None:
                log.write(json.dumps(record) + "\n")
                log.flush()
            if step % settings["checkpoint_every"] == 0 or step == total:
                save_checkpoint()
            stopped = stop_requested(stop) if step < total else None
            if stopped:
                break
    finally:
        stop.__exit__()
        bar.close()
        if log is not None:
            log.close()
    if state["step"] < total and (stopped or stop_at is not None):
        save_checkpoint()  # a step boundary: --resume continues exactly from here
    if stopped == "signal":
        raise Interrupted(stop.signum)
    return {"steps": state["step"], "loss": last_terms.get("loss"), f"best_{metric}": state["best"],
            "validation_metric": metric, "seconds": time.perf_counter() - started, "stopped": stopped,
            "total_steps": total}


def _truncate_log(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint being resumed (they are about to be redone)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
    if len(kept) != len(lines):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("".join(kept))
        os.replace(tmp, path)


def announce(summary: dict, run_dir: Path, quiet: bool) -> None:
    if quiet:
        return
    metric = summary.get("validation_metric", "relative_l2")
    name = "relative L2" if metric == "relative_l2" else metric.replace("_", " ")
    if summary["loss"] is None:
        print(f"{run_dir} has finished its {summary['steps']} steps; nothing to do (best {name} "
              f"{summary[f'best_{metric}']:.3e})", file=sys.stdout)
        return
    line = (f"trained {summary['steps']} steps in {summary['seconds']:.1f} s: final loss {summary['loss']:.3e}, "
            f"best {name} {summary[f'best_{metric}']:.3e} -> {run_dir}")
    if summary.get("stopped") == "time limit":
        line += f" (time limit reached before step {summary['total_steps']}; --resume continues)"
    print(line, file=sys.stdout)
