"""Physics-Informed Gaussians (Kang et al., ICLR 2025).

u_θ(X) = MLP(φ(X)) with φ the trainable Gaussian-mixture embedding of `pdesuite.nn.GaussianEmbedding`
(means, covariances and features all trained, so the Gaussians move to where the solution needs
them) and a tiny MLP (one hidden layer). The physics loss is the PINN's (PDE residual by autograd,
initial and boundary data); only the function representation differs.

Paper settings (`profiles["paper"]`, from the authors' scripts): Helmholtz 800 Gaussians, σ₀ = 0.1,
4 features, MLP 16 hidden, 10k collocation points, L-BFGS 2001 iterations; flow mixing 4000
Gaussians, Adam 1e-2, 50k steps; Klein-Gordon 100 Gaussians, σ₀ = 0.5, Adam 1e-2, 50k;
nonlinear diffusion 4000 Gaussians, Adam 1e-3, 100k.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from pdesuite.errors import BadInput
from pdesuite.nn.gaussians import GaussianEmbedding
from pdesuite.nn.mlp import MLP
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.pinn import PINN
from pdesuite.surrogates.task import Task


@SURROGATES.register("pig")
class PIG(PINN):
    name: ClassVar[str] = "pig"
    description: ClassVar[str] = "Physics-Informed Gaussians: trainable Gaussian-mixture features + tiny MLP"
    defaults: ClassVar[dict[str, Any]] = {
        **PINN.defaults, "n_gaussians": 400, "sigma": 0.1, "gaussian_features": 4, "covariance": "diagonal",
        "mlp_width": 16, "mlp_depth": 1,
    }
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {"n_gaussians": 300, "n_collocation": 4096, "adam_steps": 1000, "lr": 1e-2, "lbfgs_steps": 300,
                  "val_every": 100, "checkpoint_every": 100, "resample_every": 1},
        "paper": {
            "n_collocation": 10000, "val_every": 500, "checkpoint_every": 1000, "log_every": 100,
            "problems": {
                "helmholtz-2d": {"n_gaussians": 800, "sigma": 0.1, "adam_steps": 0, "lbfgs_steps": 2001},
                "flow-mixing": {"n_gaussians": 4000, "sigma": 0.1, "lr": 1e-2, "adam_steps": 50000},
                "klein-gordon": {"n_gaussians": 100, "sigma": 0.5, "lr": 1e-2, "adam_steps": 50000},
                "nonlinear-diffusion": {"n_gaussians": 4000, "sigma": 0.1, "lr": 1e-3, "adam_steps": 100000},
            },
        },
    }

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        c = self.config
        bounds = task.bounds()
        low = [bounds[a][0] for a in task.axes]
        high = [bounds[a][1] for a in task.axes]
        # the PINN's networks are replaced: Gaussian features, then a tiny MLP
        self.embed = nn.Identity()
        self.fourier = None
        self.gaussians = GaussianEmbedding(len(task.axes), c["n_gaussians"], c["gaussian_features"], c["sigma"],
                                           low, high, c["covariance"])
        self.net = MLP(c["gaussian_features"], len(task.fields), c["mlp_width"], c["mlp_depth"], "tanh")

    def check_task(self, task: Task) -> None:
        super().check_task(task)
        if self.config["n_gaussians"] < 1:
            raise BadInput(f"n_gaussians must be positive, got {self.config['n_gaussians']}")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(self.gaussians(X))
