"""The report in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright opens a
report built from an example's runs and from the GPU script's smoke output, and checks what a reader
sees: every run listed with its device, every link resolving, every image and chart drawn, the time
slider working, and no console errors. The index's screenshot is kept in test-artifacts/ (not in git).

`.ci/run` installs Chromium and sets PDESUITE_REQUIRE_BROWSER=1, so CI fails instead of skipping when
the browser is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pdesuite.validation.report import build_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def chromium() -> str:
    """Path of the system Chromium, with Playwright importable; skip (fail under CI) otherwise."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        message = "headless Chromium tests need Debian's chromium package and playwright (.ci/run installs them)"
        if os.environ.get("PDESUITE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def open_page(browser, path: Path):
    """The page at ``path`` loaded, with the console errors and uncaught exceptions it produced."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(200)  # charts draw on DOMContentLoaded; give plotly a frame
    return page, errors


def local_target(page_path: Path, href: str) -> Path:
    parsed = urlparse(href)
    assert parsed.scheme in ("", "file"), f"{page_path}: link {href} leaves the report"
    target = Path(unquote(parsed.path)) if parsed.scheme == "file" else page_path.parent / unquote(parsed.path)
    return target.resolve()


def check_drawn(page, where: str) -> dict[str, int]:
    """Every image loaded with a size, every chart has plotly's SVG with a size; returns the counts."""
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.naturalWidth, e.getBoundingClientRect()"
                                              ".width])")
    for src, natural, shown in images:
        assert natural > 0 and shown > 0, f"{where}: image {src} did not render"
    charts = page.eval_on_selector_all(".chart", "els => els.map(e => [e.id, !!e.querySelector('.main-svg'), "
                                                 "e.getBoundingClientRect().width, e.getBoundingClientRect().height])")
    for name, drawn, width, height in charts:
        assert drawn and width > 0 and height > 0, f"{where}: chart {name} did not render"
    return {"images": len(images), "charts": len(charts)}


def expected_runs(example: Path, gpu_out: Path) -> int:
    with tarfile.open(gpu_out / "results.tar.gz") as tar:
        in_archive = sum(1 for n in tar.getnames() if n.startswith("runs/") and n.endswith("/config.json"))
    return len(list(example.glob("*/config.json"))) + in_archive


def test_report_of_example_and_gpu_smoke_runs_in_chromium(browser, gpu_smoke_output, refiner_example_output,
                                                          tmp_path):
    assert gpu_smoke_output["result"].returncode == 0 and refiner_example_output["result"].returncode == 0
    example, gpu_out = refiner_example_output["out"], gpu_smoke_output["out"]
    index = build_report([example, gpu_out], tmp_path / "report")
    n_runs = expected_runs(example, gpu_out)
    assert n_runs >= 12

    page, errors = open_page(browser, index)
    rows = page.eval_on_selector_all("tr.run-row", "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))")
    assert len(rows) == n_runs
    assert all(row[4].strip() and "not recorded" not in row[4] for row in rows), "every row names its device"
    machine = json.loads((gpu_out / "summary.json").read_text())["machine"]
    labels = {row[0]: row for row in rows}
    gpu_rows = [row for label, row in labels.items() if label.startswith(f"{gpu_out.name}/runs/")]
    assert len(gpu_rows) == n_runs - len(list(example.glob("*/config.json")))
    assert all(row[4].startswith("CPU: ") for row in gpu_rows) and not machine["cuda"]  # smoke: on the CPU
    verdicts = {row[8].splitlines()[0].strip() for row in rows}
    assert verdicts <= {"reproduced", "not reproduced", "not applicable"}
    refiner = next(row for label, row in labels.items() if label.endswith("pde-refiner-s0") and
                   not label.startswith(gpu_out.name))
    assert refiner[8].startswith(("reproduced", "not reproduced")), "the refiner is judged against its baseline"
    check_drawn(page, "index")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-index.png"), full_page=True)
    assert (ARTIFACTS / "report-index.png").stat().st_size > 10_000
    # sorting by a column reorders the rows without errors
    page.click("#runs thead th:nth-child(2)")
    sorted_names = page.eval_on_selector_all("tr.run-row td:nth-child(2)", "cs => cs.map(c => c.innerText)")
    assert sorted_names == sorted(sorted_names, key=str.lower)
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert not errors, errors

    drawn = {"images": 0, "charts": 0, "sliders": 0}
    for href in links:
        target = local_target(index, href)
        assert target.is_file(), f"index: link {href} does not resolve"
        page, errors = open_page(browser, target)
        for key, count in check_drawn(page, href).items():
            drawn[key] += count
        for inner in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            assert local_target(target, inner).is_file(), f"{href}: link {inner} does not resolve"
        if page.query_selector(".time-slider"):
            before = page.inner_text(".time-label")
            page.eval_on_selector(".time-slider", "s => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
            assert page.inner_text(".time-label") != before
            check_drawn(page, f"{href} after moving the slider")
            drawn["sliders"] += 1
        assert page.query_selector_all("section h2"), f"{href}: no sections"
        page.close()
        assert not errors, f"{href}: {errors}"
    assert drawn["images"] >= n_runs and drawn["charts"] >= n_runs and drawn["sliders"] >= 3, drawn
