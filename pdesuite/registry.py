"""Explicit name -> object registries.

Each registry maps a public name (as used on the command line) to a class or factory. Modules
register themselves with a decorator; `pdesuite/registry.py` lists which modules to import so the
registries are filled lazily, on first look-up, without importing heavy dependencies at start-up.

Example:
    >>> from pdesuite.registry import DATASETS
    >>> sorted(DATASETS.names())  # doctest: +SKIP
    ['cylinder-flow', 'heat-random', 'helmholtz-bumps', 'poisson-random']
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pdesuite.errors import BadInput

#: One lock for every registry's first load (re-entrant: a module imported there may look up another).
_LOCK = threading.RLock()


class Registry:
    """A named collection of entries that are registered by decorator.

    Args:
        kind: What the entries are ("dataset", "problem", ...), used in error messages.
        modules: Modules whose import registers the entries (imported lazily on first look-up).
    """

    def __init__(self, kind: str, modules: Iterable[str] = ()) -> None:
        self.kind = kind
        self._modules = tuple(modules)
        self._entries: dict[str, Any] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(obj: Any) -> Any:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def unregister(self, name: str) -> None:
        """Remove an entry (a script's or test's own registration, when it is done with it)."""
        self._entries.pop(name, None)

    def _load(self) -> None:
        # threads (a script training runs side by side) must not see a half-filled registry
        with _LOCK:
            if not self._loaded:
                self._loaded = True  # first: the imported modules register into this registry
                try:
                    for module in self._modules:
                        importlib.import_module(module)
                except BaseException:
                    self._loaded = False
                    raise

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def get(self, name: str) -> Any:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise BadInput(f"unknown {self.kind} {name!r} (known: {known})") from None

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries


PROBLEMS = Registry(
    "problem",
    [
        "pdesuite.problems.poisson",
        "pdesuite.problems.helmholtz",
        "pdesuite.problems.heat",
        "pdesuite.problems.navier_stokes",
        "pdesuite.problems.ks",
        "pdesuite.problems.convection",
        "pdesuite.problems.advection",
        "pdesuite.problems.burgers",
        "pdesuite.problems.allen_cahn",
        "pdesuite.problems.pig",
        "pdesuite.problems.ns2d",
        "pdesuite.problems.smoke",
        "pdesuite.problems.chromatography",
        "pdesuite.problems.taylor_green",
        "pdesuite.problems.swirl",
        "pdesuite.problems.hyperelastic",
    ],
)
DATASETS = Registry(
    "dataset",
    [
        "pdesuite.recipes.poisson_random",
        "pdesuite.recipes.helmholtz_bumps",
        "pdesuite.recipes.um2n_helmholtz",
        "pdesuite.recipes.heat_random",
        "pdesuite.recipes.cylinder_flow",
        "pdesuite.recipes.ks",
        "pdesuite.recipes.convection",
        "pdesuite.recipes.advection",
        "pdesuite.recipes.burgers",
        "pdesuite.recipes.allen_cahn",
        "pdesuite.recipes.pig",
        "pdesuite.recipes.ns2d",
        "pdesuite.recipes.smoke",
        "pdesuite.recipes.chromatography",
        "pdesuite.recipes.taylor_green",
        "pdesuite.recipes.hyperelastic",
    ],
)
SURROGATES = Registry(
    "surrogate",
    [
        "pdesuite.surrogates.pinn",
        "pdesuite.surrogates.lpinn",
        "pdesuite.surrogates.pig",
        "pdesuite.surrogates.unet_mse",
        "pdesuite.surrogates.pde_refiner",
        "pdesuite.surrogates.insr",
        "pdesuite.surrogates.insr_fluid",
        "pdesuite.surrogates.insr_elastic",
        "pdesuite.surrogates.um2n",
        "pdesuite.surrogates.fno",
        "pdesuite.surrogates.trajectory_autoencoder",
        "pdesuite.surrogates.text2pde",
    ],
)
SAMPLERS = Registry(
    "sampler",
    [
        "pdesuite.diffusion.ddpm",
        "pdesuite.diffusion.ddim",
        "pdesuite.diffusion.pndm",
        "pdesuite.diffusion.deis",
        "pdesuite.diffusion.dpm_solver",
        "pdesuite.diffusion.dpm_solver_pp",
        "pdesuite.diffusion.unipc",
        "pdesuite.diffusion.plms_hb",
        "pdesuite.diffusion.ghvb",
        "pdesuite.diffusion.dpm_solver_pp_hb",
        "pdesuite.diffusion.edm_heun",
    ],
)

PLANS = Registry("optimisation plan", ["pdesuite.training.plans"])
EVALUATORS = Registry("evaluator", ["pdesuite.validation.field", "pdesuite.validation.rollout",
                                    "pdesuite.validation.time_stepping", "pdesuite.validation.mesh_movement",
                                    "pdesuite.validation.generation"])

ALL = {"problems": PROBLEMS, "datasets": DATASETS, "surrogates": SURROGATES, "samplers": SAMPLERS, "plans": PLANS,
       "evaluators": EVALUATORS}
