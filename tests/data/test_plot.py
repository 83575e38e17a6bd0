"""`pdesuite plot` on grid and mesh datasets."""

import pytest


@pytest.mark.parametrize("name,overrides", [
    ("convection", ["--set", "c=5", "--set", "nu=0"]),
    ("heat-random", ["--samples", "1", "--set", "resolution=4", "--set", "valid=0", "--set", "test=0"]),
])
def test_plot_writes_a_png(cli, tmp_path, name, overrides):
    if name == "heat-random":
        pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
    path = tmp_path / "d.h5"
    assert cli("generate", name, "-o", path, *overrides)[0] == 0
    png = tmp_path / "d.png"
    code, out, err = cli("plot", path, "-o", png)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    code, _, err = cli("plot", path, "-o", png, "--index", "99")
    assert code == 2 and "out of range" in err
    code, _, err = cli("plot", path, "-o", png, "--field", "nope")
    assert code == 2 and "unknown field" in err
