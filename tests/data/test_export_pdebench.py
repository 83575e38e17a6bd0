"""`pdesuite export --to pdebench`: PDEBench's own dataset classes (pdebench 0.1.0 from PyPI,
pdebench.models.fno.utils and pdebench.models.unet.utils) read our 1D and 2D files and give back our arrays
after their own transposes; bad input exits 2 with one line."""

import json

import h5py
import numpy as np
import pytest

from pdesuite.data.trajectories import load_trajectories
from pdesuite.errors import BadInput

pytest.importorskip("pdebench.models.fno.utils", reason="PDEBench's loaders are installed by make test "
                                                        "(scripts/bootstrap.sh)")
# PDEBench calls torch.meshgrid without `indexing` (its default, "ij", is what our grids use).
pytestmark = pytest.mark.filterwarnings("ignore:torch.meshgrid:UserWarning")

SMOKE_TINY = {"resolution": "8", "n_skip": "1", "n_frames": "4", "frame_every": "1", "train": "3", "valid": "1",
              "test": "2", "batch_size": "4"}
BURGERS_TINY = {"train": "3", "valid": "1", "test": "2", "nx": "32", "nx_solve": "128", "nt": "11", "t_end": "0.5",
                "substeps": "10"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    from pdesuite.recipes.generate import generate

    return generate("smoke", tmp_path_factory.mktemp("pdebench") / "smoke.h5", seed=3, progress=False,
                    overrides=SMOKE_TINY)


@pytest.fixture(scope="module")
def burgers(tmp_path_factory):
    from pdesuite.recipes.generate import generate

    return generate("burgers", tmp_path_factory.mktemp("pdebench") / "burgers.h5", seed=1, progress=False,
                    overrides=BURGERS_TINY)


def test_1d_single_field_as_pdebench_tensor_file(burgers, tmp_path):
    from pdebench.models.fno.utils import FNODatasetSingle
    from pdebench.models.unet.utils import UNetDatasetSingle

    from pdesuite.data.export import export_pdebench

    out = export_pdebench(burgers, tmp_path / "burgers-pdebench")
    assert sorted(p.name for p in out.iterdir()) == ["burgers_test.hdf5", "burgers_train.hdf5", "burgers_valid.hdf5"]
    folder = f"{out}/"  # PDEBench joins saved_folder + filename as strings
    for split in ("train", "test"):
        ours = load_trajectories(burgers, split)
        # test_ratio=0: the whole file (PDEBench's own ratio split would cut off the first 10 % as its test set)
        fno = FNODatasetSingle(f"burgers_{split}.hdf5", saved_folder=folder, initial_step=3, test_ratio=0.0)
        assert len(fno) == len(ours)
        expected = ours.u.transpose(0, 2, 1, 3)  # ours (n, t, x, c) -> PDEBench's (n, x, t, c)
        np.testing.assert_array_equal(fno.data.numpy(), expected)
        start, whole, grid = fno[1]
        np.testing.assert_array_equal(start.numpy(), expected[1, :, :3])
        np.testing.assert_array_equal(grid.numpy()[:, 0], ours.grid["x"].astype(np.float32))
        unet = UNetDatasetSingle(f"burgers_{split}.hdf5", saved_folder=folder, initial_step=3, test_ratio=0.0)
        np.testing.assert_array_equal(unet[0][1].numpy(), expected[0])
    # PDEBench's split of one file: if_test takes the first int(n * test_ratio) samples
    ours = load_trajectories(burgers, "train")
    held_out = FNODatasetSingle("burgers_train.hdf5", saved_folder=folder, if_test=True, test_ratio=0.34)
    np.testing.assert_array_equal(held_out.data.numpy(), ours.u[:1].transpose(0, 2, 1, 3))
    with h5py.File(out / "burgers_train.hdf5") as f:
        np.testing.assert_array_equal(f["t-coordinate"][()], ours.times)
        np.testing.assert_array_equal(f["parameters/nu"][()], ours.params["nu"])
        source = json.loads(f.attrs["pdesuite_source"])
        assert source["dataset"] == "burgers" and str(source["seed"]) == "1" and f.attrs["pdesuite_split"] == "train"
        assert json.loads(f.attrs["fields"]) == ["u"]


def test_ks_per_sample_grids_as_pdebench_sample_groups(tiny_ks, tmp_path):
    from pdebench.models.fno.utils import FNODatasetMult
    from pdebench.models.unet.utils import UNetDatasetMult

    from pdesuite.data.export import export_pdebench

    with pytest.raises(BadInput, match="single-array layout"):  # each KS trajectory has its own L and dt
        export_pdebench(tiny_ks, tmp_path / "single", layout="single")
    assert not (tmp_path / "single").exists()
    out = export_pdebench(tiny_ks, tmp_path / "ks-pdebench")
    assert sorted(p.name for p in out.iterdir()) == ["ks_test.h5", "ks_train.h5", "ks_valid.h5"]
    ours = load_trajectories(tiny_ks, "train")
    fno = FNODatasetMult("ks_train", saved_folder=f"{out}/", initial_step=2, test_ratio=0.0)  # no extension
    assert len(fno) == len(ours)
    for i in (0, len(ours) - 1):
        start, whole, grid = fno[i]
        expected = ours.u[i].transpose(1, 0, 2)  # (t, x, c) -> (x, t, c)
        np.testing.assert_array_equal(whole.numpy(), expected)
        np.testing.assert_array_equal(start.numpy(), expected[:, :2])
        np.testing.assert_array_equal(grid.numpy()[:, 0], ours.x[i].astype(np.float32))  # its own domain
    np.testing.assert_array_equal(UNetDatasetMult("ks_train", saved_folder=f"{out}/", test_ratio=0.0)[2][1].numpy(),
                                  ours.u[2].transpose(1, 0, 2))
    # PDEBench's split of one file of sample groups: the last (1 - int(n * (1 - test_ratio))) are its test set
    assert len(FNODatasetMult("ks_train", saved_folder=f"{out}/", if_test=True, test_ratio=0.5)) == 3
    with h5py.File(out / "ks_train.h5") as f:
        assert list(f) == [f"{i:04d}" for i in range(len(ours))]
        np.testing.assert_array_equal(f["0003/grid/t"][()], ours.t[3])
        assert f["0003"].attrs["L"] == pytest.approx(ours.params["L"][3])


def test_smoke_2d_fields_through_the_cli(smoke, tmp_path, cli):
    from pdebench.models.fno.utils import FNODatasetMult
    from pdebench.models.unet.utils import UNetDatasetMult

    out = tmp_path / "smoke-pdebench"
    code, stdout, err = cli("export", smoke, "--to", "pdebench", "-o", out)
    assert code == 0, err
    assert "smoke_test.h5, smoke_train.h5, smoke_valid.h5" in stdout
    ours = load_trajectories(smoke, "test")
    for dataset in (FNODatasetMult("smoke_test", saved_folder=f"{out}/", initial_step=1, test_ratio=0.0),
                    UNetDatasetMult("smoke_test", saved_folder=f"{out}/", initial_step=1, test_ratio=0.0)):
        assert len(dataset) == 2
        for i in range(2):
            item = dataset[i]
            expected = ours.u[i].transpose(1, 2, 0, 3)  # (t, x, y, c) -> (x, y, t, c); channels s, vx, vy
            np.testing.assert_array_equal(item[1].numpy(), expected)
            np.testing.assert_array_equal(item[0].numpy(), expected[:, :, :1])
    grid = FNODatasetMult("smoke_test", saved_folder=f"{out}/", test_ratio=0.0)[0][2].numpy()  # (x, y, 2), "ij"
    np.testing.assert_array_equal(grid[:, 0, 0], ours.grid["x"].astype(np.float32))
    np.testing.assert_array_equal(grid[0, :, 1], ours.grid["y"].astype(np.float32))
    with h5py.File(out / "smoke_test.h5") as f:
        assert json.loads(f.attrs["fields"]) == ["s", "vx", "vy"]
        assert f["0001"].attrs["buoyancy_y"] == pytest.approx(ours.params["buoyancy_y"][1])
        assert f["0001"].attrs["prompt"] == ours.extras["prompt"][1]
        np.testing.assert_array_equal(f["0001/grid/t"][()], ours.times)


def test_bad_input_exits_2(smoke, tmp_path, cli):
    def fails(path, out, words):
        code, _, err = cli("export", path, "--to", "pdebench", "-o", out)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
        return err

    taken = tmp_path / "taken"
    taken.mkdir()
    fails(smoke, taken, "exists")
    mesh = tmp_path / "mesh.h5"
    mesh.write_bytes(smoke.read_bytes())
    with h5py.File(mesh, "a") as f:
        f.create_group("mesh")
    fails(mesh, tmp_path / "m", "mesh data")
    cube = tmp_path / "cube.h5"
    cube.write_bytes(smoke.read_bytes())
    with h5py.File(cube, "a") as f:
        for split in ("train", "valid", "test"):
            u = f[split]["u"][()]
            del f[split]["u"]
            f[split]["u"] = np.repeat(u[:, :, :, :, None], 2, axis=4)
    fails(cube, tmp_path / "c", "3D grids")
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    assert not (tmp_path / "m").exists() and not (tmp_path / "c").exists()
