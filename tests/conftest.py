"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cli(capsys):
    """Run `pdesuite ARGS` in-process; returns (exit status, stdout, stderr)."""
    from pdesuite.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def tiny_ks(tmp_path_factory):
    """A tiny `ks` file for the autoregressive surrogates: 64 points, dt ≈ 0.2, 6 training trajectories
    of 40 stored steps, 2 valid and 2 test trajectories of 80 stored steps (20 model steps)."""
    from pdesuite.recipes.generate import generate

    path = tmp_path_factory.mktemp("ks") / "tiny-ks.h5"
    generate("ks", path, progress=False, overrides={
        "train": "6", "valid": "2", "test": "2", "nx": "64", "batch": "10", "t_end_train": "40", "nt_train": "200",
        "keep_train": "40", "t_end_eval": "40", "nt_eval": "200", "keep_eval": "80"})
    return path


@pytest.fixture(scope="session")
def tiny_moved(tmp_path_factory):
    """A tiny `um2n-helmholtz` file (needs dolfinx): 3 train and 1 valid sample on a gmsh mesh of size
    0.1, 2 test samples on a structured 12 × 12 mesh, every mesh moved by Monge-Ampère."""
    pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
    from pdesuite.recipes.generate import generate

    path = tmp_path_factory.mktemp("um2n") / "tiny-moved.h5"
    return generate("um2n-helmholtz", path, seed=2, progress=False, overrides={
        "train": "3", "valid": "1", "test": "2", "mesh_size": "0.1", "test_mesh": "structured",
        "test_mesh_size": "0.0834"})


@pytest.fixture
def same_checkpoints():
    """``check(run_a, run_b, ignore=())``: the model states in the two run folders' checkpoint.pt are equal
    tensor by tensor (but for the entries in ``ignore``, e.g. wall times); returns both checkpoints."""
    import torch

    def check(run_a, run_b, ignore=()):
        a = torch.load(run_a / "checkpoint.pt", weights_only=False)
        b = torch.load(run_b / "checkpoint.pt", weights_only=False)
        for key in a["model"]:
            if key not in ignore:
                assert torch.equal(a["model"][key], b["model"][key]), key
        return a, b

    return check


@pytest.fixture
def fit_surrogate():
    """fit(model, steps, lr=3e-3): Adam with a cosine schedule on a data-driven surrogate's own loss
    (minibatches from a generator seeded 1), updating its EMA weights after every step."""
    import torch

    def fit(model, steps: int, lr: float = 3e-3) -> None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
        generator = torch.Generator().manual_seed(1)
        for _ in range(steps):
            optimizer.zero_grad()
            model.loss(generator)["loss"].backward()
            optimizer.step()
            schedule.step()
            model.after_step()

    return fit


@pytest.fixture
def training_fit_error():
    """fit_error(model): an autoregressive surrogate's validation score on rollouts of its first 4
    training trajectories (how well it fits what it saw)."""
    def fit_error(model) -> float:
        kept = model.val_u, model.val_cond
        model.val_u, model.val_cond = model.train_u[:4], model.train_cond[:4]
        try:
            return model.validation_error()
        finally:
            model.val_u, model.val_cond = kept

    return fit_error


@pytest.fixture
def short_training_helps(fit_surrogate, training_fit_error):
    """check(model, steps, lr): ``steps`` Adam steps cut the rollout error on the training trajectories
    at least 3-fold and the validation error at least 1.5-fold."""
    def check(model, steps: int, lr: float) -> None:
        fit_before, valid_before = training_fit_error(model), model.validation_error()
        fit_surrogate(model, steps, lr)
        fit_after, valid_after = training_fit_error(model), model.validation_error()
        assert fit_after < fit_before / 3, (fit_before, fit_after)
        assert valid_after < valid_before / 1.5, (valid_before, valid_after)

    return check


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def gpu_smoke_output(tmp_path_factory, tiny_moved):
    """`scripts/gpu-validation.sh --smoke` run once (tests/test_gpu_validation.py checks it; the report's
    browser test renders its output): {"out": the folder brought back, "carried": the files carried to
    the device, "result": the CompletedProcess}."""
    import os
    import shutil
    import subprocess
    import sys

    from pdesuite.gpu_validation import SMOKE_SIZES
    from pdesuite.nn.sentence_encoder import embed_prompts
    from pdesuite.recipes.generate import generate
    from pdesuite.settings import parse_assignments

    tmp = tmp_path_factory.mktemp("gpu-smoke")
    out, carried = tmp / "out", tmp / "carried"  # carried: what a session makes with dolfinx before the device
    carried.mkdir()
    generate("hyperelastic", carried / "hyperelastic.h5", progress=False,
             overrides={"steps": "2", "resolution": "8", "h": "0.25"})
    shutil.copy(tiny_moved, carried / "um2n-helmholtz.h5")
    # the device has no packaged text encoder: the prompts of the smoke file it will make (same settings,
    # same seed) are embedded here and carried
    settings = parse_assignments([a for a in SMOKE_SIZES.text2pde[0] if a != "--set"])
    smoke = generate("smoke", tmp / "smoke.h5", seed=0, progress=False, overrides=settings)
    embed_prompts(smoke, carried / "smoke-prompts.h5")
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "gpu-validation.sh"), "--smoke", "-o", str(out),
                             "--work", str(tmp / "work"), "--budget", "400",  # 400 s: a loaded machine
                             "--carried", str(carried)],
                            capture_output=True, text=True, env=env, timeout=600)
    return {"out": out, "carried": carried, "result": result}


@pytest.fixture(scope="session")
def refiner_example_output(tmp_path_factory):
    """examples/pde_refiner_ks.py run once at its tiny size, seed 0: {"out": its folder, "result": the
    CompletedProcess} (checked by tests/test_example_pde_refiner.py, rendered by the report's test)."""
    import os
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("refiner-example")
    env = {**os.environ, "PDESUITE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "pde_refiner_ks.py"), "--out", str(out),
                             "--tiny", "--seeds", "0"], capture_output=True, text=True, timeout=300, env=env)
    return {"out": out, "result": result}
