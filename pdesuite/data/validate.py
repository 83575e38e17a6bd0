"""Check a dataset file against format v1 and summarise it (behind `pdesuite inspect`)."""

from __future__ import annotations

import os

import h5py
import numpy as np

from pdesuite.data.format import FORMAT, FORMAT_VERSION, REQUIRED_ATTRS, SPLITS
from pdesuite.data.reader import json_attr, open_h5
from pdesuite.data.statistics import STATS_GROUP, STATS_KEYS
from pdesuite.errors import BadInput


def validate_dataset(path: str | os.PathLike, check_values: bool = True) -> dict:
    """Validate the layout of a dataset file and return a summary.

    Checks the root attributes, the coordinates (grid or mesh), every split's ``u`` shape against
    them and the field list, ``params`` against its names, the ``/stats`` group where present, and
    (``check_values``) that the values are finite. Raises BadInput with a one-line message naming the
    first problem found.
    """

    def fail(message: str):
        raise BadInput(f"{path}: {message}")

    with open_h5(path) as f:
        try:
            attrs = {key: json_attr(f.attrs, key) for key in f.attrs}
            if attrs.get("format") != FORMAT:
                fail(f"not a pdesuite dataset (format attribute {attrs.get('format')!r})")
            unfinished = {s: f[s]["_done"][()] for s in SPLITS if s in f and "_done" in f[s]}
            if "_identity" in attrs or unfinished:
                written = sum(int(done.sum()) for done in unfinished.values())
                total = sum(done.size for done in unfinished.values())
                fail(f"incomplete: the file of a generation still running or interrupted ({written} of {total} "
                     f"samples written; the finished file appears under the target name, an interrupted one "
                     f"continues with --resume)")
            if attrs.get("format_version") != FORMAT_VERSION:
                fail(f"unsupported format_version {attrs.get('format_version')!r} (this reader: {FORMAT_VERSION})")
            missing = [key for key in REQUIRED_ATTRS if key not in attrs]
            if missing:
                fail(f"missing root attribute(s) {', '.join(missing)}")
            if not isinstance(attrs["params"], dict):
                fail("root attribute 'params' is not a JSON object")
            fields = attrs["fields"]
            if not isinstance(fields, list) or not fields:
                fail("root attribute 'fields' is not a non-empty JSON list")
            if "t" not in f:
                fail("missing /t")

            splits = [s for s in SPLITS if s in f]
            # a mesh at the root, or per split (/{split}/mesh) where the splits' meshes differ
            meshes = {s: f[s]["mesh"] if "mesh" in f[s] else f["mesh"] if "mesh" in f else None for s in splits}
            has_mesh = any(mesh is not None for mesh in meshes.values()) or "mesh" in f
            for where, mesh in [("/mesh", f["mesh"] if "mesh" in f else None)] + [
                    (f"/{s}/mesh", f[s]["mesh"]) for s in splits if "mesh" in f[s]]:
                if mesh is None:
                    continue
                if "points" not in mesh or "cells" not in mesh:
                    fail(f"{where} needs 'points' and 'cells'")
                n_nodes = mesh["points"].shape[0]
                cells = mesh["cells"][()]
                if cells.size and (cells.min() < 0 or cells.max() >= n_nodes):
                    fail(f"{where}/cells index nodes outside {where}/points")
            if has_mesh and any(mesh is None for mesh in meshes.values()):
                fail(f"split(s) {[s for s, m in meshes.items() if m is None]} have no mesh (/mesh or /SPLIT/mesh)")
            if not splits:
                fail("no split group (train, valid or test)")

            summary = {"path": str(path), "attrs": attrs, "splits": {}}
            for split in splits:
                group = f[split]
                for key in ("u", "params"):
                    if key not in group:
                        fail(f"/{split} has no '{key}'")
                u, params = group["u"], group["params"]
                n = u.shape[0]
                # per-sample coordinates (e.g. KS): /{split}/t is (n, n_t)
                t_len = group["t"].shape[-1] if "t" in group else f["t"].shape[0]
                if has_mesh:
                    expected = (n, t_len, meshes[split]["points"].shape[0], len(fields))
                else:  # grid axes at the root, or per sample inside the split (e.g. KS's x)
                    grid_axes = [a for a in ("x", "y", "z") if a in group or a in f]
                    lengths = [group[a].shape[-1] if a in group else f[a].shape[0] for a in grid_axes]
                    expected = (n, t_len, *lengths, len(fields))
                if tuple(u.shape) != expected:
                    fail(f"/{split}/u has shape {tuple(u.shape)}, expected {expected} "
                         f"(samples, t, {'nodes' if has_mesh else 'grid'}, fields)")
                names = json_attr(params.attrs, "names", None)
                if names is None or params.shape != (n, len(names)):
                    fail(f"/{split}/params shape {params.shape} does not match its names {names}")
                info = {"samples": n, "u_shape": list(u.shape), "dtype": str(u.dtype),
                        "chunks": list(u.chunks) if u.chunks else None, "compression": u.compression,
                        "param_names": names}
                if check_values and n:
                    data = u[()]
                    if not np.all(np.isfinite(data)):
                        fail(f"/{split}/u contains non-finite values")
                    info["min"] = float(data.min())
                    info["max"] = float(data.max())
                    info["per_field"] = {
                        name: [float(data[..., k].min()), float(data[..., k].max())]
                        for k, name in enumerate(fields)}
                summary["splits"][split] = info
            if STATS_GROUP in f:
                summary["stats"] = check_statistics(f, fields, splits, fail)
            summary["coordinates"] = {key: list(f[key].shape) for key in ("t", "x", "y", "z") if key in f}
            if has_mesh:
                def describe(mesh):
                    return {"points": list(mesh["points"].shape), "cells": list(mesh["cells"].shape),
                            "cell_type": json_attr(mesh["cells"].attrs, "cell_type", "?")}
                if "mesh" in f:
                    summary["mesh"] = describe(f["mesh"])
                for s, mesh in meshes.items():
                    if mesh is not None and mesh.name != "/mesh":
                        summary["splits"][s]["mesh"] = describe(mesh)
            return summary
        except (OSError, KeyError, RuntimeError) as exc:  # truncated data inside a readable header
            fail(f"unreadable content ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")


def check_statistics(f, fields: list, splits: list[str], fail) -> dict:
    """The ``/stats`` group: one finite value per field in each of mean, std, min, max, std >= 0,
    min <= mean <= max, taken over a split of the file for its field list. Returns them as lists."""
    group = f[STATS_GROUP]
    if not isinstance(group, h5py.Group):
        fail(f"/{STATS_GROUP} is not a group")
    out = {}
    for key in STATS_KEYS:
        if key not in group:
            fail(f"/{STATS_GROUP} has no '{key}'")
        values = group[key][()]
        if np.shape(values) != (len(fields),):
            fail(f"/{STATS_GROUP}/{key} has shape {np.shape(values)}, expected ({len(fields)},) (one per field)")
        if not np.all(np.isfinite(values)):
            fail(f"/{STATS_GROUP}/{key} contains non-finite values")
        out[key] = np.asarray(values, dtype=np.float64)
    if np.any(out["std"] < 0):
        fail(f"/{STATS_GROUP}/std is negative")
    slack = 1e-9 * np.maximum(np.abs(out["min"]), np.abs(out["max"]))  # float64 rounding of the mean
    if np.any(out["min"] - slack > out["mean"]) or np.any(out["mean"] > out["max"] + slack):
        fail(f"/{STATS_GROUP}: the mean lies outside [min, max]")
    split = json_attr(group.attrs, "split")
    if split not in splits:
        fail(f"/{STATS_GROUP} names split {split!r}, which the file lacks")
    if json_attr(group.attrs, "fields") != list(fields):
        fail(f"/{STATS_GROUP} fields {json_attr(group.attrs, 'fields')} differ from the file's {fields}")
    return {**{key: value.tolist() for key, value in out.items()}, "split": split,
            "samples": int(group.attrs.get("samples", 0)), "count": int(group.attrs.get("count", 0))}
