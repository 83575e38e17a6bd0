"""Timing helpers shared by the benchmark scripts (imported as a sibling module; not a benchmark).

Every timed figure is repeated, and reported as the median with its range; ratios are taken between
medians measured in the same run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def timed(function: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Wall times of ``repeats`` calls of ``function`` and the result of the last one."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def spread(values, per: float = 1.0) -> dict:
    """Median, minimum, maximum and every value of repeated timings, each divided by ``per`` (e.g. the
    number of trajectories, for seconds per trajectory)."""
    values = np.asarray(values, dtype=float) / per
    return {"median": float(np.median(values)), "min": float(values.min()), "max": float(values.max()),
            "runs": values.tolist()}


def emit(text: str, output: Path | None) -> str:
    """Print ``text`` or write it to ``output`` (Markdown tables of the untimed benchmarks)."""
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        print(text)
    return text
