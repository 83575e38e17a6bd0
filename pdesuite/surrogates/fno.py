"""One-step Fourier neural operator trained with the MSE loss: Text2PDE's FNO baseline (Zhou et al. 2025).

The same one-step autoregressive scheme as `unet-mse` (`pdesuite.surrogates.autoregressive`: pairs,
difference target, conditioning, EMA weights, rollouts, validation) with a Fourier neural operator
(Li et al. 2021; the `neuraloperator` package's ``FNO``) as the network f_θ. With
``predict_difference``

    z = (u(t + Δ) - u(t)) / w,   L(θ) = E ‖f_θ([u(t - (h-1)Δ..t), c]) - z‖²,
    û(t + Δ) = u(t) + w f_θ(...),

w = ``difference_weight``. The conditions c (the scaled [0, 10] values of the base, divided by 10)
enter as constant extra input channels; the FNO adds its own grid-coordinate channels
(``positional_embedding="grid"``). Each of its ``n_layers`` Fourier layers keeps the lowest
``n_modes`` modes per spatial dimension, on ``width`` hidden channels:

    v ← σ(W v + F⁻¹(R · F v)),   R: (width × width) complex weights per kept mode.

Text2PDE's smoke baseline (ldm_pdes ``configs/ns2D/baselines/fno.yaml``) is 24 modes, width 192,
6 layers, one input frame of the three fields, lr 1e-4 (cosine), 250 epochs of batch 32: the
``paper`` profile on ``smoke``. Its own FNO conditions the spectral weights on the buoyancy; ours
takes the conditions as channels (the `neuraloperator` FNO as it is), so parameter counts differ.

The FFT treats every grid as periodic; smoke lives in a closed box (walls), which the grid channels
let the network see.

Shapes:
    window (batch, history, *state) -> next state (batch, *state); the network maps
    (batch, history·F + n_conditions, *spatial) -> (batch, F, *spatial).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from pdesuite.errors import BadInput, MissingDependency
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.autoregressive import SHARED_DEFAULTS
from pdesuite.surrogates.unet_mse import UNetMSE

INSTALL = "pip install neuraloperator==2.0.0"


def fno_class() -> type:
    """`neuralop.models.FNO`, imported on first use (MissingDependency with the install line if absent)."""
    try:
        from neuralop.models import FNO
    except ImportError as exc:
        raise MissingDependency(f"the fno surrogate needs the neuraloperator package ({INSTALL}): {exc}") from None
    return FNO


class ConditionedFNO(nn.Module):
    """A `neuralop` FNO on the states' channels and the conditions as constant channels.

    Args:
        in_channels, out_channels: State channels in (history·F) and out (F).
        n_conditions: Scalar conditions, pre-scaled to about [0, 10].
        dim: Spatial dimensions (1 or 2).
        n_modes: Fourier modes kept per spatial dimension.
        width: Hidden channels.
        n_layers: Fourier layers.

    Shapes:
        x: (batch, in_channels, *spatial); cond: (batch, n_conditions); returns (batch, out_channels, *spatial).
    """

    def __init__(self, in_channels: int, out_channels: int, n_conditions: int, dim: int, n_modes: int,
                 width: int, n_layers: int):
        super().__init__()
        self.dim, self.n_conditions = dim, n_conditions
        self.fno = fno_class()(n_modes=(n_modes,) * dim, in_channels=in_channels + n_conditions,
                               out_channels=out_channels, hidden_channels=width, n_layers=n_layers)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The tensors only: neuralop's models also write their constructor arguments under the key
        "_metadata" at the top of the whole state dict, which the surrogate could not load back."""
        state = super().state_dict(*args, **kwargs)
        state.pop("_metadata", None)
        return state

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        planes = (cond.to(x) / 10.0)[(..., *([None] * self.dim))].expand(-1, -1, *x.shape[2:])
        return self.fno(torch.cat([x, planes], dim=1))


#: Smoke (32², 16 frames, 3 fields): one frame in, one stored frame per model step.
SMOKE = {"history": 1, "time_step": 1, "val_trajectories": 4, "val_steps": 15}

#: Parameters are real numbers (a complex spectral weight counts twice). CPU profile (KS: a small FNO; smoke:
#: 1,048,773 parameters against unet-mse's 1,063,107; 1200 steps as unet-mse, about 4 minutes on one core);
#: gpu (smoke: 9,431,913 against unet-mse's 9,522,243); paper: Text2PDE's smoke baseline (24 modes, width 192,
#: 6 layers, lr 1e-4 cosine, 250 epochs of batch 32, gradient norm clipped at 1; 138.6 M parameters in the
#: neuraloperator FNO on smoke). Unlike Text2PDE, the fields are not normalised.
PROFILES: dict[str, dict[str, Any]] = {
    "small": {"n_modes": 16, "width": 32, "n_layers": 4, "batch_size": 32, "epochs": 0, "adam_steps": 1500,
              "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine", "ema_decay": 0.99, "val_every": 250,
              "checkpoint_every": 250, "log_every": 25, "val_trajectories": 4, "val_steps": 40,
              "problems": {"smoke": {**SMOKE, "n_modes": 16, "width": 30, "n_layers": 4, "batch_size": 16,
                                     "adam_steps": 1200, "val_every": 200, "checkpoint_every": 200,
                                     "log_every": 50}}},
    "gpu": {"n_modes": 32, "width": 64, "n_layers": 4, "batch_size": 128, "epochs": 0, "adam_steps": 12000,
            "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine", "ema_decay": 0.995, "val_every": 2000,
            "checkpoint_every": 1000, "log_every": 100, "val_trajectories": 16, "val_steps": 80,
            "problems": {"smoke": {**SMOKE, "n_modes": 16, "width": 90, "n_layers": 4, "batch_size": 32,
                                   "val_trajectories": 16}}},
    "paper": {"n_modes": 24, "width": 192, "n_layers": 6, "batch_size": 32, "epochs": 250, "lr": 1e-4,
              "min_lr": 1e-6, "schedule": "cosine", "ema_decay": 0.995, "val_every": 10000,
              "checkpoint_every": 5000, "log_every": 500, "val_trajectories": 16, "val_steps": 160,
              "problems": {"smoke": {**SMOKE, "val_trajectories": 16, "val_steps": 55, "grad_clip": 1.0}}},
}


@SURROGATES.register("fno")
class FNOSurrogate(UNetMSE):
    """One-step FNO (see the module docstring): L(θ) = E ‖f_θ([u(t - (h-1)Δ..t), c]) - z‖², z the scaled
    difference; `unet-mse`'s objective and step with this network; settings ``n_modes``, ``width``,
    ``n_layers`` and the autoregressive base's shared ones.

    Shapes:
        window (batch, history, *state) -> next state (batch, *state).
    """

    name: ClassVar[str] = "fno"
    description: ClassVar[str] = "one-step Fourier neural operator (neuraloperator), MSE on the scaled difference"
    defaults: ClassVar[dict[str, Any]] = {**SHARED_DEFAULTS, "n_modes": 16, "width": 64, "n_layers": 4}
    profiles: ClassVar[dict[str, dict[str, Any]]] = PROFILES

    @classmethod
    def resolve_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        c = super().resolve_config(config)
        for key in ("n_modes", "width", "n_layers"):
            if isinstance(c[key], bool) or not isinstance(c[key], int) or c[key] < 1:
                raise BadInput(f"fno: {key} must be a positive integer, got {c[key]!r}")
        return c

    def _apply(self, fn, recurse: bool = True):
        """`nn.Module.to` casts complex tensors to a real dtype by dropping the imaginary part; the FNO's
        spectral weights (and their EMA shadows) are complex, so they are cast as (..., 2) real views
        and stay complex (float32 -> complex64, float64 -> complex128)."""
        def keep_complex(t: torch.Tensor) -> torch.Tensor:
            if t.is_complex():
                out = fn(torch.view_as_real(t))
                return torch.view_as_complex(out.contiguous()) if out.is_floating_point() else out
            return fn(t)

        return super()._apply(keep_complex, recurse)

    def build_network(self, n_conditions: int) -> nn.Module:
        c = self.config
        return ConditionedFNO(self.history * self.n_fields, self.n_fields, n_conditions, len(self.spatial),
                              int(c["n_modes"]), int(c["width"]), int(c["n_layers"]))

