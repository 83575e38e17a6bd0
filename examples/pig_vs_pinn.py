"""PIG against PINN at equal budget on the PIG suite and Allen-Cahn, the claim of Kang et al. (ICLR 2025).

    Helmholtz      Δu + u = f on [-1, 1]², u = sin(πx) sin(4πy)          (dataset pig-helmholtz, a1=1, a2=4)
    Klein-Gordon   u_tt - Δu + u² = f, t ∈ [0, 10]                       (pig-klein-gordon)
    flow mixing    u_t + a u_x + b u_y = 0 on [-4, 4]², t ∈ [0, 4]       (pig-flow-mixing)
    nonlinear diffusion  u_t = 0.05 ∇·(u∇u), t ∈ [0, 1]                  (pig-nonlinear-diffusion)
    Allen-Cahn     u_t = 1e-4 u_xx + 5(u - u³), x periodic, t ∈ [0, 1]   (allen-cahn; the known hard case)

Both methods train with the same budget on each problem: the same number of Adam steps (no L-BFGS),
the same number of collocation points (PIG: uniform, redrawn every step; PINN: its default, one fixed
Hammersley set), the same loss (PDE + initial +
boundary terms and weights, from the `small` profiles) and the same validation schedule; only the
function representation differs (PIG: trainable Gaussians + a 16-wide MLP; PINN: a 4 × 32 tanh MLP).
Each (problem, method) runs for every seed; the script runs the exact `pdesuite` commands it prints
and reports the relative L2 error (mean ± std over seeds) of the final weights and of the best weights
seen during training (validated every `--val-every` steps; the PIG paper's code reports the best),
the parameter count and the time per run (the training loop's, validation included, from log.jsonl;
results.json also has each command's wall time, interpreter start included). The table goes to
OUT/table.md, the numbers to OUT/results.json. Finished runs are reused, interrupted ones resumed.

    .venv/bin/python examples/pig_vs_pinn.py --out examples-output/pig [--problems pig-helmholtz] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pdesuite.training.trainer import record_command

#: dataset -> (generate options, Adam steps at the small budget)
PROBLEMS = {
    "pig-helmholtz": (["--set", "a1=1", "--set", "a2=4"], 1500),
    "pig-klein-gordon": ([], 1000),
    "pig-flow-mixing": ([], 1000),
    "pig-nonlinear-diffusion": ([], 1000),
    "allen-cahn": ([], 1000),
}
METHODS = ("pinn", "pig")
#: Relative L2 of the PIG paper's Table 1 (GPU, paper profile; PIG: mean over 3 seeds, best during
#: training; PINN: the figure the paper cites from earlier work, not rerun). None: not reported.
PAPER = {
    ("pig-helmholtz", "pig"): 4.13e-5, ("pig-helmholtz", "pinn"): 4.02e-1,
    ("pig-klein-gordon", "pig"): 2.76e-3, ("pig-klein-gordon", "pinn"): 3.43e-2,
    ("pig-flow-mixing", "pig"): 4.51e-4,
    ("pig-nonlinear-diffusion", "pig"): 2.69e-3, ("pig-nonlinear-diffusion", "pinn"): 9.50e-3,
    ("allen-cahn", "pig"): 1.04e-4,
}


IN_PROCESS = False  # --in-process: call pdesuite's CLI in this process (no interpreter start per command)


def run(args: list[str]) -> float:
    """Run ``pdesuite ARGS`` (printed first); returns the wall time in seconds."""
    print("$ pdesuite " + " ".join(shlex.quote(a) for a in args), flush=True)
    started = time.perf_counter()
    if IN_PROCESS:
        from pdesuite.cli import main as cli

        if cli(args) != 0:
            raise SystemExit(f"pdesuite {' '.join(args)} failed")
    else:
        subprocess.run([sys.executable, "-m", "pdesuite", *args], check=True)
    return time.perf_counter() - started


def from_log(folder: Path) -> tuple[float, float, int, float]:
    """(final, best, steps, seconds) from log.jsonl: relative L2 at the last step, the lowest one validated,
    the steps run and the training loop's time (steps / steps per second at the last logged step)."""
    records = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines() if line.strip()]
    validated = [r for r in records if "relative_l2" in r]
    timed = [r for r in records if "steps_per_second" in r]
    seconds = timed[-1]["step"] / timed[-1]["steps_per_second"] if timed else float("nan")
    return validated[-1]["relative_l2"], min(r["relative_l2"] for r in validated), validated[-1]["step"], seconds


def parameter_count(folder: Path) -> int:
    import torch

    state = torch.load(folder / "best.pt", weights_only=False, map_location="cpu")["model"]
    return sum(v.numel() for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point()
               and not k.endswith("_extra_state"))


def fmt(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.2e} ± {a.std():.1e}"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/pig"))
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="Adam steps for every problem (default: per problem, see PROBLEMS)")
    parser.add_argument("--collocation", type=int, default=512, help="collocation points per step (both methods)")
    parser.add_argument("--val-every", type=int, default=100, help="validation interval (the 'best' column)")
    parser.add_argument("--profile", default="small")
    parser.add_argument("--in-process", action="store_true", help="run the commands in this process (tests)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting passed to both methods' training (repeatable), e.g. hard_ic=true")
    args = parser.parse_args(argv)
    global IN_PROCESS
    IN_PROCESS = args.in_process
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for problem in args.problems:
        generate_options, default_steps = PROBLEMS[problem]
        steps = args.steps or default_steps
        data = args.out / f"{problem}.h5"
        if not data.exists():
            run(["generate", problem, "-o", str(data), *generate_options, "-q"])
        budget = ["--steps", str(steps), "--set", "lbfgs_steps=0", "--set", f"n_collocation={args.collocation}",
                  "--set", f"val_every={args.val_every}"]
        budget += [item for setting in args.set for item in ("--set", setting)]
        for method in args.methods:
            finals, bests, seconds, wall, commands = [], [], [], [], []
            params = None
            for seed in args.seeds:
                folder = args.out / f"{problem}-{method}-s{seed}"
                train = ["train", method, "--data", str(data), "-o", str(folder), "--profile", args.profile,
                         "--seed", str(seed), *budget, "-q"]
                timing = folder / "wall_seconds.json"
                record_command(folder, train)
                if not (folder / "metrics.json").exists():
                    if (folder / "checkpoint.pt").exists():
                        elapsed = run(["train", method, "-o", str(folder), "--resume", "-q"])
                    else:
                        elapsed = run(train)
                    timing.write_text(json.dumps({"train": elapsed}))
                    run(["validate", str(folder), "-q"])
                final, best, done, loop_seconds = from_log(folder)
                metrics = json.loads((folder / "metrics.json").read_text())  # best.pt, as validate loads it
                if not np.isclose(metrics["relative_l2"], best, rtol=1e-3):
                    raise SystemExit(f"{folder}: metrics.json ({metrics['relative_l2']}) != best in log ({best})")
                finals.append(final)
                bests.append(best)
                seconds.append(loop_seconds)
                wall.append(json.loads(timing.read_text())["train"] if timing.exists() else float("nan"))
                params = parameter_count(folder)
                commands.append("pdesuite " + " ".join(shlex.quote(a) for a in train))
            template = commands[0].replace(f"-s{args.seeds[0]}", "-s{seed}").replace(
                f"--seed {args.seeds[0]}", "--seed {seed}")
            rows.append({"problem": problem, "method": method, "steps": done, "collocation": args.collocation,
                         "params": params, "final": finals, "best": bests, "seconds": seconds, "wall_seconds": wall,
                         "seeds": args.seeds,
                         "paper": PAPER.get((problem, method)), "command": template, "commands": commands})
            (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    lines = ["| problem | method | params | Adam steps × points | final rel. L2 (mean ± std) "
             "| best rel. L2 (mean ± std) | s/run | paper (GPU, paper profile) | command (seeds "
             + " ".join(map(str, args.seeds)) + ") |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        paper = f"{r['paper']:.2e}" if r["paper"] is not None else "–"
        lines.append(f"| {r['problem']} | {r['method']} | {r['params']} | {r['steps']} × {r['collocation']} "
                     f"| {fmt(r['final'])} | {fmt(r['best'])} | {np.nanmean(r['seconds']):.0f} | {paper} "
                     f"| `{r['command']}` |")
    table = "\n".join(lines)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    return rows


if __name__ == "__main__":
    main()
