"""Our grid datasets in The Well's layout (Ohana et al., "The Well", NeurIPS 2024 Datasets & Benchmarks),
so that `the_well`'s own `WellDataset` loads them.

    pdesuite export FILE --to the-well -o DIR      ->  DIR/data/{train,valid,test}/<dataset>.hdf5, DIR/stats.yaml

One HDF5 file per split, as The Well stores a dataset:

* root attributes: ``dataset_name``, ``grid_type = "cartesian"``, ``n_spatial_dims``, ``n_trajectories``,
  ``simulation_parameters`` (the per-sample parameter names) and our provenance (``pdesuite_source``:
  the file's own attributes as JSON);
* ``dimensions``: ``time`` and each spatial axis (attribute ``spatial_dims``), each with ``sample_varying``
  (KS stores a length and a time step per trajectory: then they are (n, n_t) and (n, n_x));
* ``boundary_conditions``: one group per axis with ``bc_type`` WALL, PERIODIC or OPEN (from the dataset's
  ``boundary`` attribute, else the problem's periodic axes, else its docstring saying "periodic"),
  ``associated_dims`` and a ``mask`` that is true on the axis' two ends;
* ``scalars``: the per-sample parameters (``sample_varying``, not ``time_varying``);
* ``t0_fields`` / ``t1_fields`` / ``t2_fields``: scalar, vector and tensor fields of shape
  (n, n_t, *space[, d]) with ``dim_varying``, ``sample_varying``, ``time_varying``. Fields named
  ``vx, vy[, vz]`` (or ``ux, uy``) become one vector field ``velocity``; every other field is a scalar.

``stats.yaml`` holds the training split's mean and standard deviation per field (and of the one-step
differences), the statistics The Well's normalisation reads. Mesh data (cylinder flow) have no
cartesian layout and are refused.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from pdesuite.errors import BadInput

#: Component names -> The Well's vector field name.
VECTORS = {("vx", "vy", "vz"): "velocity", ("ux", "uy", "uz"): "velocity"}
AXES = ("x", "y", "z")


def field_groups(fields: list[str], n_dims: int) -> tuple[list[tuple[str, int]], list[tuple[str, list[int]]]]:
    """(scalar fields as (name, index), vector fields as (name, component indices)) of our field list."""
    vectors, used = [], set()
    for components, name in VECTORS.items():
        wanted = components[:n_dims]
        if all(c in fields for c in wanted) and not used & set(wanted):
            vectors.append((name, [fields.index(c) for c in wanted]))
            used |= set(wanted)
    scalars = [(f, i) for i, f in enumerate(fields) if f not in used]
    return scalars, vectors


def boundary_types(meta, params: dict[str, np.ndarray], axes: list[str]) -> dict[str, str]:
    """Axis -> WALL | PERIODIC | OPEN for a dataset (its ``boundary`` attribute, else its problem's
    periodic axes for the first sample's parameters)."""
    text = str(meta.attrs.get("boundary", "")).lower()
    if "wall" in text:
        return dict.fromkeys(axes, "WALL")
    if "periodic" in text:
        return dict.fromkeys(axes, "PERIODIC")
    periodic: dict = {}
    try:
        from pdesuite.problems.base import problem_instance

        problem = problem_instance(meta.attrs["problem"], {k: float(v[0]) for k, v in params.items()})
        periodic = dict(getattr(problem, "periodic", {}) or {})
        if not periodic and "periodic" in (type(problem).__doc__ or "").lower():  # e.g. KS: "x ∈ [0, L) periodic"
            periodic = dict.fromkeys(axes)
    except (BadInput, KeyError, TypeError, ValueError, IndexError):
        pass  # no registered problem for these parameters: boundaries unknown, "open"
    return {a: "PERIODIC" if a in periodic else "OPEN" for a in axes}


def export_the_well(path: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write dataset file ``path`` in The Well's layout into folder ``out`` (see the module docstring).

    The folder is built under a temporary name and renamed when complete; an existing ``out`` is bad
    input unless ``overwrite``.
    """
    import h5py

    from pdesuite.data.reader import open_dataset, open_h5
    from pdesuite.data.trajectories import load_trajectories

    out = Path(out)
    if out.exists() and not overwrite:
        raise BadInput(f"{out} exists (use --overwrite to replace it)")
    meta = open_dataset(path)
    with open_h5(path) as f:
        if "mesh" in f:
            raise BadInput(f"{path} holds mesh data; The Well's layout is cartesian grids only")
    name = str(meta.attrs.get("dataset", meta.attrs.get("problem", "pdesuite")))
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    stats: dict[str, dict] = {}
    try:
        for split in meta.splits:
            data = load_trajectories(path, split)
            if data.spatial_dims < 1 or len(data) == 0:
                continue
            axes = list(AXES[: data.spatial_dims])
            scalars, vectors = field_groups(list(data.fields), data.spatial_dims)
            bcs = boundary_types(meta, data.params, axes)
            target = tmp / "data" / split / f"{name}.hdf5"
            target.parent.mkdir(parents=True, exist_ok=True)
            with h5py.File(target, "w") as h5:
                h5.attrs.update({"dataset_name": name, "grid_type": "cartesian", "n_spatial_dims": len(axes),
                                 "n_trajectories": len(data), "simulation_parameters": list(data.params),
                                 "pdesuite_source": json.dumps(meta.attrs, default=str)})
                dims = h5.create_group("dimensions")
                dims.attrs["spatial_dims"] = axes
                times = data.t if data.t is not None else data.times
                dims.create_dataset("time", data=times).attrs.update(
                    {"sample_varying": data.t is not None, "time_varying": True})
                for a in axes:
                    coords = data.x if (a == "x" and data.x is not None) else data.grid[a]
                    dims.create_dataset(a, data=coords).attrs.update(
                        {"sample_varying": coords.ndim == 2, "time_varying": False})
                group = h5.create_group("boundary_conditions")
                for a in axes:
                    n = data.u.shape[2 + axes.index(a)]
                    mask = np.zeros(n, dtype=bool)
                    mask[[0, -1]] = True
                    bc = group.create_group(f"{a}_{bcs[a].lower()}")
                    bc.attrs.update({"bc_type": bcs[a], "associated_dims": [a], "associated_fields": [],
                                     "sample_varying": False, "time_varying": False})
                    bc.create_dataset("mask", data=mask)
                group = h5.create_group("scalars")
                group.attrs["field_names"] = list(data.params)
                for key, values in data.params.items():
                    group.create_dataset(key, data=values).attrs.update(
                        {"sample_varying": True, "time_varying": False})
                order = {0: scalars, 1: vectors}
                for rank in range(3):
                    group = h5.create_group(f"t{rank}_fields")
                    entries = order.get(rank, [])
                    group.attrs["field_names"] = [e[0] for e in entries]
                    for field, index in entries:
                        values = data.u[..., index]  # (n, n_t, *space) or (n, n_t, *space, d)
                        group.create_dataset(field, data=values, compression="gzip").attrs.update(
                            {"dim_varying": [True] * len(axes), "sample_varying": True, "time_varying": True})
                        if split == "train":
                            step = np.diff(values, axis=1)
                            stats[field] = {"mean": float(values.mean()), "std": float(values.std()),
                                            "mean_delta": float(step.mean()), "std_delta": float(step.std())}
        if not any((tmp / "data").glob("*/*.hdf5")):
            raise BadInput(f"{path} has no grid trajectories to export")
        lines = []
        for key in ("mean", "std", "mean_delta", "std_delta"):
            lines.append(f"{key}:")
            lines += [f"  {field}: {values[key]!r}" for field, values in stats.items()]
        (tmp / "stats.yaml").write_text("\n".join(lines) + "\n")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
