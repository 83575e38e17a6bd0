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

``stats.yaml`` holds the training split's mean and standard deviation per field (from the file's
stored statistics, `pdesuite.data.field_statistics`; a vector field's components pooled) and of the one-step
differences, the statistics The Well's normalisation reads. Mesh data (cylinder flow) have no
cartesian layout and are refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.io import atomic_folder

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


def pooled_moments(stats, index: int | list[int]) -> tuple[float, float]:
    """Mean and standard deviation of field ``index``, or of the components ``index`` of a vector field taken
    together, from per-field statistics (`pdesuite.data.statistics.FieldStatistics`; equal counts per field)."""
    index = np.atleast_1d(index)
    mean = float(stats.mean[index].mean())
    variance = np.square(stats.std[index]) + np.square(stats.mean[index] - mean)
    return mean, float(np.sqrt(variance.mean()))


def export_the_well(path: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write dataset file ``path`` in The Well's layout into folder ``out`` (see the module docstring).

    The folder is built under a temporary name and renamed when complete; an existing ``out`` is bad
    input unless ``overwrite``.
    """
    import h5py

    from pdesuite.data.reader import open_dataset, open_h5
    from pdesuite.data.statistics import field_statistics
    from pdesuite.data.trajectories import load_trajectories

    out = Path(out)
    if out.exists() and not overwrite:
        raise BadInput(f"{out} exists (use --overwrite to replace it)")
    meta = open_dataset(path)
    with open_h5(path) as f:
        if "mesh" in f:
            raise BadInput(f"{path} holds mesh data; The Well's layout is cartesian grids only")
    name = str(meta.attrs.get("dataset", meta.attrs.get("problem", "pdesuite")))
    stats: dict[str, dict] = {}
    moments = None  # the per-field statistics of the training split, read once
    with atomic_folder(out, overwrite) as tmp:
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
                            moments = moments or field_statistics(path, "train")  # the file's own /stats
                            mean, std = pooled_moments(moments, index)
                            stats[field] = {"mean": mean, "std": std,
                                            "mean_delta": float(step.mean()), "std_delta": float(step.std())}
        if not any((tmp / "data").glob("*/*.hdf5")):
            raise BadInput(f"{path} has no grid trajectories to export")
        lines = []
        for key in ("mean", "std", "mean_delta", "std_delta"):
            lines.append(f"{key}:")
            lines += [f"  {field}: {values[key]!r}" for field, values in stats.items()]
        (tmp / "stats.yaml").write_text("\n".join(lines) + "\n")
    return out


# -- PDEBench ------------------------------------------------------------------------------------------------

#: How `export_pdebench` may lay a split out: "single" (PDEBench's one-array 1D file, read by
#: FNODatasetSingle / UNetDatasetSingle), "groups" (one group per sample, read by FNODatasetMult /
#: UNetDatasetMult), or "auto" (single where it can hold the data, else groups).
PDEBENCH_LAYOUTS = ("auto", "single", "groups")


def export_pdebench(path: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False,
                    layout: str = "auto") -> Path:
    """Write the 1D/2D grid dataset ``path`` into folder ``out`` as PDEBench (Takamoto et al., NeurIPS
    2022) stores its data, one HDF5 file per split, so that the loaders of the ``pdebench`` package
    (``pdebench.models.fno.utils`` / ``pdebench.models.unet.utils``, release 0.1.0) read them:

    * ``single`` -> ``out/<dataset>_<split>.hdf5`` (1D, one field, one x and t grid for all samples):
      ``tensor`` (n, n_t, n_x) float32, ``x-coordinate`` (n_x,), ``t-coordinate`` (n_t,), and the
      per-sample ``parameters/<name>`` and scalar ``extras/<name>`` (n,). PDEBench's
      ``FNODatasetSingle(filename, saved_folder=...)`` picks this branch because the key ``tensor`` exists.
    * ``groups`` -> ``out/<dataset>_<split>.h5`` (any 1D or 2D grid data): one group per sample named
      ``0000``, ``0001``, ... (zero-padded so that their sorted order is the sample order) holding ``data``
      (n_t, *space, n_fields) float32, channels in our field order, and ``grid/x`` [, ``grid/y``], ``grid/t``
      (that sample's own grids where ours are per sample, as KS's); its parameters and scalar extras are
      the group's attributes. ``FNODatasetMult(filename_without_extension, saved_folder=...)`` reads it.

    ``auto`` takes ``single`` where it can hold the data, else ``groups``. Every file's root attributes
    hold our provenance: ``pdesuite_source`` (the source file's attributes as JSON), ``pdesuite_split``,
    ``fields`` and ``parameter_names`` (JSON lists). Mesh data, 3D grids and data without a spatial axis
    are bad input, as is ``single`` for data it cannot hold. The folder is built under a temporary name
    and renamed when complete; an existing ``out`` is bad input unless ``overwrite``.
    """
    import h5py

    from pdesuite.data.reader import open_dataset, open_h5
    from pdesuite.data.trajectories import load_trajectories

    if layout not in PDEBENCH_LAYOUTS:
        raise BadInput(f"unknown PDEBench layout {layout!r} (known: {', '.join(PDEBENCH_LAYOUTS)})")
    out = Path(out)
    if out.exists() and not overwrite:
        raise BadInput(f"{out} exists (use --overwrite to replace it)")
    meta = open_dataset(path)
    with open_h5(path) as f:
        if "mesh" in f or any(f"{split}/mesh" in f for split in meta.splits):
            raise BadInput(f"{path} holds mesh data; PDEBench's loaders read 1D and 2D grids only")
    splits = [load_trajectories(path, split) for split in meta.splits]
    splits = [data for data in splits if len(data)]
    if not splits:
        raise BadInput(f"{path} has no samples to export")
    dims = splits[0].spatial_dims
    if dims not in (1, 2):
        what = "no spatial axis" if dims < 1 else f"{dims}D grids"
        raise BadInput(f"{path} has {what}; the PDEBench export writes 1D and 2D grid data only")
    fits_single = dims == 1 and len(splits[0].fields) == 1 and all(d.x is None and d.t is None for d in splits)
    if layout == "single" and not fits_single:
        raise BadInput(f"{path} does not fit PDEBench's single-array layout (1D, one field, one x and t grid "
                       "for all samples); use the groups layout")
    single = fits_single and layout != "groups"
    name = str(meta.attrs.get("dataset", meta.attrs.get("problem", "pdesuite")))
    axes = list(AXES[:dims])
    with atomic_folder(out, overwrite) as tmp:
        for data in splits:
            extras = {key: value for key, value in data.extras.items() if len(np.shape(value)) == 1}
            target = tmp / f"{name}_{data.split}.{'hdf5' if single else 'h5'}"
            with h5py.File(target, "w") as h5:
                h5.attrs.update({"pdesuite_source": json.dumps(meta.attrs, default=str),
                                 "pdesuite_split": data.split, "fields": json.dumps(list(data.fields)),
                                 "parameter_names": json.dumps(list(data.params))})
                if single:
                    h5.create_dataset("tensor", data=data.u[..., 0], compression="gzip")
                    h5.create_dataset("x-coordinate", data=data.grid["x"])
                    h5.create_dataset("t-coordinate", data=data.times)
                    for group_name, values in (("parameters", data.params), ("extras", extras)):
                        group = h5.create_group(group_name)
                        for key, column in values.items():
                            column = np.asarray(column)
                            text = column.dtype.kind in "OSU"  # e.g. smoke's prompts
                            group.create_dataset(key, data=column.astype(str).tolist() if text else column,
                                                 dtype=h5py.string_dtype() if text else None)
                    continue
                width = max(4, len(str(len(data) - 1)))
                for i in range(len(data)):
                    sample = h5.create_group(f"{i:0{width}d}")
                    sample.create_dataset("data", data=data.u[i], compression="gzip")
                    grid = sample.create_group("grid")
                    for axis in axes:
                        grid.create_dataset(axis, data=data.x[i] if axis == "x" and data.x is not None
                                            else data.grid[axis])
                    grid.create_dataset("t", data=data.t[i] if data.t is not None else data.times)
                    sample.attrs.update({key: column[i] for key, column in {**data.params, **extras}.items()})
    return out
