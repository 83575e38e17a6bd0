"""UM2N (Zhang et al., NeurIPS 2024): a graph network that moves a mesh the way Monge-Ampère would.

Trained on a moved-mesh dataset (`um2n-helmholtz`): each sample is a mesh ξ with the monitor m(ξ)
at its nodes (the network's input, `pdesuite.data.graphs.mover_graph`) and the Monge-Ampère mesh x_MA
(the target). The network (`pdesuite.nn.um2n.UM2N`) maps (ξ, m, boundary mask) to coordinates in one
forward pass; boundary nodes slide along their side by construction. Loss per minibatch of
``batch_size`` graphs (drawn with replacement from the trainer's generator):

    L = mean_i |x_i - x_MA,i|²  +  area_weight · mean_c (A_c(x) - A_c(x_MA))² / mean|A(x_MA)|²
        + chamfer_weight · chamfer(x, x_MA)

(UM2N: chamfer + element area; the coordinate term is the direct regression, the chamfer distance
an option written in torch). Rank r of w data-parallel processes takes graphs r, r + w, ... of the
batch.

Validation (``displacement_error``, lower is better): over the first ``val_samples`` graphs of the
valid split, ‖x - x_MA‖ / ‖x_MA - ξ‖ summed over nodes: 0 is Monge-Ampère's mesh, 1 is as far from it
as the unmoved mesh. `pdesuite validate` runs the ``mesh-movement`` evaluator (FEM error reduction,
tangling, move time against Monge-Ampère; `pdesuite.validation.mesh_movement`).

The data are read when first needed, so a trained network can be validated on a file that has only a
test split (another mesh type or resolution: ``pdesuite validate RUN --data other.h5``).

Shapes: points (n, 2), cells (n_cells, 3), monitor (n,), moved (n, 2).
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.base import Surrogate

#: What a moved-mesh dataset's splits hold besides ``u``.
REQUIRED_EXTRAS = ("monitor", "moved")


def read_split(path: str | os.PathLike, split: str) -> dict[str, Any]:
    """The mesh (points, cells) of ``split`` and its per-sample monitor, MA coordinates and params."""
    from pdesuite.data.graphs import read_mesh
    from pdesuite.data.reader import open_dataset

    data = open_dataset(path)
    if split not in data.splits:
        raise BadInput(f"{path} has no split {split!r} (has: {', '.join(data.splits)})")
    read_split_header(path, split)
    arrays = data.split(split)
    points, cells, cell_type = read_mesh(path, split)
    if cell_type != "triangle":
        raise BadInput(f"um2n moves triangle meshes, {path} has {cell_type} cells")
    return {"points": points[:, :2], "cells": cells, **arrays}


@SURROGATES.register("um2n")
class UM2NSurrogate(Surrogate):
    name = "um2n"
    description = "graph-transformer + GAT mesh mover trained on Monge-Ampère meshes (Zhang et al. 2024)"
    physics = False
    plan = "adam-lbfgs"
    evaluator = "mesh-movement"
    validation_metric = "displacement_error"
    defaults: ClassVar[dict[str, Any]] = {
        "size": "small",          # network size (pdesuite.nn.um2n.SIZES): small ~55k, paper ~1.85 M parameters
        "attention": "global",    # encoder attention over the whole mesh (as UM2N) or "local" (mesh edges)
        "batch_size": 4,          # graphs per step (UM2N: 5)
        "area_weight": 1.0,       # weight of the element-area term
        "chamfer_weight": 0.0,    # weight of the chamfer distance (UM2N's main term; 0: off)
        "val_samples": 8,         # graphs of the valid split scored by validation_error
        "feature_layout": ["x", "y", "monitor", "boundary"],  # the network's input (checked on load)
        "extra_train": [],        # more moved-mesh files whose train splits join the training set (other meshes)
    }
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {"adam_steps": 2000, "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine", "val_every": 100,
                  "checkpoint_every": 250, "log_every": 25},
        "gpu": {"size": "paper", "batch_size": 8, "adam_steps": 6000, "lr": 5e-4, "min_lr": 1e-6,
                "schedule": "cosine", "val_every": 500, "checkpoint_every": 1000, "log_every": 100,
                "val_samples": 16},
        "paper": {"size": "paper", "batch_size": 5, "adam_steps": 45000, "lr": 5e-5, "schedule": "constant",
                  "val_every": 2000, "checkpoint_every": 2000, "log_every": 200, "val_samples": 45},
    }
    positive_integers = ("batch_size", "val_samples")
    choices: ClassVar[dict[str, tuple]] = {"attention": ("global", "local")}
    non_negative_numbers = ("area_weight", "chamfer_weight")

    @classmethod
    def from_dataset(cls, path, **config):
        return cls(None, dataset=str(path), **config)

    def __init__(self, task=None, dataset: str | None = None, **config: Any):
        from pdesuite.nn.um2n import SIZES, UM2N

        super().__init__(task, **config)
        c = self.config
        if c["size"] not in SIZES:
            raise BadInput(f"um2n: unknown size {c['size']!r} (known: {', '.join(SIZES)})")
        if list(c["feature_layout"]) != list(UM2N.feature_layout):
            raise BadInput(f"um2n: this network reads features {list(UM2N.feature_layout)}, the run was made "
                           f"for {list(c['feature_layout'])}")
        if dataset is None:
            raise BadInput("um2n is built from a dataset file (from_dataset)")
        from pdesuite.data.reader import open_dataset

        self.dataset = dataset
        self.available_splits = open_dataset(dataset).splits
        for split in self.available_splits:
            read_split_header(dataset, split)
        if not isinstance(c["extra_train"], list):
            raise BadInput(f"um2n: extra_train must be a list of dataset files, got {c['extra_train']!r}")
        for path in c["extra_train"]:
            try:
                if "train" not in open_dataset(path).splits:
                    raise BadInput(f"{path} has no train split")
                read_split_header(path, "train")
            except BadInput as exc:
                raise BadInput(f"um2n: extra_train: {exc}") from None
        self.net = UM2N(**SIZES[c["size"]], attention=c["attention"])
        self._graphs: dict[str, list] = {}
        self._arrays: dict[str, dict] = {}

    # -- data ----------------------------------------------------------------------------------------
    def split_arrays(self, split: str) -> dict[str, Any]:
        """`read_split` of this surrogate's dataset, read once."""
        if split not in self._arrays:
            self._arrays[split] = read_split(self.dataset, split)
        return self._arrays[split]

    def graphs(self, split: str) -> list:
        """The split's samples as mover graphs (`pdesuite.data.graphs.mover_graphs`), built once; the
        training split adds the train splits of the ``extra_train`` files (UM2N trains on two mesh
        resolutions at once)."""
        if split not in self._graphs:
            from pdesuite.data.graphs import mover_graphs

            sources = [self.split_arrays(split)]
            if split == "train":
                sources += [read_split(path, split) for path in self.config["extra_train"]]
            graphs = []
            for arrays in sources:
                built = mover_graphs(arrays["points"], arrays["cells"], arrays["monitor"], arrays["moved"])
                for i, graph in enumerate(built):
                    graph.index = i
                graphs += built
            self._graphs[split] = graphs
        return self._graphs[split]

    def _batch(self, graphs: list):
        from torch_geometric.data import Batch

        from pdesuite.nn.um2n import stack_cells

        batch = Batch.from_data_list(graphs).to(self.device)
        cells = stack_cells([g.cells for g in graphs], [g.num_nodes for g in graphs]).to(self.device)
        return batch, cells

    # -- training ------------------------------------------------------------------------------------
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        from pdesuite.nn.um2n import chamfer_distance, coordinate_loss, element_area_loss

        train = self.graphs("train")
        c = self.config
        rank, world = shard
        if c["batch_size"] % world:
            raise BadInput(f"um2n: batch_size {c['batch_size']} is not divisible by {world} processes")
        picks = torch.randint(len(train), (c["batch_size"],), generator=generator).tolist()[rank::world]
        batch, cells = self._batch([train[i] for i in picks])
        x = self.net(batch)
        terms = {"coordinates": coordinate_loss(x, batch.moved),
                 "area": element_area_loss(x, batch.moved, cells)}
        total = terms["coordinates"] + c["area_weight"] * terms["area"]
        if c["chamfer_weight"] > 0:
            terms["chamfer"] = chamfer_distance(x, batch.moved, batch.batch, batch.batch)
            total = total + c["chamfer_weight"] * terms["chamfer"]
        return {"loss": total, **terms}

    @torch.no_grad()
    def displacement_error(self, graphs: list) -> float:
        """Σ‖x - x_MA‖ / Σ‖x_MA - ξ‖ (over nodes, as 2-norms of the stacked coordinates) for ``graphs``."""
        num = den = 0.0
        for graph in graphs:
            batch, _ = self._batch([graph])
            x = self.net(batch)
            num += float((x - batch.moved).pow(2).sum())
            den += float((batch.moved - batch.pos).pow(2).sum())
        return float(np.sqrt(num / max(den, 1e-30)))

    def validation_error(self) -> float:
        split = "valid" if "valid" in self.available_splits else "test"
        return self.displacement_error(self.graphs(split)[: self.config["val_samples"]])

    # -- use -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def move(self, points: np.ndarray, cells: np.ndarray, monitor: np.ndarray) -> np.ndarray:
        """Moved coordinates (n, 2) of the mesh (``points`` (n, 2), ``cells``) for nodal ``monitor`` (n,)."""
        from pdesuite.data.graphs import mover_graph
        from pdesuite.solvers.mesh_quality import folded_edges

        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] < 2:
            raise BadInput(f"um2n moves 2D meshes: points must be (n, 2), got {points.shape}")
        folds = folded_edges(points, cells)
        if folds:
            raise BadInput(f"the mesh to move has inverted cells ({folds} interior edges with both cells on one side)")
        return self.forward_graph(mover_graph(points, cells, monitor))

    @torch.no_grad()
    def forward_graph(self, graph) -> np.ndarray:
        """The network's coordinates (n, 2) for one mover graph."""
        batch, _ = self._batch([graph])
        return self.net(batch).double().cpu().numpy()

    def mover(self):
        """This network as a mesh-mover callback ``(reference_domain, monitor) -> points`` for
        `pdesuite.solvers.fem.swirl.SwirlSolver.run` (as `monge_ampere_mover`): the monitor is evaluated
        once on the reference mesh ξ and the network moves ξ in one forward pass (serial meshes)."""
        def move(reference_domain, monitor) -> np.ndarray:
            import dolfinx

            from pdesuite.solvers.fem.solution import nodal_values

            mesh = reference_domain.mesh
            m = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1)))
            monitor.evaluate(m)
            return self.move(mesh.geometry.x[:, :2], mesh.geometry.dofmaps[0], nodal_values(m)[:, 0])

        return move

    def time_move(self, graph, repeats: int = 5) -> float:
        """Median wall time (s) of one forward pass on ``graph`` (after one warm-up), on this device."""
        batch, _ = self._batch([graph])
        times = []
        with torch.no_grad():
            self.net(batch)
            for _ in range(repeats):
                if self.device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                self.net(batch)
                if self.device.type == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
        return float(np.median(times))

    def predict_grid(self) -> np.ndarray:
        """The moved coordinates of sample ``index`` of ``split`` (n, 2): a mesh, not a grid."""
        return self.forward_graph(self.graphs(self.config["split"])[self.config["index"]])


def read_split_header(path, split: str) -> None:
    """BadInput unless ``split`` of ``path`` holds what um2n needs (without reading the samples)."""
    from pdesuite.data.reader import open_h5

    with open_h5(path) as f:
        group = f[split]
        missing = [name for name in REQUIRED_EXTRAS if name not in group]
        if missing:
            raise BadInput(f"um2n learns from moved-mesh datasets (um2n-helmholtz); {path} has no "
                           f"{'/'.join(missing)} in {split}")
