"""Physics-Informed Gaussians (Kang et al., ICLR 2025).

u_θ(X) = MLP(φ(X)) with φ the trainable Gaussian-mixture embedding of `pdesuite.nn.GaussianEmbedding`
(means, covariances and features all trained, so the Gaussians move to where the solution needs
them) and a tiny MLP (one hidden layer). The physics loss is the PINN's (PDE residual by autograd,
initial and boundary data); only the function representation differs.

Inputs are mapped onto [-1, 1]^d before the Gaussians, as the paper's code maps every axis onto
[0, grid_range]; σ₀ is therefore relative to the box (the paper's σ₀ × 2 / grid_range). A periodic
axis (Allen-Cahn's x) enters as (cos, sin) of its phase, so the Gaussians live on a cylinder and the
representation is exactly periodic, as the PINN's input embedding is.

Paper settings (`profiles["paper"]`, from the authors' scripts; reference-setups §6): Helmholtz 800
Gaussians, σ₀ = 0.1, 4 features, MLP 16 hidden, 10k collocation points, L-BFGS 2001 iterations,
residual weighted 1e-4 against the boundary term (the script's f_scale); flow mixing 4000 Gaussians,
σ₀ = 0.1, Adam 1e-2, 50k steps; Klein-Gordon 100 Gaussians, σ₀ = 0.5, Adam 1e-2, 50k;
nonlinear diffusion 4000 Gaussians, σ₀ = 0.1 on its [0, 1] box (0.2 here), Adam 1e-3, 100k. The
three Adam cases decay the rate 0.9 every 2000 steps and redraw the points every 100 steps.

The `small` profile (2 CPU cores, about a minute a run; docs/training.md) keeps the paper's σ₀ and
optimiser family but fewer Gaussians and points: Adam only, also for Helmholtz, because L-BFGS on
the frozen collocation points over-fits them (PIG has more parameters than 512-1024 points: measured
7.4e-2 -> 2.7e-1 in 150 L-BFGS iterations).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from pdesuite.errors import BadInput
from pdesuite.nn.gaussians import GaussianEmbedding
from pdesuite.nn.mlp import MLP
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.pinn import HELMHOLTZ_WEIGHTS, PINN
from pdesuite.surrogates.task import Task

#: The paper's Adam cases (JAX scripts): learning rate × 0.9 every 2000 steps (≈ × 0.1 over 50k
#: steps, our "exponential" schedule), collocation points redrawn every 100 steps.
PAPER_ADAM = {"schedule": "exponential", "resample_every": 100, "lbfgs_steps": 0}


@SURROGATES.register("pig")
class PIG(PINN):
    name: ClassVar[str] = "pig"
    description: ClassVar[str] = "Physics-Informed Gaussians: trainable Gaussian-mixture features + tiny MLP"
    defaults: ClassVar[dict[str, Any]] = {
        **PINN.defaults, "n_gaussians": 400, "sigma": 0.1, "gaussian_features": 4, "covariance": "diagonal",
        "mlp_width": 16, "mlp_depth": 1,
        # the paper's practice and every PIG result in docs/training.md: uniform points, redrawn
        # (the PINN's fixed Hammersley default was not measured with the Gaussians)
        "sampler": "uniform",
    }
    positive_integers: ClassVar[tuple[str, ...]] = (*PINN.positive_integers, "n_gaussians", "gaussian_features",
                                                    "mlp_width", "mlp_depth")
    positive_numbers: ClassVar[tuple[str, ...]] = (*PINN.positive_numbers, "sigma")
    choices: ClassVar[dict[str, tuple]] = {**PINN.choices, "covariance": ("diagonal", "full")}
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {"n_gaussians": 200, "n_collocation": 512, "adam_steps": 1500, "lr": 1e-2, "lbfgs_steps": 0,
                  "val_every": 100, "checkpoint_every": 100, "resample_every": 1,
                  # σ₀ no smaller than the mean spacing of the Gaussians, (box volume / K)^(1/d), so the
                  # initial mixture has no holes: the paper's σ₀ where its K allows (Helmholtz 0.1 at a
                  # spacing of 0.14, Klein-Gordon 0.5 at 0.43), 0.3 for 200 Gaussians in 3D (spacing
                  # 0.34; the paper's 0.1-0.2 go with 4000), 0.2 on Allen-Cahn's (t, cos πx, sin πx)
                  "problems": {
                      "helmholtz-2d": {**HELMHOLTZ_WEIGHTS, "hard_bc": True},
                      "klein-gordon": {"n_gaussians": 100, "sigma": 0.5},
                      "flow-mixing": {"sigma": 0.3},
                      "nonlinear-diffusion": {"sigma": 0.3},
                      "allen-cahn": {"sigma": 0.2},
                  }},
        # one GPU session (docs/gpu.md): the paper's mixtures and point counts, a fifth of its Adam steps
        # (the learning rate still decays 0.9 every 2000 steps, so a cut run is not left at a high rate)
        "gpu": {
            "n_collocation": 10000, "val_every": 500, "checkpoint_every": 1000, "log_every": 100,
            "problems": {
                "helmholtz-2d": {"n_gaussians": 800, "sigma": 0.1, "adam_steps": 0, "lbfgs_steps": 2001,
                                 **HELMHOLTZ_WEIGHTS},
                "flow-mixing": {"n_gaussians": 4000, "sigma": 0.1, "lr": 1e-2, "adam_steps": 10000, **PAPER_ADAM},
                "klein-gordon": {"n_gaussians": 100, "sigma": 0.5, "lr": 1e-2, "adam_steps": 10000, **PAPER_ADAM},
                "nonlinear-diffusion": {"n_gaussians": 4000, "sigma": 0.2, "lr": 1e-3, "adam_steps": 20000,
                                        **PAPER_ADAM},
                "allen-cahn": {"sigma": 0.2, "n_gaussians": 4000, "lr": 1e-3, "adam_steps": 10000, **PAPER_ADAM},
            },
        },
        "paper": {
            "n_collocation": 10000, "val_every": 500, "checkpoint_every": 1000, "log_every": 100,
            "problems": {
                "helmholtz-2d": {"n_gaussians": 800, "sigma": 0.1, "adam_steps": 0, "lbfgs_steps": 2001,
                                 **HELMHOLTZ_WEIGHTS},
                "flow-mixing": {"n_gaussians": 4000, "sigma": 0.1, "lr": 1e-2, "adam_steps": 50000, **PAPER_ADAM},
                "klein-gordon": {"n_gaussians": 100, "sigma": 0.5, "lr": 1e-2, "adam_steps": 50000, **PAPER_ADAM},
                "nonlinear-diffusion": {"n_gaussians": 4000, "sigma": 0.2, "lr": 1e-3, "adam_steps": 100000,
                                        **PAPER_ADAM},
            },
        },
    }

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        c = self.config
        bounds = task.bounds()
        periodic = torch.tensor([p is not None for p in self.embed.periods])
        low = torch.tensor([bounds[a][0] for a in task.axes])
        high = torch.tensor([bounds[a][1] for a in task.axes])
        # non-periodic inputs are mapped onto [-1, 1] (σ₀ is relative to the box, whatever its physical
        # size: t ∈ [0, 10] for Klein-Gordon); periodic ones become (cos, sin) of their phase
        self.register_buffer("box_center", torch.where(periodic, 0.0, (low + high) / 2), persistent=False)
        self.register_buffer("box_scale", torch.where(periodic, 1.0, 2 / (high - low)), persistent=False)
        # the PINN's networks after its periodic embedding are replaced: Gaussian features, then a tiny MLP
        self.fourier = None
        d = self.embed.out_features
        self.gaussians = GaussianEmbedding(d, c["n_gaussians"], c["gaussian_features"], c["sigma"],
                                           [-1.0] * d, [1.0] * d, c["covariance"])
        self.net = MLP(c["gaussian_features"], len(task.fields), c["mlp_width"], c["mlp_depth"], "tanh")

    def check_task(self, task: Task) -> None:
        super().check_task(task)
        if self.config["n_gaussians"] < 1:
            raise BadInput(f"n_gaussians must be positive, got {self.config['n_gaussians']}")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.constrain(X, self.net(self.gaussians(self.embed((X - self.box_center) * self.box_scale))))
