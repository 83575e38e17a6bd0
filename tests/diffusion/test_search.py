"""Searched time grids (and per-step orders) on the exact Gaussian test bed: the search beats every fixed
spacing of the same sampler at 5 and 10 NFE, on three seeds; the saved file rebuilds the same sampler
by name; bad input (NFE below the order, a broken or foreign file) is refused in one line."""

from __future__ import annotations

import json

import pytest
import torch

from pdesuite.diffusion import SPACINGS, make_sampler
from pdesuite.diffusion.search import search_samplers, search_schedule
from pdesuite.diffusion.searched import (
    SearchedSchedule,
    count_nfe,
    load_searched,
    model_fingerprint,
    tensor_fingerprint,
)
from pdesuite.diffusion.testing import gaussian_w2, law_error, random_gaussian
from pdesuite.errors import BadInput

SAMPLERS = [("ddim", {}), ("dpm-solver++", {"variant": "2M"}), ("unipc", {})]


@pytest.fixture(scope="module")
def bed():
    return random_gaussian(6, seed=0)


def fingerprint(bed) -> dict:
    return {"fingerprint": tensor_fingerprint(bed.means, bed.covs), "what": "random_gaussian(6, seed=0)"}


@pytest.fixture(scope="module")
def searched(bed, tmp_path_factory):
    """A searched DPM-Solver++(2M) grid at 5 NFE, saved in a folder's schedules/."""
    found = search_schedule("dpm-solver++", lambda s: law_error(bed, s), 5, options={"variant": "2M"}, budget=80,
                            model=fingerprint(bed), objective_name="w2")
    folder = tmp_path_factory.mktemp("search")
    found.save(folder / "schedules")
    return found, folder


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("nfe", [5, 10])
@pytest.mark.parametrize("name,options", SAMPLERS, ids=[n for n, _ in SAMPLERS])
def test_the_searched_grid_beats_every_fixed_spacing(bed, name, options, nfe, seed):
    found = search_schedule(name, lambda s: law_error(bed, s), nfe, options=options, budget=100, seed=seed,
                            model=fingerprint(bed))
    fixed = {sp: law_error(bed, make_sampler(name, steps=nfe, spacing=sp, **options)) for sp in SPACINGS}
    assert found.objective["baselines"] == pytest.approx(fixed, rel=1e-12)
    rebuilt = found.build()
    assert count_nfe(rebuilt) == nfe and len(found.timesteps) == nfe + 1
    error = law_error(bed, rebuilt)
    assert error == pytest.approx(found.objective["value"], rel=1e-12)
    assert error < 0.95 * min(fixed.values()), (error, fixed)


def test_the_search_starts_exactly_at_the_best_fixed_spacing(bed):
    """With no search budget the result is the best fixed spacing itself: its grid and its value, exactly
    (not their round trip through the log-SNR parameters), so a search is never worse than it."""
    found = search_schedule("dpm-solver++", lambda s: law_error(bed, s), 5, options={"variant": "2M"}, budget=0,
                            model=fingerprint(bed))
    baselines = found.objective["baselines"]
    best = min(baselines, key=baselines.get)
    assert found.objective["start"] == best and found.objective["value"] == baselines[best]
    fixed = make_sampler("dpm-solver++", steps=5, spacing=best, variant="2M")
    assert list(found.timesteps) == list(fixed.grid().t)
    assert law_error(bed, found.build()) == baselines[best]


def test_the_search_is_deterministic_given_its_seed(bed):
    def run(seed):
        return search_schedule("unipc", lambda s: law_error(bed, s), 6, budget=40, seed=seed, model=fingerprint(bed))

    a, b = run(3), run(3)
    assert a.timesteps == b.timesteps and a.options == b.options and a.search["evaluations"] <= 40


def test_the_solver_family_is_a_searched_choice_too(bed):
    best, results = search_samplers([("ddim", {}), ("dpm-solver++", {"variant": "2M"})],
                                    lambda s: law_error(bed, s), 5, budget=30, model=fingerprint(bed))
    assert [r.sampler for r in results] == ["ddim", "dpm-solver++"]
    assert best.objective["value"] == min(r.objective["value"] for r in results) and best.sampler == "dpm-solver++"


def test_the_saved_file_loads_by_name_and_rebuilds_the_sampler(bed, searched):
    found, folder = searched
    loaded = load_searched("dpm-solver++-5", folder)
    assert loaded == found
    assert load_searched(folder / "schedules" / "dpm-solver++-5.json") == found
    sampler = loaded.build(fingerprint=fingerprint(bed)["fingerprint"], prediction="eps")
    assert sampler.config()["step_orders"] == list(found.options["step_orders"])
    x = torch.randn(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sampler.sample(bed.model(), x), found.build().sample(bed.model(), x))
    record = json.loads((folder / "schedules" / "dpm-solver++-5.json").read_text())
    assert record["objective"]["name"] == "w2" and set(record["objective"]["baselines"]) == set(SPACINGS)
    assert record["objective"]["start"] in SPACINGS and record["search"]["seed"] == 0


def test_explicit_step_orders_reproduce_the_default_rule(bed):
    x = torch.randn(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for name, options, orders in [("dpm-solver++", {"variant": "3M"}, [1, 2, 3, 3, 2, 1]),
                                  ("unipc", {"order": 3}, [1, 2, 3, 3, 2, 1])]:
        default = make_sampler(name, steps=6, **options)
        explicit = make_sampler(name, steps=6, step_orders=orders, **options)
        assert default.step_orders(6) == orders
        assert torch.equal(default.sample(bed.model(), x), explicit.sample(bed.model(), x))
        assert make_sampler(**explicit.config()).config() == explicit.config()


def test_model_fingerprints_see_every_weight():
    net = torch.nn.Linear(3, 2)
    before = model_fingerprint(net)
    assert model_fingerprint(net.state_dict()) == before
    with torch.no_grad():
        net.bias[0] += 1e-7
    assert model_fingerprint(net) != before


def test_gaussian_w2_has_the_closed_form_of_commuting_covariances():
    m1, m2 = torch.zeros(2, dtype=torch.float64), torch.tensor([3.0, 4.0], dtype=torch.float64)
    c1, c2 = torch.diag(torch.tensor([1.0, 4.0])), torch.diag(torch.tensor([9.0, 1.0]))
    # ‖m1 - m2‖² + Σ (sqrt(a) - sqrt(b))² = 25 + 4 + 1
    assert gaussian_w2(m1, c1.double(), m2, c2.double()) == pytest.approx(30**0.5, rel=1e-12)


def test_gaussian_w2_with_non_commuting_covariances():
    """tr (C2^½ C1 C2^½)^½ = Σ √eig(C1 C2) (similar matrices); a formula that treats the covariances as
    commuting, e.g. tr C1^½ C2^½, fails here."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 4, generator=g, dtype=torch.float64), torch.randn(4, 4, generator=g, dtype=torch.float64)
    c1, c2 = a @ a.T + 0.1 * torch.eye(4, dtype=torch.float64), b @ b.T + 0.1 * torch.eye(4, dtype=torch.float64)
    m1, m2 = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    cross = torch.linalg.eigvals(c1 @ c2).real.clamp(min=0).sqrt().sum()
    expected = float((m1 - m2).pow(2).sum() + torch.trace(c1) + torch.trace(c2) - 2 * cross) ** 0.5
    assert gaussian_w2(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-10)
    assert gaussian_w2(m2, c2, m1, c1) == pytest.approx(expected, rel=1e-10)
    assert gaussian_w2(m1, c1, m1, c1) == pytest.approx(0.0, abs=1e-6)


def _write(folder, record) -> str:
    path = folder / "bad.json"
    path.write_text(json.dumps(record))
    return str(path)


@pytest.mark.parametrize("change,message", [
    (lambda r: r.update(timesteps=[0.5, 0.7, 0.2]), "strictly decreasing"),
    (lambda r: r.update(timesteps=[1.5, 0.4, 0.2, 0.1, 0.05, 0.001]), "must lie in"),
    (lambda r: r.update(timesteps=r["timesteps"][:-1]), "step_orders has 5 entries for 4 steps"),
    (lambda r: (r.update(timesteps=r["timesteps"][:-1]), r["options"].pop("step_orders")), "spends 4 NFE"),
    (lambda r: r.update(format="something-else"), "is not a searched schedule"),
    (lambda r: r.update(sampler="no-such-sampler"), "no-such-sampler"),
    (lambda r: r["options"].update(step_orders=[2, 2, 2, 2, 2]), "step 0 may have order 1..1"),
    (lambda r: r["options"].update(timesteps=[1.0, 0.1]), "without timesteps"),
    (lambda r: r.update(model={}), "fingerprint"),
    (lambda r: r.update(options=5), "options must be a JSON object"),
    (lambda r: r.update(schedule="vp-linear"), "schedule must be a JSON object"),
])
def test_a_broken_file_is_refused_in_one_line(searched, tmp_path, change, message):
    found, _ = searched
    record = found.record()
    change(record)
    with pytest.raises(BadInput, match=message) as info:
        load_searched(_write(tmp_path, record)).build()
    assert "\n" not in str(info.value)


def test_a_schedule_for_another_model_or_schedule_is_refused(bed, searched):
    found, folder = searched
    other = random_gaussian(6, seed=1)
    with pytest.raises(BadInput, match="searched for another model") as info:
        load_searched("dpm-solver++-5", folder).build(fingerprint=tensor_fingerprint(other.means, other.covs))
    assert "\n" not in str(info.value)
    with pytest.raises(BadInput, match="noise schedule"):
        found.build(schedule={"name": "vp-linear", "beta_max": 10.0})
    with pytest.raises(BadInput, match="predicting 'eps', not 'v'"):
        found.build(prediction="v")
    with pytest.raises(BadInput, match="no searched schedule"):
        load_searched("nothing-by-this-name", folder)
    unsaved = SearchedSchedule(**{**found.__dict__, "model": {}})
    with pytest.raises(BadInput, match="no model fingerprint"):
        unsaved.save(folder)


@pytest.mark.parametrize("name,options,nfe,message", [
    ("dpm-solver++", {"variant": "3M"}, 2, "order 3: it needs nfe >= 3"),
    ("unipc", {"order": 3}, 2, "order 3: it needs nfe >= 3"),
    ("dpm-solver", {"order": 3}, 4, "multiple of 3"),
    ("ddim", {}, 0, "nfe must be a positive integer"),
])
def test_bad_search_input_is_one_line(bed, name, options, nfe, message):
    with pytest.raises(BadInput, match=message) as info:
        search_schedule(name, lambda s: law_error(bed, s), nfe, options=options, budget=5)
    assert "\n" not in str(info.value)


def test_a_grid_from_pure_noise_is_not_searched_in_log_snr():
    from pdesuite.diffusion import DiscreteVP

    zero_snr = DiscreteVP([0.01] * 9 + [1.0])
    with pytest.raises(BadInput, match="pure noise") as info:
        search_schedule("ddpm", lambda s: 0.0, 4, schedule=zero_snr, prediction="v", budget=5)
    assert "\n" not in str(info.value)
