"""Optimisation plans: which optimiser updates the surrogate at each trainer step, and when to stop.

A surrogate names its plan (``Surrogate.plan``, a key of the `PLANS` registry); the trainer builds
it from the run's settings and drives it one step at a time, keeping checkpoints, resume, logging,
NaN handling and progress to itself. A plan holds every optimiser and schedule state in
`Plan.state_dict`, so an interrupted run resumes exactly. A new plan is one class here (or in a
user's module) with ``@PLANS.register(name)``.

* ``adam-lbfgs`` (the default): Adam for ``adam_steps`` steps with a learning-rate schedule, then
  L-BFGS for ``lbfgs_steps`` iterations on frozen collocation points (PINN practice since Raissi et
  al. 2019).
* ``stagewise-adam``: an outer loop of ``stages`` short optimisations, each with a fresh Adam
  warm-started from the weights the last one left, its learning rate divided by ``1/plateau_factor``
  when the loss has not improved for ``plateau_patience`` steps, and the stage ended once the rate
  falls to ``stage_min_lr`` or after ``stage_steps`` steps; the surrogate's ``next_stage()`` runs
  between stages (INSR's time stepping: Chen et al. 2023, one optimisation per time step).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from pdesuite.errors import BadInput
from pdesuite.registry import PLANS

Closure = Callable[[], dict[str, torch.Tensor]]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BadInput(message)


def _count(settings: dict, key: str, low: int = 0) -> None:
    value = settings[key]
    _require(not isinstance(value, bool) and isinstance(value, int) and value >= low,
             f"{key} must be an integer >= {low}, got {value!r}")


def _positive(settings: dict, key: str, allow_zero: bool = False) -> None:
    value = settings[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    _require(ok and (value >= 0 if allow_zero else value > 0),
             f"{key} must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


class Plan(ABC):
    """Base class of the optimisation plans (see the module docstring).

    The trainer calls, for trainer step ``step`` (0-based): `step` with a closure that computes the
    loss terms and their gradients, then asks `finished`. `phase` and `lr` label the log.

    Args:
        surrogate: The module whose parameters are optimised (hooks: ``fix_collocation``, ``next_stage``).
        settings: The run's settings (this plan reads its `defaults`' keys).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: Settings of this plan (and their defaults): part of every run's settings.
    defaults: ClassVar[dict[str, Any]] = {}
    #: The setting that ``--steps N`` sets.
    steps_setting: ClassVar[str | None] = None
    #: Settings that may change when a run is resumed (``pdesuite train --resume --set ...``).
    resumable: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, surrogate: torch.nn.Module, settings: dict[str, Any]):
        self.surrogate = surrogate
        self.settings = {key: settings[key] for key in self.defaults}
        self.check(self.settings)

    @classmethod  # noqa: B027 - optional hook
    def check(cls, settings: dict[str, Any]) -> None:
        """Raise BadInput for invalid values (called before anything is written)."""

    @classmethod
    @abstractmethod
    def planned_steps(cls, settings: dict[str, Any]) -> int:
        """Trainer steps of the whole plan with ``settings`` (an upper bound where it may stop early)."""

    @property
    def total_steps(self) -> int:
        return self.planned_steps(self.settings)

    @abstractmethod
    def step(self, step: int, closure: Closure) -> dict[str, torch.Tensor]:
        """One optimiser update for trainer step ``step``; returns the loss terms of it."""

    def finished(self, step: int) -> bool:
        """Whether the plan is complete after ``step`` steps."""
        return step >= self.total_steps

    @abstractmethod
    def phase(self, step: int) -> str:
        """A label of the optimiser that runs step ``step`` (log.jsonl)."""

    @abstractmethod
    def lr(self) -> float:
        """The current learning rate (log.jsonl)."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (optimiser, schedule, counters)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any], step: int) -> None:
        """Restore `state_dict`'s content, saved after ``step`` trainer steps."""


@PLANS.register("adam-lbfgs")
class AdamThenLBFGS(Plan):
    """Adam with a learning-rate schedule, then L-BFGS with a strong-Wolfe line search.

    Schedules over the Adam phase (step s of n): ``constant``; ``cosine`` from ``lr`` to ``min_lr``,
    lr_s = min_lr + (lr - min_lr)(1 + cos(π s/n))/2; ``exponential`` lr_s = lr · 0.1^(s/n). L-BFGS
    runs one iteration per trainer step with up to 25 function evaluations (its default, max_iter·5/4 =
    1, leaves the line search no evaluation after a rejected trial: L-BFGS then stalled for good,
    seen on PIG Helmholtz) on collocation points the surrogate freezes (``fix_collocation``).
    """

    name = "adam-lbfgs"
    description = "Adam (constant, cosine or exponential schedule), then L-BFGS on frozen points"
    defaults: ClassVar[dict[str, Any]] = {
        "adam_steps": 1000,      # Adam steps (phase 1)
        "lbfgs_steps": 0,        # L-BFGS iterations after Adam (phase 2; fixed collocation points)
        "lr": 1e-3,              # Adam learning rate
        "lbfgs_lr": 1.0,
        "schedule": "cosine",    # constant | cosine | exponential (lr × 0.1 over the Adam phase)
        "min_lr": 0.0,           # cosine: the learning rate falls from lr to min_lr
    }
    steps_setting = "adam_steps"
    resumable = frozenset({"adam_steps", "lbfgs_steps", "lr", "min_lr", "lbfgs_lr"})
    SCHEDULES = ("constant", "cosine", "exponential")

    def __init__(self, surrogate: torch.nn.Module, settings: dict[str, Any]):
        super().__init__(surrogate, settings)
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler = None
        self.current: str | None = None

    @classmethod
    def check(cls, settings: dict[str, Any]) -> None:
        _count(settings, "adam_steps")
        _count(settings, "lbfgs_steps")
        _require(settings["adam_steps"] + settings["lbfgs_steps"] > 0, "adam_steps + lbfgs_steps must be positive")
        _positive(settings, "lr")
        _positive(settings, "lbfgs_lr")
        _positive(settings, "min_lr", allow_zero=True)
        _require(settings["schedule"] in cls.SCHEDULES,
                 f"unknown schedule {settings['schedule']!r} (known: {', '.join(cls.SCHEDULES)})")

    @classmethod
    def planned_steps(cls, settings: dict[str, Any]) -> int:
        return int(settings["adam_steps"]) + int(settings["lbfgs_steps"])

    def phase(self, step: int) -> str:
        return "adam" if step < int(self.settings["adam_steps"]) else "lbfgs"

    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else self.settings["lr"]

    def _enter(self, phase: str) -> None:
        s = self.settings
        if phase == "adam":
            self.optimizer = torch.optim.Adam(self.surrogate.parameters(), lr=s["lr"])
            n = max(1, int(s["adam_steps"]))
            floor = s["min_lr"] / s["lr"]
            schedules = {
                "constant": lambda k: 1.0,
                "cosine": lambda k: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(k, n) / n)),
                "exponential": lambda k: 0.1 ** (min(k, n) / n),
            }
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedules[s["schedule"]])
        else:
            fix = getattr(self.surrogate, "fix_collocation", None)
            if fix is not None:
                fix()
            self.optimizer = torch.optim.LBFGS(self.surrogate.parameters(), lr=s["lbfgs_lr"], max_iter=1,
                                               max_eval=25, history_size=50, line_search_fn="strong_wolfe")
            self.scheduler = None
        self.current = phase

    def step(self, step: int, closure: Closure) -> dict[str, torch.Tensor]:
        phase = self.phase(step)
        if self.current != phase:
            self._enter(phase)
        if phase == "adam":
            self.optimizer.zero_grad(set_to_none=True)
            terms = closure()
            self.optimizer.step()
            self.scheduler.step()
            return terms
        captured: dict[str, torch.Tensor] = {}

        def lbfgs_closure() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            captured.update(closure())
            return captured["loss"]

        self.optimizer.step(lbfgs_closure)
        return captured

    def state_dict(self) -> dict[str, Any]:
        return {"phase": self.current, "optimizer": self.optimizer.state_dict() if self.optimizer else None,
                "scheduler": self.scheduler.state_dict() if self.scheduler else None}

    def load_state_dict(self, state: dict[str, Any], step: int) -> None:
        if step >= self.total_steps:
            return
        self._enter(self.phase(step))
        if state.get("phase") == self.current and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            # settings changed on --resume (resume_config) take effect from this step: rate and schedule
            if self.scheduler is not None:
                self.scheduler.base_lrs = [self.settings["lr"]] * len(self.optimizer.param_groups)
                for group, factor in zip(self.optimizer.param_groups, self.scheduler.lr_lambdas, strict=True):
                    group["lr"] = self.settings["lr"] * factor(self.scheduler.last_epoch)
            else:
                for group in self.optimizer.param_groups:
                    group["lr"] = self.settings["lbfgs_lr"]


@PLANS.register("stagewise-adam")
class StagewiseAdam(Plan):
    """``stages`` short Adam optimisations in a row, each warm-started from the last one's weights,
    with plateau learning-rate decay and an early stop (see the module docstring).

    Per stage: a fresh Adam at ``stage_lr``; after each step the loss is compared with the stage's
    best; after ``plateau_patience`` steps without a relative improvement of 1e-4 the rate is
    multiplied by ``plateau_factor`` (torch's ReduceLROnPlateau rule); the stage ends when the rate is
    at most ``stage_min_lr`` or after ``stage_steps`` steps. Then ``surrogate.next_stage()`` is called
    (if the surrogate has it) and the next stage starts. INSR's settings (Chen et al. 2023): Adam
    1e-4, factor 0.1, patience 500, stop at lr <= 1.1e-8, at most 20000 iterations per time step.
    """

    name = "stagewise-adam"
    description = "one warm-started Adam per stage, plateau decay and early stop (INSR time stepping)"
    defaults: ClassVar[dict[str, Any]] = {
        "stages": 1,
        "stage_steps": 20000,
        "stage_lr": 1e-4,
        "plateau_factor": 0.1,
        "plateau_patience": 500,
        "stage_min_lr": 1.1e-8,
    }
    steps_setting = "stage_steps"
    resumable = frozenset({"stages", "stage_steps", "stage_min_lr"})

    def __init__(self, surrogate: torch.nn.Module, settings: dict[str, Any]):
        super().__init__(surrogate, settings)
        self.stage = 0
        self.stage_step = 0
        self.best = math.inf
        self.bad_steps = 0
        self.done = False
        self.optimizer = torch.optim.Adam(self.surrogate.parameters(), lr=self.settings["stage_lr"])

    @classmethod
    def check(cls, settings: dict[str, Any]) -> None:
        _count(settings, "stages", 1)
        _count(settings, "stage_steps", 1)
        _count(settings, "plateau_patience", 0)
        _positive(settings, "stage_lr")
        _positive(settings, "stage_min_lr", allow_zero=True)
        _require(0 < settings["plateau_factor"] < 1,
                 f"plateau_factor must lie in (0, 1), got {settings['plateau_factor']}")

    @classmethod
    def planned_steps(cls, settings: dict[str, Any]) -> int:
        return int(settings["stages"]) * int(settings["stage_steps"])

    def finished(self, step: int) -> bool:
        return self.done

    def phase(self, step: int) -> str:
        return f"stage {self.stage}"

    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self, step: int, closure: Closure) -> dict[str, torch.Tensor]:
        s = self.settings
        self.optimizer.zero_grad(set_to_none=True)
        terms = closure()
        self.optimizer.step()
        self.stage_step += 1
        loss = float(terms["loss"].detach())
        if loss < self.best * (1 - 1e-4):
            self.best, self.bad_steps = loss, 0
        else:
            self.bad_steps += 1
            if self.bad_steps > s["plateau_patience"]:
                for group in self.optimizer.param_groups:
                    group["lr"] *= s["plateau_factor"]
                self.bad_steps = 0
        if self.lr() <= s["stage_min_lr"] or self.stage_step >= s["stage_steps"]:
            self._next_stage()
        return terms

    def _next_stage(self) -> None:
        self.stage += 1
        if self.stage >= self.settings["stages"]:
            self.done = True
            return
        advance = getattr(self.surrogate, "next_stage", None)
        if advance is not None:
            advance()
        self.stage_step, self.best, self.bad_steps = 0, math.inf, 0
        self.optimizer = torch.optim.Adam(self.surrogate.parameters(), lr=self.settings["stage_lr"])

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "stage_step": self.stage_step, "best": self.best, "bad_steps": self.bad_steps,
                "done": self.done, "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any], step: int) -> None:
        self.stage, self.stage_step, self.best = state["stage"], state["stage_step"], state["best"]
        self.bad_steps, self.done = state["bad_steps"], state["done"]
        self.optimizer = torch.optim.Adam(self.surrogate.parameters(), lr=self.settings["stage_lr"])
        self.optimizer.load_state_dict(state["optimizer"])
