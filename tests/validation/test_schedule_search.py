"""Searched sampler schedules on trained surrogates: PDE-Refiner's chain over its trained levels (exhaustive
search, saved and loaded by name, refused for other weights) and Text2PDE's sampler loaded from a
searched file (`pdesuite.validation.schedule_search`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput

REFINER = ["--steps", "10", "--set", "hidden=4", "--set", "channel_mults=[1, 2]", "--set", "batch_size=8",
           "--set", "val_every=10", "--set", "val_trajectories=1", "--set", "val_steps=4", "--device", "cpu", "-q"]


@pytest.fixture(scope="module")
def refiner_run(tiny_ks, tmp_path_factory):
    from pdesuite.cli import main

    folder = tmp_path_factory.mktemp("refiner-search") / "run"
    assert main(["train", "pde-refiner", "--data", str(tiny_ks), "-o", str(folder), *REFINER]) == 0
    return folder


def test_refiner_level_sets_are_every_ordered_subset():
    from pdesuite.validation.schedule_search import refiner_level_sets

    assert refiner_level_sets(3, 1) == [(0,)]
    assert refiner_level_sets(3, 2) == [(0, 1), (0, 2), (0, 3)]
    assert refiner_level_sets(3, 4) == [(0, 1, 2, 3)]
    with pytest.raises(BadInput, match="visits 1 to 4 trained noise levels") as info:
        refiner_level_sets(3, 5)
    assert "\n" not in str(info.value)


def test_the_full_chain_as_a_searched_schedule_is_the_trained_chain(refiner_run):
    from pdesuite.validation.schedule_search import load_run, refiner_error, refiner_schedule_for

    model = load_run(refiner_run)
    rows = np.arange(2)
    full = refiner_schedule_for(model, [0, 1, 2, 3])
    assert full.timesteps == (3.0, 2.0, 1.0, 0.0) and full.nfe == 4
    for kind in ("rollout", "one-step"):
        assert refiner_error(model, full, "valid", rows, 0, kind) == refiner_error(model, None, "valid", rows, 0, kind)
    assert model.refinement is None  # restored after scoring


def test_refiner_search_saves_a_chain_that_loads_by_name(refiner_run):
    from pdesuite.validation.schedule_search import load_run, refiner_error, search_refiner

    found, values = search_refiner(refiner_run, 2, samples=2, kind="one-step")
    assert set(values) == {f"0-{k} {v}" for k in (1, 2, 3) for v in ("small", "large")}
    assert found.objective["value"] == min(values.values()) and found.nfe == 2
    record = json.loads((refiner_run / "schedules" / "refiner-2.json").read_text())
    assert record["sampler"] == "ddpm" and record["final_sigma_zero"] and record["prediction"] == "v"
    model = load_run(refiner_run)
    model.use_refinement("refiner-2.json")  # by name, from the run folder's schedules/
    calls = []
    net = model.net
    hook = net.register_forward_hook(lambda *args: calls.append(1))
    try:
        window = torch.as_tensor(model.trajectories("valid")["u"][:1, :1])
        cond = model.scale_conditions(torch.as_tensor(model.condition_array(model.trajectories("valid"))[:1]))
        model.predict_next(window, cond, torch.Generator().manual_seed(0), averaged=False)
    finally:
        hook.remove()
    assert len(calls) == 2  # NFE 2: two network calls per model step
    best = min(values, key=values.get)
    assert best == f"0-{3 - int(found.timesteps[1])} {found.options['variance']}"
    assert refiner_error(model, found, "valid", np.arange(2), 0, "one-step") == pytest.approx(values[best], rel=1e-6)


def test_a_chain_for_other_weights_or_off_the_trained_levels_is_refused(refiner_run):
    from pdesuite.diffusion import make_sampler
    from pdesuite.surrogates.pde_refiner import refiner_schedule
    from pdesuite.validation.schedule_search import load_run, refiner_schedule_for

    model = load_run(refiner_run)
    other = refiner_schedule_for(model, [0, 2], fingerprint="0" * 64)
    with pytest.raises(BadInput, match="searched for another model") as info:
        model.use_refinement(other)
    assert "\n" not in str(info.value)
    off_grid = make_sampler("ddpm", schedule=refiner_schedule(3, 4e-7), timesteps=[3.0, 1.5], prediction="v")
    with pytest.raises(BadInput, match="visits trained levels only"):
        model.use_refinement(off_grid)
    with pytest.raises(BadInput, match="must start at 0"):
        refiner_schedule_for(model, [1, 2])
    with pytest.raises(BadInput, match="no searched schedule"):
        model.use_refinement("nothing.json")


def test_text2pde_takes_a_searched_schedule_by_file(tmp_path):
    """Text2PDE's `sampler` loads a searched file and checks it: here with a stand-in object that has the
    attributes `Text2PDE.sampler` reads (a trained text2pde model takes minutes; its tests train one)."""
    from pdesuite.diffusion.search import search_schedule
    from pdesuite.diffusion.testing import law_error, random_gaussian
    from pdesuite.surrogates.text2pde import SCHEDULE, Text2PDE

    class StandIn(torch.nn.Module):
        sampler = Text2PDE.sampler
        fingerprint = Text2PDE.fingerprint

        def __init__(self):
            super().__init__()
            from pdesuite.diffusion import get_schedule

            self.net, self.schedule, self.run_folder = torch.nn.Linear(2, 2), get_schedule(SCHEDULE), str(tmp_path)
            self.config = {"prediction": "eps", "sampler": "dpm-solver++", "nfe": 25}

    model = StandIn()
    bed = random_gaussian(3, schedule=SCHEDULE)
    found = search_schedule("ddim", lambda s: law_error(bed, s), 4, schedule=SCHEDULE, budget=10,
                            model={"fingerprint": model.fingerprint()})
    path = found.save(tmp_path / "schedules")
    for spec in (str(path), "ddim-4.json", found):
        sampler = model.sampler(spec)
        assert sampler.steps == 4 and list(sampler.grid().t) == list(found.timesteps)
    with pytest.raises(BadInput, match="spends 4 NFE, not 10"):
        model.sampler("ddim-4.json", 10)
    with torch.no_grad():
        model.net.weight[0, 0] += 1.0
    with pytest.raises(BadInput, match="searched for another model") as info:
        model.sampler("ddim-4.json")
    assert "\n" not in str(info.value)


def test_search_run_is_the_command_line_entry(refiner_run, tiny_ks, cli):
    from pdesuite.validation.schedule_search import parse_options, search_run

    code, out, err = cli("search-schedule", refiner_run, "--nfe", 3, "--objective", "one-step", "--samples", 2,
                         "--name", "three")
    assert code == 0, err
    path = refiner_run / "schedules" / "three.json"
    assert path.is_file() and json.loads(path.read_text())["nfe"] == 3 and f"wrote {path}" in out
    assert out.startswith("pde-refiner at 3 network calls per step: levels 0-")
    assert "the trained chain (4 calls)" in out
    for args, message in ((["--nfe", 5], "visits 1 to 4 trained noise levels"), (["--nfe", 0], "--nfe"),
                          (["--nfe", 2, "--sampler", "ddim"], "do not apply")):
        code, _, err = cli("search-schedule", refiner_run, *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert parse_options(["variant=3M", "order=3", "corrector=false"]) == {"variant": "3M", "order": 3,
                                                                           "corrector": False}
    with pytest.raises(BadInput, match="do not apply"):
        search_run(refiner_run, 2, sampler="ddim")
    with pytest.raises(BadInput, match="visits 1 to 4 trained noise levels"):
        search_run(refiner_run, 5)
    with pytest.raises(BadInput, match="needs a text2pde or pde-refiner run"):
        from pdesuite.io import write_json

        other = refiner_run.parent / "other"
        other.mkdir(exist_ok=True)
        write_json({**json.loads((refiner_run / "config.json").read_text()), "surrogate": "unet-mse"},
                   other / "config.json")
        search_run(other, 2)
