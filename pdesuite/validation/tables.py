"""Markdown tables for the comparison scripts (examples/, benchmarks/): one place for the layout.

    markdown(["method", "error"], [["INSR", mean_std([0.1, 0.12], ".2e")]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_std(values: Sequence[float], fmt: str = ".3g") -> str:
    """"mean ± std" over runs (seeds), the value alone for a single run, "-" where there is none (NaN)."""
    v = np.asarray(values, dtype=float)
    if np.isnan(v).all():
        return "-"
    return f"{v.mean():{fmt}} ± {v.std():.1g}" if len(v) > 1 else f"{v[0]:{fmt}}"


def markdown(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table: the header, the separator line, one line per row (cells as given, str())."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def over_time(times: Sequence[float], columns: dict[str, Sequence[float]], formats: dict[str, str] | None = None,
              time_format: str = ".2f") -> str:
    """One row per stored time t_k with each column's value at k (``formats``: name -> format, ".3g" default)."""
    formats = formats or {}
    rows = [[f"{t:{time_format}}", *(f"{values[k]:{formats.get(name, '.3g')}}" for name, values in columns.items())]
            for k, t in enumerate(times)]
    return markdown(["t", *columns], rows)
