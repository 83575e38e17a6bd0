"""Plot one sample of a dataset file (behind `pdesuite plot`): the picture depends on the layout.

- 1D grid data (x): a space-time diagram per field.
- 2D grid data (x, y): the field at up to four times.
- Mesh data: the field on the mesh (tripcolor) at up to four times.
"""

from __future__ import annotations

import os
from pathlib import Path

from pdesuite.data.reader import open_dataset
from pdesuite.errors import BadInput
from pdesuite.io import save_figure


def plot_sample(path: str | os.PathLike, output: str | os.PathLike, split: str | None = None, index: int = 0,
                field: str | None = None) -> Path:
    """Write a PNG of sample ``index`` of ``split`` (default: the first split present)."""
    from pdesuite.io import pyplot

    plt = pyplot()

    data = open_dataset(path)
    split = split or data.splits[0]
    arrays = data.split(split)
    n = arrays["u"].shape[0]
    if not 0 <= index < n:
        raise BadInput(f"sample index {index} out of range: {split} has {n} samples")
    fields = data.fields
    if field is not None and field not in fields:
        raise BadInput(f"unknown field {field!r} (fields: {', '.join(fields)})")
    chosen = [field] if field else fields
    u = arrays["u"][index]
    coords = data.coordinates(split)
    t = arrays["t"][index] if "t" in arrays and arrays["t"].ndim == 2 else coords.get("t")
    x = arrays["x"][index] if "x" in arrays and arrays["x"].ndim == 2 else coords.get("x")
    title = f"{data.name} · {split}[{index}]"
    names = arrays.get("param_names", [])
    if names and len(names) <= 4:
        title += " · " + ", ".join(f"{k}={v:.3g}" for k, v in zip(names, arrays["params"][index], strict=True))

    if "mesh_points" in coords:
        from matplotlib.tri import Triangulation

        tri = Triangulation(coords["mesh_points"][:, 0], coords["mesh_points"][:, 1], coords["mesh_cells"])
        steps = _times(u.shape[0])
        fig, axes = plt.subplots(len(chosen), len(steps), figsize=(4.2 * len(steps), 3.2 * len(chosen)),
                                 squeeze=False, constrained_layout=True)
        for row, name in enumerate(chosen):
            k = fields.index(name)
            for col, s in enumerate(steps):
                ax = axes[row, col]
                image = ax.tripcolor(tri, u[s, :, k], shading="gouraud", cmap="viridis")
                ax.set_aspect("equal")
                ax.set_title(f"{name}, t = {t[s]:.3g}" if t is not None else name, fontsize=9)
                fig.colorbar(image, ax=ax, shrink=0.8)
    elif u.ndim == 3:  # (t, x, fields): space-time
        fig, axes = plt.subplots(1, len(chosen), figsize=(5.5 * len(chosen), 4), squeeze=False,
                                 constrained_layout=True)
        for col, name in enumerate(chosen):
            ax = axes[0, col]
            k = fields.index(name)
            extent = None
            if x is not None and t is not None:
                extent = [x[0], x[-1], t[0], t[-1]]
            image = ax.imshow(u[:, :, k], origin="lower", aspect="auto", extent=extent, cmap="RdBu_r")
            ax.set_xlabel("x")
            ax.set_ylabel("t")
            ax.set_title(name)
            fig.colorbar(image, ax=ax)
    elif u.ndim == 4:  # (t, x, y, fields)
        steps = _times(u.shape[0])
        y = coords.get("y")
        fig, axes = plt.subplots(len(chosen), len(steps), figsize=(3.6 * len(steps), 3.2 * len(chosen)),
                                 squeeze=False, constrained_layout=True)
        for row, name in enumerate(chosen):
            k = fields.index(name)
            for col, s in enumerate(steps):
                ax = axes[row, col]
                extent = [x[0], x[-1], y[0], y[-1]] if x is not None and y is not None else None
                image = ax.imshow(u[s, :, :, k].T, origin="lower", extent=extent, cmap="viridis")
                ax.set_title(f"{name}, t = {t[s]:.3g}" if t is not None else name, fontsize=9)
                fig.colorbar(image, ax=ax, shrink=0.8)
    else:
        raise BadInput(f"cannot plot samples of shape {u.shape}")
    fig.suptitle(title)
    output = Path(output)
    if not output.suffix:  # matplotlib would append .png itself: report the file really written
        output = output.with_suffix(".png")
    return save_figure(fig, output, dpi=90)


def _times(n_t: int) -> list[int]:
    return sorted({0, n_t // 3, (2 * n_t) // 3, n_t - 1}) if n_t > 1 else [0]
