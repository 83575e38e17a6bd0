"""PINN against Lagrangian PINN on the convection benchmark, the claim of Mojgani et al. (2023).

    u_t + c u_x = 0 on [0, 2π) periodic, u0 = sin x, t ∈ [0, 1];  c ∈ {10, 30, 50}

A plain PINN's error grows to O(0.1-1) as c grows (Krishnapriyan et al. 2021's failure mode), while
the LPINN, which follows the characteristics, stays accurate. Both train at the `small` profile with
the same budget (Adam steps, L-BFGS steps, collocation points) and exact initial values (`hard_ic`),
3 seeds each; the script runs the exact `pdesuite` commands it prints and writes a Markdown table
(mean ± std of the relative L2 error and of the LPINN paper's norm, from `metrics.json`) to
OUT/table.md. Finished runs are reused; ``--jobs 2`` trains two at a time (one core each).

    .venv/bin/python examples/pinn_vs_lpinn_convection.py --out examples-output/convection [--seeds 0 1 2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pdesuite.training.trainer import record_command


def run(args: list[str]) -> None:
    command = [sys.executable, "-m", "pdesuite", *args]
    print("$ pdesuite " + " ".join(shlex.quote(a) for a in args), flush=True)
    subprocess.run(command, check=True)


def train_and_validate(folder: Path, train: list[str]) -> dict:
    """Train (or resume, or reuse a finished run of the same command) and validate; returns metrics.json."""
    record_command(folder, train)
    if not (folder / "metrics.json").exists():
        if (folder / "checkpoint.pt").exists():
            run(["train", train[1], "-o", str(folder), "--resume", "-q"])
        else:
            run(train)
        run(["validate", str(folder), "-q"])
    return json.loads((folder / "metrics.json").read_text())


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/convection"))
    parser.add_argument("--speeds", type=float, nargs="+", default=[10.0, 30.0, 50.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="small")
    parser.add_argument("--steps", type=int, help="Adam steps (default: the profile's)")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (one core each)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting passed to both methods' training (repeatable)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {}  # (c, method, seed) -> (folder, train command)
    for c in args.speeds:
        data = args.out / f"convection-c{c:g}.h5"
        if not data.exists():
            run(["generate", "convection", "-o", str(data), "--set", f"c={c:g}", "--set", "nu=0", "-q"])
        for method in ("pinn", "lpinn"):
            for seed in args.seeds:
                folder = args.out / f"{method}-c{c:g}-s{seed}"
                train = ["train", method, "--data", str(data), "-o", str(folder), "--profile", args.profile,
                         "--seed", str(seed), "-q"] + (["--steps", str(args.steps)] if args.steps else [])
                train += [item for setting in args.set for item in ("--set", setting)]
                runs[c, method, seed] = (folder, train)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {key: pool.submit(train_and_validate, *value) for key, value in runs.items()}
        metrics = {key: future.result() for key, future in futures.items()}
    rows = []
    for c in args.speeds:
        for method in ("pinn", "lpinn"):
            keys = [(c, method, seed) for seed in args.seeds]
            rows.append({"c": c, "method": method, "relative_l2": [metrics[k]["relative_l2"] for k in keys],
                         "lpinn_error": [metrics[k]["lpinn_error"] for k in keys],
                         "commands": ["pdesuite " + " ".join(runs[k][1]) for k in keys]})
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    lines = ["| c | method | relative L2 (mean ± std) | LPINN norm (mean ± std) | seeds |", "|---|---|---|---|---|"]
    for r in rows:
        e, n = np.array(r["relative_l2"]), np.array(r["lpinn_error"])
        lines.append(f"| {r['c']:g} | {r['method']} | {e.mean():.2e} ± {e.std():.1e} | {n.mean():.2e} ± {n.std():.1e} "
                     f"| {len(e)} |")
    table = "\n".join(lines)
    (args.out / "table.md").write_text(table + "\n\nCommands:\n\n" + "\n".join(
        f"    {cmd}" for r in rows for cmd in r["commands"]) + "\n")
    print(table)
    return rows


if __name__ == "__main__":
    main()
