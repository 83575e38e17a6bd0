"""pdesuite report without a browser: which runs it finds, what each row says, bad input, atomic output.
The runs here are written by hand (config.json, log.jsonl, metrics.json) so each case is exact; the browser
test renders real runs."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from pdesuite.errors import BadInput
from pdesuite.validation.report import build_report, rows_for
from pdesuite.validation.report.collect import collect_runs

PROVENANCE = {"dataset": "ks", "problem": "ks", "seed": 0, "created": "2026-12-01T00:00:00+00:00", "params": {}}


def make_run(folder: Path, surrogate: str, metrics: dict | None, data: str = "/data/ks.h5", log_lines=None,
             environment: dict | None = None, seed: int = 0, provenance: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    config = {"surrogate": surrogate, "data": data, "profile": "small", "seed": seed, "device": "cpu",
              "settings": {"lr": 1e-3}, "dataset_provenance": provenance or PROVENANCE,
              "commands": [f"pdesuite train {surrogate} --data {data} -o {folder}"]}
    if environment:
        config["environment"] = environment
    (folder / "config.json").write_text(json.dumps(config))
    lines = log_lines if log_lines is not None else [json.dumps({"step": s, "loss": 1.0 / s, "lr": 1e-3})
                                                     for s in range(1, 6)]
    (folder / "log.jsonl").write_text("\n".join(lines) + "\n")
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps({"surrogate": surrogate, "weights": "best.pt", "step": 5,
                                                         "plots": [], "summary": "a summary", **metrics}))
    return folder


def correlation(seconds: float) -> dict:
    return {"correlation_time": {"0.8": {"seconds": seconds, "steps": 4}}, "high_wavenumber_error": 0.1}


def row_of(rows, label):
    return next(r for r in rows if r["run"].label.endswith(label))


def test_baseline_on_the_same_data_decides_the_verdict(tmp_path):
    make_run(tmp_path / "runs" / "unet", "unet-mse", correlation(2.0))
    make_run(tmp_path / "runs" / "refiner-long", "pde-refiner", correlation(3.0))
    make_run(tmp_path / "runs" / "refiner-short", "pde-refiner", correlation(2.2))
    make_run(tmp_path / "other" / "refiner-alone", "pde-refiner", correlation(9.0), data="/data/other-ks.h5",
             seed=7, provenance={**PROVENANCE, "created": "2026-12-02T00:00:00+00:00"})
    rows = rows_for(collect_runs([tmp_path / "runs", tmp_path / "other"], tmp_path / "scratch"))
    assert row_of(rows, "refiner-long")["verdict"].status == "reproduced"  # 3.0 >= 1.25 x 2.0
    assert row_of(rows, "refiner-short")["verdict"].status == "not reproduced"  # 2.2 < 2.5
    assert row_of(rows, "refiner-long")["baseline_label"] == "runs/unet"
    alone = row_of(rows, "refiner-alone")
    assert alone["verdict"].status == "not applicable" and "unet-mse" in alone["verdict"].reason
    assert row_of(rows, "unet")["metric"] == "correlation_time.0.8.seconds"  # the rollout evaluator's headline
    assert row_of(rows, "unet")["value"] == 2.0


def test_index_and_run_pages(tmp_path):
    env = {"pdesuite": "0.1.0", "torch": "2.14", "dolfinx": "0.11.0", "device": "cuda",
           "device_name": "NVIDIA H100 80GB HBM3", "commit": "abc"}
    run = make_run(tmp_path / "r", "unet-mse", {**correlation(2.0), "per_step": [1.0, float("nan"), 2.0],
                                                "diverged_at": float("inf")}, environment=env,
                   log_lines=[json.dumps({"step": 1, "loss": 2.0}), "{cut", json.dumps({"step": 2, "loss": 1.0})])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1], [1, 0])
    plt.savefig(run / "space_time.png")
    plt.close()
    index = build_report([run], tmp_path / "report", title="my runs")
    text = index.read_text()
    assert "<title>my runs</title>" in text and "NVIDIA H100 80GB HBM3" in text and "unet-mse" in text
    assert not re.search(r"https?://", text), "nothing fetched from the network"
    page = (tmp_path / "report" / "runs" / "r" / "index.html").read_text()
    for expected in ("pdesuite train unet-mse", "space_time.png", "1 unreadable line(s)", "abc", "0.11.0",
                     "curve-loss", "a summary", "[1.0,null,2.0]", "diverged_at"):
        assert expected in page, expected
    assert (tmp_path / "report" / "runs" / "r" / "space_time.png").is_file()
    assert (tmp_path / "report" / "assets" / "plotly.min.js").stat().st_size > 1_000_000


def test_unvalidated_run_is_listed_as_not_applicable(tmp_path):
    run = make_run(tmp_path / "r", "pde-refiner", None)
    (row,) = rows_for(collect_runs([run], tmp_path / "s"))
    assert row["verdict"].status == "not applicable" and "metrics.json" in row["verdict"].reason
    assert row["value"] is None


def test_gpu_validation_output_gives_every_row_the_machine(tmp_path):
    """An archive from the device: runs without a recorded environment take the summary's GPU name."""
    work = tmp_path / "work"
    make_run(work / "runs" / "a", "unet-mse", correlation(1.0))
    make_run(work / "runs" / "b", "pde-refiner", correlation(2.0))
    out = tmp_path / "above" / "gpu-out"
    out.mkdir(parents=True)
    with tarfile.open(out / "results.tar.gz", "w:gz") as tar:
        tar.add(work / "runs", arcname="runs")
    summary = {"machine": {"gpu": "NVIDIA H100 80GB HBM3", "torch": "2.11"}, "device": "cuda", "stages": {
        "refiner": {"runs": {"b": {"folder": "runs/b", "train": {"command": "/usr/bin/python3 -m pdesuite train "
                                                                          "pde-refiner -o /w/runs/b"}}}}}}
    (out / "summary.json").write_text(json.dumps(summary))
    for source in (out, out / "results.tar.gz", out.parent):  # the folder, the archive, a folder above it
        runs = collect_runs([source], tmp_path / f"scratch-{source.name}")
        assert sorted(r.label for r in runs) == ["gpu-out/runs/a", "gpu-out/runs/b"]
        assert all(r.device_name == "NVIDIA H100 80GB HBM3" for r in runs)
    b = next(r for r in collect_runs([out], tmp_path / "s2") if r.path.name == "b")
    assert "pdesuite train pde-refiner -o /w/runs/b" in b.commands


@pytest.mark.parametrize(("setup", "message"), [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "no runs in"),
    (lambda p: p.write_text("x"), "is a file"),
    (lambda p: (p.mkdir(), (p / "config.json").write_text("{not json")), "not readable JSON"),
    (lambda p: (p.mkdir(), (p / "config.json").write_text("[]")), "names no surrogate"),
])
def test_bad_sources_exit_2_with_one_line(tmp_path, cli, setup, message):
    source = tmp_path / "source"
    setup(source)
    code, _, err = cli("report", source, "-o", tmp_path / "report")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "report").exists()


def test_existing_report_is_kept_unless_overwrite(tmp_path, cli):
    run = make_run(tmp_path / "r", "unet-mse", correlation(1.0))
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = cli("report", run, "-o", out)
    assert code == 2 and "--overwrite" in err and (out / "notes.txt").read_text() == "mine"
    code, stdout, err = cli("report", run, "-o", out, "--overwrite")
    assert code == 0, err
    assert "index.html" in stdout and (out / "index.html").is_file() and not (out / "notes.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-written folder


def test_build_report_needs_a_source(tmp_path):
    with pytest.raises(BadInput, match="at least one"):
        build_report([], tmp_path / "r")
