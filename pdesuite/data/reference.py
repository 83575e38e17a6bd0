"""A reference file for a problem defined outside the package: one solution on a grid, in format v1.

Named datasets come from recipes (`pdesuite generate`). A user's own PDE (a `PhysicsInformed`
problem registered in their script) gets its reference from `write_reference`: the problem's exact
solution evaluated on the grid, or values the user computed elsewhere. The file is a normal dataset
file (`pdesuite inspect` validates it; the surrogates train and validate on it) with the sample in
the test split and the problem's numeric fields as its parameters.

    write_reference("mine.h5", MyPDE(a=2.0), {"t": np.linspace(0, 1, 50), "x": x})
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np

from pdesuite.data.writer import DatasetWriter
from pdesuite.errors import BadInput
from pdesuite.problems.base import NUMPY


def write_reference(path: str | os.PathLike, problem, grids: dict[str, np.ndarray], values: np.ndarray | None = None,
                    overwrite: bool = False, solver: str | None = None) -> Path:
    """Write one reference solution of ``problem`` on ``grids`` to ``path``.

    Args:
        path: The dataset file to write.
        problem: A registered problem instance (its ``name`` must be in `PROBLEMS`, so that the file's
            ``problem`` attribute rebuilds it).
        grids: Axis -> 1D coordinates, in the order of ``problem.axes`` ("t" first when present).
        values: The solution on the grid, shape (*[len(g) for g in grids], n_fields) or without the
            field axis; None evaluates ``problem.exact`` (``exact(x, t, m)`` or ``exact(x, m)``).
        overwrite: Replace an existing file.
        solver: What made the values (default: "exact solution" or "user values").

    Returns:
        ``path``.
    """
    from pdesuite.registry import PROBLEMS

    name = getattr(problem, "name", None)
    if name not in PROBLEMS:
        raise BadInput(f"register the problem first (@PROBLEMS.register({name!r})) so the file can name it")
    axes = tuple(getattr(problem, "axes", grids))
    if tuple(grids) != axes:
        raise BadInput(f"grids must be given for the axes {axes} in that order, got {tuple(grids)}")
    coords = {a: np.asarray(g, dtype=np.float64) for a, g in grids.items()}
    if any(g.ndim != 1 or g.size < 2 for g in coords.values()):
        raise BadInput("every grid must be a 1D array of at least 2 points")
    shape = tuple(g.size for g in coords.values())
    if values is None:
        values = _exact(problem, coords)
        solver = solver or "exact solution"
    values = np.asarray(values, dtype=np.float64)
    if values.shape == shape:
        values = values[..., None]
    if values.shape[:-1] != shape:
        raise BadInput(f"values of shape {values.shape} do not match the grids {shape} (+ a field axis)")
    if not np.all(np.isfinite(values)):
        raise BadInput("the reference values contain NaN or inf")
    params = {f.name: getattr(problem, f.name) for f in dataclasses.fields(problem)
              if isinstance(getattr(problem, f.name), int | float) and not isinstance(getattr(problem, f.name), bool)}
    if "t" not in coords:  # steady: the format still has a time axis of length 1
        coords = {"t": np.zeros(1), **coords}
        values = values[None]
    fields = [f"u{i}" for i in range(values.shape[-1])] if values.shape[-1] > 1 else ["u"]
    attrs = {"dataset": f"custom-{name}", "problem": name, "solver": solver or "user values", "profile": "custom",
             "seed": 0, "pdesuite_version": _version(), "params": params, "fields": fields,
             "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "command": "pdesuite.data.write_reference"}
    with DatasetWriter(path, attrs, overwrite=overwrite) as writer:
        for axis, grid in coords.items():
            writer.write_array(axis, grid)
        writer.create_split("test", 1, values.shape, list(params))
        writer.write_sample("test", 0, values.astype(np.float32), np.array(list(params.values()), dtype=float))
    return Path(path)


def _exact(problem, coords: dict[str, np.ndarray]) -> np.ndarray:
    exact = getattr(problem, "exact", None)
    if exact is None:
        raise BadInput(f"{type(problem).__name__} has no exact solution: pass the reference values")
    mesh = np.meshgrid(*coords.values(), indexing="ij")
    named = dict(zip(coords, mesh, strict=True))
    space = [named[a] for a in coords if a != "t"]
    out = exact(space, named["t"], NUMPY) if "t" in named else exact(space, NUMPY)
    return np.broadcast_to(np.asarray(out, dtype=np.float64), mesh[0].shape).copy()


def _version() -> str:
    from pdesuite import __version__

    return __version__


__all__ = ["write_reference"]
