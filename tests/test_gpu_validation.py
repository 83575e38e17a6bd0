"""`pdesuite gpu-validation` (scripts/gpu-validation.sh): the prepared GPU run, at smoke size on the CPU.

The smoke run goes through every stage's code path (data generation, the side-by-side probe that sizes
the refiner runs, training with time limits, validation, the KS generator on torch against numpy, PIG,
PINN/LPINN, the throughput probe, the summary and the archive), so the script works when a device is lent.
"""

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from pdesuite.errors import BadInput

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu-validation.sh"


def run_script(*args, timeout=300):
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout)


def brought_back(out: Path) -> list[Path]:
    """What a lent machine returns: at most 8 files of at most 16 MiB, no sub-folders needed."""
    files = sorted(out.iterdir())
    assert all(f.is_file() for f in files) and len(files) <= 8
    assert all(f.stat().st_size < 16 * 2**20 for f in files)
    return files


def test_smoke_runs_every_stage(gpu_smoke_output):
    out, carried, result = gpu_smoke_output["out"], gpu_smoke_output["carried"], gpu_smoke_output["result"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert [f.name for f in brought_back(out)] == ["gpu-validation.log", "results.tar.gz", "summary.json",
                                                    "summary.md"]
    summary = json.loads((out / "summary.json").read_text())
    stages = summary["stages"]
    assert {name: stage["status"] for name, stage in stages.items()} == {
        "refiner": "done", "ks-generation": "done", "pig-suite": "done", "convection": "done", "throughput": "done",
        "insr": "done", "um2n": "done", "text2pde": "done"}
    refiner = stages["refiner"]
    assert 2 <= refiner["steps"] <= 8  # sized by the probe, capped at the smoke size
    assert all(rate > 0 for rate in refiner["probe_steps_per_second_side_by_side"].values())
    assert [row["model"] for row in refiner["table"]] == ["unet-mse", "pde-refiner"]
    assert refiner["ratio_corr_0.8"] > 0
    for run in refiner["runs"].values():
        assert run["steps"] == refiner["steps"] and run["metrics"]["correlation_time"]["0.8"]["steps"] >= 0
        assert "--profile gpu" in run["train"]["command"] and "--time-limit" in run["train"]["command"]
    ks = stages["ks-generation"]["table"][0]
    assert ks["relative_difference"] < 1e-9  # torch and numpy integrate the same float64 scheme
    assert stages["pig-suite"]["table"][0]["final_relative_l2"] is not None
    assert {row["method"] for row in stages["convection"]["table"]} == {"pinn", "lpinn"}
    modes = stages["throughput"]["results"]["pde-refiner"]["modes"]
    assert set(modes) == {"fp32", "tf32"} and modes["fp32"]["steps_per_second"] > 0
    insr = {row["case"]: row for row in stages["insr"]["table"]}
    assert insr["insr-advection"]["steps_done"] == 3 and insr["insr-advection"]["relative_l2"] > 0
    assert insr["insr-taylor-green"]["steps_done"] == 2 and 0 < insr["insr-taylor-green"]["final_energy_ratio"]
    assert insr["insr-taylor-green"]["energy"] == "kinetic_energy" and insr["insr-hyperelastic"]["steps_done"] == 2
    assert insr["insr-hyperelastic"]["energy"] == "elastic_energy"
    assert f"--data {carried / 'hyperelastic.h5'}" in stages["insr"]["runs"]["insr-hyperelastic"]["train"]["command"]
    um2n = stages["um2n"]["table"][0]
    assert um2n["steps"] == 4 and 0 < um2n["displacement_error"] and um2n["failed"] is not None
    assert f"--data {carried / 'um2n-helmholtz.h5'}" in stages["um2n"]["runs"]["um2n"]["train"]["command"]
    text2pde = {row["model"]: row for row in stages["text2pde"]["table"]}
    assert set(text2pde) == {"text2pde-first-frame", "text2pde-text", "smoke-unet-mse", "smoke-fno"}
    assert all(row["trajectory_l2"] > 0 and row["steps"] == 4 for row in text2pde.values())
    assert text2pde["text2pde-text"]["unconditional"] is not None
    assert "smoke-prompts.h5" in stages["text2pde"]["runs"]["text2pde-text"]["train"]["command"]
    assert summary["machine"]["torch"] and summary["device"] == "cpu"
    text = (out / "summary.md").read_text()
    assert "PDE-Refiner / MSE high-correlation time" in text and "| pig-helmholtz |" in text
    with tarfile.open(out / "results.tar.gz") as tar:
        names = tar.getnames()
    assert "runs/pde-refiner-s0/metrics.json" in names and "logs/train-unet-mse-s0.log" in names
    assert "runs/um2n/um2n-best.weights" in names
    assert not any(name.endswith((".pt", ".h5")) for name in names)


def test_a_budget_too_small_for_the_first_stage_ends_cleanly(tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_script("--smoke", "-o", out, "--work", tmp_path / "work", "--budget", "12",
                        "--stages", "refiner", "ks-generation")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert elapsed < 12 + 25  # the interpreter's start and the last job's stop on top of the budget
    brought_back(out)
    stages = json.loads((out / "summary.json").read_text())["stages"]
    assert stages["refiner"]["status"] == "skipped" and "budget too small" in stages["refiner"]["reason"]
    assert "budget too small" in (out / "summary.md").read_text()
    assert "refiner skipped" in result.stdout


def test_missing_interpreter_or_package_is_refused_in_one_line(tmp_path, monkeypatch):
    result = subprocess.run(["bash", str(SCRIPT), "--smoke", "-o", tmp_path / "o"], capture_output=True, text=True,
                            env={**os.environ, "PYTHON": "/nonexistent/python3"})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    from pdesuite import gpu_validation

    monkeypatch.setattr(gpu_validation, "REQUIRED_PACKAGES", ("numpy", "no_such_package_here"))
    with pytest.raises(BadInput, match="no_such_package_here"):
        gpu_validation.check_packages()


@pytest.mark.parametrize(("args", "message"), [
    (["--stages", "refiner", "nonsense"], "unknown stage"),
    (["--budget", "0"], "--budget"),
    (["--carried", "/no/such/folder"], "--carried /no/such/folder is not a folder"),
])
def test_bad_arguments_exit_2(tmp_path, cli, args, message):
    code, _, err = cli("gpu-validation", "--smoke", "-o", tmp_path / "out", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_non_empty_output_folder_is_refused(tmp_path, cli):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("earlier results")
    code, _, err = cli("gpu-validation", "--smoke", "-o", tmp_path / "out")
    assert code == 2 and "not empty" in err
    assert (tmp_path / "out" / "keep.txt").read_text() == "earlier results"
