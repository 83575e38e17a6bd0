"""The small interface every sampler shares.

A sampler is configured by its constructor (JSON-able arguments, `Sampler.config`) and run with
`Sampler.sample(model, x_T, generator=..., **cond)`. The base class builds the time grid from the
schedule, spacing and NFE budget, wraps the model (`Denoiser`: shape check, NFE count, ε/x0
conversion, conditioning pass-through) and records the trajectory; a subclass implements only
`Sampler.solve`, the loop over the grid (diffusers' ``scheduling_*.py`` split, one file per sampler).

Conventions:
    * ``steps`` is the budget of model evaluations (NFE). Multistep samplers take one interval per
      evaluation; singlestep ones (DPM-Solver, DPM-Solver++(2S), EDM Heun) spend ``order``
      evaluations per interval and use lower orders for the remainder.
    * The grid runs from ``t_start`` (noise, default the schedule's t_max) to ``t_end`` (data,
      default t_min). With ``final_sigma_zero`` the clean point α = 1, σ = 0 is appended after
      ``t_end`` (diffusers' ``final_sigmas_type="zero"``): the last step lands on the data
      prediction. That step is first order for the λ-based solvers (h = ∞ there).
    * Coefficients are Python floats computed in float64; tensors stay on the caller's device.
    * A grid may start at pure noise (α = 0, λ = -∞: a zero-terminal-SNR schedule) only for samplers
      that declare ``supports_zero_snr`` and a model predicting ``x0`` or ``v`` (ε says nothing about
      x0 there, Lin et al. 2024 §3.2).
    * Noise is drawn on the generator's device and moved to x's, so a CPU generator drives a run on
      any device and a seed gives the same numbers everywhere.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from pdesuite.diffusion.parameterization import Denoiser, Model, check_prediction
from pdesuite.diffusion.schedules import NoiseSchedule, get_schedule, make_timesteps, normalize_spacing
from pdesuite.errors import BadInput


@dataclass(frozen=True)
class Grid:
    """Time grid with the schedule evaluated on it (Python floats, float64).

    ``lam`` is +inf and ``sigma`` 0 at a clean final point. ``sbar`` = σ/α = e^{-λ} is the
    variable of DDIM/PNDM/EDM (the "ρ" of DEIS, the σ of Karras et al.).
    """

    t: tuple[float, ...]
    alpha: tuple[float, ...]
    sigma: tuple[float, ...]
    lam: tuple[float, ...]

    @property
    def intervals(self) -> int:
        return len(self.t) - 1

    @property
    def sbar(self) -> tuple[float, ...]:
        return tuple(s / a for s, a in zip(self.sigma, self.alpha, strict=True))

    def reversed(self) -> Grid:
        return Grid(self.t[::-1], self.alpha[::-1], self.sigma[::-1], self.lam[::-1])


def multistep_orders(order: int, n: int, *, lower_final: int = 0, final_first_order: bool = False) -> list[int]:
    """Per-step orders of a multistep method: warm-up min(order, k + 1), optionally lowered at the end.

    ``lower_final`` = how many final steps may be lowered to min(order, n - k) (diffusers'
    ``lower_order_final``); ``final_first_order`` forces the last step to order 1.
    """
    orders = []
    for k in range(n):
        o = min(order, k + 1)
        if n - k <= lower_final:
            o = min(o, n - k)
        orders.append(o)
    if final_first_order and orders:
        orders[-1] = 1
    return orders


def check_step_orders(orders: Sequence[int], n: int, order: int, *, final_first_order: bool = False,
                      who: str = "sampler") -> list[int]:
    """Validate explicit per-step orders of a multistep method (a searched solver choice, USF-style).

    Step k may use at most min(``order``, k + 1) points (the history it has); the step to σ = 0 is
    first order (h = ∞ there) when ``final_first_order``. Raises `BadInput` in one line otherwise.
    """
    try:
        out = [int(o) for o in orders]
    except (TypeError, ValueError):
        raise BadInput(f"{who}: step_orders must be a list of integers, got {orders!r}") from None
    if len(out) != n:
        raise BadInput(f"{who}: step_orders has {len(out)} entries for {n} steps")
    for k, o in enumerate(out):
        if not 1 <= o <= min(order, k + 1):
            raise BadInput(f"{who}: step {k} may have order 1..{min(order, k + 1)}, got {o}")
    if final_first_order and out and out[-1] != 1:
        raise BadInput(f"{who}: the step to sigma = 0 must be first order, got step_orders[-1] = {out[-1]}")
    return out


def split_budget(steps: int, order: int, *, last_first_order: bool = False) -> list[int]:
    """Stage counts of singlestep intervals that spend exactly ``steps`` evaluations.

    ``order`` per interval and the remainder r as one interval of order r: last, except when
    r <= order - 2 (order 3, r = 1). A first-order interval has a local error O(h² dx̂0/dλ); at the
    data end that made every NFE ≡ 1 (mod 3) second order (observed 1.9 at 400-800 NFE), so it goes
    first instead, at the noise end, where the data prediction hardly moves (dx̂0/dλ = O(α_T)): the
    order stays 3 in practice (3.2-3.3 at 100-800 NFE) and the error at 7-25 NFE within 20% of the old plan.
    With ``last_first_order`` the final interval is a single-evaluation step (needed when it ends at σ = 0).
    """
    def plan(n: int) -> list[int]:
        q, r = divmod(n, order)
        if q and 0 < r <= order - 2:
            return [r] + [order] * q
        return [order] * q + ([r] if r else [])

    return plan(steps - 1) + [1] if last_first_order else plan(steps)


class Sampler(ABC):
    """Base class of all samplers (see the module docstring for conventions).

    Args:
        schedule: Schedule name (``pdesuite.diffusion.SCHEDULES``), config dict or instance.
        steps: NFE budget (>= 1; at most the training steps of a discrete schedule). Ignored when
            ``timesteps`` is given (then the grid fixes it).
        order: Solver order, one of the class's ``orders``.
        prediction: What the model predicts: ``eps``, ``x0``, ``v`` or ``score``.
        spacing: ``uniform-t``, ``uniform-lambda``, ``quadratic`` or ``karras`` (class default).
        t_start, t_end: Grid ends (defaults: the schedule's t_max and t_min).
        timesteps: Explicit decreasing grid times (overrides spacing, t_start, t_end, steps).
        final_sigma_zero: Append the clean point σ = 0 after the last grid time.
        rho: Exponent of the Karras spacing.
    """

    description: ClassVar[str] = ""
    orders: ClassVar[tuple[int, ...]] = (1,)
    default_order: ClassVar[int] = 1
    default_spacing: ClassVar[str] = "uniform-lambda"
    stochastic: ClassVar[bool] = False
    singlestep: ClassVar[bool] = False
    supports_zero_snr: ClassVar[bool] = False

    def __init__(self, schedule: str | dict | NoiseSchedule = "vp-linear", steps: int | None = 20, *,
                 order: int | None = None, prediction: str = "eps", spacing: str | None = None,
                 t_start: float | None = None, t_end: float | None = None,
                 timesteps: Sequence[float] | torch.Tensor | None = None, final_sigma_zero: bool = False,
                 rho: float = 7.0) -> None:
        self.schedule = get_schedule(schedule)
        self.prediction = check_prediction(prediction)
        self.spacing = normalize_spacing(spacing or self.default_spacing)
        self.order = self.default_order if order is None else order
        if self.order not in self.orders:
            raise BadInput(f"{self.name()} supports order {'/'.join(map(str, self.orders))}, got {order}")
        self.final_sigma_zero, self.rho = bool(final_sigma_zero), float(rho)
        s = self.schedule
        if timesteps is not None:
            ts = torch.as_tensor(timesteps, dtype=torch.float64).flatten()
            if ts.numel() < (1 if self.final_sigma_zero else 2) or not bool((ts[1:] < ts[:-1]).all()):
                raise BadInput("timesteps must be strictly decreasing with at least two points "
                               "(one with final_sigma_zero)")
            self._times: torch.Tensor | None = ts
            t_start, t_end, steps = float(ts[0]), float(ts[-1]), None
        else:
            self._times = None
            if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
                raise BadInput(f"steps must be an integer >= 1, got {steps!r}")
            if s.discrete and steps > s.num_train_steps:
                raise BadInput(f"steps={steps} exceeds the {s.num_train_steps} training steps of schedule {s.name!r}")
        self.t_start = s.t_max if t_start is None else float(t_start)
        self.t_end = s.t_min if t_end is None else float(t_end)
        tol = 1e-9 * max(1.0, abs(s.t_max))
        single = self._times is not None and self._times.numel() == 1  # one evaluation, then σ = 0
        if not (s.t_min - tol <= self.t_end <= self.t_start <= s.t_max + tol) or (self.t_end == self.t_start
                                                                                and not single):
            raise BadInput(f"need {s.t_min} <= t_end < t_start <= {s.t_max} for schedule {s.name!r}, "
                           f"got t_start={self.t_start}, t_end={self.t_end}")
        if math.isinf(float(s.log_alpha(self.t_start))):  # α = 0: pure noise
            if not self.supports_zero_snr:
                raise BadInput(f"{self.name()} cannot start at pure noise (alpha = 0 at t_start={self.t_start} "
                               f"on schedule {s.name!r}); start below it")
            if self.prediction not in ("x0", "v"):
                raise BadInput(f"starting at pure noise (alpha = 0) needs prediction 'x0' or 'v', got "
                               f"{self.prediction!r}")
        self.steps = steps
        self.last_nfe = 0
        self._config: dict[str, Any] = {
            "sampler": self.name(), "schedule": s.config(), "steps": steps, "order": self.order,
            "prediction": self.prediction, "spacing": self.spacing, "t_start": self.t_start, "t_end": self.t_end,
            "timesteps": None if self._times is None else self._times.tolist(),
            "final_sigma_zero": self.final_sigma_zero, "rho": self.rho,
        }
        if self.intervals() < 1:
            raise BadInput(f"{self.name()} cannot make a step with steps={steps}")

    # -- configuration -------------------------------------------------------------------------------
    @classmethod
    def name(cls) -> str:
        return getattr(cls, "registry_name", cls.__name__.lower())

    def _record(self, **options: Any) -> None:
        """Add subclass options to `config`."""
        self._config.update(options)

    def config(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able data (``make_sampler(**config)`` rebuilds the sampler)."""
        return dict(self._config)

    def intervals(self) -> int:
        """Number of grid intervals; multistep default: one per model evaluation."""
        if self._times is not None:
            return self._times.numel() - 1 + int(self.final_sigma_zero)
        return self.steps

    def stage_plan(self, order: int) -> list[int]:
        """Evaluations per interval for a singlestep method of ``order`` (sums to ``steps``)."""
        if self._times is not None:
            n = self._times.numel() - 1 + int(self.final_sigma_zero)
            return [order] * (n - 1) + [1 if self.final_sigma_zero else order]
        return split_budget(self.steps, order, last_first_order=self.final_sigma_zero)

    @property
    def theoretical_order(self) -> float:
        """Global order of convergence with this configuration (checked by tests/diffusion/test_sampler_orders).

        Strong order (error of each sample against the exact ODE solution from the same x_T) for a
        deterministic sampler, weak order (error of the law of the output) for a stochastic one.
        """
        return float(self.order)

    # -- grid ----------------------------------------------------------------------------------------
    def point(self, t: float) -> tuple[float, float, float, float]:
        """(t, α_t, σ_t, λ_t) as floats."""
        la, ls = float(self.schedule.log_alpha(t)), float(self.schedule.log_sigma(t))
        return float(t), math.exp(la), math.exp(ls), la - ls

    def point_at_lambda(self, lam: float) -> tuple[float, float, float, float]:
        """The grid point (t, α, σ, λ) with half log-SNR ``lam`` (for singlestep intermediate stages)."""
        return self.point(float(self.schedule.t_of_lambda(lam)))

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Per-instance cache of things that depend only on the configuration (grid, coefficients)."""
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def grid(self) -> Grid:
        """The time grid (computed once per sampler; the configuration is fixed at construction)."""
        return self.cached("grid", self._build_grid)

    def _build_grid(self) -> Grid:
        n = self.intervals()
        if self._times is not None:
            ts = self._times.tolist()
        else:
            m = n - int(self.final_sigma_zero)  # intervals before the appended clean point
            ts = make_timesteps(self.schedule, m, self.spacing, self.t_start, self.t_end, self.rho).tolist() \
                if m >= 1 else [self.t_start]
        pts = [self.point(t) for t in ts]
        if self.final_sigma_zero:
            pts.append((ts[-1], 1.0, 0.0, math.inf))
        t, a, s, lam = zip(*pts, strict=True)
        return Grid(t, a, s, lam)

    # -- running -------------------------------------------------------------------------------------
    def sample(self, model: Model, x: torch.Tensor, *, generator: torch.Generator | None = None,
               return_trajectory: bool = False, **cond: Any) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Integrate from ``x`` at ``t_start`` to the end of the grid.

        Args:
            model: ``model(x, t, **cond)`` returning a tensor shaped like x (see ``prediction``).
            x: The starting sample x_T, shape (batch, *any).
            generator: Random generator of stochastic samplers (on x's device).
            return_trajectory: Also return the states at every grid point (first is x).
            **cond: Conditioning passed through to every model call.

        Returns:
            The final sample (same shape as x), and the trajectory list when asked.
        """
        if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[0] < 1:
            raise BadInput("x must be a tensor of shape (batch, ...)")
        den = Denoiser(model, self.prediction, cond)
        trace: list[torch.Tensor] | None = [x] if return_trajectory else None
        out = self.solve(x, den, self.grid(), generator, trace)
        self.last_nfe = den.nfe
        return (out, trace) if return_trajectory else out

    @abstractmethod
    def solve(self, x: torch.Tensor, den: Denoiser, grid: Grid, generator: torch.Generator | None,
              trace: list[torch.Tensor] | None) -> torch.Tensor:
        """Run the sampler over ``grid`` from x; append each new state to ``trace`` when given."""

    @staticmethod
    def noise_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Standard normal noise shaped like x, drawn on the generator's device (x's without one)."""
        device = x.device if generator is None else generator.device
        return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={self.steps}, order={self.order}, schedule={self.schedule!r})"


def register(name: str):
    """Class decorator: register a sampler under ``name`` in ``pdesuite.registry.SAMPLERS``."""
    from pdesuite.registry import SAMPLERS

    def decorator(cls: type[Sampler]) -> type[Sampler]:
        cls.registry_name = name
        return SAMPLERS.register(name)(cls)

    return decorator


def make_sampler(name: str | None = None, **kwargs: Any) -> Sampler:
    """Build the sampler registered as ``name`` (``pdesuite list samplers``) from keyword arguments.

    ``make_sampler(**sampler.config())`` rebuilds a sampler (the config names it under ``sampler``).
    """
    from pdesuite.registry import SAMPLERS

    stored = kwargs.pop("sampler", None)
    name = name or stored
    if not name:
        raise BadInput("make_sampler needs a sampler name (see 'pdesuite list samplers')")
    cls = SAMPLERS.get(name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise BadInput(f"sampler {name!r}: {exc}") from None
