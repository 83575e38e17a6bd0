"""The one interface every surrogate implements, and its configuration rules.

A surrogate is a `torch.nn.Module` built from a `Task` and keyword settings (its configuration, saved
as JSON in the run folder). Training calls `loss` (and the optional `after_step` hook after every
optimiser step), validation during training calls `validation_error` (by default the relative L2
error of `predict_grid` against the task's reference). Settings come from `defaults`, then a named
profile (`profiles["small" | "paper"]`), then the command line; an unknown key is bad input.

Physics-informed surrogates (``physics = True``) learn one sample and its PDE residual. Data-driven
ones (``physics = False``, e.g. `pdesuite.surrogates.autoregressive`) load their training split
themselves, draw minibatches in `loss` from the trainer's generator, and override
`validation_error` (and `validation_metric`, its name in log.jsonl and best.pt).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from pdesuite.errors import BadInput
from pdesuite.surrogates.task import Task

#: Settings every surrogate has: the optimiser phases (Adam, then L-BFGS) and the training loop.
TRAINING_DEFAULTS: dict[str, Any] = {
    "adam_steps": 1000,      # Adam steps (phase 1)
    "lbfgs_steps": 0,        # L-BFGS iterations after Adam (phase 2; fixed collocation points)
    "lr": 1e-3,              # Adam learning rate
    "lbfgs_lr": 1.0,
    "schedule": "cosine",    # constant | cosine | exponential (lr × 0.1 over the Adam phase)
    "min_lr": 0.0,           # cosine: the learning rate falls from lr to min_lr
    "grad_clip": 0.0,        # max gradient norm (0: off)
    "log_every": 10,
    "val_every": 100,
    "checkpoint_every": 100,
    "explode_factor": 1e8,   # stop when the loss exceeds this multiple of its first value
    "split": "test",         # which sample of the dataset to learn and validate against
    "index": 0,
}


class Surrogate(nn.Module, ABC):
    """Base class. Subclasses set `name`, `description`, `defaults`, `profiles`, and implement
    `loss` and `predict_grid` (and `supports` to reject unsuitable tasks before training)."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    profiles: ClassVar[dict[str, dict[str, Any]]] = {"small": {}, "gpu": {}, "paper": {}}
    #: Needs a PDE residual for the task's problem (Task.from_dataset rejects problems without one).
    physics: ClassVar[bool] = True
    #: Name of `validation_error`'s value (log.jsonl, best.pt); lower is better.
    validation_metric: ClassVar[str] = "relative_l2"

    def __init__(self, task: Task, **config: Any):
        super().__init__()
        self.task = task
        self.config = self.resolve_config(config)
        self.check_task(task)

    @classmethod
    def all_defaults(cls) -> dict[str, Any]:
        return {**TRAINING_DEFAULTS, **cls.defaults}

    @classmethod
    def resolve_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        known = cls.all_defaults()
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise BadInput(f"unknown setting(s) {', '.join(unknown)} for {cls.name} "
                           f"(known: {', '.join(sorted(known))})")
        return {**known, **config}

    @classmethod
    def profile(cls, name: str, problem: str | None = None) -> dict[str, Any]:
        """A profile's settings; ``profiles[name]`` may hold per-problem overrides under ``"problems"``."""
        if name not in cls.profiles:
            raise BadInput(f"unknown profile {name!r} for {cls.name} (known: {', '.join(cls.profiles)})")
        settings = {k: v for k, v in cls.profiles[name].items() if k != "problems"}
        settings.update(cls.profiles[name].get("problems", {}).get(problem, {}))
        return settings

    def check_task(self, task: Task) -> None:  # noqa: B027 - optional hook
        """Raise BadInput when this surrogate cannot learn ``task`` (wrong dimension, no PDE...)."""

    @abstractmethod
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        """Loss terms for one step; key "loss" is the total. ``shard`` = (rank, world) for data-parallel
        training: a rank uses its share of the collocation points (the same points on every rank)."""

    @abstractmethod
    def predict_grid(self) -> np.ndarray:
        """The prediction on the task's grid, shaped like ``task.reference``."""

    def compile_networks(self) -> None:
        """`torch.compile` every trainable sub-module in place (`nn.Module.compile`, so the state-dict
        keys, checkpoints and --resume are unchanged); the trainer's ``--compile``."""
        for module in self.children():
            if any(p.requires_grad for p in module.parameters()):
                module.compile()

    def fix_collocation(self) -> None:  # noqa: B027 - optional hook
        """Freeze the current collocation points (L-BFGS needs a fixed objective)."""

    def after_step(self) -> None:  # noqa: B027 - optional hook
        """Called by the trainer after every optimiser step (e.g. to update EMA weights)."""

    def validation_error(self) -> float:
        """The error the trainer logs every ``val_every`` steps and selects best.pt by (lower is
        better; deterministic). Default: relative L2 of `predict_grid` against the reference."""
        return relative_l2(self.predict_grid(), self.task.reference)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=self.dtype, device=self.device)


class CollocationSurrogate(Surrogate):
    """A physics-informed surrogate: uniform collocation points in the space(-time) box, redrawn
    every ``resample_every`` steps (frozen for L-BFGS), and the reference's initial data.

    The collocation state is part of the module's state dict (`get_extra_state`), so a resumed run
    continues with the very same points.
    """

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        if self.config.get("n_collocation", 1) < 1:
            raise BadInput(f"n_collocation must be positive, got {self.config['n_collocation']}")
        self._points: torch.Tensor | None = None
        self._step = 0
        self._fixed = False

    def collocation(self, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        if self._points is None or (not self._fixed and self._step % max(1, c["resample_every"]) == 0):
            self._points = self.task.sample_interior(c["n_collocation"], generator, self.dtype).to(self.device)
        self._step += 1
        return self._points

    def fix_collocation(self) -> None:
        self._fixed = True

    def get_extra_state(self) -> dict:
        return {"step": self._step, "fixed": self._fixed, "points": self._points}

    def set_extra_state(self, state: dict) -> None:
        self._step, self._fixed, self._points = state["step"], state["fixed"], state["points"]

    @property
    def initial(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Points at t0 (n, d) and the reference values there (n, n_fields), as tensors."""
        if not hasattr(self, "_ic_cache") or self._ic_cache[0].dtype != self.dtype:
            points, values = self.task.initial_data()
            self._ic_cache = (self.tensor(points), self.tensor(values))
        return self._ic_cache


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """‖prediction - reference‖₂ / ‖reference‖₂ over all points (PIG's metric)."""
    return float(np.linalg.norm(prediction - reference) / np.linalg.norm(reference))
