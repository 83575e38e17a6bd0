"""The one interface every surrogate implements, and its configuration rules.

A surrogate is a `torch.nn.Module` built from a dataset file by `Surrogate.from_dataset` — by
default from one reference sample and its problem (`Task`, for the physics-informed surrogates);
data-driven and mesh surrogates override it to take whole splits (trajectories, graphs, prompts,
read through `pdesuite.data`) — and keyword settings (its configuration, saved as JSON in the run
folder). Training calls `loss` (and the optional `after_step` hook after every optimiser step) under
the optimisation plan the surrogate names (``plan``, `pdesuite.training.plans`); validation during
training calls `validation_error`; `pdesuite validate` runs the evaluator it names (``evaluator``,
`pdesuite.validation`). Settings come from `defaults`, then a named profile (`profiles["small" |
"gpu" | "paper"]`), then the command line; an unknown key is bad input. Profiles may also set the
plan's settings (``adam_steps``, ``lr``, ...) and the trainer's (``val_every``, ...).

Physics-informed surrogates (``physics = True``) learn one sample and its PDE residual. Data-driven
ones (``physics = False``, e.g. `pdesuite.surrogates.autoregressive`) load their training split
themselves, draw minibatches in `loss` from the trainer's generator, and override
`validation_error` (and `validation_metric`, its name in log.jsonl and best.pt).
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from pdesuite.errors import BadInput
from pdesuite.surrogates.task import SAMPLERS, Task

#: Settings every surrogate has: which sample of the dataset it learns and is validated against.
SURROGATE_DEFAULTS: dict[str, Any] = {
    "split": "test",
    "index": 0,
}


class Surrogate(nn.Module, ABC):
    """Base class. Subclasses set `name`, `description`, `defaults`, `profiles`, and implement
    `loss` and `predict_grid` (and `check_task` to reject unsuitable tasks before training)."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    profiles: ClassVar[dict[str, dict[str, Any]]] = {"small": {}, "gpu": {}, "paper": {}}
    #: Needs a PDE residual for the task's problem (Task.from_dataset rejects problems without one).
    physics: ClassVar[bool] = True
    #: Name of `validation_error`'s value (log.jsonl, best.pt); lower is better.
    validation_metric: ClassVar[str] = "relative_l2"
    #: The optimisation plan the trainer runs (a name in `pdesuite.registry.PLANS`).
    plan: ClassVar[str] = "adam-lbfgs"
    #: What `pdesuite validate` runs (a name in `pdesuite.registry.EVALUATORS`).
    evaluator: ClassVar[str] = "field"
    #: Settings added after runs were already made, with the value that reproduces those runs: a stored
    #: configuration without the key (resume, validate) gets this, not today's default.
    legacy: ClassVar[dict[str, Any]] = {}

    def __init__(self, task: Task | None = None, **config: Any):
        super().__init__()
        self.task = task  # None for a surrogate built from whole splits (its from_dataset keeps what it needs)
        self.config = self.resolve_config(config)
        if task is not None:
            self.check_task(task)

    @classmethod
    def from_dataset(cls, path: str | os.PathLike, **config: Any) -> Surrogate:
        """The surrogate for dataset file ``path``: by default one sample (``split``, ``index``) as a
        `Task`, with its problem's physics when ``physics``."""
        settings = {**SURROGATE_DEFAULTS, **config}
        task = Task.from_dataset(path, split=settings["split"], index=settings["index"], physics=cls.physics)
        return cls(task, **config)

    @classmethod
    def all_defaults(cls) -> dict[str, Any]:
        return {**SURROGATE_DEFAULTS, **cls.defaults}

    @classmethod
    def configure(cls, settings: dict[str, Any], explicit: set[str]) -> dict[str, Any]:
        """Adjust a new run's settings (all of them: surrogate, plan, trainer) after the profile and
        the command line; ``explicit`` names the keys the user set. Default: unchanged."""
        return settings

    @classmethod
    def estimate_memory(cls, settings: dict[str, Any], dataset) -> float:
        """Bytes of memory a run with ``settings`` on ``dataset`` (a `DatasetFile`) needs at most, for
        the check before training (`pdesuite.resources`); 0 where nothing large is known.

        Default, for collocation surrogates: every point keeps its activations and their derivative
        graph through the double backward of the residual, bounded by 40 float64 values per hidden
        unit (``width`` × ``depth``) and per Gaussian feature (``n_gaussians`` × 4).
        """
        points = float(settings.get("n_collocation", 0))
        units = settings.get("width", 0) * settings.get("depth", 0) + 4 * settings.get("n_gaussians", 0)
        return points * 8 * 40 * units

    def adjust_plan(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The plan's settings as this surrogate needs them (e.g. a budget in epochs turned into steps
        once the data are loaded). Default: unchanged."""
        return settings

    @classmethod
    def resolve_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        known = cls.all_defaults()
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise BadInput(f"unknown setting(s) {', '.join(unknown)} for {cls.name} "
                           f"(known: {', '.join(sorted(known))})")
        resolved = {**known, **config}
        cls.check_settings(resolved)
        return resolved

    #: Settings that must be integers >= 1, integers >= 0, numbers > 0, numbers >= 0, or one of given
    #: choices (checked by `check_settings` before anything is built or written; subclasses add theirs).
    positive_integers: ClassVar[tuple[str, ...]] = ()
    non_negative_integers: ClassVar[tuple[str, ...]] = ()
    positive_numbers: ClassVar[tuple[str, ...]] = ()
    non_negative_numbers: ClassVar[tuple[str, ...]] = ()
    choices: ClassVar[dict[str, tuple]] = {}

    @classmethod
    def check_settings(cls, settings: dict[str, Any]) -> None:
        """BadInput, in one line, for a value outside what the declarations above allow."""
        def number(value) -> bool:
            return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

        for key in cls.positive_integers:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInput(f"{cls.name}: {key} must be a positive integer, got {value!r}")
        for key in cls.non_negative_integers:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadInput(f"{cls.name}: {key} must be an integer >= 0, got {value!r}")
        for key in cls.positive_numbers:
            if not number(settings[key]) or settings[key] <= 0:
                raise BadInput(f"{cls.name}: {key} must be a positive number, got {settings[key]!r}")
        for key in cls.non_negative_numbers:
            if not number(settings[key]) or settings[key] < 0:
                raise BadInput(f"{cls.name}: {key} must be a number >= 0, got {settings[key]!r}")
        for key, allowed in cls.choices.items():
            if settings[key] not in allowed:
                raise BadInput(f"{cls.name}: unknown {key} {settings[key]!r} (known: {', '.join(map(str, allowed))})")

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

    def fingerprint(self) -> str:
        """SHA-256 of every weight and buffer (`pdesuite.diffusion.searched.model_fingerprint`): what a
        searched sampler schedule records as the model it was searched for."""
        from pdesuite.diffusion.searched import model_fingerprint

        return model_fingerprint(self)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=self.dtype, device=self.device)


class CollocationSurrogate(Surrogate):
    """A physics-informed surrogate: collocation points in the space(-time) box drawn by the
    ``sampler`` setting (`Task.sample_interior`: "uniform" where a surrogate has no such setting),
    random ones redrawn every ``resample_every`` steps (frozen for L-BFGS; the deterministic
    "hammersley" set is drawn once), and the reference's initial data.

    The collocation state is part of the module's state dict (`get_extra_state`), so a resumed run
    continues with the very same points.
    """

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        if self.config.get("n_collocation", 1) < 1:
            raise BadInput(f"n_collocation must be positive, got {self.config['n_collocation']}")
        if self.config.get("sampler", "uniform") not in SAMPLERS:
            raise BadInput(f"unknown sampler {self.config['sampler']!r} (known: {', '.join(SAMPLERS)})")
        self._points: torch.Tensor | None = None
        self._step = 0
        self._fixed = False

    def collocation(self, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        sampler = c.get("sampler", "uniform")
        redraw = sampler != "hammersley" and not self._fixed and self._step % max(1, c["resample_every"]) == 0
        if self._points is None or redraw:
            self._points = self.task.sample_interior(c["n_collocation"], generator, self.dtype,
                                                     sampler).to(self.device)
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
