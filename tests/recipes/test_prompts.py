"""Prompts of the smoke and cylinder-flow samples (pdesuite.recipes.prompts): written from each sample's
parameters and measured behaviour, in several phrasings, reproducible, and drawn after the physics."""

import re

import numpy as np
import pytest

from pdesuite.data import open_dataset
from pdesuite.data.trajectories import load_trajectories
from pdesuite.problems.smoke import Smoke
from pdesuite.recipes.base import Recipe
from pdesuite.recipes.generate import generate
from pdesuite.recipes.prompts import (
    cylinder_prompt,
    densest_point,
    region,
    shedding,
    smoke_descriptors,
    smoke_prompt,
    strength,
)

TINY = {"resolution": "16", "n_skip": "2", "n_frames": "4", "frame_every": "2", "train": "12", "valid": "0",
        "test": "0", "batch_size": "4"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "smoke.h5"
    return generate("smoke", path, seed=5, progress=False, overrides=TINY)


@pytest.mark.parametrize("fx, fy, name", [(0.1, 0.1, "bottom left"), (0.5, 0.5, "centre"), (0.9, 0.5, "middle right"),
                                          (0.5, 0.95, "top centre"), (1.0, 1.0, "top right")])
def test_regions_are_ninths_of_the_box(fx, fy, name):
    assert region(fx, fy) == name


def test_strength_and_shedding():
    assert [strength(b, 0.2, 0.5) for b in (0.21, 0.35, 0.49)] == ["weak", "moderate", "strong"]
    t = np.linspace(0, 2, 200)
    assert shedding(0.3 * np.sin(2 * np.pi * 3 * t)) and not shedding(0.005 * np.sin(t) + 0.01)


def test_cylinder_prompts_name_the_reynolds_number_and_the_wake():
    t = np.linspace(0, 2, 200)
    rng = np.random.default_rng(0)
    sheds = [cylinder_prompt(80.0, 1.2, 0.3 * np.sin(12 * t), rng) for _ in range(12)]
    steady = [cylinder_prompt(30.0, 0.45, np.full(50, 0.01), rng) for _ in range(12)]
    assert all("80" in p for p in sheds) and all("30" in p for p in steady)
    assert all(re.search(r"vortex street|unsteady|with periodic", p) for p in sheds)
    assert all(re.search(r"steady|without", p) and "vortex street" not in p for p in steady)
    assert len(set(sheds)) >= 3  # several phrasings


def test_each_smoke_sample_is_described_by_its_own_buoyancy_and_smoke(smoke):
    data = load_trajectories(smoke, "train")
    prompts, b = data.extras["prompt"], data.params["buoyancy_y"]
    assert all(isinstance(p, str) and p.endswith(".") for p in prompts)
    assert all(f"{value:.2f}" in p for value, p in zip(b, prompts, strict=True))
    assert len({re.sub(r"[\d.]+", "#", p.split(" ")[0] + p.split(" ")[1]) for p in prompts}) >= 3  # phrasings
    # the region named is where the sample's own initial smoke is densest (redrawn from its generator)
    size = 32.0
    x = y = (np.arange(16) + 0.5) * (size / 16)
    for index in (0, 7):
        rng = Recipe.rng(5, "train", index)
        rng.uniform(0.2, 0.5)
        s0 = Smoke().initial_smoke(rng, 16, 16)
        fx, fy = densest_point(s0, x, y)
        assert region(fx / size, fy / size) in prompts[index]


def test_prompts_are_regenerated_identically_and_leave_the_fields_unchanged(smoke, tmp_path):
    again = generate("smoke", tmp_path / "again.h5", seed=5, progress=False, overrides=TINY)
    a, b = open_dataset(smoke).split("train"), open_dataset(again).split("train")
    assert list(a["prompt"]) == list(b["prompt"])
    np.testing.assert_array_equal(a["u"], b["u"])


def test_smoke_descriptors_follow_a_rising_blob():
    x = y = (np.arange(32) + 0.5)
    X, Y = np.meshgrid(x, y, indexing="ij")
    blob = lambda cx, cy: np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / 8)  # noqa: E731
    d = smoke_descriptors(blob(6.5, 5.5), blob(14.5, 25.5), x, y, 32.0)  # centres on cell centres
    assert d["start"] == "bottom left" and d["rise"] == pytest.approx(20 / 32) and d["drift"] == pytest.approx(8 / 32)
    sentence = smoke_prompt(0.3, d, (0.2, 0.5), np.random.default_rng(1))
    assert "bottom left" in sentence or "up and to the right" in sentence or "62%" in sentence
