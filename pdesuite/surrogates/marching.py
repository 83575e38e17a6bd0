"""What the INSR surrogates share: fields kept per stored time as flat weight vectors, marched by the
`stagewise-adam` plan (one or a few short optimisations per time step), judged by the `time-stepping`
evaluator.

A marching surrogate keeps the weights of every finished step in a buffer (part of the state dict, so
an interrupted march resumes exactly), evaluates any kept step as a function of the points through
`with_weights`, and reports on the grid of its reference:

* ``predict_grid()``: the field at every stored time, NaN at times not reached yet (from the
  subclass's ``field_at(k)`` and ``steps_shown()``);
* ``validation_error()``: relative L2 over the steps reached plus the number of steps left, so that the
  lowest value (best.pt) always holds the furthest march, and among complete marches the most accurate;
* ``energy_curves()``: named energies per stored time beside the reference's (kinetic energy of a flow,
  elastic energy of a body), which the evaluator reports and plots as numerical dissipation.

Subclasses: `pdesuite.surrogates.insr` (a PDE u_t = F(u)), `insr_fluid` (incompressible Euler),
`insr_elastic` (hyperelasticity by energy minimisation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch.func import functional_call

from pdesuite.surrogates.base import Surrogate

Field = Callable[[torch.Tensor], torch.Tensor]


def with_weights(net: torch.nn.Module, vector: torch.Tensor) -> Field:
    """``net`` evaluated with the weights of the flat ``vector`` (detached, in `parameters()` order)."""
    weights, offset = {}, 0
    for name, p in net.named_parameters():
        weights[name] = vector[offset : offset + p.numel()].detach().view_as(p).to(p)
        offset += p.numel()
    return lambda X: functional_call(net, weights, (X,))


def flat_weights(net: torch.nn.Module) -> torch.Tensor:
    """The parameters of ``net`` as one vector (the layout `with_weights` reads)."""
    return torch.nn.utils.parameters_to_vector(net.parameters())


class MarchingSurrogate(Surrogate):
    """Base of the time-marching surrogates (see the module docstring). Subclasses register the
    buffers ``low`` and ``high`` (the box the points are drawn from) and define `predict_grid`."""

    plan: ClassVar[str] = "stagewise-adam"
    evaluator: ClassVar[str] = "time-stepping"
    non_negative_integers: ClassVar[tuple[str, ...]] = ("depth",)
    #: One iteration's autograd graph relative to a first derivative of one network at the points (a
    #: Laplacian or a Jacobian kept for the weights' gradient: about 3).
    graph_factor: ClassVar[float] = 1.0

    @classmethod
    def estimate_memory(cls, settings: dict[str, Any], dataset) -> float:
        """Bytes: points × (depth + 1) layers × width activations × ~40 saved tensors of 8 bytes, × graph_factor."""
        return cls.graph_factor * settings.get("n_points", 0) * 8 * 40 * settings.get("width", 0) * (
            settings.get("depth", 0) + 1)

    def uniform_points(self, n: int, dim: int, generator: torch.Generator) -> torch.Tensor:
        """n points uniform in the box [low, high] of R^dim, (n, dim); drawn in the dtype of ``low`` (on the
        CPU, from ``generator``) so that a run's points do not depend on the device."""
        unit = torch.rand(n, dim, generator=generator, dtype=self.low.dtype).to(self.low.device)
        return (self.low + (self.high - self.low) * unit).to(self.dtype)

    def field_at(self, index: int) -> Field:
        """The field at stored time ``index`` (from the kept weights) as a function of the points."""
        raise NotImplementedError

    def steps_shown(self) -> int:
        """How many stored times (from t_0 on) have a field: the finished steps and the one in progress."""
        raise NotImplementedError

    def grid_points(self) -> torch.Tensor:
        """The reference's spatial grid as points (N, d), in the order of ``reference[k].reshape(-1, n_fields)``."""
        axes = [a for a in self.task.axes if a != "t"]
        mesh = np.meshgrid(*(self.task.grids[a] for a in axes), indexing="ij")
        return self.tensor(np.stack([m.ravel() for m in mesh], axis=1))

    @torch.no_grad()
    def predict_grid(self) -> np.ndarray:
        """The field at every stored time on the reference's grid; times not reached yet are NaN."""
        X, out = self.grid_points(), np.full(self.task.reference.shape, np.nan)
        for j in range(min(self.steps_shown(), out.shape[0])):
            out[j] = self.field_at(j)(X).cpu().numpy().reshape(out.shape[1:])
        return out

    def energy_curves(self) -> dict[str, tuple[list[float], list[float]]]:
        """Name -> (energy per stored time reached, the reference's per stored time); none by default."""
        return {}

    def validation_error(self) -> float:
        prediction, reference = self.predict_grid(), self.task.reference
        done = ~np.isnan(prediction).any(axis=tuple(range(1, prediction.ndim)))
        error = np.linalg.norm(prediction[done] - reference[done]) / max(np.linalg.norm(reference[done]), 1e-30)
        return float(error) + float(np.sum(~done))

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
