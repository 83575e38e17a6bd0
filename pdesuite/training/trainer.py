"""The trainer: configuration, seeds, the surrogate's optimisation plan, logging, validation,
checkpoints, resume, interrupts and data-parallel training.

Run folder (docs/training.md, `pdesuite.io.RunFolder`):
    config.json     everything needed to rebuild the surrogate and continue training
    checkpoint.pt   latest state: weights, the plan's optimiser/schedule state, step, every RNG state
    best.pt         weights with the lowest validation error so far
    log.jsonl       one JSON line per logged step

The surrogate decides *what* is optimised (its loss) and *how* (its plan, `pdesuite.training.plans`);
the trainer runs the plan step by step and owns everything around it: seeds, device and precision,
NaN/explosion stop, logging, validation, checkpoints, resume, SIGINT/SIGTERM, time limits, progress.

Determinism: all randomness (initial weights, collocation points, minibatches) comes from generators
seeded by ``seed`` and saved in checkpoints, so an interrupted run resumed with ``--resume`` ends with
the same weights as an uninterrupted one (tested, bitwise on CPU, for kill -9, SIGINT and SIGTERM).

Data-parallel training: under ``torchrun --nproc-per-node N`` the surrogate's loss is wrapped in
`torch.nn.parallel.DistributedDataParallel` (gloo on CPU, NCCL on GPU): every rank evaluates its share
of the same collocation points (or of the same minibatch) and DDP averages the gradients in backward.
The gradient is then that of the full loss, so N processes follow the single-process run to round-off
(tested). The loss values are averaged too, so L-BFGS's line search agrees on every rank.
"""

from __future__ import annotations

import contextlib
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

from pdesuite.errors import BadInput, Interrupted, SolverError
from pdesuite.io import FileLock, RunFolder, save_torch, write_json
from pdesuite.provenance import environment
from pdesuite.registry import PLANS, SURROGATES
from pdesuite.resources import resolve_device
from pdesuite.settings import parse_setting
from pdesuite.training.settings import TRAINER_DEFAULTS, check_trainer_settings, split_settings


class TrainingError(SolverError):
    """Training diverged (NaN or exploding loss)."""


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


def set_float32_precision(tf32: bool) -> None:
    """float32 matrix products and convolutions on the GPU: full precision, or TF32 (10-bit mantissa)
    where ``tf32``. Set explicitly both ways: cuDNN convolutions default to TF32, which cannot
    represent PDE-Refiner's smallest noise level (std 6.3e-4) next to an O(1) signal."""
    torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
    torch.backends.cudnn.allow_tf32 = bool(tf32)


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


def classes(config: dict) -> tuple[Any, Any]:
    """(surrogate class, plan class) of a run configuration."""
    cls = SURROGATES.get(config["surrogate"])
    return cls, PLANS.get(cls.plan)


def build(config: dict):
    """The surrogate of a run's config.json content, on its device and dtype (weights as initialised
    by ``seed``; a checkpoint's weights are loaded by the caller)."""
    set_float32_precision(config.get("tf32", False))
    cls, plan_cls = classes(config)
    own, _, _ = split_settings(cls, plan_cls, config["settings"])
    own = {**{k: v for k, v in cls.legacy.items() if k not in own}, **own}  # older runs: their behaviour
    device = resolve_device(config["device"])
    torch.manual_seed(config["seed"])
    surrogate = cls.from_dataset(config["data"], **own)
    return surrogate.to(device=device, dtype=DTYPES[config["dtype"]])


def make_config(name: str, data: str | os.PathLike, profile: str = "small", steps: int | None = None,
                device: str = "auto", seed: int = 0, dtype: str = "float32", amp: bool = False,
                overrides: dict[str, str] | None = None, tf32: bool = False, compile: bool = False,
                force: bool = False) -> dict:
    """The run configuration: trainer, plan and surrogate defaults, then the profile, then ``--steps``,
    then ``--set``; every value is checked here, before anything is written.

    ``amp`` (bfloat16 autocast of the loss), ``tf32`` (TF32 matrix products and convolutions) and
    ``compile`` (`torch.compile` of the surrogate's networks) are GPU speed settings; each changes the
    arithmetic, so each is recorded in the configuration and kept on --resume. A run whose memory
    estimate (`Surrogate.estimate_memory`) exceeds what this machine has is refused unless ``force``.
    """
    from pdesuite import resources
    from pdesuite.data.reader import open_dataset

    cls = SURROGATES.get(name)
    plan_cls = PLANS.get(cls.plan)
    if dtype not in DTYPES:
        raise BadInput(f"--dtype must be float32 or float64, got {dtype!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"--seed must be a non-negative integer, got {seed!r}")
    resolve_device(device)
    meta = open_dataset(data)
    settings = {**TRAINER_DEFAULTS, **plan_cls.defaults, **cls.all_defaults(),
                **cls.profile(profile, meta.attrs.get("problem"))}
    explicit = set(overrides or {})
    if steps is not None:
        if isinstance(steps, bool) or int(steps) != steps or steps < 1:
            raise BadInput(f"--steps must be a positive integer, got {steps}")
        if plan_cls.steps_setting is None:
            raise BadInput(f"--steps does not apply to {name}'s {plan_cls.name} plan; use --set")
        settings[plan_cls.steps_setting] = int(steps)
        explicit.add(plan_cls.steps_setting)
    for key, text in (overrides or {}).items():
        if key not in settings:
            raise BadInput(f"unknown setting {key!r} for {name} (known: {', '.join(sorted(settings))})")
        settings[key] = parse_setting(key, text, settings[key])
    settings = cls.configure(settings, explicit)
    own, plan_settings, trainer_settings = split_settings(cls, plan_cls, settings)
    cls.resolve_config(own)
    plan_cls.check(plan_settings)
    check_trainer_settings(trainer_settings)
    resources.check(f"training {name}", memory=cls.estimate_memory(settings, meta), force=force)
    return {"surrogate": name, "data": str(Path(data).resolve()), "profile": profile, "seed": seed,
            "device": device, "dtype": dtype, "amp": bool(amp), "tf32": bool(tf32), "compile": bool(compile),
            "settings": settings,
            "dataset_provenance": {k: meta.attrs.get(k) for k in ("dataset", "problem", "seed", "created", "params")}}


def resume_config(run_dir: str | os.PathLike, surrogate: str | None = None, data: str | os.PathLike | None = None,
                  steps: int | None = None, overrides: dict[str, str] | None = None,
                  fixed: dict[str, Any] | None = None) -> dict:
    """The configuration a ``--resume`` continues with: the stored one, with the changes that may be
    made mid-run applied (the trainer's settings, and the plan's ``resumable`` ones: more steps, another
    learning rate), and anything else that differs from the stored run refused (BadInput naming it).

    ``fixed`` holds other command-line values given explicitly (``profile``, ``seed``, ``dtype``,
    ``device``, ...): each must equal the stored one.
    """
    folder = RunFolder(run_dir)
    if not folder.config.is_file() or not folder.checkpoint.is_file():
        raise BadInput(f"nothing to resume in {folder.path} (needs config.json and checkpoint.pt)")
    config = folder.read_config()
    if surrogate is not None and surrogate != config["surrogate"]:
        raise BadInput(f"{folder.path} holds a {config['surrogate']} run; --resume continues it, not a {surrogate} run "
                       f"(use another -o for a new one)")
    if data is not None and Path(data).resolve() != Path(config["data"]).resolve():
        raise BadInput(f"{folder.path} was trained on {config['data']}; --resume cannot switch to {data}")
    for key, value in (fixed or {}).items():
        if value is not None and config.get(key) != value:
            raise BadInput(f"--{key} {value} differs from the run's {config.get(key)}; it cannot change on --resume")
    cls, plan_cls = classes(config)
    settings = dict(config["settings"])
    may_change = set(TRAINER_DEFAULTS) | set(plan_cls.resumable)
    requested = dict(overrides or {})
    if steps is not None:
        if plan_cls.steps_setting is None:
            raise BadInput(f"--steps does not apply to the {plan_cls.name} plan")
        requested[plan_cls.steps_setting] = str(steps)
    changed = {}
    for key, text in requested.items():
        if key not in settings:
            raise BadInput(f"unknown setting {key!r} for {config['surrogate']}")
        value = parse_setting(key, text, settings[key])
        if value == settings[key]:
            continue
        if key not in may_change:
            raise BadInput(f"{key} cannot change on --resume (what may: {', '.join(sorted(may_change))})")
        changed[key] = value
    if not changed:
        return config
    settings = cls.configure({**settings, **changed}, set(changed))  # e.g. more steps replace an epoch budget
    _, plan_settings, trainer_settings = split_settings(cls, plan_cls, settings)
    plan_cls.check(plan_settings)
    check_trainer_settings(trainer_settings)
    state = torch.load(folder.checkpoint, weights_only=False, map_location="cpu")["state"] \
        if folder.checkpoint.is_file() else {"step": 0}
    total = plan_cls.planned_steps(plan_settings)
    if total < state["step"]:
        raise BadInput(f"{folder.path} is at step {state['step']}; the new settings end at step {total}")
    history = [*config.get("resumed_with", []), {"at_step": state["step"], "changed": changed}]
    return {**config, "settings": settings, "resumed_with": history}


def record_command(run_dir: str | os.PathLike, command: list[str]) -> None:
    """For scripts that reuse finished runs (examples/): record the command that makes ``run_dir``
    (in run_dir/command.json), and refuse a folder that another command made, so that a table is
    never filled with numbers from other settings."""
    run_dir = Path(run_dir)
    record = run_dir / "command.json"
    if record.exists() and json.loads(record.read_text()) != list(command):
        raise BadInput(f"{run_dir} holds a run made with other settings; choose another output folder")
    write_json(list(command), record)


def _rng_state(generator: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "collocation": generator.get_state()}


def _set_rng_state(state: dict, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    generator.set_state(state["collocation"])


class _Objective(torch.nn.Module):
    """The surrogate's loss as a module's forward, so DistributedDataParallel can wrap it (its reducer
    averages the parameter gradients during backward)."""

    def __init__(self, surrogate: torch.nn.Module):
        super().__init__()
        self.surrogate = surrogate

    def forward(self, generator: torch.Generator, shard: tuple[int, int]) -> dict[str, torch.Tensor]:
        return self.surrogate.loss(generator, shard)


def train(run_dir: str | os.PathLike, config: dict | None = None, resume: bool = False, progress: bool = True,
          stop_at: int | None = None, time_limit: float | None = None, warmup_steps: int = 0,
          command: str | None = None) -> dict:
    """Train into ``run_dir`` (new: ``config`` from `make_config`; ``resume``: continue from checkpoint).

    ``stop_at`` ends the run after that many steps in total (as an interruption would; used by tests).
    ``time_limit`` (seconds of this call) ends it at the first step boundary past that time, with a
    checkpoint there, so ``--resume`` continues exactly; its clock starts after ``warmup_steps`` steps
    (compilation, autotuning: throughput probes). SIGINT/SIGTERM also stop at a step boundary
    (checkpoint, then `Interrupted`). ``command`` (the command line that asked for this training) is
    appended to config.json's ``commands``; ``environment`` records the versions and the device of the
    first training call. Returns a summary (steps, final loss, best validation error,
    and ``stopped``: why it ended before the plan did, or None).
    """
    with contextlib.ExitStack() as held:  # the run folder's lock, from before the first write to the end
        return _train(held, run_dir, config, resume, progress, stop_at, time_limit, warmup_steps, command)


def _train(held: contextlib.ExitStack, run_dir, config, resume, progress, stop_at, time_limit, warmup_steps,
           command) -> dict:
    from tqdm.auto import tqdm

    if time_limit is not None and not time_limit > 0:
        raise BadInput(f"--time-limit must be a positive number of seconds, got {time_limit}")
    folder = RunFolder(run_dir)
    rank, world = _distributed()
    if resume:
        if not folder.config.is_file() or not folder.checkpoint.is_file():
            raise BadInput(f"nothing to resume in {folder.path} (needs config.json and checkpoint.pt)")
        config = config or folder.read_config()  # a given config: `resume_config`'s, with allowed changes
    elif config is None:
        raise ValueError("train() needs a config unless resuming")
    elif folder.checkpoint.exists():
        raise BadInput(f"{folder.path} already holds a run; use --resume to continue it or another -o folder")

    cls, plan_cls = classes(config)
    _, plan_settings, settings = split_settings(cls, plan_cls, config["settings"])
    for key in ("n_collocation", "batch_size"):  # every rank takes an equal share
        if config["settings"].get(key, world) % world:
            raise BadInput(f"{key} ({config['settings'][key]}) must be divisible by the {world} processes")
    if resolve_device(config["device"]).type == "cpu":
        # coordinate networks are small: intra-op threads mostly contend (measured 25x slower steps
        # with 2 threads on a loaded 2-core machine); PDESUITE_THREADS raises it
        torch.set_num_threads(cpu_threads())
    for module in (random, np.random):
        module.seed(config["seed"])
    surrogate = build(config)  # a surrogate/dataset mismatch is reported before anything is written
    if rank == 0:
        held.enter_context(FileLock(folder.path, what=f"the run folder {folder.path}", folder=True))
        if not resume and folder.checkpoint.exists():  # again under the lock: a run started meanwhile
            raise BadInput(f"{folder.path} already holds a run; use --resume to continue it or another -o folder")
        if "environment" not in config:
            config = {**config, "environment": environment(surrogate.device)}
        if command is not None:
            config = {**config, "commands": [*config.get("commands", []), command]}
        if not resume or config != folder.read_config():
            write_json(config, folder.config)
    if config.get("compile"):
        surrogate.compile_networks()
    plan = plan_cls(surrogate, surrogate.adjust_plan(plan_settings))
    metric = surrogate.validation_metric
    generator = torch.Generator().manual_seed(config["seed"] + 1)
    device = surrogate.device
    use_amp = config.get("amp", False) and device.type == "cuda"
    objective = _Objective(surrogate)
    if world > 1:
        objective = torch.nn.parallel.DistributedDataParallel(objective, broadcast_buffers=False)

    state = {"step": 0, "best": math.inf, "first_loss": None}
    if resume:
        checkpoint = torch.load(folder.checkpoint, weights_only=False, map_location=device)
        surrogate.load_state_dict(checkpoint["model"])
        state.update(checkpoint["state"])
        plan_state = checkpoint.get("plan") or {k: checkpoint.get(k) for k in ("phase", "optimizer", "scheduler")}
        plan.load_state_dict(plan_state, state["step"])
        _set_rng_state(checkpoint["rng"], generator)
        if rank == 0:
            _truncate_log(folder.log, state["step"])

    def save_checkpoint() -> None:
        if rank == 0:
            save_torch({"model": surrogate.state_dict(), "plan": plan.state_dict(), "state": dict(state),
                        "rng": _rng_state(generator)}, folder.checkpoint)

    def validate() -> float:
        error = surrogate.validation_error()
        if error < state["best"] and rank == 0:
            state["best"] = error
            save_torch({"model": surrogate.state_dict(), "step": state["step"], metric: error,
                        "validation_metric": metric}, folder.best)
        return error

    def closure() -> dict[str, torch.Tensor]:
        """Loss terms of one evaluation, with their gradients in the parameters (averaged over ranks)."""
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            terms = objective(generator, (rank, world))
        terms["loss"].backward()
        if world > 1:  # the global loss, so L-BFGS's line search is the same on every rank
            import torch.distributed as dist

            terms = {k: v.detach().clone() for k, v in terms.items()}
            for value in terms.values():
                dist.all_reduce(value)
                value /= world
        if settings["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(surrogate.parameters(), settings["grad_clip"])
        return terms

    clock = {"started": time.perf_counter()}
    clock["limit_from"] = clock["started"] if warmup_steps == 0 else None
    first_step = state["step"]

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

    total = plan.total_steps
    log = open(folder.log, "a") if rank == 0 else None  # noqa: SIM115 - closed in finally
    bar = tqdm(total=total, initial=state["step"], desc=f"train {config['surrogate']}", unit="step",
               disable=not progress or rank != 0)
    last_terms: dict[str, float] = {}
    stopped = None
    try:
        with _StopRequests() as stop:
            while not plan.finished(state["step"]) and (stop_at is None or state["step"] < stop_at):
                phase = plan.phase(state["step"])
                terms = plan.step(state["step"], closure)
                surrogate.after_step()
                loss = float(terms["loss"].detach())
                state["step"] += 1
                if state["first_loss"] is None:
                    state["first_loss"] = loss
                if not math.isfinite(loss) or loss > settings["explode_factor"] * max(state["first_loss"], 1e-30):
                    raise TrainingError(_divergence_message(state["step"], loss, folder, phase))
                last_terms = {k: float(v.detach()) for k, v in terms.items()}
                bar.update()
                bar.set_postfix(loss=f"{loss:.3e}", refresh=False)
                step, done = state["step"], plan.finished(state["step"])
                record = None
                if step % settings["log_every"] == 0 or done:
                    elapsed = time.perf_counter() - clock["started"]
                    record = {"step": step, "phase": phase, **last_terms, "lr": plan.lr(),
                              "steps_per_second": (step - first_step) / max(elapsed, 1e-9), "elapsed": elapsed}
                if step % settings["val_every"] == 0 or done:
                    record = record or {"step": step, "phase": phase, **last_terms}
                    record[metric] = validate()
                if record is not None and log is not None:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                if step % settings["checkpoint_every"] == 0 or done:
                    save_checkpoint()
                stopped = None if done else stop_requested(stop)
                if stopped:
                    break
    finally:
        bar.close()
        if log is not None:
            log.close()
    if not plan.finished(state["step"]) and (stopped or stop_at is not None):
        save_checkpoint()  # a step boundary: --resume continues exactly from here
    if stopped == "signal":
        raise Interrupted(stop.signum)
    return {"steps": state["step"], "loss": last_terms.get("loss"), f"best_{metric}": state["best"],
            "validation_metric": metric, "seconds": time.perf_counter() - clock["started"], "stopped": stopped,
            "total_steps": total}


def _divergence_message(step: int, loss: float, folder: RunFolder, phase: str) -> str:
    kept = (f"the last checkpoint ({folder.checkpoint}) is kept" if folder.checkpoint.is_file()
            else "no checkpoint was written yet")
    return (f"training diverged at step {step}, {phase} (loss {loss:.3g}); {kept} (lower the learning rate or "
            f"clip gradients)")


def _truncate_log(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint being resumed (they are about to be redone)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:  # a line cut by a kill
            continue
    if len(kept) != len(lines):
        from pdesuite.io import write_text

        write_text("".join(kept), path)


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
