"""`pdesuite demo`: generate a small FEM dataset, check it against the exact solution, plot a sample."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pdesuite.data import open_dataset, validate_dataset
from pdesuite.errors import BadInput


def run_demo(output: Path, quiet: bool = False) -> dict:
    """Generate `helmholtz-bumps` (small profile), compare with u_exact, write a PNG; returns the summary."""
    import sys

    from pdesuite.recipes.generate import generate
    from pdesuite.recipes.helmholtz_bumps import exact_solution

    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the demo folder {output}: {exc.strerror or exc}") from None
    say = (lambda *a: None) if quiet else print
    path = output / "helmholtz-bumps.h5"
    start = time.perf_counter()
    say("pdesuite demo: generating 'helmholtz-bumps' (UM2N's -Δu + u = f, P1 on an unstructured mesh) ...")
    generate("helmholtz-bumps", path, profile="small", seed=0, overwrite=True,
             progress=not quiet and sys.stderr.isatty(), command="pdesuite demo")
    elapsed = time.perf_counter() - start
    summary = validate_dataset(path)
    data = open_dataset(path)
    points = data.read("mesh/points")
    cells = data.read("mesh/cells")

    errors = {}
    for split in data.splits:
        arrays = data.split(split)
        rel = []
        for u, params in zip(arrays["u"], arrays["params"], strict=True):
            exact = exact_solution(points, params)
            rel.append(np.linalg.norm(u[0, :, 0] - exact) / np.linalg.norm(exact))
        errors[split] = float(np.mean(rel))

    test = data.split("test")
    png = output / "helmholtz-bumps-sample.png"
    plot_sample(points, cells, test["u"][0, 0, :, 0], exact_solution(points, test["params"][0]), png)

    result = {"file": str(path), "seconds": elapsed, "nodes": int(points.shape[0]), "cells": int(cells.shape[0]),
              "samples": {s: i["samples"] for s, i in summary["splits"].items()}, "relative_nodal_error": errors,
              "plot": str(png)}
    say(f"  dataset   {path}  ({', '.join(f'{s}: {n}' for s, n in result['samples'].items())} samples, "
        f"{result['nodes']} nodes, {result['cells']} triangles, {elapsed:.1f} s)")
    say("  accuracy  mean relative nodal error vs the exact solution: "
        + ", ".join(f"{s} {e:.2e}" for s, e in errors.items()))
    say(f"  plot      {png}")
    say(f"  next      pdesuite inspect {path}")
    result["surrogate"] = surrogate_demo(output, say, quiet)
    return result


def surrogate_demo(output: Path, say, quiet: bool) -> dict:
    """Train a small Lagrangian PINN on the exact convection solution (c = 5) and validate it."""
    import sys

    from pdesuite.recipes.generate import generate
    from pdesuite.training.trainer import make_config, train
    from pdesuite.validation.validate import validate_run

    say("pdesuite demo: training a Lagrangian PINN on u_t + 5 u_x = 0, u0 = sin x (exact reference) ...")
    data = generate("convection", output / "convection-c5.h5", overwrite=True, progress=False, command="pdesuite demo",
                    overrides={"c": "5", "nu": "0", "nx": "64", "nt": "25"})
    run = output / "lpinn-c5"
    if run.exists():
        import shutil

        shutil.rmtree(run)
    config = make_config("lpinn", data, device="cpu", steps=400,
                         overrides={"lbfgs_steps": "0", "n_collocation": "512", "width": "24", "depth": "3"})
    start = time.perf_counter()
    train(run, config, progress=not quiet and sys.stderr.isatty())
    metrics = validate_run(run)
    say(f"  run       {run}  (400 Adam steps, {time.perf_counter() - start:.0f} s)")
    say("  metrics   " + ", ".join(f"{k} {metrics[k]:.2e}" for k in ("relative_l2", "lpinn_error", "max_error")))
    say(f"  plot      {run / 'prediction.png'}")
    return {k: metrics[k] for k in ("relative_l2", "lpinn_error", "max_error")}


def plot_sample(points, cells, u, exact, png: Path) -> None:
    """Three panels on the mesh: FEM solution, exact solution, pointwise error."""
    from matplotlib.tri import Triangulation

    from pdesuite.io import pyplot, save_figure

    plt = pyplot()

    tri = Triangulation(points[:, 0], points[:, 1], cells)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    for ax, values, title in zip(axes, (u, exact, u - exact),
                                 ("FEM solution $u_h$ (P1)", "exact $u$", "error $u_h - u$"), strict=True):
        image = ax.tripcolor(tri, values, shading="gouraud", cmap="RdBu_r" if "error" in title else "viridis")
        ax.triplot(tri, lw=0.15, color="k", alpha=0.3)
        ax.set_aspect("equal")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.85)
    fig.suptitle("helmholtz-bumps: $-\\Delta u + u = f$, test sample 0")
    save_figure(fig, png, dpi=110)
