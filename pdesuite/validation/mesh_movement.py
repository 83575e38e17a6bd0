"""The ``mesh-movement`` evaluator: a learnt mesh mover (UM2N) against Monge-Ampère on a test split.

Per test mesh (the test split of the run's dataset, or of ``pdesuite validate RUN --data FILE``: another
mesh type or resolution), with ξ the unmoved mesh, x_MA the Monge-Ampère mesh and x_net the network's:

* ``tangled`` — inverted cells of x_net relative to ξ (`pdesuite.solvers.mesh_quality.count_inverted`);
  a sample with any is *failed* (UM2N's "Fail");
* the FEM error e = ‖u_h - u_exact‖_L2 of the bump problem solved on ξ (stored), on x_MA (stored) and on
  x_net (solved here: `pdesuite.recipes.um2n_helmholtz.solve_bumps`, needs dolfinx), and the error
  reductions ER = (e_ξ - e) / e_ξ. ``er_network`` averages over untangled samples only (as the
  authors' evaluation does), ``er_ma`` over all;
* ``displacement_error`` ‖x_net - x_MA‖ / ‖x_MA - ξ‖ (0: the MA mesh, 1: no better than not moving);
* move times on this machine: ``network_seconds`` the median of one forward pass (CPU, after a
  warm-up; also on the run's GPU if it has one), ``ma_seconds`` the median of Monge-Ampère moves of the
  first ``timing_samples`` test meshes redone here (the same relaxation as the dataset, monitor
  re-solves included), and ``speedup`` = ma_seconds / network_seconds.

Verdict (``claim``): UM2N's claim holds on this split when speedup ≥ 10, ER_network ≥ 0.7 · ER_MA and
no sample failed. Figure ``meshes.png``: ξ, x_MA and x_net over the solution for three samples.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pdesuite.registry import EVALUATORS
from pdesuite.solvers.mesh_quality import count_inverted
from pdesuite.validation.evaluation import Evaluation, Evaluator, TrainedRun

#: UM2N's claim, as tested here: at least this speed-up over MA at this fraction of MA's error reduction.
CLAIM_SPEEDUP, CLAIM_ER_FRACTION = 10.0, 0.7


def _dolfinx_available() -> bool:
    try:
        import pdesuite.solvers.fem  # noqa: F401
    except ImportError:
        return False
    return True


@EVALUATORS.register("mesh-movement")
class MeshMovementEvaluator(Evaluator):
    name = "mesh-movement"
    headline = "er_network"
    description = "a learnt mesh mover against Monge-Ampère: FEM error reduction, tangling, move time"
    options = {"seed": 0, "timing_samples": 3}

    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        path = surrogate.dataset
        arrays = surrogate.split_arrays("test")
        points, cells = arrays["points"], arrays["cells"]
        graphs = surrogate.graphs("test")
        n = len(graphs)
        fem = _dolfinx_available()
        notes = [] if fem else ["dolfinx is not installed: FEM errors on the network's meshes and MA timings skipped"]
        moved = [surrogate.forward_graph(graph) for graph in graphs]
        tangled = np.array([count_inverted(x, cells, points) for x in moved])
        e_uniform, e_ma = arrays["error_uniform"], arrays["error_moved"]
        er_ma = (e_uniform - e_ma) / e_uniform
        values: dict = {
            "samples": n, "nodes": int(len(points)), "cells": int(len(cells)),
            "mesh": _mesh_description(path),
            "tangled_per_mesh": tangled.tolist(), "failed": int(np.count_nonzero(tangled)),
            "tangled_mean": float(tangled.mean()), "er_ma": float(er_ma.mean()),
            "er_ma_per_sample": er_ma.tolist(), "displacement_error": surrogate.displacement_error(graphs),
            "parameters": int(sum(p.numel() for p in surrogate.net.parameters())),
        }
        u_net = []
        if fem:
            from pdesuite.recipes.um2n_helmholtz import solve_bumps

            e_net, ok = np.full(n, np.nan), tangled == 0
            for i in range(n):
                if ok[i]:
                    u, e_net[i] = solve_bumps(moved[i], cells, arrays["params"][i])
                    u_net.append(u)
                else:
                    u_net.append(None)
            er_net = (e_uniform - e_net) / e_uniform
            values.update(er_network=float(np.nanmean(er_net[ok])) if ok.any() else None,
                          er_network_per_sample=[None if np.isnan(v) else float(v) for v in er_net],
                          error_uniform=float(e_uniform.mean()), error_ma=float(e_ma.mean()),
                          error_network=float(np.nanmean(e_net)) if ok.any() else None)
            values["ma_seconds"] = self._time_ma(points, cells, arrays["params"][: self.settings["timing_samples"]])
        values["ma_seconds_stored"] = float(np.median(arrays["ma_seconds"])) if "ma_seconds" in arrays else None
        values.update(self._time_network(surrogate, graphs[0]))
        if values.get("ma_seconds"):
            values["speedup"] = values["ma_seconds"] / values["network_seconds"]
        er_fraction = (values["er_network"] / values["er_ma"]) if values.get("er_network") is not None else None
        values["er_fraction"] = er_fraction
        if values.get("speedup") is not None and er_fraction is not None:
            values["claim"] = bool(values["speedup"] >= CLAIM_SPEEDUP and er_fraction >= CLAIM_ER_FRACTION
                                   and values["failed"] == 0)
        figures = ["meshes.png"]
        self._plot(output / figures[0], points, cells, arrays, moved, u_net)
        summary = (f"ER MA {values['er_ma']:.3f}, network "
                   + (f"{values['er_network']:.3f}" if values.get("er_network") is not None else "n/a")
                   + f"; {values['failed']}/{n} tangled; displacement error {values['displacement_error']:.3f}"
                   + (f"; {values['speedup']:.0f}x faster than MA" if values.get("speedup") else ""))
        return Evaluation(values, figures, summary, run.provenance(), notes)

    @staticmethod
    def _time_network(surrogate, graph) -> dict:
        import torch

        out = {"network_device": str(surrogate.device)}
        if surrogate.device.type != "cpu":
            out["network_seconds_gpu"] = surrogate.time_move(graph)
            if torch.cuda.is_available():
                out["gpu"] = torch.cuda.get_device_name(surrogate.device)
        device = surrogate.device
        surrogate.to("cpu")
        try:
            out["network_seconds"] = surrogate.time_move(graph)
        finally:
            surrogate.to(device)
        return out

    @staticmethod
    def _time_ma(points, cells, params) -> float | None:
        """Median wall time of Monge-Ampère moves of this mesh for the first samples' bump problems."""
        from pdesuite.recipes.um2n_helmholtz import BumpCase
        from pdesuite.solvers.fem import from_arrays

        if len(params) == 0:
            return None
        case = BumpCase(from_arrays(points, cells))
        seconds = []
        for p in params:
            case.set_params(p)
            start = time.perf_counter()
            case.mover.move()
            seconds.append(time.perf_counter() - start)
            case.mover.restore()
        return float(np.median(seconds))

    @staticmethod
    def _plot(path: Path, points, cells, arrays, moved, u_net) -> None:
        from matplotlib.tri import Triangulation

        from pdesuite.io import pyplot, save_figure

        plt = pyplot()
        rows = min(3, len(moved))
        fig, axes = plt.subplots(rows, 3, figsize=(11, 3.6 * rows), squeeze=False, constrained_layout=True)
        for r in range(rows):
            panels = [("original", points, arrays["u"][r, 0, :, 0]), ("Monge-Ampère", arrays["moved"][r],
                      arrays["u_moved"][r] if "u_moved" in arrays else None),
                      ("network", moved[r], u_net[r] if r < len(u_net) else None)]
            for c, (title, xy, u) in enumerate(panels):
                ax = axes[r, c]
                tri = Triangulation(xy[:, 0], xy[:, 1], cells)
                if u is not None:
                    ax.tripcolor(tri, u, shading="gouraud", cmap="viridis")
                ax.triplot(tri, color="k", lw=0.25)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"sample {r}: {title}", fontsize=9)
        save_figure(fig, path)


def _mesh_description(path) -> dict:
    from pdesuite.data.reader import json_attr, open_h5

    with open_h5(path) as f:
        where = "test/mesh/cells" if "test" in f and "mesh" in f["test"] else "mesh/cells"
        return json_attr(f[where].attrs, "mesh", {})
