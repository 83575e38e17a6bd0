"""INSR for incompressible Euler: a short march keeps the steady Taylor-Green vortex, the stages walk
through fit/advect/pressure/project, the march resumes exactly from inside a sub-stage, the evaluator
reports energy and divergence, and bad input is one line before any work."""

import json

import numpy as np
import pytest
import torch

from pdesuite.recipes.generate import generate
from pdesuite.surrogates.insr_fluid import INSRFluid
from pdesuite.training.trainer import build, make_config, train

TINY = {"stage_steps": "20", "n_points": "256", "log_every": "10", "checkpoint_every": "25"}


@pytest.fixture(scope="module")
def vortex(tmp_path_factory):
    path = tmp_path_factory.mktemp("tg") / "tg.h5"
    generate("taylor-green", path, progress=False, overrides={"steps": "2", "n": "16"})
    return path


def test_the_stages_of_a_step(vortex):
    surrogate = build(make_config("insr-fluid", vortex, device="cpu", overrides=TINY))
    assert surrogate.parameter_count == 3330 + 3297  # the paper's two 3 × 32 SIRENs
    assert surrogate.adjust_plan({})["stages"] == 1 + 3 * 2
    seen = []
    for _ in range(7):
        seen.append(surrogate.position())
        surrogate.next_stage()
    assert seen == [(0, "fit"), (1, "advect"), (1, "pressure"), (1, "project"), (2, "advect"), (2, "pressure"),
                    (2, "project")]


def test_a_short_march_keeps_the_vortex(tmp_path, vortex, cli):
    config = make_config("insr-fluid", vortex, device="cpu", overrides={**TINY, "stage_steps": "150",
                                                                         "n_points": "1024", "stage_lr": "1e-3"})
    summary = train(tmp_path / "run", config, progress=False)
    assert summary["best_relative_l2"] < 0.15  # measured 0.075 (2 steps, 150 iterations per sub-step)
    code, _, err = cli("validate", tmp_path / "run", "-q")
    assert code == 0, err
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["steps_done"] == 2 and m["parameters"] == 6627 and len(m["divergence_rms"]) == 3
    assert abs(m["reference_kinetic_energy"][-1] / m["reference_kinetic_energy"][0] - 1) < 1e-12  # steady
    assert 0.8 < m["kinetic_energy"][-1] / m["reference_kinetic_energy"][0] < 1.1
    assert "kinetic_energy.png" in m["plots"] and "fields.png" in m["plots"]


def test_the_march_resumes_exactly_from_inside_a_sub_stage(tmp_path, vortex, same_checkpoints):
    config = make_config("insr-fluid", vortex, device="cpu", overrides=TINY)
    train(tmp_path / "straight", config, progress=False)
    train(tmp_path / "resumed", config, progress=False, stop_at=47)  # step 1's pressure solve, 7 iterations in
    stopped = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)
    assert int(stopped["model"]["stage_index"]) == 2 and stopped["plan"]["stage_step"] == 7
    train(tmp_path / "resumed", resume=True, progress=False)
    a, b = same_checkpoints(tmp_path / "straight", tmp_path / "resumed", ignore=("sub_seconds",))  # but wall times
    assert a["plan"]["stage"] == b["plan"]["stage"] == 7 and a["state"]["step"] == b["state"]["step"] == 140
    kept = a["model"]["kept_velocity"]
    assert bool(torch.all(kept.abs().sum(dim=1) > 0)) and not torch.equal(kept[1], kept[2])


@pytest.mark.parametrize(("key", "value", "message"), [("width", "0", "width must be a positive"),
                                                       ("depth", "-1", "depth must be an integer"),
                                                       ("n_points", "0", "n_points must be a positive"),
                                                       ("bc_fraction", "2", "bc_fraction must lie"),
                                                       ("stage_steps", "0", "stage_steps must be an integer")])
def test_bad_settings(tmp_path, vortex, cli, key, value, message):
    code, _, err = cli("train", "insr-fluid", "--data", vortex, "-o", tmp_path / "run", "--set", f"{key}={value}")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_wrong_problems_and_datasets(tmp_path, vortex, cli):
    advection = tmp_path / "adv.h5"
    generate("advection", advection, progress=False, overrides={"steps": "2", "nx": "21"})
    code, _, err = cli("train", "insr-fluid", "--data", advection, "-o", tmp_path / "a")
    assert code == 2 and "insr-fluid marches 2D incompressible Euler" in err and not (tmp_path / "a").exists()
    code, _, err = cli("train", "insr", "--data", vortex, "-o", tmp_path / "b")
    assert code == 2 and "spatial operator" in err and not (tmp_path / "b").exists()
    for setting, message in (("case=triple", "unknown case 'triple'"), ("n=0", "n must be an integer"),
                             ("steps=0", "steps must be an integer"), ("dt=0", "dt must be positive"),
                             ("resolution=100", "must be a multiple of 4 n")):
        code, _, err = cli("generate", "taylor-green", "-o", tmp_path / "x.h5", "--set", setting)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (setting, err)
        assert not (tmp_path / "x.h5").exists()
    assert INSRFluid.plan == "stagewise-adam" and np.isclose(INSRFluid.defaults["bc_fraction"], 0.01)
