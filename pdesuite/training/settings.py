"""The trainer's own settings (the loop around any optimisation plan), and the split of a run's flat
settings into the trainer's, the plan's and the surrogate's.

A run's ``config.json`` holds one flat ``settings`` dict (format unchanged since version 1): the keys
of `TRAINER_DEFAULTS`, of the surrogate's plan (`pdesuite.training.plans`) and of the surrogate. A
key that belongs to none of them is bad input.
"""

from __future__ import annotations

import math
from typing import Any

from pdesuite.errors import BadInput

#: Settings of the training loop, whatever the plan: logging, validation, checkpoints, safety.
TRAINER_DEFAULTS: dict[str, Any] = {
    "grad_clip": 0.0,        # max gradient norm (0: off)
    "log_every": 10,         # steps between log.jsonl lines
    "val_every": 100,        # steps between validations (best.pt)
    "checkpoint_every": 100,
    "explode_factor": 1e8,   # stop when the loss exceeds this multiple of its first value
}


def check_trainer_settings(settings: dict[str, Any]) -> None:
    """BadInput for invalid trainer settings (before anything is written)."""
    for key in ("log_every", "val_every", "checkpoint_every"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadInput(f"{key} must be a positive integer, got {value!r}")
    for key, low in (("grad_clip", 0.0), ("explode_factor", 1.0)):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < low:
            raise BadInput(f"{key} must be a finite number >= {low:g}, got {value!r}")


def split_settings(surrogate_cls, plan_cls, settings: dict[str, Any]) -> tuple[dict, dict, dict]:
    """(surrogate's, plan's, trainer's) part of a run's flat settings; an unknown key is BadInput."""
    own = surrogate_cls.all_defaults()
    unknown = sorted(set(settings) - set(own) - set(plan_cls.defaults) - set(TRAINER_DEFAULTS))
    if unknown:
        known = sorted({*own, *plan_cls.defaults, *TRAINER_DEFAULTS})
        raise BadInput(f"unknown setting(s) {', '.join(unknown)} for {surrogate_cls.name} (known: {', '.join(known)})")
    pick = lambda keys: {k: v for k, v in settings.items() if k in keys}  # noqa: E731
    return pick(own), pick(plan_cls.defaults), pick(TRAINER_DEFAULTS)
