"""Physics-informed neural network (Raissi, Perdikaris & Karniadakis 2019).

A coordinate network u_θ(t, x[, y]) trained on

    L = w_r mean(r(u_θ)²) + w_ic mean((u_θ(t0, x) - u0(x))²) + w_bc mean((u_θ - g)²|_∂Ω),

with r the problem's PDE residual (`PhysicsInformed.residual`, autograd) at collocation points in the
space-time box. By default these are one fixed Hammersley set (``sampler = "hammersley"``, as
DeepXDE's default): a deterministic low-discrepancy set, so the loss is a fixed, accurate quadrature
of ∫r². Points redrawn at every step (``sampler = "uniform"`` or ``"sobol"``, ``resample_every``)
make each step's gradient a Monte Carlo estimate whose error was 7-13x the gradient itself (uniform,
1024 points, Helmholtz), and a fixed uniform draw has holes the network fits around: on Helmholtz
(a1 = 1, a2 = 4, 4000 Adam steps) both failed on some seeds (relative L2 up to 1.5 and 6.8) where the
Hammersley set reached 0.006-0.052 on all 16 seeds (docs/training.md). Periodic axes are
embedded as (cos, sin) so periodicity holds exactly (the convection benchmark's (cos x, sin x, t)
inputs); optional random Fourier features (Tancik et al. 2020).

Hard boundary conditions (``hard_bc``, homogeneous Dirichlet data only): the output is multiplied by
D(x) = Π_i (x_i - a_i)(b_i - x_i)·(2/(b_i - a_i))² over the non-periodic spatial axes, which vanishes
on the boundary, so u_θ = 0 there exactly and the boundary term drops out of the loss (Lagaris et al.
1998). Hard initial conditions (``hard_ic``): u_θ = u0(x) + τ·N(t, x), τ = (t - t0)/T, so
u_θ(t0) = u0 exactly and the initial term drops out (u0 from `Task.initial_function`: the problem's
closed-form initial(x) where it has one, else the stored t0 values interpolated trigonometrically on
periodic axes); an initial velocity (Klein-Gordon) stays a loss term.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.nn.mlp import ACTIVATIONS, MLP, FourierFeatures, PeriodicEmbedding
from pdesuite.problems.autodiff import TORCH, columns, derivative
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.base import CollocationSurrogate
from pdesuite.surrogates.task import SAMPLERS, Task

#: Helmholtz loss weights (PINN and PIG alike): the residual Δu + k²u - f is O((a1² + a2²)π²) ≈ 170
#: times u for sin(πx) sin(4πy), so it is weighted 1e-4 against the boundary term, as in the PIG
#: paper's script (f_scale); both are ×100 so the loss stays O(0.1-1) and L-BFGS's absolute
#: tolerances do not end it early. Measured (PIG, 300 Gaussians, 1024 points, 400 Adam steps):
#: 8.0e-2 against 0.26 with the default weights (1, 100); docs/training.md.
HELMHOLTZ_WEIGHTS = {"pde_weight": 1e-2, "bc_weight": 100.0}


@SURROGATES.register("pinn")
class PINN(CollocationSurrogate):
    name: ClassVar[str] = "pinn"
    description: ClassVar[str] = "physics-informed MLP (tanh/sin, Fourier features, periodic embedding)"
    defaults: ClassVar[dict[str, Any]] = {
        "width": 64, "depth": 4, "activation": "tanh", "fourier_features": 0, "fourier_scale": 1.0,
        # boundary data weighted 100: with weight 1 the O(10²) Helmholtz residual swamps it (measured:
        # PIG relative L2 0.55 -> 0.026 on sin(πx)sin(πy) at equal budget)
        "n_collocation": 2048, "pde_weight": 1.0, "ic_weight": 1.0, "bc_weight": 100.0,
        # one fixed Hammersley set; "uniform"/"sobol" are random and redrawn every resample_every steps
        # (uniform redrawn every step was the default before: on Helmholtz 2 of 4 seeds failed)
        "sampler": "hammersley", "resample_every": 1,
        "hard_bc": False,  # multiply by a function vanishing on the boundary (zero Dirichlet data only)
        "hard_ic": False,  # u = u0(x) + τ·(network): the initial values hold exactly
    }
    #: runs made before the sampler setting drew uniform points
    legacy: ClassVar[dict[str, Any]] = {"sampler": "uniform"}
    positive_integers: ClassVar[tuple[str, ...]] = ("width", "depth", "n_collocation", "resample_every")
    positive_numbers: ClassVar[tuple[str, ...]] = ("fourier_scale",)
    non_negative_numbers: ClassVar[tuple[str, ...]] = ("fourier_features", "pde_weight", "ic_weight", "bc_weight")
    choices: ClassVar[dict[str, tuple]] = {"activation": tuple(ACTIVATIONS), "sampler": SAMPLERS}
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {"width": 32, "depth": 4, "n_collocation": 1024, "adam_steps": 2000, "lbfgs_steps": 200,
                  "val_every": 200, "checkpoint_every": 200,
                  # zero Dirichlet data: exact boundary values (measured on Helmholtz, docs/training.md)
                  "problems": {"helmholtz-2d": {**HELMHOLTZ_WEIGHTS, "hard_bc": True},
                               # as the LPINN's small profile, so the convection comparison is like for like
                               "convection": {"hard_ic": True}}},
        # one GPU session (docs/gpu.md): the paper's network and point count, 2/5 of its Adam steps
        "gpu": {"width": 50, "depth": 5, "n_collocation": 10000, "adam_steps": 20000, "lbfgs_steps": 500,
                "val_every": 1000, "checkpoint_every": 1000, "log_every": 100,
                "problems": {"helmholtz-2d": {**HELMHOLTZ_WEIGHTS, "hard_bc": True}, "convection": {"hard_ic": True}}},
        "paper": {"width": 50, "depth": 5, "n_collocation": 10000, "adam_steps": 50000, "lbfgs_steps": 1000,
                  "val_every": 1000, "checkpoint_every": 1000, "log_every": 100,
                  "problems": {"helmholtz-2d": HELMHOLTZ_WEIGHTS}},
    }

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        c = self.config
        periods = [task.period(a) for a in task.axes]
        self.embed = PeriodicEmbedding(periods)
        width = self.embed.out_features
        self.fourier = None
        if c["fourier_features"]:
            self.fourier = FourierFeatures(width, c["fourier_features"], c["fourier_scale"])
            width = self.fourier.out_features
        self.net = MLP(width, len(task.fields), c["width"], c["depth"], c["activation"])
        self._setup_hard_bc(task)
        self.initial_state = task.initial_function() if c["hard_ic"] else None

    def _setup_hard_bc(self, task: Task) -> None:
        """Buffers for the boundary factor D(x) when ``hard_bc`` is on (checked against the data)."""
        self.hard_axes: list[int] = []
        if not self.config["hard_bc"]:
            return
        self.hard_axes = [i for i, a in enumerate(task.axes) if a != "t" and task.period(a) is None]
        if not self.hard_axes:
            raise BadInput(f"hard_bc: {task.problem} has no non-periodic spatial boundary")
        _, values = task.boundary_data()
        scale = float(np.max(np.abs(task.reference))) or 1.0
        if np.max(np.abs(values)) > 1e-8 * scale:
            raise BadInput(f"hard_bc needs zero Dirichlet data; {task.dataset} has boundary values up to "
                           f"{np.max(np.abs(values)):.3g} (use the soft boundary loss)")
        bounds = task.bounds()
        low = [bounds[task.axes[i]][0] for i in self.hard_axes]
        high = [bounds[task.axes[i]][1] for i in self.hard_axes]
        self.register_buffer("hard_low", torch.tensor(low), persistent=False)
        self.register_buffer("hard_high", torch.tensor(high), persistent=False)

    def constrain(self, X: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """The network output with the hard constraints applied: D(x)·out with ``hard_bc``, then
        u0(x) + τ·(that) with ``hard_ic`` (u0 vanishes on ∂Ω when both are on, so both hold)."""
        if self.hard_axes:
            x = X[:, self.hard_axes]
            low, high = self.hard_low.to(x), self.hard_high.to(x)
            out = ((x - low) * (high - x) * (2.0 / (high - low)) ** 2).prod(dim=1, keepdim=True) * out
        if self.initial_state is not None:
            out = self.initial_state(X[:, 1:]) + self.task.normalized_time(X[:, 0:1]) * out
        return out

    def check_task(self, task: Task) -> None:
        if task.physics is None:
            raise BadInput(f"pinn needs a PDE residual; none is defined for {task.problem!r}")
        if len(task.fields) != 1:
            raise BadInput(f"pinn learns one field; {task.dataset} has {task.fields}")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        features = self.embed(X)
        if self.fourier is not None:
            features = self.fourier(features)
        return self.constrain(X, self.net(features))

    # -- training -------------------------------------------------------------------------------
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        c, task = self.config, self.task
        rank, world = shard
        points = self.collocation(generator)[rank::world].clone().requires_grad_(True)
        residual = task.physics.residual(self, points)
        terms = {"pde": residual.pow(2).mean()}
        if "t" in task.axes:
            X0, u0 = self.initial
            initial = [] if self.initial_state is not None else [(self(X0) - u0).pow(2).mean()]
            if task.physics.time_order == 2:  # second order in time: u_t(t0) too (always soft)
                X0v = X0.clone().requires_grad_(True)
                velocity = derivative(self(X0v), X0v, 0)
                initial.append((velocity - task.physics.initial_velocity(columns(X0, 1), TORCH)).pow(2).mean())
            if initial:
                terms["ic"] = sum(initial)
        if not self.hard_axes and self._boundary is not None:
            Xb, ub = self._boundary
            terms["bc"] = (self(Xb) - ub).pow(2).mean()
        weights = {"pde": c["pde_weight"], "ic": c["ic_weight"], "bc": c["bc_weight"]}
        terms["loss"] = sum(weights[k] * v for k, v in terms.items())
        return terms

    @property
    def _boundary(self):
        if not hasattr(self, "_bc_cache") or (self._bc_cache and self._bc_cache[0].dtype != self.dtype):
            points, values = self.task.boundary_data()
            self._bc_cache = (self.tensor(points), self.tensor(values)) if len(points) else None
        return self._bc_cache

    # -- validation -----------------------------------------------------------------------------
    @torch.no_grad()
    def predict_grid(self) -> np.ndarray:
        points = self.tensor(self.task.grid_points())
        values = torch.cat([self(chunk) for chunk in torch.split(points, 65536)])
        return values.cpu().numpy().reshape(self.task.reference.shape)


