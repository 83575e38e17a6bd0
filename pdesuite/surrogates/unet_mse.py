"""One-step U-Net trained with the MSE loss: PDE-Refiner's baseline (Lippe et al. 2023, §4.1).

The network f_θ maps the last ``history`` states (spaced by one model step Δ) and the conditions
(dt, dx[, ν]) to the scaled change over the next step; with ``predict_difference``

    z = (u(t + Δ) - u(t)) / w,   L(θ) = E ‖f_θ(u(t - (h-1)Δ..t), dt, dx, ν) - z‖²,
    û(t + Δ) = u(t) + w f_θ(...),

w = ``difference_weight`` (0.3 in the paper), otherwise z = u(t + Δ). Rollouts apply the step
repeatedly. Pairs, conditioning, EMA weights and the budget in epochs are shared with
`pde-refiner` (`pdesuite.surrogates.autoregressive`).

Shapes:
    window (batch, history, *state) -> next state (batch, *state); state (n_x,) for KS, (n_x, n_y, F) for
    smoke, whose F fields are the U-Net's channels (history·F in, F out).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from pdesuite.registry import SURROGATES
from pdesuite.surrogates.autoregressive import AUTOREGRESSIVE_DEFAULTS, AutoregressiveSurrogate

#: Smoke (32², 16 frames, 3 fields): one frame in, one stored frame per model step.
SMOKE = {"history": 1, "time_step": 1, "val_trajectories": 4, "val_steps": 15}

#: CPU profile (measured on one core, see docs/pde-refiner.md); a GPU profile: the authors' U-Net at half
#: width (13.5 M parameters, ~8 minutes on one H100 for 12k steps, docs/gpu.md); PDE-Refiner's own
#: configuration (the authors' Unetmod-1d-64: 53.9 M parameters, GroupNorm over all channels).
#: On ``smoke`` (Text2PDE's autoregressive U-Net baseline): small 1,063,107 parameters (fno's smoke profile
#: 1,048,773; 1200 steps, about 6 minutes on one core, as long as text2pde's DiT trains), gpu 9,522,243
#: (fno 9,431,913), paper
#: Text2PDE's U-Net (ldm_pdes ``configs/ns2D/baselines/unet.yaml``: hidden 128, PDEArena mults (1, 2, 2, 4),
#: lr 1e-4 cosine, 150 epochs of batch 32, gradient norm clipped at 1; 586,225,027 parameters; our U-Nets pad
#: circularly and the fields are not normalised, unlike Text2PDE's).
PROFILES: dict[str, dict[str, Any]] = {
    "small": {"hidden": 8, "channel_mults": [1, 2, 2, 4], "blocks_per_level": 1, "batch_size": 32,
              "epochs": 0, "adam_steps": 1500, "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine",
              "ema_decay": 0.99, "val_every": 250, "checkpoint_every": 250, "log_every": 25,
              "val_trajectories": 4, "val_steps": 40,
              "problems": {"smoke": {**SMOKE, "hidden": 16, "channel_mults": [1, 2, 4, 4], "blocks_per_level": 1,
                                     "batch_size": 16, "adam_steps": 1200, "val_every": 200,
                                     "checkpoint_every": 200, "log_every": 50}}},
    "gpu": {"architecture": "pdearena", "hidden": 32, "channel_mults": [1, 2, 4, 16], "blocks_per_level": 2,
            "norm_groups": 1, "batch_size": 128, "epochs": 0, "adam_steps": 12000, "lr": 1e-3, "min_lr": 1e-5,
            "schedule": "cosine", "ema_decay": 0.995, "val_every": 2000, "checkpoint_every": 1000,
            "log_every": 100, "val_trajectories": 16, "val_steps": 80,
            "problems": {"smoke": {**SMOKE, "architecture": "modern", "hidden": 48, "channel_mults": [1, 2, 4, 4],
                                   "blocks_per_level": 1, "norm_groups": 8, "batch_size": 32, "val_trajectories": 16}}},
    "paper": {"architecture": "pdearena", "norm_groups": 1,
              "hidden": 64, "channel_mults": [1, 2, 4, 16], "blocks_per_level": 2, "batch_size": 128,
              "epochs": 400, "lr": 1e-4, "min_lr": 1e-6, "schedule": "cosine", "ema_decay": 0.995,
              "val_every": 10000, "checkpoint_every": 5000, "log_every": 500, "val_trajectories": 16,
              "val_steps": 160,
              "problems": {"smoke": {**SMOKE, "hidden": 128, "batch_size": 32, "epochs": 150, "val_trajectories": 16,
                                     "val_steps": 55, "grad_clip": 1.0}}},
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
        x = self.to_channels(window)
        return self.from_channels(self.decode_target(x, self.network(averaged, x, cond)))
