"""UM2N against Monge-Ampère on the bump problem, on seen and unseen meshes (Zhang et al., NeurIPS 2024).

    -Δu + u = f on the unit square, u_exact = Σ Gaussian bumps; P1 FEM; mesh moved towards the Hessian
    monitor m = 1 + 5 ‖H(u_h)‖²_F / max before solving again.

Monge-Ampère (`pdesuite.solvers.fem.MongeAmpereMover`, relaxation, rtol 1e-3) makes the training data
(`um2n-helmholtz`, small profile: 100 / 20 training / validation meshes, gmsh Frontal-Delaunay h 0.05,
514 nodes, plus 100 training meshes of h 0.055 as UM2N trains on both sizes; ``--extra-sizes`` with no
value trains on the one mesh). The network (`um2n`) is trained once per seed and then asked to move three test sets it
has not seen: bumps on the training mesh type ("seen": Frontal-Delaunay, h 0.05), on a structured
20 × 20 mesh (another type, the small file's own test split), and on a Delaunay mesh of h 0.028
(another type *and* resolution, 1797 nodes: UM2N's lc 0.028 test). Per test set and seed the
``mesh-movement`` evaluator reports the FEM error reduction ER = (e_uniform - e_moved) / e_uniform of
MA and of the network (the network's over untangled meshes), the tangled meshes, the displacement
error against MA, and the move times on this CPU (MA redone here; the network's forward pass).

The claim (goal of the issue): the network at least 10× faster than MA, at ≥ 70 % of MA's ER on unseen
meshes, with no tangled elements.

    .venv/bin/python examples/um2n_helmholtz.py --out examples-output/um2n [--seeds 0 1 2] [--jobs 2]
        [--profile small] [--steps N] [--samples N] [--test-samples N] [--extra-sizes 0.055]

Writes OUT/results.json and OUT/table.md (with the exact commands); finished runs are reused.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _runs import generate_once, run, train_once

from pdesuite.validation.tables import markdown, mean_std

#: Test sets: name -> (generate settings of a test-only file, or None for the training file's test split).
TEST_SETS = {
    "seen (Frontal-Delaunay h 0.05)": ["--set", "test_mesh=frontal-delaunay", "--set", "test_mesh_size=0.05"],
    "structured 20 × 20": None,
    "unseen (Delaunay h 0.028)": ["--set", "test_mesh=delaunay", "--set", "test_mesh_size=0.028"],
}


def make_data(out: Path, profile: str, samples: int | None, test_samples: int,
              extra_sizes: list[float]) -> dict[str, Path]:
    """The training file, one more training file per extra mesh size, one file per test set (made once)."""
    scaled = ["--samples", str(samples)] if samples else []
    train = out / "um2n-helmholtz.h5"
    generate_once(train, ["generate", "um2n-helmholtz", "--profile", profile, "-o", str(train), "-q", *scaled])
    extra = []
    for k, size in enumerate(extra_sizes):
        path = out / f"train-h{size:g}.h5"
        extra.append(generate_once(path, ["generate", "um2n-helmholtz", "--profile", profile, "--set",
                                          f"mesh_size={size:g}", "--set", "valid=0", "--set", "test=0", "--seed",
                                          str(11 + k), "-o", str(path), "-q", *scaled]))
    files = {}
    for k, (name, settings) in enumerate(TEST_SETS.items()):
        if settings is None:
            files[name] = train
            continue
        path = out / f"test-{k}.h5"
        files[name] = generate_once(path, ["generate", "um2n-helmholtz", "--set", "train=0", "--set", "valid=0",
                                           "--set", f"test={test_samples}", *settings, "--seed", "7", "-o", str(path),
                                           "-q"])
    return {"train": train, "extra": extra, **files}


def train_and_test(folder: Path, train: list[str], files: dict[str, Path], commands: list[str]) -> dict:
    """Train and validate on every test set; returns {test set: metrics}."""
    metrics = {}
    first = train_once(folder, train, commands)
    for k, name in enumerate(TEST_SETS):
        if files[name] == files["train"]:
            metrics[name] = first
            continue
        target = folder / f"test-{k}"
        if not (target / "metrics.json").exists():
            run(["validate", str(folder), "--data", str(files[name]), "-o", str(target), "-q"])
        commands.append(f"pdesuite validate {folder} --data {files[name]} -o {target}")
        metrics[name] = json.loads((target / "metrics.json").read_text())
    return metrics


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/um2n"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="small", help="dataset and training profile (default small)")
    parser.add_argument("--steps", type=int, help="Adam steps (default: the profile's)")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (one core each)")
    parser.add_argument("--samples", type=int, help="training meshes (default: the profile's 100; valid and "
                        "test scale along)")
    parser.add_argument("--test-samples", type=int, default=30, help="meshes per extra test set (default 30)")
    parser.add_argument("--extra-sizes", type=float, nargs="*", default=[0.055],
                        help="more training meshes of these sizes (UM2N trains on h 0.05 and 0.055; none: one mesh)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = make_data(args.out, args.profile, args.samples, args.test_samples, args.extra_sizes)
    commands: dict[int, list[str]] = {seed: [] for seed in args.seeds}
    jobs = {}
    for seed in args.seeds:
        folder = args.out / f"um2n-s{seed}"
        train = ["train", "um2n", "--data", str(files["train"]), "-o", str(folder), "--profile", args.profile,
                 "--seed", str(seed), "--device", "cpu", "-q"] + (["--steps", str(args.steps)] if args.steps else [])
        if files["extra"]:
            train += ["--set", "extra_train=" + json.dumps([str(p) for p in files["extra"]])]
        jobs[seed] = (folder, train, files, commands[seed])
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {seed: pool.submit(train_and_test, *job) for seed, job in jobs.items()}
        results = {seed: future.result() for seed, future in futures.items()}

    rows, table = [], []
    for name in TEST_SETS:
        per_seed = [results[seed][name] for seed in args.seeds]

        def column(key, runs=per_seed):
            return [np.nan if m.get(key) is None else m[key] for m in runs]

        row = {"test set": name, "nodes": per_seed[0]["nodes"], "samples": per_seed[0]["samples"],
               **{key: column(key) for key in ("er_ma", "er_network", "er_fraction", "failed", "tangled_mean",
                                               "displacement_error", "ma_seconds", "network_seconds", "speedup")},
               "claim": [m.get("claim") for m in per_seed]}
        rows.append(row)
        table.append([name, row["nodes"], mean_std(row["er_ma"]), mean_std(row["er_network"]),
                      mean_std(row["er_fraction"], ".2f"), int(np.nansum(row["failed"])),
                      mean_std(row["displacement_error"], ".2f"), mean_std(np.array(row["ma_seconds"]) * 1e3, ".0f"),
                      mean_std(np.array(row["network_seconds"]) * 1e3, ".1f"), mean_std(row["speedup"], ".0f"),
                      f"{sum(bool(c) for c in row['claim'])}/{len(args.seeds)}"])
    header = ["test set", "nodes", "ER MA", "ER network", "ER net / ER MA", "tangled meshes", "displacement error",
              "MA ms", "network ms", "speed-up", "claim holds (seeds)"]
    text = markdown(header, table)
    (args.out / "results.json").write_text(json.dumps({"rows": rows, "seeds": args.seeds}, indent=2))
    listed = [f"    {cmd}" for seed in args.seeds for cmd in commands[seed]]
    (args.out / "table.md").write_text(f"{text}\n\nseeds {args.seeds}, {rows[0]['samples']} test meshes per set; "
                                       "commands:\n\n" + "\n".join(listed) + "\n")
    print(text)
    print("commands:", *listed, sep="\n")
    return rows


if __name__ == "__main__":
    main()
