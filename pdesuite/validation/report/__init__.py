"""``pdesuite report``: the validation results of many runs as a static HTML site.

    pdesuite report examples-output/ gpu-out/ -o report/

gathers the runs (`pdesuite.validation.report.collect`), judges each against its paper's claim
(`pdesuite.validation.report.claims`) and writes ``report/index.html`` with one page per run
(`pdesuite.validation.report.render`). The site needs no server and no network: open ``index.html``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pdesuite.errors import BadInput, MissingDependency
from pdesuite.io import atomic_folder

__all__ = ["build_report"]


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "run"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _same_data(a, b) -> bool:
    """Two runs were trained on the same dataset file (same path, or the same recorded provenance)."""
    if str(a.config.get("data")) == str(b.config.get("data")):
        return True
    keys = ("dataset", "seed", "created")
    pa, pb = a.provenance, b.provenance
    return all(pa.get(k) is not None and pa.get(k) == pb.get(k) for k in keys)


def _baseline(run, name: str, runs):
    """The validated run of surrogate ``name`` on the same data as ``run`` (the same seed preferred), or None."""
    peers = [r for r in runs if r is not run and r.surrogate == name and _same_data(r, run) and r.metrics is not None]
    peers.sort(key=lambda r: r.config.get("seed") != run.config.get("seed"))
    return peers[0] if peers else None


def rows_for(runs: list) -> list[dict[str, Any]]:
    """Per run: its claim, baseline, verdict, headline metric and value (the index's columns)."""
    from pdesuite.validation.report.claims import assess, claims_for
    from pdesuite.validation.report.render import headline

    taken: set[str] = set()
    rows = []
    for run in runs:
        dataset = run.provenance.get("dataset")
        names = {c.baseline for c in claims_for(run.surrogate, dataset) if c.baseline}
        peers = {name: _baseline(run, name, runs) for name in names}
        claim, verdict = assess(run.surrogate, dataset, run.metrics,
                                {name: peer.metrics for name, peer in peers.items() if peer is not None})
        baseline = peers.get(claim.baseline) if claim is not None and claim.baseline else None
        metric, value = headline(run, claim)
        rows.append({"run": run, "slug": _slug(run.label, taken), "claim": claim, "metric": metric,
                     "value": value, "paper": claim.paper if claim else None, "verdict": verdict,
                     "baseline_label": baseline.label if baseline else None})
    return rows


def plotly_bundle() -> str:
    """The plotly.js bundle shipped inside the ``plotly`` wheel (written once into the report's assets)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise MissingDependency("pdesuite report draws its charts with plotly.js from the plotly package: "
                                "pip install plotly") from None
    return get_plotlyjs()


def build_report(sources: list[str | os.PathLike], output: str | os.PathLike, title: str = "pdesuite validation report",
                 overwrite: bool = False, progress: bool = False) -> Path:
    """Write the report of the runs in ``sources`` into the folder ``output``; returns index.html's path.

    The folder is built under a temporary name beside ``output`` and renamed when complete
    (`pdesuite.io.atomic_folder`), so an existing report is replaced only by a whole new one
    (``overwrite``); without ``overwrite`` an existing non-empty ``output`` is refused.
    """
    from tqdm.auto import tqdm

    from pdesuite.validation.report import render
    from pdesuite.validation.report.collect import collect_runs

    output = Path(output)
    if not sources:
        raise BadInput("report needs at least one run folder, folder of runs or gpu-validation output")
    bundle = plotly_bundle()
    with tempfile.TemporaryDirectory(prefix="pdesuite-report-") as scratch, atomic_folder(output, overwrite) as site:
        runs = collect_runs(list(sources), Path(scratch))  # archives are unpacked into scratch
        rows = rows_for(runs)
        (site / "assets").mkdir()
        for name in ("report.css", "report.js"):
            shutil.copy2(render.ASSETS / name, site / "assets" / name)
        (site / "assets" / "plotly.min.js").write_text(bundle, encoding="utf-8")
        for row in tqdm(rows, desc="report", unit="run", disable=not progress):
            folder = site / "runs" / row["slug"]
            folder.mkdir(parents=True)
            (folder / "index.html").write_text(render.run_page(row, folder), encoding="utf-8")
        (site / "index.html").write_text(render.index_page(rows, [str(s) for s in sources], title), encoding="utf-8")
    return output / "index.html"
