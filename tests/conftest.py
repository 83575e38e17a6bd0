"""Shared test helpers."""

from __future__ import annotations

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
