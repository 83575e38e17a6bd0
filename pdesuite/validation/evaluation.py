"""What every evaluation returns (`Evaluation`) and the small base class of the evaluators.

A surrogate names its evaluator (``Surrogate.evaluator``, a key of `pdesuite.registry.EVALUATORS`);
`pdesuite validate` builds the surrogate from its run folder, loads its best weights and asks that
evaluator for an `Evaluation`: the metrics, the figures it wrote, a one-line summary for people and
the provenance (which weights, which reference file). ``metrics.json`` is `Evaluation.record`.
A new kind of surrogate that needs a new kind of evaluation adds one evaluator file:

    @EVALUATORS.register("mesh")
    class MeshEvaluator(Evaluator):
        def evaluate(self, surrogate, run, output) -> Evaluation: ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pdesuite.errors import BadInput


@dataclass
class Evaluation(Mapping):
    """The result of evaluating a trained surrogate.

    Attributes:
        metrics: Metric name -> value (numbers, lists, nested dicts; JSON-able).
        figures: Files the evaluator wrote, relative to the output folder.
        summary: One line for people (printed by ``pdesuite validate``).
        provenance: Surrogate, weights file, training step, reference file and its provenance.

    It reads as the flat mapping of `record` (``evaluation["relative_l2"]``), which is what
    ``metrics.json`` holds.
    """

    metrics: dict[str, Any]
    figures: list[str] = field(default_factory=list)
    summary: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Remarks for people that are not results (e.g. "validating on another file"); not in the record.
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {**self.provenance, **self.metrics, "plots": list(self.figures), "summary": self.summary}

    def __getitem__(self, key: str) -> Any:
        return self.record()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.record())

    def __len__(self) -> int:
        return len(self.record())


@dataclass
class TrainedRun:
    """A run folder's content as an evaluator sees it: configuration, weights file, its state."""

    config: dict[str, Any]
    weights: Path
    state: dict[str, Any]

    @property
    def step(self) -> int | None:
        return self.state.get("step", self.state.get("state", {}).get("step"))

    def provenance(self) -> dict[str, Any]:
        return {"surrogate": self.config["surrogate"], "weights": self.weights.name, "step": self.step,
                "reference": {"file": str(self.config["data"]), **self.config.get("dataset_provenance", {})}}


class Evaluator(ABC):
    """Base of the evaluators. ``options`` are the evaluator's settings with their defaults (the
    command line's ``--seed``, ``--uncertainty-samples``); an option it does not take, given a value,
    is bad input."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: The metric (a dotted key of metrics.json) that sums an evaluation up in one number (the report's column).
    headline: ClassVar[str] = "relative_l2"
    options: ClassVar[dict[str, Any]] = {"seed": 0}

    def __init__(self, **options: Any):
        given = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            raise BadInput(f"the {self.name} evaluator takes no {', '.join(unknown)} "
                           f"(its options: {', '.join(self.options)})")
        self.settings = {**self.options, **given}

    @abstractmethod
    def evaluate(self, surrogate, run: TrainedRun, output: Path) -> Evaluation:
        """Evaluate ``surrogate`` (best weights loaded, eval mode) against its reference; write the
        figures into ``output`` (the caller writes metrics.json)."""
