"""A searched sampler configuration: the time grid (and per-step orders) found for one model, as a file.

`pdesuite.diffusion.search.search_schedule` finds, for a trained model and a fixed budget of model
evaluations (NFE), the grid times t_0 > t_1 > ... (and, for the multistep samplers that take them, the
order of every step) that minimise an error on validation data. The result is a `SearchedSchedule`: a
sampler name and keyword arguments that `make_sampler` rebuilds, plus where it came from — the model's
fingerprint (a SHA-256 of its weights), the noise schedule's fingerprint, the objective of the search
and of the fixed spacings it started from, the seed. It is stored as JSON (written atomically) and
loaded by name: `load_searched` takes a path, or a name looked up in a folder's ``schedules/``
sub-folder (a run folder keeps the schedules searched for its weights there).

A searched grid belongs to one model: `SearchedSchedule.build` refuses, in one line (`BadInput`), a
model whose fingerprint differs, another noise schedule or prediction type, a grid that is not strictly
decreasing inside the schedule's time range, and a file whose sampler spends another NFE than recorded.

File layout (``format`` = ``pdesuite-searched-schedule``, ``format_version`` = 1)::

    {"name", "sampler", "nfe", "timesteps": [t_0, ..., t_n], "final_sigma_zero", "prediction",
     "options": {sampler keyword arguments: variant, order, step_orders, ...},
     "schedule": {noise schedule config}, "schedule_fingerprint",
     "model": {"fingerprint": sha256, ...what it is},
     "objective": {"name", "value", "baselines": {spacing: value}, "start"},
     "search": {"method", "seed", "evaluations", "budget"}, "created", "pdesuite_version"}
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pdesuite.diffusion.base import Sampler, make_sampler
from pdesuite.diffusion.parameterization import check_prediction
from pdesuite.diffusion.schedules import NoiseSchedule, get_schedule
from pdesuite.errors import BadInput

FORMAT = "pdesuite-searched-schedule"
FORMAT_VERSION = 1
#: Sub-folder of a run folder (or any folder) where searched schedules are looked up by name.
FOLDER = "schedules"
#: Keyword arguments a searched file may not set in ``options`` (the record's own fields set them).
RESERVED = ("sampler", "schedule", "steps", "timesteps", "spacing", "t_start", "t_end", "prediction",
            "final_sigma_zero")


def model_fingerprint(model: torch.nn.Module | dict[str, Any]) -> str:
    """SHA-256 over a module's state dict (or a state dict): names, dtypes, shapes and bytes, in name order.

    Two models share a fingerprint only when every weight and buffer is bitwise equal.
    """
    state = model.state_dict() if isinstance(model, torch.nn.Module) else model
    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key]
        digest.update(key.encode())
        if isinstance(value, torch.Tensor):
            tensor = value.detach().to("cpu").contiguous().reshape(-1)  # 0-d tensors cannot be viewed as bytes
            digest.update(f"{tensor.dtype}{tuple(value.shape)}".encode())
            digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def tensor_fingerprint(*tensors: torch.Tensor) -> str:
    """SHA-256 of tensors' float64 values (e.g. the mean and covariance of a test-bed Gaussian)."""
    return model_fingerprint({str(i): t.detach().to(torch.float64) for i, t in enumerate(tensors)})


def schedule_fingerprint(schedule: NoiseSchedule) -> str:
    """SHA-256 of a noise schedule's log α at 65 times across its range (10 significant digits), so a
    table built from betas (whose config holds only its name) is recognised by its values."""
    times = torch.linspace(schedule.t_min, schedule.t_max, 65, dtype=torch.float64)
    values = [f"{float(v):.10g}" for v in schedule.log_alpha(times)]
    return hashlib.sha256(json.dumps([schedule.name, values]).encode()).hexdigest()


def count_nfe(sampler: Sampler) -> int:
    """The model evaluations one run of ``sampler`` spends (a run on one scalar with a zero model)."""
    probe = make_sampler(**{**sampler.config(), "schedule": sampler.schedule})
    x = torch.zeros(1, 1, dtype=torch.float64)
    probe.sample(lambda y, t, **_: torch.zeros_like(y), x, generator=torch.Generator().manual_seed(0))
    return probe.last_nfe


@dataclass(frozen=True)
class SearchedSchedule:
    """A sampler configuration searched for one model (see the module docstring).

    Attributes:
        name: The name it is saved and loaded under (``schedules/NAME.json``).
        sampler: Registry name (``pdesuite list samplers``).
        nfe: The model evaluations one run spends.
        timesteps: The grid, strictly decreasing, t_0 (noise) ... t_n (data end).
        schedule: The noise schedule's config; ``schedule_fingerprint`` its values.
        prediction: What the model predicts (eps, x0, v, score).
        final_sigma_zero: The grid ends with a step to σ = 0.
        options: Further sampler keyword arguments (variant, order, step_orders, eta, ...).
        model: ``fingerprint`` (`model_fingerprint`) and a description of the model it was searched for.
        objective: ``name``, the searched ``value``, the fixed spacings' ``baselines`` and the ``start``.
        search: How it was found (method, seed, evaluations, budget).
    """

    name: str
    sampler: str
    nfe: int
    timesteps: tuple[float, ...]
    schedule: dict[str, Any]
    schedule_fingerprint: str
    prediction: str = "eps"
    final_sigma_zero: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    objective: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)

    # -- building ------------------------------------------------------------------------------------
    def sampler_kwargs(self, schedule: NoiseSchedule | None = None) -> dict[str, Any]:
        """Keyword arguments of `make_sampler` (``schedule`` replaces the recorded config: a table
        built from betas cannot be rebuilt from its name)."""
        return {"sampler": self.sampler, "schedule": schedule if schedule is not None else self.schedule,
                "timesteps": list(self.timesteps), "prediction": self.prediction,
                "final_sigma_zero": self.final_sigma_zero, **self.options}

    def build(self, schedule: NoiseSchedule | str | dict | None = None, *, prediction: str | None = None,
              fingerprint: str | None = None) -> Sampler:
        """The sampler, after checking it fits the model that will use it.

        Args:
            schedule: The model's noise schedule (default: the recorded one, rebuilt from its config).
            prediction: The model's prediction type (checked against the recorded one when given).
            fingerprint: The model's `model_fingerprint` (checked when given).
        """
        if fingerprint is not None:
            self.check_model(fingerprint)
        if prediction is not None and check_prediction(prediction) != self.prediction:
            raise BadInput(f"searched schedule {self.name!r} is for a model predicting {self.prediction!r}, "
                           f"not {prediction!r}")
        sched = get_schedule(self.schedule if schedule is None else schedule)
        if schedule_fingerprint(sched) != self.schedule_fingerprint:
            raise BadInput(f"searched schedule {self.name!r} was searched on noise schedule "
                           f"{self.schedule.get('name')!r} with other values than this model's {sched.name!r}")
        tol = 1e-9 * max(1.0, abs(sched.t_max))
        if not (sched.t_min - tol <= self.timesteps[-1] and self.timesteps[0] <= sched.t_max + tol):
            raise BadInput(f"searched schedule {self.name!r}: timesteps must lie in [{sched.t_min}, {sched.t_max}], "
                           f"got {self.timesteps[0]} .. {self.timesteps[-1]}")
        sampler = make_sampler(**self.sampler_kwargs(sched))
        spent = count_nfe(sampler)
        if spent != self.nfe:
            raise BadInput(f"searched schedule {self.name!r}: its grid spends {spent} NFE with {self.sampler}, "
                           f"the file says {self.nfe}")
        sampler.steps = self.nfe  # the budget the explicit grid spends (what `steps` means; the grid fixes it)
        return sampler

    def check_model(self, fingerprint: str, what: str = "this model") -> None:
        """`BadInput` unless the schedule was searched for the model with this fingerprint."""
        mine = str(self.model.get("fingerprint", ""))
        if mine != fingerprint:
            raise BadInput(f"searched schedule {self.name!r} was searched for another model "
                           f"(fingerprint {mine[:12] or 'none'}, {what} {fingerprint[:12]}): search again for it")

    # -- files ---------------------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        from pdesuite import __version__

        return {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name, "sampler": self.sampler,
                "nfe": self.nfe, "timesteps": list(self.timesteps), "final_sigma_zero": self.final_sigma_zero,
                "prediction": self.prediction, "options": dict(self.options), "schedule": dict(self.schedule),
                "schedule_fingerprint": self.schedule_fingerprint, "model": dict(self.model),
                "objective": dict(self.objective), "search": dict(self.search),
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "pdesuite_version": __version__}

    def save(self, path: str | Path) -> Path:
        """Write the JSON record atomically to ``path`` (a folder: ``path/NAME.json``)."""
        from pdesuite.io import write_json

        if not self.model.get("fingerprint"):
            raise BadInput(f"searched schedule {self.name!r} records no model fingerprint: pass model= to the search")
        path = Path(path)
        if path.suffix != ".json":
            path = path / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_json(self.record(), path)

    @classmethod
    def from_record(cls, data: Any, source: str = "searched schedule") -> SearchedSchedule:
        """Check a loaded record's fields (one-line `BadInput` for each kind of problem) and build it."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BadInput(f"{source} is not a searched schedule (format {FORMAT!r} expected)")
        if data.get("format_version") != FORMAT_VERSION:
            raise BadInput(f"{source}: unsupported format_version {data.get('format_version')!r}")
        missing = [k for k in ("name", "sampler", "nfe", "timesteps", "schedule", "schedule_fingerprint", "model")
                   if k not in data]
        if missing:
            raise BadInput(f"{source} lacks {', '.join(missing)}")
        from pdesuite.registry import SAMPLERS

        SAMPLERS.get(str(data["sampler"]))
        nfe = data["nfe"]
        if isinstance(nfe, bool) or not isinstance(nfe, int) or nfe < 1:
            raise BadInput(f"{source}: nfe must be a positive integer, got {nfe!r}")
        times = data["timesteps"]
        if not isinstance(times, list) or not times or not all(
                isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t) for t in times):
            raise BadInput(f"{source}: timesteps must be a non-empty list of finite numbers")
        if any(b >= a for a, b in zip(times, times[1:], strict=False)):
            raise BadInput(f"{source}: timesteps must be strictly decreasing, got {times}")
        for key in ("schedule", "options", "model", "objective", "search"):
            if not isinstance(data.get(key, {}), dict):
                raise BadInput(f"{source}: {key} must be a JSON object, got {type(data[key]).__name__}")
        options = data.get("options", {})
        if set(options) & set(RESERVED):
            raise BadInput(f"{source}: options must be a dict of sampler arguments without "
                           f"{', '.join(sorted(set(options) & set(RESERVED)))}")
        if not data["model"].get("fingerprint"):
            raise BadInput(f"{source}: model must record the fingerprint of the model it was searched for")
        return cls(name=str(data["name"]), sampler=str(data["sampler"]), nfe=nfe,
                   timesteps=tuple(float(t) for t in times), schedule=dict(data["schedule"]),
                   schedule_fingerprint=str(data["schedule_fingerprint"]),
                   prediction=check_prediction(data.get("prediction", "eps")),
                   final_sigma_zero=bool(data.get("final_sigma_zero", False)), options=dict(options),
                   model=dict(data["model"]), objective=dict(data.get("objective", {})),
                   search=dict(data.get("search", {})))


def searched_path(name_or_path: str | Path, folder: str | Path | None = None) -> Path:
    """The file of a searched schedule: ``name_or_path`` itself when it is a file, else
    ``folder/schedules/NAME.json``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if folder is not None:
        stem = path.name[:-5] if path.name.endswith(".json") else path.name
        named = Path(folder) / FOLDER / f"{stem}.json"
        if named.is_file():
            return named
        raise BadInput(f"no searched schedule {str(name_or_path)!r} (no such file, nor {named})")
    raise BadInput(f"no searched schedule file {str(name_or_path)!r}")


def load_searched(name_or_path: str | Path, folder: str | Path | None = None) -> SearchedSchedule:
    """Load a searched schedule by path, or by name from ``folder/schedules/`` (see `searched_path`)."""
    path = searched_path(name_or_path, folder)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"cannot read searched schedule {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}") \
            from None
    return SearchedSchedule.from_record(data, str(path))


def is_searched(name: str) -> bool:
    """Whether a sampler name refers to a searched-schedule file (ends in .json) rather than a registry name."""
    return str(name).endswith(".json")
