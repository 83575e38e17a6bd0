"""Rollout speed of a trained one-step surrogate against the KS solver that made its data.

The surrogate (unet-mse or pde-refiner, EMA weights of ``best.pt``) rolls out the test trajectories
of its dataset from their first states; the baseline, in the same run, on the same machine and with
the same number of threads, is `KSSolver` with the dataset's own scheme and substeps integrating the
same trajectories from the same (stored, float32) states over the same horizon. Each is timed
``--repeats`` times; the median and range are reported, and the speed-up is the ratio of the medians
(solver / surrogate; below 1 the solver is faster). ``solver_restart_correlation_time`` checks that
the restarted solver reproduces the reference (it diverges from the stored trajectory only through
the chaos acting on the float32 rounding of the restart state).

    .venv/bin/python benchmarks/rollout_speed.py RUNDIR [--trajectories 32] [--repeats 3] [-o FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from _timing import spread

from pdesuite.data.reader import open_dataset
from pdesuite.io import RunFolder, write_json
from pdesuite.training.trainer import build, cpu_threads
from pdesuite.validation import metrics
from pdesuite.validation.rollout import rollout_split


def solver_rollout(dataset_params: dict, data: dict, start: np.ndarray, steps: int, time_step: int) -> np.ndarray:
    """The KS solver from the states ``start`` (B, n_x) over ``steps`` model steps; its states at the
    model's resolution (B, steps, n_x)."""
    from pdesuite.solvers.spectral.ks import KSSolver

    n = start.shape[0]
    params = data["params"]
    nu = params["nu"][:n] if "nu" in params else 1.0
    solver = KSSolver(start.shape[1], params["L"][:n], nu=nu, batch=n)
    substeps = int(dataset_params.get("substeps", 4))
    scheme = str(dataset_params.get("scheme", "etdrk4"))  # files written before schemes were selectable
    out = solver.solve(start.astype(np.float64), params["dt"][:n], n_steps=steps * time_step, substeps=substeps,
                       scheme=scheme)
    return out[:, time_step::time_step]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder of a trained unet-mse or pde-refiner")
    parser.add_argument("--trajectories", type=int, help="test trajectories to roll out (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions of each (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the surrogate's sampling noise")
    parser.add_argument("-o", "--output", type=Path, default=Path("benchmarks/results/rollout_speed.json"))
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    folder = RunFolder(args.run)
    config = folder.read_config()
    surrogate = build(config)
    state = torch.load(folder.weights(), weights_only=False, map_location=surrogate.device)
    surrogate.load_state_dict(state["model"])
    surrogate.eval()
    if not hasattr(surrogate, "rollout"):
        parser.error(f"{args.run} holds a {config['surrogate']} run, not a one-step surrogate")
    meta = open_dataset(config["data"])
    if meta.attrs.get("problem") != "ks":
        parser.error(f"the solver baseline is the KS solver; {config['data']} is {meta.attrs.get('problem')}")
    split = "test" if "test" in meta.splits else meta.splits[-1]
    data = surrogate.trajectories(split)
    if args.trajectories:
        data = {**data, "u": data["u"][: args.trajectories], "x": None if data["x"] is None else data["x"][
            : args.trajectories], "params": {k: v[: args.trajectories] for k, v in data["params"].items()},
            "conditions": {k: v[: args.trajectories] for k, v in data["conditions"].items()}}
    if surrogate.device.type == "cpu":
        torch.set_num_threads(cpu_threads())
    surrogate_times, solver_times, rolled, solved = [], [], None, None
    for _ in range(args.repeats):
        rolled = rollout_split(surrogate, config["data"], split, seed=args.seed, data=data)
        surrogate_times.append(rolled["seconds"])
        started = time.perf_counter()
        solved = solver_rollout(meta.params, data, rolled["initial"][:, -1], rolled["prediction"].shape[1],
                                surrogate.time_step)
        solver_times.append(time.perf_counter() - started)
    ref = rolled["reference"]
    result = {
        "benchmark": "benchmarks/rollout_speed.py", "run": str(args.run), "surrogate": config["surrogate"],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "device": str(surrogate.device), "threads": torch.get_num_threads(), "trajectories": int(ref.shape[0]),
        "model_steps": int(ref.shape[1]), "repeats": args.repeats,
        "surrogate_seconds": spread(surrogate_times),
        "solver": f"KSSolver ({meta.params.get('scheme', 'etdrk4')}, {meta.params.get('substeps', 4)} substeps)",
        "solver_seconds": spread(solver_times),
        "speedup": float(np.median(solver_times) / max(np.median(surrogate_times), 1e-12)),
        "solver_restart_correlation_time": metrics.correlation_times(solved, ref,
                                                                     step_seconds=rolled["step_seconds"])["0.8"],
    }
    print(f"{config['surrogate']}: {result['surrogate_seconds']['median']:.3f} s "
          f"[{result['surrogate_seconds']['min']:.3f}, {result['surrogate_seconds']['max']:.3f}] for "
          f"{result['trajectories']} x {result['model_steps']} model steps on {result['device']}; {result['solver']}: "
          f"{result['solver_seconds']['median']:.3f} s; speed-up {result['speedup']:.2f}x")
    write_json(result, args.output)
    return result


if __name__ == "__main__":
    main()
