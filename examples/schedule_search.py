"""Searched sampler schedules: the time grid (and per-step orders) chosen for one model at a fixed NFE.

A sampler's grid t_0 > t_1 > ... > t_n is usually one of a few fixed spacings (uniform in t, in
log-SNR λ, quadratic, Karras). With the model and a little validation data it can be searched instead
(AutoDiffusion, USF / S³, DPM-Solver-v3's idea): `pdesuite.diffusion.search.search_schedule` keeps the
grid's ends, writes its n log-SNR increments as h_i = (λ_end - λ_start) softmax(θ)_i (every θ is a
valid, monotone grid) and runs a seeded pattern search on θ — and on the per-step orders of
DPM-Solver++ and UniPC — from the best fixed spacing, minimising a caller's objective(sampler).

1. **Exact test bed** (seconds): a 6-D Gaussian N(μ, Σ) under the VP-linear schedule, where every
   sampler's output law is known exactly (`pdesuite.diffusion.testing.output_law`). Objective: W2
   between that law and the exact law at t_end. DDIM, DPM-Solver++(2M) and UniPC-2 at 5 and 10 NFE,
   three search seeds each; the searched grid must beat every fixed spacing of the same sampler.
2. **Text2PDE** (``--text2pde RUNDIR``, a trained first-frame run; minutes): the run's sampler searched
   on 8 validation trajectories (fixed noise) at several NFE, scored on the test split with other
   noise — against the reference solver's trajectories (``data``) and against the model's own
   converged sample from the same noise (``converged``, UniPC at 100 NFE) — plus the spread between
   two noise draws, which shows when a schedule wins on the data error by returning the posterior mean.
3. **PDE-Refiner** (``--refiner RUNDIR``): which trained noise levels the refinement chain visits and
   its posterior variance, searched exhaustively at every NFE 1..K+1 against validation rollouts.

    .venv/bin/python examples/schedule_search.py --out examples-output/schedule-search
        [--text2pde RUNDIR] [--refiner RUNDIR] [--nfe 5 10 15 25] [--budget 60]

Writes OUT/results.json and OUT/table.md; searched schedules go to RUNDIR/schedules/ (load them by name:
``model.sampler("dpm-solver++-10.json")``, ``pdesuite validate RUNDIR --sampler RUNDIR/schedules/...``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from pdesuite.diffusion import SPACINGS
from pdesuite.diffusion.search import search_schedule
from pdesuite.diffusion.searched import tensor_fingerprint
from pdesuite.diffusion.testing import law_error, random_gaussian
from pdesuite.validation.tables import markdown

TESTBED = (("ddim", {}), ("dpm-solver++", {"variant": "2M"}), ("unipc", {}))


def testbed(nfes=(5, 10), seeds=(0, 1, 2), budget: int = 100) -> dict:
    """Searched against fixed grids on the exact Gaussian bed (W2 of the exact output law)."""
    bed = random_gaussian(6, seed=0)
    model = {"fingerprint": tensor_fingerprint(bed.means, bed.covs), "what": "random_gaussian(6, seed=0)"}
    out = {}
    for name, options in TESTBED:
        for nfe in nfes:
            runs = [search_schedule(name, lambda s: law_error(bed, s), nfe, options=options, budget=budget, seed=seed,
                                    model=model) for seed in seeds]
            out[f"{name} {nfe}"] = {"fixed": runs[0].objective["baselines"],
                                    "searched": [r.objective["value"] for r in runs],
                                    "orders": [r.options.get("step_orders") for r in runs],
                                    "timesteps": [list(r.timesteps) for r in runs]}
    return out


def testbed_table(results: dict, seeds: tuple[int, ...]) -> str:
    rows = []
    for key, r in results.items():
        best = min(r["fixed"].values())
        searched = r["searched"]
        rows.append([key, *(f"{r['fixed'][sp]:.3e}" for sp in SPACINGS),
                     " / ".join(f"{v:.3e}" for v in searched), f"{best / max(searched):.1f}x",
                     str(r["orders"][0] or "-")])
    return markdown(["sampler, NFE", *SPACINGS, f"searched (seeds {' / '.join(map(str, seeds))})",
                     "gain (worst seed)", f"searched orders (seed {seeds[0]})"], rows)


def text2pde_tables(run: Path, nfes: list[int], budget: int) -> tuple[dict, str]:
    from pdesuite.validation.schedule_search import text2pde_curves

    results, text = {}, []
    for against in ("data", "converged"):
        start = time.perf_counter()
        curves = text2pde_curves(run, nfes, search={"against": against, "samples": 8, "budget": budget},
                                 save=True, progress=lambda line: print("  " + line, flush=True))
        curves["seconds"] = time.perf_counter() - start
        results[against] = curves
        rows = [[label, nfe, f"{v['validation']:.4f}", f"{v['data']:.4f}", f"{v['converged']:.4f}",
                 f"{v['spread']:.3f}"] for label, by_nfe in curves["rows"].items() for nfe, v in by_nfe.items()]
        rows.sort(key=lambda r: (r[1], r[0]))
        text.append(f"Searched against **{against}** ({curves['sampler']}; test: {curves['test']['samples']} "
                    f"trajectories, noise seed {curves['test']['seed']}; the converged sample's own error to the "
                    f"data {curves['converged_to_data']:.4f}, its spread {curves['converged_spread']:.3f}):\n\n"
                    + markdown(["grid", "NFE", "validation objective", "test: to data", "test: to converged",
                                "test: spread"], rows))
    return results, "\n\n".join(text)


def refiner_tables(run: Path, horizon: int = 16) -> tuple[dict, str]:
    from pdesuite.validation.schedule_search import load_run, refiner_error, rows_of, search_refiner

    model = load_run(run)
    K = int(model.config["num_refinement_steps"])
    test_rows = rows_of(model.trajectories("test")["u"].shape[0], None)
    results, text = {}, []
    for kind in ("rollout", "one-step"):
        default_test = refiner_error(model, None, "test", test_rows, 1, kind, horizon)
        rows = []
        results[kind] = {"default_test": default_test}
        for nfe in range(1, K + 2):
            found, values = search_refiner(run, nfe, model=model, kind=kind, horizon=horizon,
                                           name=f"refiner-{nfe}-{kind}")
            test = refiner_error(model, found, "test", test_rows, 1, kind, horizon)
            results[kind][nfe] = {"validation": values, "test": test, "record": found.record()}
            best = min(values, key=values.get)
            rows.append([nfe, best, f"{values[best]:.4f}", f"{max(values.values()):.4f}", f"{test:.4f}"])
        text.append(f"Objective: **{kind}** relative L2 over the first {horizon} model steps (the trained chain, "
                    f"levels 0..{K} with the small variance, on the test split: {default_test:.4f}):\n\n"
                    + markdown(["NFE", "chosen levels + variance", "validation (chosen)", "validation (worst)",
                                "test (chosen)"], rows))
    return results, "\n\n".join(text)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/schedule-search"))
    parser.add_argument("--text2pde", type=Path, help="a trained text2pde run folder (first-frame)")
    parser.add_argument("--refiner", type=Path, help="a trained pde-refiner run folder")
    parser.add_argument("--nfe", type=int, nargs="+", default=[5, 10, 15, 25], help="Text2PDE budgets")
    parser.add_argument("--budget", type=int, default=60, help="objective calls per Text2PDE search")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="test-bed search seeds")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"testbed": testbed(seeds=tuple(args.seeds))}
    text = ["Exact Gaussian test bed (6-D, vp-linear, t = 1 → 1e-3; W2 of the exact output law):\n\n"
            + testbed_table(results["testbed"], tuple(args.seeds))]
    print(text[0], flush=True)
    if args.text2pde:
        results["text2pde"], table = text2pde_tables(args.text2pde, args.nfe, args.budget)
        text.append(table)
        print(table, flush=True)
    if args.refiner:
        results["refiner"], table = refiner_tables(args.refiner)
        text.append("PDE-Refiner chain (validation: 8 trajectories, noise seed 0; test: noise seed 1):\n\n" + table)
        print(text[-1], flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (args.out / "table.md").write_text("\n\n".join(text) + "\n")
    return results


if __name__ == "__main__":
    main()
