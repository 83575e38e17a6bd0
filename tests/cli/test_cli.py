"""The command line: list, generate (+ --from, --export-xdmf), inspect, demo, and every bad input."""

import json

import h5py
import numpy as np
import pytest

pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")

FAST = ["--samples", "2", "--set", "mesh_size=0.2"]  # helmholtz-bumps in a second


def test_list(cli):
    code, out, _ = cli("list", "datasets")
    assert code == 0
    for name in ("helmholtz-bumps", "poisson-random", "heat-random", "cylinder-flow"):
        assert name in out
    code, out, _ = cli("list")
    assert code == 0 and "problems:" in out and "navier-stokes-dfg" in out


def test_generate_inspect_and_regenerate_bitwise(cli, tmp_path):
    first, second = tmp_path / "a.h5", tmp_path / "b.h5"
    code, out, err = cli("generate", "helmholtz-bumps", "-o", first, "--seed", "7", *FAST)
    assert code == 0, err
    assert "wrote" in out
    code, out, _ = cli("inspect", first)
    assert code == 0 and "valid pdesuite dataset" in out and "helmholtz-bumps" in out
    assert "stats             over train" in out  # the stored normalisation statistics
    code, _, err = cli("generate", "--from", first, "-o", second)
    assert code == 0, err
    with h5py.File(first) as f, h5py.File(second) as g:
        assert f.attrs["params"] == g.attrs["params"] and f.attrs["seed"] == g.attrs["seed"] == 7
        for key in ("mesh/points", "mesh/cells", "train/u", "train/params", "test/u", "valid/params"):
            assert f[key][()].tobytes() == g[key][()].tobytes(), key  # bitwise
    # another seed gives other data
    third = tmp_path / "c.h5"
    assert cli("generate", "helmholtz-bumps", "-o", third, "--seed", "8", *FAST)[0] == 0
    with h5py.File(first) as f, h5py.File(third) as g:
        assert not np.array_equal(f["train/u"][()], g["train/u"][()])


def test_workers_give_the_same_file(cli, tmp_path):
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    args = ["generate", "poisson-random", "--samples", "3", "--set", "resolution=8"]
    assert cli(*args, "-o", one)[0] == 0
    assert cli(*args, "-o", two, "--workers", "2")[0] == 0
    with h5py.File(one) as f, h5py.File(two) as g:
        assert f["train/u"][()].tobytes() == g["train/u"][()].tobytes()


def test_export_xdmf(cli, tmp_path):
    out = tmp_path / "xdmf"
    code, _, err = cli("generate", "heat-random", "-o", tmp_path / "h.h5", "--samples", "1",
                       "--set", "resolution=6", "--set", "valid=0", "--set", "test=0", "--export-xdmf", out)
    assert code == 0, err
    files = sorted(p.name for p in out.iterdir())
    assert "train_00000.xdmf" in files and "train_00000.h5" in files
    text = (out / "train_00000.xdmf").read_text()
    assert text.count('<Time Value=') == 11  # every stored time


def test_overwrite(cli, tmp_path):
    path = tmp_path / "a.h5"
    path.write_text("keep me")
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, *FAST)
    assert code == 2 and "exists" in err and path.read_text() == "keep me"
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, "--overwrite", *FAST)
    assert code == 0 and h5py.is_hdf5(path)


BAD = {
    "unknown dataset": (["generate", "no-such-data", "-o", "{out}"], "unknown dataset"),
    "unknown profile": (["generate", "heat-random", "-o", "{out}", "--profile", "huge"], "unknown profile"),
    "unknown --set key": (["generate", "heat-random", "-o", "{out}", "--set", "bogus=1"], "unknown parameter 'bogus'"),
    "malformed --set": (["generate", "heat-random", "-o", "{out}", "--set", "resolution"], "key=value"),
    "non-numeric value": (["generate", "heat-random", "-o", "{out}", "--set", "resolution=abc"], "expected a int"),
    "zero resolution": (["generate", "poisson-random", "-o", "{out}", "--set", "resolution=0"], "resolution"),
    "negative resolution": (["generate", "heat-random", "-o", "{out}", "--set", "resolution=-4"], "resolution"),
    "negative diffusivity": (["generate", "heat-random", "-o", "{out}", "--set", "kappa=-1"], "diffusivity"),
    "zero dt": (["generate", "heat-random", "-o", "{out}", "--set", "dt=0"], "dt must be positive"),
    "negative dt": (["generate", "heat-random", "-o", "{out}", "--set", "dt=-0.1"], "dt must be positive"),
    "bad mesh size": (["generate", "helmholtz-bumps", "-o", "{out}", "--set", "mesh_size=0"], "mesh_size"),
    "zero samples": (["generate", "heat-random", "-o", "{out}", "--samples", "0"], "--samples"),
    "negative seed": (["generate", "heat-random", "-o", "{out}", "--seed", "-1"], "--seed"),
    "zero workers": (["generate", "heat-random", "-o", "{out}", "--workers", "0"], "--workers"),
    "missing output folder": (["generate", "heat-random", "-o", "{tmp}/nowhere/x.h5"], "does not exist"),
    "unwritable output folder": (["generate", "heat-random", "-o", "/proc/x.h5"], "not writable"),
    "output is a folder": (["generate", "heat-random", "-o", "{tmp}"], "directory"),
    "no dataset name": (["generate", "-o", "{out}"], "DATASET"),
    "--from with --set": (["generate", "--from", "{out}", "-o", "{tmp}/y.h5", "--set", "dt=1"], "--from"),
    "--from missing file": (["generate", "--from", "{tmp}/missing.h5", "-o", "{tmp}/y.h5"], "not found"),
    "inspect missing file": (["inspect", "{tmp}/missing.h5"], "not found"),
    "unknown command": (["frobnicate"], "invalid choice"),
    "unknown option": (["generate", "heat-random", "-o", "{out}", "--colour", "red"], "unrecognized"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_and_no_file(cli, tmp_path, case):
    argv, message = BAD[case]
    out = tmp_path / "out.h5"
    argv = [a.format(out=out, tmp=tmp_path) for a in argv]
    code, stdout, err = cli(*argv)
    assert code == 2, (code, err)
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("damage", ["truncated", "not-hdf5"])
def test_corrupt_inputs(cli, tmp_path, damage):
    good = tmp_path / "good.h5"
    assert cli("generate", "helmholtz-bumps", "-o", good, *FAST)[0] == 0
    raw = good.read_bytes()
    bad = tmp_path / "bad.h5"
    bad.write_bytes(raw[: len(raw) // 3] if damage == "truncated" else b"hello world\n" * 50)
    for argv in (["inspect", bad], ["generate", "--from", bad, "-o", tmp_path / "new.h5"]):
        code, _, err = cli(*argv)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "HDF5" in err or "unreadable" in err
    assert not (tmp_path / "new.h5").exists()


def test_demo(cli, tmp_path):
    code, out, err = cli("demo", "-o", tmp_path)
    assert code == 0, err
    assert (tmp_path / "helmholtz-bumps-sample.png").stat().st_size > 10_000
    assert "relative nodal error" in out
    metrics = json.loads((tmp_path / "lpinn-c5" / "metrics.json").read_text())
    assert metrics["relative_l2"] < 0.5, metrics  # 400 steps: a rough but real fit (untrained: ~1)


def test_resume_from_the_command_line(cli, tmp_path, monkeypatch):
    from pdesuite.recipes.helmholtz_bumps import HelmholtzBumps

    path = tmp_path / "r.h5"
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, "--resume", *FAST)
    assert code == 2 and "nothing to resume" in err
    original, calls = HelmholtzBumps.sample, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HelmholtzBumps, "sample", interrupted)
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, *FAST)
    assert code == 130 and "--resume" in err and not path.exists()
    monkeypatch.setattr(HelmholtzBumps, "sample", original)
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, *FAST)
    assert code == 2 and "--resume" in err
    code, _, err = cli("generate", "helmholtz-bumps", "-o", path, "--resume", *FAST)
    assert code == 0 and path.exists() and not list(tmp_path.glob(".*partial"))
