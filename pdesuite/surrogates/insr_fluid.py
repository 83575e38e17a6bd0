"""INSR for incompressible Euler in a box (Chen et al., ICML 2023, the 2D fluid case): two SIRENs time-stepped.

The velocity u_k(x) and the pressure p_k(x) are SIRENs (`pdesuite.nn.siren`; the paper: 3 × 32 each,
3330 and 3297 parameters). A time step from u_{k-1} is Chorin's splitting, each part one optimisation
at points x drawn uniformly in Ω = [-1, 1]² afresh every iteration (authors' ``fluid/model.py``):

    advect    u* = argmin mean_x |u(x) - u_{k-1}(clip(x - Δt u_{k-1}(x)))|²  + w_bc B(u)
              (semi-Lagrangian: back-trace with the previous velocity, departure clipped to Ω)
    pressure  p  = argmin mean_x (Δp(x) - ∇·u*(x))²  + w_bc mean_∂Ω (∂p/∂n)²       (Neumann walls)
    project   u_k = argmin mean_x |u(x) - (u*(x) - ∇p(x))|²  + w_bc B(u)

B(u) = mean over the walls x = ±1 of u_x² + mean over y = ±1 of u_y² (no penetration), w_bc = 1 and
1 % of the points on the walls as the authors have it. The pressure absorbs Δt and the density:
u_k = u* - ∇p. Each network is warm-started: u from u_{k-1} (advect) and from u* (project), p from the
previous step's p (the first solve from its initialisation). Stage 0 fits u_0 to the problem's
initial velocity, L = mean |u - u0|². The derivatives (∇·u*, Δp, ∇p) are taken by autograd; u*, p
and u_{k-1} enter the other stages frozen (no gradient).

The optimisation plan is ``stagewise-adam`` (`pdesuite.training.plans`): stages = the initial fit, then
three per time step (advect, pressure, project), each a fresh Adam with plateau decay and early stop
(the authors: lr 1e-4, factor 0.1, patience 500, stop at lr <= 1.1e-8, at most 20000 iterations per
sub-step, 128² points per iteration). The authors' plateau rule watches the main term alone; the plan
watches the total. `next_stage()` moves through the sub-stages. The state dict holds both networks,
every kept step (``kept_velocity``, ``kept_pressure``), the current u* (``advected``) and the stage
index; with the plan's Adam state and the trainer's random states an interrupted march resumes exactly.

Shapes:
    X: (N, 2) points; u(X): (N, 2); p(X): (N, 1); ``kept_velocity``: (n_t, n_velocity_parameters).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.nn.siren import Siren
from pdesuite.problems.autodiff import gradient
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.marching import Field, MarchingSurrogate, flat_weights, with_weights
from pdesuite.surrogates.task import Task

#: The sub-stages of one time step, in order (stage 0 is the initial fit).
SUBSTAGES = ("advect", "pressure", "project")


def divergence(u: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """∇·u of u(X) (N, 2) at X (N, 2), keeping the graph; (N, 1)."""
    return gradient(u[:, 0:1], X)[:, 0:1] + gradient(u[:, 1:2], X)[:, 1:2]


@SURROGATES.register("insr-fluid")
class INSRFluid(MarchingSurrogate):
    name: ClassVar[str] = "insr-fluid"
    description: ClassVar[str] = "INSR for 2D incompressible Euler: velocity and pressure SIRENs, split steps"
    graph_factor: ClassVar[float] = 3.0  # the pressure stage's Laplacian: ~3x the graph of one gradient
    defaults: ClassVar[dict[str, Any]] = {
        "width": 32, "depth": 3, "omega0": 30.0,  # each network 3 × 32: 3330 (velocity) + 3297 (pressure)
        "n_points": 16384,                         # points per iteration (the authors' 128²), redrawn every time
        "bc_weight": 1.0,
        "bc_fraction": 0.01,                       # wall points per wall pair, as a fraction of n_points
    }
    positive_integers: ClassVar[tuple[str, ...]] = ("width", "n_points")
    positive_numbers: ClassVar[tuple[str, ...]] = ("omega0", "bc_fraction")
    non_negative_numbers: ClassVar[tuple[str, ...]] = ("bc_weight",)
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        # CPU: 4096 points, at most 500 iterations per sub-step (docs/insr.md: the measurements behind it)
        "small": {"n_points": 4096, "stage_steps": 500, "stage_lr": 1e-3, "plateau_patience": 50,
                  "plateau_factor": 0.5, "stage_min_lr": 1e-6, "log_every": 100, "val_every": 1000000,
                  "checkpoint_every": 1500},
        # one H100 for ~8 minutes (estimated, not measured): the authors' points, 1000 iterations per sub-step
        "gpu": {"n_points": 16384, "stage_steps": 1000, "stage_lr": 1e-3, "plateau_patience": 100,
                "plateau_factor": 0.5, "stage_min_lr": 1e-7, "log_every": 500, "val_every": 100000000,
                "checkpoint_every": 3000},
        # the authors' base/baseModel.py and scripts/fluid2Dtlgn.sh
        "paper": {"n_points": 16384, "stage_steps": 20000, "stage_lr": 1e-4, "plateau_patience": 500,
                  "plateau_factor": 0.1, "stage_min_lr": 1.1e-8, "log_every": 1000, "val_every": 100000000,
                  "checkpoint_every": 20000},
    }

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        c = self.config
        times = task.grids["t"]
        steps = np.diff(times)
        if not np.allclose(steps, steps[0], rtol=1e-9, atol=1e-12):
            raise BadInput(f"insr-fluid steps with a constant Δt; {task.dataset} has times {times[:4]}...")
        self.dt = float(steps[0])
        self.velocity = Siren(2, 2, c["width"], c["depth"], c["omega0"])
        self.pressure = Siren(2, 1, c["width"], c["depth"], c["omega0"])
        n_u = sum(p.numel() for p in self.velocity.parameters())
        n_p = sum(p.numel() for p in self.pressure.parameters())
        n_stages = 1 + len(SUBSTAGES) * (len(times) - 1)
        self.register_buffer("kept_velocity", torch.zeros(len(times), n_u))
        self.register_buffer("kept_pressure", torch.zeros(len(times), n_p))
        self.register_buffer("advected", torch.zeros(n_u))
        self.register_buffer("stage_index", torch.zeros((), dtype=torch.long))
        self.register_buffer("sub_seconds", torch.zeros(n_stages, dtype=torch.float64))
        self._stage_started = time.perf_counter()
        low, high = task.physics.box
        self.register_buffer("low", torch.tensor(float(low)), persistent=False)
        self.register_buffer("high", torch.tensor(float(high)), persistent=False)

    # -- configuration --------------------------------------------------------------------------------
    @classmethod
    def check_settings(cls, settings: dict[str, Any]) -> None:
        super().check_settings(settings)
        if settings["bc_fraction"] > 1:
            raise BadInput(f"insr-fluid: bc_fraction must lie in (0, 1], got {settings['bc_fraction']}")

    def check_task(self, task: Task) -> None:
        physics = task.physics
        if physics is None or not hasattr(physics, "initial_velocity") or tuple(task.axes) != ("t", "x", "y") \
                or len(task.fields) != 2:
            raise BadInput(f"insr-fluid marches 2D incompressible Euler (velocity fields on t, x, y); "
                           f"{task.dataset} ({task.problem}) is not such a problem")

    def adjust_plan(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The initial fit, then advect, pressure and project for every step of the reference."""
        return {**settings, "stages": int(self.sub_seconds.shape[0])}

    # -- where the march is ---------------------------------------------------------------------------
    def position(self) -> tuple[int, str]:
        """(time step k, sub-stage name) of the current stage; stage 0 is (0, "fit")."""
        s = int(self.stage_index)
        if s == 0:
            return 0, "fit"
        return (s - 1) // len(SUBSTAGES) + 1, SUBSTAGES[(s - 1) % len(SUBSTAGES)]

    def steps_shown(self) -> int:
        """How many stored times have a velocity (finished steps, and the one being projected or fitted)."""
        k, sub = self.position()
        return k + 1 if sub in ("fit", "project") else k

    @property
    def stage_seconds(self) -> torch.Tensor:
        """Wall seconds per time step (its sub-stages together; the fit for t = 0), (n_t,)."""
        per_step = torch.zeros(self.kept_velocity.shape[0], dtype=torch.float64)
        per_step[0] = self.sub_seconds[0]
        per_step[1:] = self.sub_seconds[1:].cpu().view(-1, len(SUBSTAGES)).sum(dim=1)
        return per_step

    # -- fields ---------------------------------------------------------------------------------------
    def velocity_at(self, index: int) -> Field:
        return with_weights(self.velocity, self.kept_velocity[index])

    def _store(self) -> None:
        """Keep the weights the current sub-stage is producing."""
        k, sub = self.position()
        with torch.no_grad():
            if sub in ("fit", "project"):
                self.kept_velocity[k] = flat_weights(self.velocity)
            elif sub == "advect":
                self.advected.copy_(flat_weights(self.velocity))
            else:
                self.kept_pressure[k] = flat_weights(self.pressure)
        self.sub_seconds[int(self.stage_index)] = time.perf_counter() - self._stage_started

    def next_stage(self) -> None:
        """Called by the plan when a sub-stage's optimisation ends: keep its result, move on."""
        self._store()
        self._stage_started = time.perf_counter()
        self.stage_index += 1

    def after_step(self) -> None:
        """Keep the latest weights of the sub-stage in progress (what an interruption keeps) and its
        wall time so far (timings are measurements: they are not part of the bitwise resume)."""
        self._store()

    # -- the trainer's interface ----------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.uniform_points(n, 2, generator)

    def walls(self, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Points on the walls x = ±1 and on the walls y = ±1, each (n_bc, 2), n_bc = bc_fraction · n_points."""
        n = max(2, int(self.config["bc_fraction"] * self.config["n_points"]))
        out = []
        for axis in (0, 1):
            points = self.sample(n, generator)
            side = torch.randint(2, (n,), generator=generator).to(self.device)
            points[:, axis] = torch.where(side == 0, self.low, self.high).to(self.dtype)
            out.append(points)
        return out[0], out[1]

    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        k, sub = self.position()
        X = self.sample(self.config["n_points"], generator)
        if sub == "fit":
            target = torch.stack(self.task.physics.initial_velocity(X[:, 0], X[:, 1]), dim=1)
            fit = (self.velocity(X) - target).pow(2).mean()
            return {"loss": fit, "main": fit}
        on_x, on_y = self.walls(generator)
        if sub == "pressure":
            X.requires_grad_(True)
            advected = with_weights(self.velocity, self.advected)
            source = divergence(advected(X), X).detach()
            p = self.pressure(X)
            grad = gradient(p, X)
            laplacian = gradient(grad[:, 0:1], X)[:, 0:1] + gradient(grad[:, 1:2], X)[:, 1:2]
            main = (laplacian - source).pow(2).mean()
            on_x.requires_grad_(True)
            on_y.requires_grad_(True)
            bc = gradient(self.pressure(on_x), on_x)[:, 0].pow(2).mean() + \
                gradient(self.pressure(on_y), on_y)[:, 1].pow(2).mean()
        else:
            if sub == "advect":
                previous = self.velocity_at(k - 1)
                with torch.no_grad():
                    departure = (X - self.dt * previous(X)).clamp(self.low, self.high)
                    target = previous(departure)
            else:  # project
                X.requires_grad_(True)
                pressure = with_weights(self.pressure, self.kept_pressure[k])
                with torch.no_grad():
                    advected = with_weights(self.velocity, self.advected)(X)
                target = advected - gradient(pressure(X), X).detach()
                X = X.detach()
            main = (self.velocity(X) - target).pow(2).mean()
            bc = self.velocity(on_x)[:, 0].pow(2).mean() + self.velocity(on_y)[:, 1].pow(2).mean()
        return {"loss": main + self.config["bc_weight"] * bc, "main": main, "bc": bc}

    # -- evaluation -----------------------------------------------------------------------------------
    def field_at(self, index: int) -> Field:
        return self.velocity_at(index)

    def divergence_grid(self) -> np.ndarray:
        """∇·u (autograd) at every stored time and grid point, (n_t, n_x, n_y); NaN where not reached."""
        X = self.grid_points().requires_grad_(True)
        out = np.full(self.task.reference.shape[:-1], np.nan)
        for j in range(min(self.steps_shown(), out.shape[0])):
            out[j] = divergence(self.velocity_at(j)(X), X).detach().cpu().numpy().reshape(out.shape[1:])
        return out

    def energy_curves(self) -> dict[str, tuple[list[float], list[float]]]:
        """Kinetic energy ½⟨|u|²⟩ (mean over the grid) at the stored times reached, and the reference's: its
        loss is numerical dissipation (Euler conserves it)."""
        prediction, reference = self.predict_grid(), self.task.reference
        done = ~np.isnan(prediction).any(axis=tuple(range(1, prediction.ndim)))
        space = tuple(range(1, prediction.ndim - 1))
        energy = [(0.5 * (u**2).sum(axis=-1)).mean(axis=space) for u in (prediction[done], reference[done])]
        return {"kinetic_energy": (energy[0].tolist(), energy[1].tolist())}
