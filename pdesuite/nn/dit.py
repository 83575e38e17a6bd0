"""A diffusion transformer (DiT) over space-time latents: the denoiser of a latent PDE diffusion model.

The architecture follows the description of DiT (Peebles & Xie 2023, §3.2), extended from image
patches to space-time patches of a latent z of shape (C, T', X', Y') (Text2PDE's setting: an
autoencoder compresses a trajectory into z and a diffusion model is trained on z):

1. **Patchify.** The noisy latent x_t (concatenated channel-wise with an optional conditioning latent,
   e.g. the encoding of the first frame) is cut into non-overlapping (p_t, p_x, p_y) patches, each
   linearly embedded to ``hidden`` channels (a Conv3d with kernel = stride = patch), giving
   N = (T'/p_t)(X'/p_x)(Y'/p_y) tokens, ordered time-major, then x, then y.
2. **Positions.** A fixed 3D sin-cos embedding is added: the ``hidden`` channels are split into three
   even groups, one per axis, and group a holds sin(n_a ω_j), cos(n_a ω_j), ω_j = 10000^(-j/J_a),
   j < J_a, for the token's patch index n_a along axis a.
3. **Conditioning embedding** c = MLP_t(sinusoid(s·t)) + MLP_y(y): the diffusion time t scaled by
   ``time_scale`` s, mapped to 256 sinusoidal features (frequencies 10000^(-j/128)) and a two-layer
   SiLU MLP, plus a two-layer SiLU MLP of an optional conditioning vector y (e.g. a sentence
   embedding). For classifier-free guidance, rows of y can be *dropped*: their MLP_y(y) is replaced
   by a learned null embedding ∅ (or by 0 with ``cond_dropout_token=False``).
4. **Blocks** with adaLN-Zero. From c each block regresses six vectors
   (β₁, γ₁, α₁, β₂, γ₂, α₂) = W SiLU(c) + b and computes

       h ← h + α₁ ⊙ Attn(LN(h) ⊙ (1 + γ₁) + β₁)
       h ← h + α₂ ⊙ MLP(LN(h) ⊙ (1 + γ₂) + β₂)

   with LN a LayerNorm without affine parameters, Attn multi-head self-attention over all N tokens
   (``torch.nn.functional.scaled_dot_product_attention``) and MLP Linear → GELU(tanh) → Linear of
   width ``mlp_ratio · hidden``. W and b are zero-initialised, so α₁ = α₂ = 0 and every block is
   the identity at initialisation.
5. **Final layer**: h ← LN(h) ⊙ (1 + γ) + β with (β, γ) regressed from c (zero-initialised), then a
   zero-initialised linear map to p_t p_x p_y C values per token, and unpatchify. The untrained
   network therefore outputs exactly 0. The output has the input's C channels: an ε- or
   v-prediction (no learned variance).

Time convention: the network sees sinusoid(s·t) whose highest frequency is 1 rad per unit of s·t,
so s·t should span hundreds of units. Callers pass the time their schedule uses: discrete DDPM
indices t ∈ {0, ..., 999} with ``time_scale=1`` (the default), or continuous t ∈ [0, 1] with
``time_scale=1000``.

Shapes:
    x: (B, C, T', X', Y') with C = ``in_channels`` and (T', X', Y') = ``latent_size``.
    t: (B,) (or a scalar, broadcast to the batch).
    context: (B, context_channels, T', X', Y'), required iff ``context_channels > 0``.
    cond_vector: (B, cond_dim) or None (all rows null); only when ``cond_dim > 0``.
    drop: (B,) bool or None; True rows use the null embedding. Only when ``cond_dim > 0``.
    output: (B, C, T', X', Y').
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pdesuite.errors import BadInput
from pdesuite.nn.unet import sinusoidal_features

# Named configurations (the keyword arguments besides the data-dependent ones). Parameter counts for
# in_channels 8, latent (4, 8, 8), patch (1, 2, 2), no context and no conditioning vector (checked by
# tests/nn/test_dit.py). "paper" is the "DiT-S 512 x 24"; the DiT paper's own DiT-S is hidden
# 384, depth 12, 6 heads (33 M parameters on 256-pixel images).
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"hidden": 32, "depth": 2, "heads": 2, "mlp_ratio": 2.0, "frequency_dim": 64},  # 36.9 k, for tests
    "small": {"hidden": 96, "depth": 6, "heads": 4, "mlp_ratio": 4.0},  # 1.06 M, CPU experiments
    "gpu": {"hidden": 256, "depth": 10, "heads": 4, "mlp_ratio": 4.0},  # 12.1 M, one GPU
    "paper": {"hidden": 512, "depth": 24, "heads": 8, "mlp_ratio": 4.0},  # 114 M, the "DiT-S 512 x 24"
}


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters of ``module`` (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in module.parameters())


def sincos_position_embedding(grid: Sequence[int], dim: int) -> torch.Tensor:
    """Fixed sin-cos embedding of the points of a 3D token grid.

    The ``dim // 2`` sin/cos pairs are split between the axes as evenly as possible (the first axes
    take the remainder); axis a with J_a pairs contributes sin(n_a ω_j), cos(n_a ω_j),
    ω_j = 10000^(-j/J_a), j < J_a, for the integer index n_a of the token along that axis. An odd
    ``dim`` leaves its last channel 0.

    Args:
        grid: Number of tokens along each axis, (n_t, n_x, n_y).
        dim: Embedding width.

    Returns:
        Float64 tensor of shape (n_t·n_x·n_y, dim), rows ordered time-major, then x, then y.
    """
    pairs = dim // 2
    if pairs < len(grid):
        raise BadInput(f"position embedding width {dim} is too small for {len(grid)} axes (need >= {2 * len(grid)})")
    per_axis = [pairs // len(grid) + (1 if a < pairs % len(grid) else 0) for a in range(len(grid))]
    coords = torch.meshgrid(*[torch.arange(n, dtype=torch.float64) for n in grid], indexing="ij")
    parts = [sinusoidal_features(c.reshape(-1), 2 * j) for c, j in zip(coords, per_axis, strict=True)]
    out = torch.cat(parts, dim=1)
    if out.shape[1] < dim:
        out = torch.cat([out, out.new_zeros(out.shape[0], dim - out.shape[1])], dim=1)
    return out


def _modulate(h: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """LN(h) ⊙ (1 + γ) + β with a per-sample (B, D) shift β and scale γ broadcast over the tokens."""
    return h * (1 + scale[:, None, :]) + shift[:, None, :]


class TimestepEmbedding(nn.Module):
    """t -> MLP(sinusoid(s·t)): (B,) -> (B, hidden), two Linear layers with SiLU in between.

    Shapes:
        t: (B,) -> (B, hidden).
    """

    def __init__(self, hidden: int, frequency_dim: int = 256, time_scale: float = 1.0):
        super().__init__()
        self.frequency_dim, self.time_scale = frequency_dim, time_scale
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        dtype = self.mlp[0].weight.dtype
        angles = t.to(torch.float64 if dtype == torch.float64 else torch.float32) * self.time_scale  # t up to ~1e3
        return self.mlp(sinusoidal_features(angles, self.frequency_dim).to(dtype))


class SelfAttention(nn.Module):
    """Multi-head self-attention softmax(Q Kᵀ / √d) V over all tokens, then an output projection.

    Shapes:
        h: (B, N, hidden) -> (B, N, hidden).
    """

    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        q, k, v = self.qkv(h).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, N, d / heads)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class DiTBlock(nn.Module):
    """A transformer block with adaLN-Zero conditioning.

    (β₁, γ₁, α₁, β₂, γ₂, α₂) = W SiLU(c) + b, with W, b zero-initialised, and

        h ← h + α₁ ⊙ Attn(LN(h) ⊙ (1 + γ₁) + β₁)
        h ← h + α₂ ⊙ MLP(LN(h) ⊙ (1 + γ₂) + β₂)

    so the block is exactly the identity at initialisation.

    Shapes:
        h: (B, N, hidden); c: (B, hidden) -> (B, N, hidden).
    """

    def __init__(self, hidden: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        width = int(round(hidden * mlp_ratio))
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden, width), nn.GELU(approximate="tanh"), nn.Linear(width, hidden))
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden))

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c).chunk(6, dim=1)
        h = h + gate1[:, None, :] * self.attn(_modulate(self.norm1(h), shift1, scale1))
        return h + gate2[:, None, :] * self.mlp(_modulate(self.norm2(h), shift2, scale2))


class FinalLayer(nn.Module):
    """LN(h) ⊙ (1 + γ) + β with (β, γ) from c, then a linear map to the patch values (all zero-initialised).

    Shapes:
        h: (B, N, hidden); c: (B, hidden) -> (B, N, out_per_token).
    """

    def __init__(self, hidden: int, out_per_token: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))
        self.linear = nn.Linear(hidden, out_per_token)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.modulation(c).chunk(2, dim=1)
        return self.linear(_modulate(self.norm(h), shift, scale))


def _positive_int(value: Any, what: str) -> int:
    """``value`` as an int (Python, NumPy or 0-d tensor integers), BadInput unless it is >= 1."""
    try:
        out = operator.index(value) if not isinstance(value, bool) else 0
    except TypeError:
        out = 0
    if out < 1:
        raise BadInput(f"{what} must be a positive integer, got {value!r}")
    return out


def _triple(value: Any, what: str) -> tuple[int, int, int]:
    """Three positive ints (t, x, y) from a sequence of three, or one integer repeated."""
    message = f"{what} must be three positive integers (t, x, y), got {value!r}"
    if isinstance(value, str | bool):
        raise BadInput(message)
    if not isinstance(value, Iterable) or getattr(value, "ndim", 1) == 0:
        value = (value,) * 3
    items = tuple(value)
    if len(items) != 3:
        raise BadInput(message)
    return tuple(_positive_int(v, what) for v in items)  # type: ignore[return-value]


class LatentDiT(nn.Module):
    """Diffusion transformer denoiser on space-time latents (see the module docstring for the equations).

    Args:
        in_channels: Latent channels C (also the output channels).
        latent_size: (T', X', Y'), the latent's space-time size.
        patch: (p_t, p_x, p_y) patch size (an int means the same along all axes); each must divide the
            corresponding latent size.
        hidden: Token width D (divisible by ``heads``).
        depth: Number of transformer blocks.
        heads: Attention heads.
        mlp_ratio: MLP width / D.
        context_channels: Channels of a conditioning latent concatenated to x before patch embedding
            (0: none).
        cond_dim: Width of a conditioning vector (e.g. a 384-d sentence embedding) added, through an
            MLP, to the time embedding (0: none).
        cond_dropout_token: Learn a null embedding for dropped / absent conditioning vectors
            (classifier-free guidance); False uses the zero vector instead.
        time_scale: s in sinusoid(s·t): 1 for DDPM indices 0..999, 1000 for continuous t ∈ [0, 1].
        frequency_dim: Number of sinusoidal time features (256 in DiT).

    Shapes:
        x: (B, C, T', X', Y'); t: (B,) or scalar; context: (B, context_channels, T', X', Y');
        cond_vector: (B, cond_dim) or None; drop: (B,) bool or None -> (B, C, T', X', Y').
    """

    def __init__(self, in_channels: int, latent_size: Sequence[int], patch: Sequence[int] | int, hidden: int,
                 depth: int, heads: int, mlp_ratio: float = 4.0, context_channels: int = 0, cond_dim: int = 0,
                 cond_dropout_token: bool = True, time_scale: float = 1.0, frequency_dim: int = 256):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.latent_size = _triple(latent_size, "latent_size")
        self.patch = _triple(patch, "patch")
        for axis, n, p in zip("txy", self.latent_size, self.patch, strict=True):
            if n % p:
                raise BadInput(f"patch {self.patch} does not divide latent size {self.latent_size} along {axis}")
        hidden, depth = _positive_int(hidden, "hidden"), _positive_int(depth, "depth")
        heads = _positive_int(heads, "heads")
        if hidden % heads:
            raise BadInput(f"hidden {hidden} is not divisible by heads {heads}")
        if not (isinstance(mlp_ratio, int | float) and mlp_ratio > 0 and round(hidden * mlp_ratio) >= 1):
            raise BadInput(f"mlp_ratio must be positive, got {mlp_ratio!r}")
        for name, value in (("context_channels", context_channels), ("cond_dim", cond_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadInput(f"{name} must be a non-negative integer, got {value!r}")
        if not (isinstance(time_scale, int | float) and math.isfinite(time_scale) and time_scale > 0):
            raise BadInput(f"time_scale must be a positive number, got {time_scale!r}")
        frequency_dim = _positive_int(frequency_dim, "frequency_dim")
        self.hidden, self.depth, self.heads, self.mlp_ratio = hidden, depth, heads, float(mlp_ratio)
        self.context_channels, self.cond_dim, self.time_scale = context_channels, cond_dim, float(time_scale)
        self.grid = tuple(n // p for n, p in zip(self.latent_size, self.patch, strict=True))

        self.patch_embed = nn.Conv3d(in_channels + context_channels, hidden, kernel_size=self.patch, stride=self.patch)
        pos = sincos_position_embedding(self.grid, hidden).to(torch.get_default_dtype())
        self.register_buffer("pos_embed", pos[None], persistent=False)  # (1, N, D), fixed
        self.time_embed = TimestepEmbedding(hidden, frequency_dim, self.time_scale)
        self.cond_embed = (nn.Sequential(nn.Linear(cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
                           if cond_dim else None)
        self.null_embed = nn.Parameter(torch.zeros(hidden)) if cond_dim and cond_dropout_token else None
        self.blocks = nn.ModuleList(DiTBlock(hidden, heads, mlp_ratio) for _ in range(depth))
        self.final = FinalLayer(hidden, math.prod(self.patch) * in_channels)
        self.reset_parameters()

    @classmethod
    def from_size(cls, size: str, in_channels: int, latent_size: Sequence[int], patch: Sequence[int] | int,
                  **kwargs: Any) -> LatentDiT:
        """The named configuration ``SIZES[size]``; ``kwargs`` override or add constructor arguments."""
        if size not in SIZES:
            raise BadInput(f"unknown DiT size {size!r} (known: {', '.join(SIZES)})")
        return cls(in_channels, latent_size, patch, **{**SIZES[size], **kwargs})

    def reset_parameters(self) -> None:
        """DiT's initialisation: Xavier-uniform linear layers (and patch embedding, as a matrix) with zero
        biases, N(0, 0.02²) for the time / condition MLPs and the null embedding, and zeros for every
        adaLN modulation and the output layer."""
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.xavier_uniform_(module.weight)
                    nn.init.zeros_(module.bias)
            w = self.patch_embed.weight
            nn.init.xavier_uniform_(w.view(w.shape[0], -1))
            nn.init.zeros_(self.patch_embed.bias)
            mlps = [self.time_embed.mlp] + ([self.cond_embed] if self.cond_embed is not None else [])
            for mlp in mlps:
                for layer in (mlp[0], mlp[2]):
                    nn.init.normal_(layer.weight, std=0.02)
            if self.null_embed is not None:
                nn.init.normal_(self.null_embed, std=0.02)
            for layer in [block.modulation[1] for block in self.blocks] + [self.final.modulation[1], self.final.linear]:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    # -- helpers ---------------------------------------------------------------------------------------
    def _check_inputs(self, x: torch.Tensor, t: Any, context: torch.Tensor | None, cond_vector: torch.Tensor | None,
                      drop: torch.Tensor | None) -> torch.Tensor:
        expected = (self.in_channels, *self.latent_size)
        if not isinstance(x, torch.Tensor) or x.dim() != 5 or tuple(x.shape[1:]) != expected:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise BadInput(f"x must have shape (B, {', '.join(map(str, expected))}), got {got}")
        b = x.shape[0]
        t = torch.as_tensor(t, device=x.device)
        if t.dim() == 0:
            t = t.expand(b)
        if t.shape != (b,) or t.is_complex() or t.dtype == torch.bool:
            raise BadInput(f"t must be a real tensor of shape ({b},), got shape {tuple(t.shape)}")
        if self.context_channels:
            want = (b, self.context_channels, *self.latent_size)
            if context is None or not isinstance(context, torch.Tensor) or tuple(context.shape) != want:
                got = tuple(context.shape) if isinstance(context, torch.Tensor) else context
                raise BadInput(f"context must have shape {want}, got {got}")
        elif context is not None:
            raise BadInput("context given but the model has context_channels=0")
        if self.cond_dim:
            if cond_vector is not None and (not isinstance(cond_vector, torch.Tensor)
                                            or tuple(cond_vector.shape) != (b, self.cond_dim)):
                got = tuple(cond_vector.shape) if isinstance(cond_vector, torch.Tensor) else cond_vector
                raise BadInput(f"cond_vector must have shape ({b}, {self.cond_dim}), got {got}")
            if drop is not None and (not isinstance(drop, torch.Tensor) or drop.dtype != torch.bool
                                     or tuple(drop.shape) != (b,)):
                got = (drop.dtype, tuple(drop.shape)) if isinstance(drop, torch.Tensor) else drop
                raise BadInput(f"drop must be a bool tensor of shape ({b},), got {got}")
        elif cond_vector is not None or drop is not None:
            raise BadInput("cond_vector/drop given but the model has cond_dim=0")
        return t

    def condition(self, t: torch.Tensor, cond_vector: torch.Tensor | None = None,
                  drop: torch.Tensor | None = None) -> torch.Tensor:
        """c = MLP_t(sinusoid(s·t)) + (MLP_y(y), or the null embedding for dropped / absent rows).

        Shapes:
            t: (B,); cond_vector: (B, cond_dim) or None; drop: (B,) bool or None -> (B, hidden).
        """
        c = self.time_embed(t)
        if self.cond_embed is None:
            return c
        null = self.null_embed if self.null_embed is not None else c.new_zeros(self.hidden)
        null = null.to(c.dtype).expand_as(c)
        if cond_vector is None:
            return c + null
        y = self.cond_embed(cond_vector.to(c.dtype))
        if drop is not None:
            y = torch.where(drop[:, None], null, y)
        return c + y

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """Patch embedding plus positions: (B, C_in, T', X', Y') -> (B, N, hidden)."""
        return self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed.to(x.dtype)

    def unpatchify(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, C·p_t·p_x·p_y) -> (B, C, T', X', Y'); each token's values are ordered (C, p_t, p_x, p_y)."""
        b = tokens.shape[0]
        (nt, nx, ny), (pt, px, py), c = self.grid, self.patch, self.in_channels
        out = tokens.reshape(b, nt, nx, ny, c, pt, px, py).permute(0, 4, 1, 5, 2, 6, 3, 7)
        return out.reshape(b, c, nt * pt, nx * px, ny * py)

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, context: torch.Tensor | None = None,
                cond_vector: torch.Tensor | None = None, drop: torch.Tensor | None = None) -> torch.Tensor:
        """The denoiser output (ε or v, whichever it is trained for) at noisy latent x and time t.

        Args:
            x: Noisy latent x_t.
            t: Diffusion times in the caller's schedule units (scaled by ``time_scale`` inside).
            context: Conditioning latent (required iff ``context_channels > 0``).
            cond_vector: Conditioning vectors; None with ``cond_dim > 0`` means every row is null.
            drop: True rows use the null embedding instead of their vector (classifier-free guidance).

        Returns:
            Tensor of x's shape.

        Shapes:
            x: (B, C, T', X', Y'); t: (B,) or scalar; context: (B, context_channels, T', X', Y');
            cond_vector: (B, cond_dim); drop: (B,) bool -> (B, C, T', X', Y').
        """
        t = self._check_inputs(x, t, context, cond_vector, drop)
        inp = x if context is None else torch.cat([x, context.to(x.dtype)], dim=1)
        h = self.patchify(inp)
        c = self.condition(t, cond_vector, drop)
        for block in self.blocks:
            h = block(h, c)
        return self.unpatchify(self.final(h, c))
