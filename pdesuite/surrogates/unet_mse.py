"""One-step U-Net trained with the MSE loss: PDE-Refiner's baseline (Lippe et al. 2023, §4.1).

The network f_θ maps the last ``history`` states (spaced by one model step Δ) and the conditions
(dt, dx[, ν]) to the scaled change over the next step; with ``predict_difference``

    z = (u(t + Δ) - u(t)) / w,   L(θ) = E ‖f_θ(u(t - (h-1)Δ..t), dt, dx, ν) - z‖²,
    û(t + Δ) = u(t) + w f_θ(...),

w = ``difference_weight`` (0.3 in the paper), otherwise z = u(t + Δ). Rollouts apply the step
repeatedly. Pairs, conditioning, EMA weights and the budget in epochs are shared with
`pde-refiner` (`pdesuite.surrogates.autoregressive`).

Shapes:
    window (batch, history, n_x) -> next state (batch, n_x).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from pdesuite.registry import SURROGATES
from pdesuite.surrogates.autoregressive import AUTOREGRESSIVE_DEFAULTS, AutoregressiveSurrogate

#: CPU profile (measured on one core, see docs/pde-refiner.md); a GPU profile: the authors' U-Net at half
#: width (13.5 M parameters, ~8 minutes on one H100 for 12k steps, docs/gpu.md); PDE-Refiner's own
#: configuration (the authors' Unetmod-1d-64: 53.9 M parameters, GroupNorm over all channels).
PROFILES: dict[str, dict[str, Any]] = {
    "small": {"hidden": 8, "channel_mults": [1, 2, 2, 4], "blocks_per_level": 1, "batch_size": 32,
              "epochs": 0, "adam_steps": 1500, "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine",
              "ema_decay": 0.99, "val_every": 250, "checkpoint_every": 250, "log_every": 25,
              "val_trajectories": 4, "val_steps": 40},
    "gpu": {"architecture": "pdearena", "hidden": 32, "channel_mults": [1, 2, 4, 16], "blocks_per_level": 2,
            "norm_groups": 1, "batch_size": 128, "epochs": 0, "adam_steps": 12000, "lr": 1e-3, "min_lr": 1e-5,
            "schedule": "cosine", "ema_decay": 0.995, "val_every": 2000, "checkpoint_every": 1000,
            "log_every": 100, "val_trajectories": 16, "val_steps": 80},
    "paper": {"architecture": "pdearena", "norm_groups": 1,
              "hidden": 64, "channel_mults": [1, 2, 4, 16], "blocks_per_level": 2, "batch_size": 128,
              "epochs": 400, "lr": 1e-4, "min_lr": 1e-6, "schedule": "cosine", "ema_decay": 0.995,
              "val_every": 10000, "checkpoint_every": 5000, "log_every": 500, "val_trajectories": 16,
              "val_steps": 160},
}


@SURROGATES.register("unet-mse")
class UNetMSE(AutoregressiveSurrogate):
    name: ClassVar[str] = "unet-mse"
    description: ClassVar[str] = "one-step modern U-Net, MSE on the scaled difference (PDE-Refiner's baseline)"
    defaults: ClassVar[dict[str, Any]] = dict(AUTOREGRESSIVE_DEFAULTS)
    profiles: ClassVar[dict[str, dict[str, Any]]] = PROFILES

    def build_network(self, n_conditions: int) -> nn.Module:
        return self.make_unet(self.history, n_conditions)

    def objective(self, x: torch.Tensor, y: torch.Tensor, cond: torch.Tensor,
                  noise: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"loss": (self.net(x, cond) - self.encode_target(x, y)).pow(2).mean()}

    def predict_next(self, window: torch.Tensor, cond: torch.Tensor,
                     generator: torch.Generator | None = None, averaged: bool = True) -> torch.Tensor:
        return self.decode_target(window, self.network(averaged, window, cond))[:, 0]
