"""What the network predicts, exact conversions between the choices, guidance and thresholding.

With x_t = α x_0 + σ ε (α, σ of the schedule at t) a network can predict

* ``eps``: the noise ε (Ho et al. 2020);
* ``x0``: the clean sample x_0, also called data prediction (DPM-Solver++, Lu et al. 2022b);
* ``v``: v = α ε - σ x_0 (Salimans & Ho 2022, §4; generalised here to any α, σ);
* ``score``: ∇ log p_t(x) = -ε / σ.

For fixed (x, t) the map between any two is affine and exact::

    x0 = (x - σ ε) / α            ε = (x - α x0) / σ
    x0 = (α x - σ v) / (α² + σ²)  ε = (σ x + α v) / (α² + σ²)   (from [α σ; -σ α] [x0; ε] = [x; v])

Classifier-free guidance (Ho & Salimans 2022, Eq. 6) is the affine combination
out = out_u + w (out_c - out_u); since its weights sum to one it commutes with the conversions
above, so guiding ε, x0 or v gives the same update. Conditioning keywords pass through unchanged.

Shapes:
    x, outputs: (batch, *any); α and σ: floats or tensors broadcastable against x.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from pdesuite.errors import BadInput

PREDICTIONS = ("eps", "x0", "v", "score")
_ALIASES = {"epsilon": "eps", "noise": "eps", "sample": "x0", "data": "x0", "x_0": "x0", "v_prediction": "v"}

#: ``model(x, t, **cond) -> tensor shaped like x``; ``t`` is a (batch,) tensor of schedule times.
Model = Callable[..., torch.Tensor]


def lincomb(*terms: tuple[float, torch.Tensor]) -> torch.Tensor:
    """Σ c_i t_i as one multiply and in-place fused adds (the fewest kernels; keeps autograd)."""
    (c, t), *rest = terms
    out = t * c
    for c, t in rest:
        out.add_(t, alpha=c)
    return out


def check_prediction(prediction: str) -> str:
    """The canonical name of a prediction type (accepts diffusers' names too)."""
    name = _ALIASES.get(prediction, prediction)
    if name not in PREDICTIONS:
        raise BadInput(f"unknown prediction type {prediction!r} (known: {', '.join(PREDICTIONS)})")
    return name


def to_eps(out: torch.Tensor, x: torch.Tensor, alpha: Any, sigma: Any, prediction: str) -> torch.Tensor:
    """ε from a model output of type ``prediction`` at (x, α, σ)."""
    if prediction == "eps":
        return out
    if prediction == "x0":
        return (x - alpha * out) / sigma
    if prediction == "v":
        return (sigma * x + alpha * out) / (alpha * alpha + sigma * sigma)
    if prediction == "score":
        return -sigma * out
    raise BadInput(f"unknown prediction type {prediction!r}")


def to_x0(out: torch.Tensor, x: torch.Tensor, alpha: Any, sigma: Any, prediction: str) -> torch.Tensor:
    """x0 (data prediction) from a model output of type ``prediction`` at (x, α, σ)."""
    if prediction == "x0":
        return out
    if prediction == "eps":
        return (x - sigma * out) / alpha
    if prediction == "v":
        return (alpha * x - sigma * out) / (alpha * alpha + sigma * sigma)
    if prediction == "score":
        return (x + sigma * sigma * out) / alpha
    raise BadInput(f"unknown prediction type {prediction!r}")


def convert(out: torch.Tensor, x: torch.Tensor, alpha: Any, sigma: Any, source: str, target: str) -> torch.Tensor:
    """Convert a prediction of type ``source`` into one of type ``target`` (exact)."""
    source, target = check_prediction(source), check_prediction(target)
    if source == target:
        return out
    if target == "x0":
        return to_x0(out, x, alpha, sigma, source)
    eps = to_eps(out, x, alpha, sigma, source)
    if target == "eps":
        return eps
    if target == "score":
        return -eps / sigma
    x0 = to_x0(out, x, alpha, sigma, source)
    return alpha * eps - sigma * x0


def dynamic_threshold(x0: torch.Tensor, quantile: float = 0.995, max_value: float = 1.0) -> torch.Tensor:
    """Dynamic thresholding (Saharia et al. 2022 §2.3; used by DPM-Solver++, Lu et al. 2022b §3.2).

    Per sample, s = clamp(quantile_p(|x0|), 1, max_value); x0 <- clamp(x0, -s, s) / s.

    Shapes:
        x0: (batch, *any) -> same.
    """
    flat = x0.reshape(x0.shape[0], -1).abs()
    s = torch.quantile(flat.float() if flat.dtype == torch.float16 else flat, quantile, dim=1).to(x0.dtype)
    s = s.clamp(min=1.0, max=max(max_value, 1.0)).reshape(-1, *([1] * (x0.dim() - 1)))
    return torch.maximum(torch.minimum(x0, s), -s) / s


class ClassifierFreeGuidance:
    """Wrap a conditional model as out_u + scale (out_c - out_u) (Ho & Salimans 2022, Eq. 6).

    Args:
        model: ``model(x, t, **cond)``.
        scale: Guidance weight w (1 = plain conditional model).
        uncond: Keyword arguments of the unconditional call (e.g. ``{"cond": null_embedding}``);
            the conditional call uses the keywords the sampler passes through.
    """

    def __init__(self, model: Model, scale: float, uncond: Mapping[str, Any] | None = None) -> None:
        self.model, self.scale, self.uncond = model, float(scale), dict(uncond or {})

    def __call__(self, x: torch.Tensor, t: torch.Tensor, **cond: Any) -> torch.Tensor:
        out_u = self.model(x, t, **self.uncond)
        if self.scale == 0.0:
            return out_u
        out_c = self.model(x, t, **cond)
        return out_u + self.scale * (out_c - out_u)


class Denoiser:
    """A model call with the bookkeeping every sampler needs.

    Evaluates ``model(x, t, **cond)`` with ``t`` broadcast to a (batch,) tensor of x's dtype and
    device, checks the output shape (`BadInput` otherwise), counts evaluations (``nfe``) and converts
    the output to ε or x0.

    Args:
        model: Any callable ``model(x, t, **cond)``.
        prediction: What the model returns (``eps``, ``x0``, ``v`` or ``score``).
        cond: Conditioning keywords passed through to every call.
    """

    def __init__(self, model: Model, prediction: str, cond: Mapping[str, Any] | None = None) -> None:
        if not callable(model):
            raise BadInput(f"model must be callable, got {type(model).__name__}")
        self.model, self.prediction, self.cond = model, check_prediction(prediction), dict(cond or {})
        self.nfe = 0

    def raw(self, x: torch.Tensor, t: float) -> torch.Tensor:
        tt = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
        out = self.model(x, tt, **self.cond)
        self.nfe += 1
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise BadInput(f"model returned shape {got} for an input of shape {tuple(x.shape)}")
        return out

    def eps(self, x: torch.Tensor, t: float, alpha: float, sigma: float) -> torch.Tensor:
        out, p = self.raw(x, t), self.prediction
        if p == "eps":
            return out
        if p == "x0":
            return lincomb((1 / sigma, x), (-alpha / sigma, out))
        if p == "v":
            n = alpha * alpha + sigma * sigma
            return lincomb((sigma / n, x), (alpha / n, out))
        return out * -sigma

    def x0(self, x: torch.Tensor, t: float, alpha: float, sigma: float) -> torch.Tensor:
        out, p = self.raw(x, t), self.prediction
        if p == "x0":
            return out
        if p == "eps":
            return lincomb((1 / alpha, x), (-sigma / alpha, out))
        if p == "v":
            n = alpha * alpha + sigma * sigma
            return lincomb((alpha / n, x), (-sigma / n, out))
        return lincomb((1 / alpha, x), (sigma * sigma / alpha, out))

    def pair(self, x: torch.Tensor, t: float, alpha: float, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(x0, ε) from one evaluation."""
        out = self.raw(x, t)
        return to_x0(out, x, alpha, sigma, self.prediction), to_eps(out, x, alpha, sigma, self.prediction)
