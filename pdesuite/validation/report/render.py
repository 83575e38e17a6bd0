"""Write the report's HTML: ``index.html`` (one row per run) and ``runs/<name>/index.html`` (one page per run).

Everything a page needs lies in the report folder: ``assets/report.css``, ``assets/report.js`` (ours:
charts, the time slider, sorting) and ``assets/plotly.min.js``, the plotting library that the
``plotly`` wheel ships (zoom, pan, hover; nothing is fetched at view time). Chart data travel inside
the pages as JSON.
"""

from __future__ import annotations

import html
import json
import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pdesuite.validation.report.claims import Claim, Verdict, metric_value
from pdesuite.validation.report.collect import Run

ASSETS = Path(__file__).resolve().parent / "assets"
#: Keys of metrics.json that describe the evaluation rather than measure it (shown in their own sections).
PROVENANCE_KEYS = ("surrogate", "weights", "step", "reference", "environment", "plots", "summary", "command",
                   "sample", "split", "seed")
#: Log keys that are not training curves.
LOG_META = ("step", "phase", "elapsed", "steps_per_second", "lr")
VERDICT_CLASS = {"reproduced": "ok", "not reproduced": "bad", "not applicable": "na"}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A number for people: 4 significant digits, integers whole, booleans as yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def json_script(element_id: str, data: Any) -> str:
    """Data for report.js, safe inside a <script> element (NaN and infinities, which JSON lacks, become null)."""
    text = json.dumps(_json_safe(data), separators=(",", ":"), default=_json_default, allow_nan=False)
    return f'<script type="application/json" id="{esc(element_id)}">{text.replace("</", "<\\/")}</script>'


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _finite(values: list) -> list:
    return [v if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None
            for v in values]


def page(title: str, body: str, depth: int, charts: bool = True) -> str:
    """A whole HTML document; ``charts`` loads plotly.js (4.8 MB: only on pages that draw charts)."""
    up = "../" * depth
    plotly = f'<script src="{up}assets/plotly.min.js"></script>\n' if charts else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{up}assets/report.css">
{plotly}<script src="{up}assets/report.js"></script>
</head>
<body>
{body}
</body>
</html>
"""


def badge(verdict: Verdict) -> str:
    return (f'<span class="verdict {VERDICT_CLASS.get(verdict.status, "na")}" title="{esc(verdict.reason)}">'
            f"{esc(verdict.status)}</span>")


# -- the index ----------------------------------------------------------------------------------------
def index_page(rows: list[dict[str, Any]], sources: list[str], title: str) -> str:
    counts = {status: sum(r["verdict"].status == status for r in rows) for status in VERDICT_CLASS}
    from pdesuite import __version__

    head = ("<th data-sort='text'>run</th><th data-sort='text'>surrogate</th><th data-sort='text'>dataset</th>"
            "<th data-sort='text'>profile</th><th data-sort='text'>device</th><th data-sort='text'>headline metric"
            "</th><th data-sort='number'>value</th><th data-sort='number'>paper</th><th data-sort='text'>verdict</th>"
            "<th data-sort='number'>steps</th>")
    body_rows = []
    for r in rows:
        run: Run = r["run"]
        prov = run.provenance
        made = ", ".join(f"{k} {prov[k]}" for k in ("seed", "created") if prov.get(k) is not None)
        body_rows.append(
            f"<tr class='run-row'><td><a href='runs/{esc(r['slug'])}/index.html'>{esc(run.label)}</a></td>"
            f"<td>{esc(run.surrogate)}</td>"
            f"<td title='{esc(json.dumps(prov, default=str))}'>{esc(run.dataset)}"
            f"<div class='small'>{esc(made)}</div></td>"
            f"<td>{esc(run.profile)}</td><td class='device'>{esc(run.device_name)}</td>"
            f"<td>{esc(r['metric'] or '—')}</td><td data-value='{esc(_sort_value(r['value']))}'>{fmt(r['value'])}</td>"
            f"<td data-value='{esc(_sort_value(r['paper']))}'>{fmt(r['paper'])}</td>"
            f"<td class='verdict-cell'>{badge(r['verdict'])}<div class='small'>{esc(r['verdict'].reason)}</div></td>"
            f"<td data-value='{esc(_sort_value(run.steps))}'>{fmt(run.steps)}</td></tr>")
    summary = " · ".join(f"<span class='verdict {VERDICT_CLASS[s]}'>{counts[s]} {esc(s)}</span>"
                         for s in VERDICT_CLASS)
    body = f"""<header><h1>{esc(title)}</h1>
<p class="small">{len(rows)} run(s) from {esc(', '.join(sources))} · built {esc(_now())} by pdesuite {esc(__version__)}
· click a column to sort</p>
<p>{summary}</p></header>
<main>
<table id="runs" class="sortable"><thead><tr>{head}</tr></thead>
<tbody>
{chr(10).join(body_rows)}
</tbody></table>
<p class="small">Verdict: the paper's claim as the method's docs test it, on this run's numbers (a comparison
with a baseline uses the baseline's run on the same data in this report). A run at a reduced profile can
miss a claim that holds at paper size; the profile column says which size ran.</p>
</main>"""
    return page(title, body, 0, charts=False)


def _sort_value(value: Any) -> str:
    return "" if not isinstance(value, int | float) or isinstance(value, bool) else repr(float(value))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- one run --------------------------------------------------------------------------------------------
def run_page(row: dict[str, Any], folder: Path) -> str:
    """The page of one run; copies its figures into ``folder`` (the page's own folder)."""
    run: Run = row["run"]
    claim: Claim | None = row["claim"]
    parts = ["<nav><a href='../../index.html'>← all runs</a></nav>",
             f"<header><h1>{esc(run.label)}</h1><p>{esc(run.surrogate)} on {esc(run.dataset)} · profile "
             f"{esc(run.profile)} · <span class='device'>{esc(run.device_name)}</span></p>"
             f"<p>{badge(row['verdict'])} {esc(row['verdict'].reason)}</p></header>", "<main>"]
    parts.append(_glance(row, claim))
    parts.append(_curves(run))
    if run.trajectory is not None:
        parts.append(_trajectory(run))
    if run.metrics is not None:
        parts.append(_metrics(run))
    parts.append(_figures(run, folder))
    parts.append(_commands(run))
    parts.append(_versions(run))
    parts.append(_configuration(run))
    parts.append("</main>")
    return page(f"{run.label} — pdesuite report", "\n".join(parts), 2)


def _glance(row: dict[str, Any], claim: Claim | None) -> str:
    run: Run = row["run"]
    items = []
    if run.metrics is None:
        items.append(("validated", "not yet: run pdesuite validate on the run folder"))
    else:
        items.append(("evaluation", run.metrics.get("summary", "")))
        items.append(("weights", f"{run.metrics.get('weights', '?')} at step {run.metrics.get('step', '?')}"))
    if row["metric"]:
        items.append((row["metric"], fmt(row["value"])))
    if claim is not None:
        items.append(("the paper's claim", claim.statement))
        items.append(("paper's figure", fmt(claim.paper) if claim.paper is not None else "not stated for this metric"))
        items.append(("source", f"{claim.source} — discussed in docs/{claim.docs}"))
        if claim.baseline:
            items.append(("baseline", row["baseline_label"] or f"no {claim.baseline} run on the same data here"))
    items.append(("training steps", fmt(run.steps)))
    if run.log_problems:
        items.append(("log", f"{run.log_problems} unreadable line(s) in log.jsonl skipped"))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)
    return f"<section><h2>At a glance</h2><table class='kv'>{rows}</table></section>"


def _chart(element_id: str, spec: dict[str, Any]) -> str:
    return f"<div class='chart' id='{esc(element_id)}' data-spec='{esc(element_id)}-data'></div>" + json_script(
        f"{element_id}-data", spec)


def _validation_metric(run: Run) -> str | None:
    """The name under which the run's surrogate logs its validation error (None: unknown surrogate)."""
    try:
        from pdesuite.registry import SURROGATES

        return SURROGATES.get(run.surrogate).validation_metric
    except Exception:  # a run of a surrogate this version does not know
        return None


def _curves(run: Run) -> str:
    """Zoomable training curves from log.jsonl: loss terms, validation metrics, learning rate. A value
    logged at fewer than 60 % of the records, or the surrogate's validation metric, is a validation curve."""
    if not run.log:
        return "<section><h2>Training curves</h2><p>No log.jsonl records.</p></section>"
    numeric: dict[str, tuple[list, list]] = {}
    for record in run.log:
        step = record.get("step")
        if not isinstance(step, int | float):
            continue
        for key, value in record.items():
            if key in LOG_META or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            xs, ys = numeric.setdefault(key, ([], []))
            xs.append(step)
            ys.append(value)
    validated = _validation_metric(run)
    validation_keys = [k for k, (xs, _) in numeric.items() if len(xs) < 0.6 * len(run.log) or k == validated]
    loss = {k: v for k, v in numeric.items() if k not in validation_keys}
    charts = []
    if loss:
        charts.append(_chart("curve-loss", {"title": "training loss", "x": "step", "y": "loss", "log": True,
                                            "traces": [{"name": k, "x": xs, "y": _finite(ys)}
                                                       for k, (xs, ys) in loss.items()]}))
    if validation_keys:
        charts.append(_chart("curve-validation", {
            "title": "validation during training", "x": "step", "y": "value", "log": True, "markers": True,
            "traces": [{"name": k, "x": numeric[k][0], "y": _finite(numeric[k][1])} for k in validation_keys]}))
    lr = [(r["step"], r["lr"]) for r in run.log if isinstance(r.get("lr"), int | float) and "step" in r]
    if lr:
        charts.append(_chart("curve-lr", {"title": "learning rate", "x": "step", "y": "lr", "log": True,
                                          "traces": [{"name": "lr", "x": [s for s, _ in lr],
                                                      "y": _finite([v for _, v in lr])}]}))
    return ("<section><h2>Training curves</h2><p class='small'>Drag to zoom, double-click to reset; the "
            "buttons switch the scale.</p>" + "".join(charts) + "</section>")


def _trajectory(run: Run) -> str:
    from pdesuite.validation.trajectory_sample import load_trajectory_sample

    data = load_trajectory_sample(run.trajectory)
    spec = {"label": str(data["label"]) if "label" in data else "prediction",
            "fields": [str(f) for f in data["fields"]], "times": _rounded(data["times"]),
            "x": _rounded(data["x"]), "y": _rounded(data["y"]) if "y" in data else None,
            "reference": _rounded(np.moveaxis(data["reference"], -1, 0)),
            "prediction": _rounded(np.moveaxis(data["prediction"], -1, 0))}
    return ("<section><h2>One trajectory over time</h2><p class='small'>The evaluator's first test trajectory: "
            "reference and " + esc(spec["label"]) + ". Move the slider to step through the frames.</p>"
            "<div class='trajectory' id='trajectory' data-spec='trajectory-data'></div>"
            + json_script("trajectory-data", spec) + "</section>")


def _rounded(array: np.ndarray) -> list:
    """Nested lists rounded to 4 significant digits of the array's largest magnitude (the page's size
    matters here, not the last digits); non-finite values become null."""
    array = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.any():
        return np.full(array.shape, None).tolist()
    top = float(np.abs(array[finite]).max())
    decimals = 4 - int(math.ceil(math.log10(top))) if top > 0 else 4
    rounded = np.round(np.where(finite, array, 0.0), decimals).astype(object)
    rounded[~finite] = None
    return rounded.tolist()


def _metrics(run: Run) -> str:
    assert run.metrics is not None
    scalars: list[tuple[str, Any]] = []
    series: dict[str, list] = {}
    lengthy: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(value) >= 2 and len(numbers) == len(value):
                series[prefix] = value
            elif value:
                lengthy.append((prefix, value))
        else:
            scalars.append((prefix, value))

    for key, value in run.metrics.items():
        if key not in PROVENANCE_KEYS:
            walk(key, value)
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in scalars)
    parts = [f"<section><h2>Metrics</h2><table class='kv metrics'>{rows}</table>"]
    times = series.pop("times", None)
    groups: dict[str, list[str]] = {}
    for key in series:  # "reference_X" goes into X's chart
        base = key.removeprefix("reference_") if key.removeprefix("reference_") in series else key
        base = base.replace(".reference_", ".") if base.replace(".reference_", ".") in series else base
        groups.setdefault(base, []).append(key)
    for i, (base, keys) in enumerate(groups.items()):
        x = times if times is not None and all(len(series[k]) == len(times) for k in keys) else None
        traces = [{"name": k, "x": x if x is not None else list(range(len(series[k]))), "y": _finite(series[k])}
                  for k in keys]
        positive = all(v is not None and v > 0 for t in traces for v in t["y"])
        parts.append(_chart(f"metric-{i}", {"title": base, "x": "t" if x is not None else "index", "y": base,
                                            "log": False, "log_ok": positive, "markers": True, "traces": traces}))
    if lengthy:
        parts.append("<details><summary>other values</summary><pre>"
                     + esc(json.dumps(dict(lengthy), indent=1, default=str)[:20000]) + "</pre></details>")
    parts.append("</section>")
    return "".join(parts)


def _figures(run: Run, folder: Path) -> str:
    if not run.figures:
        return "<section><h2>Figures</h2><p>The evaluator wrote no figures.</p></section>"
    items = []
    for path in run.figures:
        shutil.copy2(path, folder / path.name)
        items.append(f"<figure><a href='{esc(path.name)}'><img src='{esc(path.name)}' alt='{esc(path.stem)}' "
                     f"loading='eager'></a><figcaption>{esc(path.name)}</figcaption></figure>")
    return "<section><h2>Figures</h2><div class='figures'>" + "".join(items) + "</div></section>"


def _commands(run: Run) -> str:
    if not run.commands:
        body = "<p>No command was recorded (a run made before pdesuite recorded them, or from Python).</p>"
    else:
        body = "".join(f"<pre>{esc(c)}</pre>" for c in run.commands)
    return f"<section><h2>Commands</h2>{body}</section>"


def _versions(run: Run) -> str:
    columns = dict(run.environments)
    if run.machine:
        columns["gpu-validation machine"] = run.machine
    if not columns:
        return ("<section><h2>Versions</h2><p>Not recorded: the run predates version recording "
                "(pdesuite 0.1.0 records them in config.json and metrics.json).</p></section>")
    keys = list(dict.fromkeys(k for env in columns.values() for k in env))
    head = "".join(f"<th>{esc(name)}</th>" for name in columns)
    rows = "".join(f"<tr><th>{esc(k)}</th>" + "".join(f"<td>{esc(fmt(env.get(k)))}</td>" for env in columns.values())
                   + "</tr>" for k in keys)
    return f"<section><h2>Versions</h2><table class='kv'><tr><th></th>{head}</tr>{rows}</table></section>"


def _configuration(run: Run) -> str:
    settings = run.config.get("settings") or {}
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(json.dumps(v, default=str))}</td></tr>" for k, v in settings.items())
    top = {k: v for k, v in run.config.items() if k not in ("settings", "dataset_provenance", "environment",
                                                              "commands")}
    return ("<section><h2>Configuration</h2><details><summary>settings</summary><table class='kv'>" + rows
            + "</table></details><details><summary>run</summary><pre>" + esc(json.dumps(top, indent=1, default=str))
            + "</pre></details><details><summary>dataset provenance</summary><pre>"
            + esc(json.dumps(run.provenance, indent=1, default=str)) + "</pre></details></section>")


def headline(run: Run, claim: Claim | None) -> tuple[str | None, Any]:
    """The metric a row shows: the claim's, else the evaluator's headline (`Evaluator.headline`), else
    the surrogate's validation metric, else the first real-valued metric."""
    if run.metrics is None:
        return (claim.metric if claim else None), None
    candidates = [claim.metric] if claim else []
    try:
        from pdesuite.registry import EVALUATORS, SURROGATES

        cls = SURROGATES.get(run.surrogate)
        candidates += [EVALUATORS.get(cls.evaluator).headline, cls.validation_metric]
    except Exception:  # an unknown surrogate (a run from another version): fall back to the metrics
        pass
    for key in candidates:
        value = metric_value(run.metrics, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return key, value
    for key, value in run.metrics.items():  # counts (samples, steps) are no headline
        if key not in PROVENANCE_KEYS and isinstance(value, float):
            return key, value
    return None, None
