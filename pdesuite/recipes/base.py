"""The recipe interface: parameters, layout of the file, and one sample at a time."""

from __future__ import annotations

import itertools
import os
import tomllib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.settings import parse_setting

#: Where the recipes' profile files live (the repository's datasets/ folder by default).
DATASETS_DIR = Path(os.environ.get("PDESUITE_DATASETS", Path(__file__).resolve().parents[2] / "datasets"))
SPLIT_KEYS = ("train", "valid", "test")


@dataclass
class Layout:
    """What a dataset file holds besides the samples.

    Attributes:
        arrays: Root arrays by path ("t", "x", "y", "mesh/points", "mesh/cells").
        array_attrs: Attributes per root array (e.g. {"mesh/cells": {"cell_type": "triangle"}}).
        sample_shape: Shape of one sample's ``u``: (n_t, *spatial, n_fields); or a dict split -> shape
            where splits differ (KS: 140 training steps, 640 test steps).
        param_names: Names of the per-sample parameters.
        extras: Extra per-sample arrays: name -> (shape or dict split -> shape, dtype); e.g. per-sample
            coordinates "t" and "x".
    """

    arrays: dict[str, np.ndarray]
    sample_shape: tuple[int, ...] | dict[str, tuple[int, ...]]
    param_names: list[str]
    array_attrs: dict[str, dict] = field(default_factory=dict)
    extras: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def shape(self, split: str) -> tuple[int, ...]:
        return tuple(self.sample_shape[split] if isinstance(self.sample_shape, dict) else self.sample_shape)

    def extras_for(self, split: str) -> dict[str, tuple[tuple[int, ...], Any]]:
        return {name: (tuple(shape[split] if isinstance(shape, dict) else shape), dtype)
                for name, (shape, dtype) in self.extras.items()}


@dataclass
class Sample:
    """One generated sample: ``u`` (n_t, *spatial, n_fields), its parameters and extras."""

    u: np.ndarray
    params: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


class Recipe(ABC):
    """A named dataset.

    Subclasses set the class attributes, implement `layout` and `sample`, and may check their
    parameters in `validate` (raise BadInput). ``self.params`` holds every parameter (profile values
    with overrides, split sizes included); it is stored in the file and enough to regenerate it.
    """

    name: ClassVar[str]
    problem: ClassVar[str]
    solver: ClassVar[str]
    fields: ClassVar[list[str]]
    description: ClassVar[str] = ""
    #: Samples solved together by `sample_batch` (batched solvers override it).
    batch_size: ClassVar[int] = 1
    #: For deterministic parameter sweeps: the list-valued parameters whose Cartesian product are the
    #: samples (all in the test split, in `itertools.product` order). Empty for random datasets.
    sweep: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: dict):
        self.params = dict(params)
        if self.sweep:
            for key in self.sweep:
                value = self.params[key]
                if not isinstance(value, list) or not value:
                    raise BadInput(f"{self.name}: {key} must be a non-empty list of values, got {value!r}")
            self.params.update(train=0, valid=0, test=len(self.combinations()))
        for key in SPLIT_KEYS:
            value = self.params.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadInput(f"{self.name}: split size {key} must be an integer >= 0, got {value!r}")
        if self.params["train"] + self.params["valid"] + self.params["test"] == 0:
            raise BadInput(f"{self.name}: no samples requested")
        self.validate()

    # -- profiles and parameters ----------------------------------------------------------------
    @classmethod
    def profiles(cls) -> dict[str, dict]:
        path = DATASETS_DIR / f"{cls.name}.toml"
        if not path.is_file():
            raise BadInput(f"recipe file {path} is missing (set PDESUITE_DATASETS to the datasets/ folder)")
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return {key: value for key, value in data.items() if isinstance(value, dict)}

    @classmethod
    def resolve(cls, profile: str = "small", samples: int | None = None,
                overrides: dict[str, str] | None = None) -> dict:
        """Profile values, then ``--samples`` (train size; valid/test keep their proportion), then ``--set``."""
        profiles = cls.profiles()
        if profile not in profiles:
            raise BadInput(f"unknown profile {profile!r} for {cls.name} (known: {', '.join(profiles)})")
        params = dict(profiles[profile])
        if samples is not None and cls.sweep:
            raise BadInput(f"{cls.name} is a fixed sweep over {', '.join(cls.sweep)}; restrict it with --set "
                           f"{cls.sweep[0]}=VALUE instead of --samples")
        if samples is not None:
            if isinstance(samples, bool) or int(samples) != samples or samples < 1:
                raise BadInput(f"--samples must be a positive integer, got {samples}")
            scale = samples / max(params["train"], 1)
            for key in ("valid", "test"):
                if params[key]:
                    params[key] = max(1, round(params[key] * scale))
            params["train"] = int(samples)
        for key, text in (overrides or {}).items():
            if key not in params:
                raise BadInput(f"unknown parameter {key!r} for {cls.name} (known: {', '.join(sorted(params))})")
            params[key] = parse_setting(key, text, params[key])
        return params

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Raise BadInput for invalid parameter values."""

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            raise BadInput(f"{self.name}: {message}")

    def require_int(self, key: str, low: int, high: int | None = None) -> None:
        """params[key] must be an integer in [low, high]."""
        value = self.params[key]
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        self.require(ok, f"{key} must be an integer {bounds}, got {value!r}")

    def require_time_grid(self) -> None:
        """Checks shared by 1D spectral recipes solved on ``nx_solve`` points and stored on ``nx``:
        both even, nx divides nx_solve; ``nt`` >= 2 stored times; ``substeps`` >= 1; ``t_end`` > 0."""
        p = self.params
        self.require_int("nx", 4)
        self.require_int("nx_solve", 4)
        self.require(p["nx"] % 2 == 0 and p["nx_solve"] % p["nx"] == 0,
                     f"nx must be even and divide nx_solve, got {p['nx']}, {p['nx_solve']}")
        self.require_int("nt", 2)
        self.require_int("substeps", 1)
        self.require_positive("t_end")

    def require_positive(self, key: str, what: str | None = None) -> None:
        """params[key] must be a finite number > 0."""
        value = self.params[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")
        self.require(ok, f"{what or key} must be positive, got {value!r}")

    def combinations(self) -> list[dict]:
        """The swept parameter values of each sample (sweep recipes)."""
        values = [self.params[key] for key in self.sweep]
        return [dict(zip(self.sweep, combo, strict=True)) for combo in itertools.product(*values)]

    def splits(self) -> list[tuple[str, int]]:
        return [(key, self.params[key]) for key in SPLIT_KEYS if self.params[key] > 0]

    @staticmethod
    def rng(seed: int, split: str, index: int) -> np.random.Generator:
        """The generator of one sample: depends only on (seed, split, index), not on the worker."""
        return np.random.default_rng([int(seed), SPLIT_KEYS.index(split), int(index)])

    # -- the work ----------------------------------------------------------------------------------
    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Build what all samples share (meshes, solvers); called once per process."""

    @abstractmethod
    def layout(self) -> Layout:
        """Coordinates and shapes of the file (after `prepare`)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, split: str, export_dir: Path | None = None, tag: str = "") -> Sample:
        """Draw parameters with ``rng``, solve, return the sample; write XDMF to ``export_dir`` if given."""

    def sample_batch(self, rngs: list[np.random.Generator], split: str, export_dir: Path | None = None,
                     tags: list[str] | None = None) -> list[Sample]:
        """Several samples of one split, one generator each (batched solvers override this)."""
        tags = tags or [""] * len(rngs)
        return [self.sample(rng, split, export_dir, tag) for rng, tag in zip(rngs, tags, strict=True)]

    def run_indices(self, split: str, indices: list[int], seed: int, export_dir: Path | None = None) -> list[Sample]:
        """Samples ``indices`` of ``split``: what the generator calls. Draws each sample's generator
        from (seed, split, index) and hands them to `sample_batch`; sweep recipes map indices to
        parameter combinations instead."""
        rngs = [self.rng(seed, split, i) for i in indices]
        return self.sample_batch(rngs, split, export_dir, [f"{split}_{i:05d}" for i in indices])

    def extra_attrs(self) -> dict:
        """Extra root attributes (e.g. which fields are inputs)."""
        return {}


class SweepRecipe(Recipe):
    """A deterministic dataset over the Cartesian product of the `sweep` parameters (no randomness)."""

    @abstractmethod
    def sample_point(self, values: dict, export_dir: Path | None = None, tag: str = "") -> Sample:
        """The sample for one combination of the swept parameters (e.g. {"c": 30, "nu": 0.0})."""

    def run_indices(self, split: str, indices: list[int], seed: int, export_dir: Path | None = None) -> list[Sample]:
        combos = self.combinations()
        return [self.sample_point(combos[i], export_dir, f"{split}_{i:05d}") for i in indices]

    def sample(self, rng, split, export_dir=None, tag=""):  # pragma: no cover - sweeps are indexed
        raise TypeError(f"{self.name} is a sweep: samples are addressed by index (run_indices)")
