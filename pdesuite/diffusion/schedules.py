"""Noise schedules x_t = α_t x_0 + σ_t ε and time-step spacings.

A schedule is the curve t -> (α_t, σ_t); every sampler only needs α_t, σ_t, the half log-SNR
λ_t = log(α_t / σ_t) and its inverse t(λ). Three families:

* **Discrete DDPM** (Ho et al. 2020, Eq. 4; Nichol & Dhariwal 2021, Eq. 17 for the cosine betas):
  N = 1000 training steps with ᾱ_n = Π_{k<=n} (1 - β_k), α_n = sqrt(ᾱ_n). Time is the (fractional)
  training-step index t ∈ [0, N-1]; log α is interpolated linearly between integers, which is the
  continuous extension of DPM-Solver (Lu et al. 2022, App. D) and makes t(λ) exact. A table may
  end at pure noise, β_{N-1} = 1, ᾱ_{N-1} = 0 (zero terminal SNR, Lin et al. 2024 §3.1; PDE-Refiner's
  chain): there the last interval interpolates ᾱ linearly instead, so α -> 0 continuously and t(λ)
  stays exact down to λ = -∞.
* **Continuous VP** (Song et al. 2021, Eq. 33; Lu et al. 2022, App. D): σ_t = sqrt(1 - α_t²) with
  linear β(t) (log α_t = -(β1-β0) t²/4 - β0 t/2) or cosine α_t, both with closed-form t(λ).
* **VE / EDM** (Song et al. 2021 VE SDE; Karras et al. 2022, Table 1): α_t = 1, σ_t = σ_min
  (σ_max/σ_min)^t or σ_t = t.

Spacings (`make_timesteps`): uniform in t, uniform in λ (logSNR, Lu et al. 2022 §3.3), quadratic in
t (Song et al. 2021 DDIM §D.2) and Karras et al. 2022 Eq. 5 (ρ = 7) in σ/α.

Shapes:
    All functions take a float or a tensor of times of any shape and return float64 tensors of the
    same shape (on the CPU: schedules are tiny and feed Python-float coefficients to the samplers).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import torch

from pdesuite.errors import BadInput
from pdesuite.registry import Registry

SCHEDULES = Registry("schedule")
SPACINGS = ("uniform-t", "uniform-lambda", "quadratic", "karras")
_SPACING_ALIASES = {"logsnr": "uniform-lambda", "uniform-logsnr": "uniform-lambda", "linear": "uniform-t",
                    "time-uniform": "uniform-t", "logSNR": "uniform-lambda"}


def _t(value: Any) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float64)


class NoiseSchedule(ABC):
    """The curve t -> (α_t, σ_t) of a diffusion x_t = α_t x_0 + σ_t ε.

    Subclasses give log α_t, log σ_t and the inverse of λ_t = log α_t - log σ_t; everything else
    derives from those three.

    Attributes:
        name: Registry name. ``t_min``/``t_max``: the time range (t_max is the noise end).
        num_train_steps: Training steps of a discrete schedule, ``None`` when continuous.
    """

    name: str = ""
    t_min: float = 0.0
    t_max: float = 1.0
    num_train_steps: int | None = None

    @abstractmethod
    def log_alpha(self, t: Any) -> torch.Tensor:
        """log α_t."""

    @abstractmethod
    def log_sigma(self, t: Any) -> torch.Tensor:
        """log σ_t."""

    @abstractmethod
    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        """The time whose half log-SNR is ``lam`` (inverse of `lambda_`)."""

    def alpha(self, t: Any) -> torch.Tensor:
        return torch.exp(self.log_alpha(t))

    def sigma(self, t: Any) -> torch.Tensor:
        return torch.exp(self.log_sigma(t))

    def lambda_(self, t: Any) -> torch.Tensor:
        """λ_t = log(α_t / σ_t), half the log signal-to-noise ratio."""
        return self.log_alpha(t) - self.log_sigma(t)

    @property
    def discrete(self) -> bool:
        return self.num_train_steps is not None

    def config(self) -> dict[str, Any]:
        """JSON-able description (name and parameters) that `get_schedule` rebuilds."""
        return {"name": self.name, **self._params()}

    def _params(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class VPSchedule(NoiseSchedule):
    """Variance preserving: σ_t = sqrt(1 - α_t²), so λ = log α - ½ log(1 - α²)."""

    def log_sigma(self, t: Any) -> torch.Tensor:
        return 0.5 * torch.log(-torch.expm1(2.0 * self.log_alpha(t)))

    @staticmethod
    def log_alpha_of_lambda(lam: Any) -> torch.Tensor:
        """For VP, α² = sigmoid(2λ): log α = -½ log(1 + e^{-2λ})."""
        return -0.5 * torch.nn.functional.softplus(-2.0 * _t(lam))


# -- discrete DDPM ---------------------------------------------------------------------------------
class DiscreteVP(VPSchedule):
    """Discrete DDPM schedule from betas, time = training-step index in [0, N-1].

    log α_n = ½ Σ_{k<=n} log(1 - β_k) is accumulated with log1p, so σ_n² = 1 - ᾱ_n = -expm1(2 log α_n)
    keeps its digits when ᾱ_n is close to 1 (β_0 = 4e-7 gives σ_0² = 4e-7 to round-off).

    Args:
        betas: β_n, n = 0..N-1 (Ho et al. 2020): ᾱ_n = Π_{k<=n}(1 - β_k). Each in (0, 1); the last may
            be 1 (zero terminal SNR: α = 0, λ = -∞ at t = N - 1).
        name: Name recorded in the config.
    """

    def __init__(self, betas: Any, name: str = "ddpm-custom") -> None:
        betas = _t(betas).flatten()
        if betas.numel() < 2 or not bool(((betas > 0) & (betas < 1)).all() or (
                ((betas[:-1] > 0) & (betas[:-1] < 1)).all() and betas[-1] == 1)):
            raise BadInput("betas must be at least 2 values in (0, 1) (the last may be 1: zero terminal SNR)")
        self.name = name
        self.betas = betas
        self._log_alpha = 0.5 * torch.cumsum(torch.log1p(-betas), 0)  # log α_n, decreasing (-inf if β_{N-1} = 1)
        self.num_train_steps = int(betas.numel())
        self.t_min, self.t_max = 0.0, float(self.num_train_steps - 1)

    @property
    def zero_terminal_snr(self) -> bool:
        """True when the table ends at pure noise (ᾱ_{N-1} = 0)."""
        return bool(torch.isinf(self._log_alpha[-1]))

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod: Any, name: str = "ddpm-custom") -> DiscreteVP:
        """The schedule with exactly these ᾱ_n (e.g. another library's table)."""
        acp = _t(alphas_cumprod).flatten()
        prev = torch.cat([torch.ones(1, dtype=torch.float64), acp[:-1]])
        out = cls(1 - acp / prev, name)
        out._log_alpha = 0.5 * torch.log(acp)
        return out

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        return torch.exp(2.0 * self._log_alpha)

    def log_alpha(self, t: Any) -> torch.Tensor:
        t = _t(t).clamp(self.t_min, self.t_max)
        i = t.floor().clamp(max=self.t_max - 1).long()
        w = t - i
        lo = self._log_alpha[i]
        out = torch.where(w > 0, (1 - w) * lo + w * self._log_alpha[i + 1], lo)  # no 0 * (-inf) at the knots
        if self.zero_terminal_snr:  # last interval: ᾱ linear, log α = log α_{N-2} + ½ log(1 - w)
            out = torch.where(i == self.num_train_steps - 2, lo + 0.5 * torch.log1p(-w), out)
        return out

    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        la = self.log_alpha_of_lambda(lam).clamp(float(self._log_alpha[-1]), float(self._log_alpha[0]))
        neg = -self._log_alpha  # increasing
        i = (torch.searchsorted(neg, (-la).contiguous()) - 1).clamp(0, self.num_train_steps - 2)
        w = (la - self._log_alpha[i]) / (self._log_alpha[i + 1] - self._log_alpha[i])
        t = i.to(torch.float64) + w
        if self.zero_terminal_snr:  # invert log α = log α_{N-2} + ½ log(1 - w) on the last interval
            last = self.num_train_steps - 2
            below = la < self._log_alpha[last]
            t = torch.where(below, last + 1 - torch.exp(2.0 * (la - self._log_alpha[last])), t)
        return t

    def _params(self) -> dict[str, Any]:
        return {}


@SCHEDULES.register("ddpm-linear")
class DDPMLinear(DiscreteVP):
    """DDPM linear betas 1e-4..0.02 over 1000 steps (Ho et al. 2020, §4)."""

    def __init__(self, beta_start: float = 1e-4, beta_end: float = 0.02, num_train_steps: int = 1000) -> None:
        self.beta_start, self.beta_end = beta_start, beta_end
        super().__init__(torch.linspace(beta_start, beta_end, num_train_steps, dtype=torch.float64), "ddpm-linear")

    def _params(self) -> dict[str, Any]:
        return {"beta_start": self.beta_start, "beta_end": self.beta_end, "num_train_steps": self.num_train_steps}


@SCHEDULES.register("ddpm-scaled-linear")
class DDPMScaledLinear(DiscreteVP):
    """Scaled-linear betas (sqrt-linear, 0.00085..0.012; Rombach et al. 2022 latent diffusion)."""

    def __init__(self, beta_start: float = 0.00085, beta_end: float = 0.012, num_train_steps: int = 1000) -> None:
        self.beta_start, self.beta_end = beta_start, beta_end
        root = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_steps, dtype=torch.float64)
        super().__init__(root**2, "ddpm-scaled-linear")

    def _params(self) -> dict[str, Any]:
        return {"beta_start": self.beta_start, "beta_end": self.beta_end, "num_train_steps": self.num_train_steps}


@SCHEDULES.register("ddpm-cosine")
class DDPMCosine(DiscreteVP):
    """Cosine ᾱ (Nichol & Dhariwal 2021, Eq. 17; s = 0.008, β clipped at 0.999)."""

    def __init__(self, s: float = 0.008, max_beta: float = 0.999, num_train_steps: int = 1000) -> None:
        self.s, self.max_beta = s, max_beta
        n = torch.arange(num_train_steps + 1, dtype=torch.float64) / num_train_steps
        f = torch.cos((n + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
        super().__init__(betas, "ddpm-cosine")

    def _params(self) -> dict[str, Any]:
        return {"s": self.s, "max_beta": self.max_beta, "num_train_steps": self.num_train_steps}


# -- continuous VP -----------------------------------------------------------------------------------
@SCHEDULES.register("vp-linear")
class VPLinear(VPSchedule):
    """Continuous VP with linear β(t) = β0 + t(β1 - β0) (Song et al. 2021, Eq. 33), t ∈ [1e-3, 1].

    log α_t = -(β1 - β0) t²/4 - β0 t/2 and t(λ) = 2L / (β0/2 + sqrt(β0²/4 + (β1 - β0) L)) with
    L = ½ log(1 + e^{-2λ}) = -log α (Lu et al. 2022, App. D).
    """

    name = "vp-linear"

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3, t_max: float = 1.0) -> None:
        if not 0 < beta_min < beta_max:
            raise BadInput(f"vp-linear needs 0 < beta_min < beta_max, got {beta_min}, {beta_max}")
        self.beta_min, self.beta_max, self.t_min, self.t_max = beta_min, beta_max, t_min, t_max

    def log_alpha(self, t: Any) -> torch.Tensor:
        t = _t(t)
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        big_l = -self.log_alpha_of_lambda(lam)
        b0, db = self.beta_min, self.beta_max - self.beta_min
        return 2 * big_l / (0.5 * b0 + torch.sqrt(0.25 * b0**2 + db * big_l))

    def _params(self) -> dict[str, Any]:
        return {"beta_min": self.beta_min, "beta_max": self.beta_max, "t_min": self.t_min, "t_max": self.t_max}


@SCHEDULES.register("vp-cosine")
class VPCosine(VPSchedule):
    """Continuous cosine VP: α_t = cos(π/2 (t+s)/(1+s)) / cos(π/2 s/(1+s)) (Nichol & Dhariwal 2021).

    t_max = 0.9946 keeps α_T > 0 (Lu et al. 2022, App. D).
    """

    name = "vp-cosine"

    def __init__(self, s: float = 0.008, t_min: float = 1e-3, t_max: float = 0.9946) -> None:
        self.s, self.t_min, self.t_max = s, t_min, t_max
        self._log_a0 = math.log(math.cos(math.pi / 2 * s / (1 + s)))

    def log_alpha(self, t: Any) -> torch.Tensor:
        return torch.log(torch.cos(math.pi / 2 * (_t(t) + self.s) / (1 + self.s))) - self._log_a0

    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        la = self.log_alpha_of_lambda(lam)
        return 2 * (1 + self.s) / math.pi * torch.arccos(torch.exp(la + self._log_a0)) - self.s

    def _params(self) -> dict[str, Any]:
        return {"s": self.s, "t_min": self.t_min, "t_max": self.t_max}


# -- VE / EDM ------------------------------------------------------------------------------------------
class VESchedule(NoiseSchedule):
    """Variance exploding: α_t = 1, λ_t = -log σ_t."""

    def log_alpha(self, t: Any) -> torch.Tensor:
        return torch.zeros_like(_t(t))


@SCHEDULES.register("ve")
class VEGeometric(VESchedule):
    """VE SDE σ_t = σ_min (σ_max/σ_min)^t, t ∈ [0, 1] (Song et al. 2021, Eq. 31)."""

    name = "ve"

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0) -> None:
        if not 0 < sigma_min < sigma_max:
            raise BadInput(f"ve needs 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min, self.sigma_max = sigma_min, sigma_max
        self.t_min, self.t_max = 0.0, 1.0
        self._log_ratio = math.log(sigma_max / sigma_min)

    def log_sigma(self, t: Any) -> torch.Tensor:
        return math.log(self.sigma_min) + _t(t) * self._log_ratio

    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        return (-_t(lam) - math.log(self.sigma_min)) / self._log_ratio

    def _params(self) -> dict[str, Any]:
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max}


@SCHEDULES.register("edm")
class EDM(VESchedule):
    """EDM: σ_t = t, α_t = 1, t ∈ [0.002, 80] (Karras et al. 2022, Table 1)."""

    name = "edm"

    def __init__(self, sigma_min: float = 0.002, sigma_max: float = 80.0) -> None:
        if not 0 < sigma_min < sigma_max:
            raise BadInput(f"edm needs 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min, self.sigma_max = sigma_min, sigma_max
        self.t_min, self.t_max = sigma_min, sigma_max

    def log_sigma(self, t: Any) -> torch.Tensor:
        return torch.log(_t(t))

    def t_of_lambda(self, lam: Any) -> torch.Tensor:
        return torch.exp(-_t(lam))

    def _params(self) -> dict[str, Any]:
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max}


def get_schedule(schedule: str | dict | NoiseSchedule, **params: Any) -> NoiseSchedule:
    """A schedule from its name (``pdesuite.diffusion.SCHEDULES``), its config dict, or as is."""
    if isinstance(schedule, NoiseSchedule):
        return schedule
    if isinstance(schedule, dict):
        params = {**{k: v for k, v in schedule.items() if k != "name"}, **params}
        schedule = schedule.get("name", "")
    try:
        return SCHEDULES.get(str(schedule))(**params)
    except TypeError as exc:
        raise BadInput(f"schedule {schedule!r}: {exc}") from None


def normalize_spacing(spacing: str) -> str:
    spacing = _SPACING_ALIASES.get(spacing, spacing)
    if spacing not in SPACINGS:
        raise BadInput(f"unknown spacing {spacing!r} (known: {', '.join(SPACINGS)})")
    return spacing


def make_timesteps(schedule: NoiseSchedule, n: int, spacing: str = "uniform-lambda", t_start: float | None = None,
                   t_end: float | None = None, rho: float = 7.0) -> torch.Tensor:
    """``n + 1`` decreasing times from ``t_start`` (noise) to ``t_end`` (data).

    Args:
        schedule: The noise schedule.
        n: Number of intervals (>= 1).
        spacing: ``uniform-t``; ``uniform-lambda`` (equal steps in logSNR, DPM-Solver's choice);
            ``quadratic`` (t = (linspace(√t_start, √t_end))², DDIM's "quad"); ``karras``
            (σ̄_i = (σ̄_max^{1/ρ} + i/n (σ̄_min^{1/ρ} - σ̄_max^{1/ρ}))^ρ with σ̄ = σ/α, Karras et al. 2022 Eq. 5).
        t_start, t_end: Defaults: the schedule's t_max and t_min.
        rho: Karras exponent.

    Returns:
        Shape (n + 1,) float64, first entry exactly t_start and last exactly t_end.
    """
    spacing = normalize_spacing(spacing)
    t0 = schedule.t_max if t_start is None else float(t_start)
    t1 = schedule.t_min if t_end is None else float(t_end)
    if n < 1:
        raise BadInput(f"need at least one interval, got {n}")
    if spacing == "uniform-t":
        ts = torch.linspace(t0, t1, n + 1, dtype=torch.float64)
    elif spacing == "quadratic":
        ts = torch.linspace(t0**0.5, t1**0.5, n + 1, dtype=torch.float64) ** 2
    elif spacing == "uniform-lambda":
        lam = torch.linspace(float(schedule.lambda_(t0)), float(schedule.lambda_(t1)), n + 1, dtype=torch.float64)
        ts = schedule.t_of_lambda(lam)
    else:
        if rho <= 0:
            raise BadInput(f"karras spacing needs rho > 0, got {rho}")
        smax, smin = math.exp(-float(schedule.lambda_(t0))), math.exp(-float(schedule.lambda_(t1)))
        ramp = torch.linspace(0, 1, n + 1, dtype=torch.float64)
        sig = (smax ** (1 / rho) + ramp * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
        ts = schedule.t_of_lambda(-torch.log(sig))
    ts[0], ts[-1] = t0, t1
    return ts
