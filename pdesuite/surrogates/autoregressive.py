"""Data-driven one-step surrogates u(t - (h-1)Δ..t) -> u(t + Δ), rolled out autoregressively.

The shared base of `unet-mse`, `pde-refiner` (PDE-Refiner, Lippe et al. 2023) and `fno` (the
Fourier-neural-operator baseline of Text2PDE, Zhou et al. 2025). It implements the data-driven side of
the surrogate interface (`physics = False`) for grid data with 1 or 2 spatial dimensions and any
number of fields F:

* **Data.** The training split of the dataset file is loaded once, as the windows of
  `pdesuite.data.TrajectoryWindows` (unnormalised); its tensor is also a non-persistent buffer
  (``train_u``), so it moves with the model to the device but is not saved. One model step Δ is
  ``time_step`` stored steps (PDE-Refiner's KS: 4 × 0.2 s ≈ 0.8 s; smoke: 1 stored frame); the input is the last
  ``history`` states at that spacing. A training pair starts at any stored step s with
  s + time_step·history < n_t, so a trajectory of n_t stored steps gives n_t - time_step·history
  pairs (KS training: 140 - 4 = 136; smoke: 16 - 1 = 15).
* **Fields are channels.** A state is (*spatial) for one field (the KS layout, unchanged) and
  (*spatial, F) for several; the network sees the window's history·F channels (state-major: the
  fields of the oldest state first) and returns F channels, one per field of the next state.
* **Minibatches.** `loss` draws ``batch_size`` pairs uniformly *with replacement* (trajectory and
  start) from the trainer's generator, plus any noise the method needs, for the whole batch; rank r
  of w data-parallel processes then takes elements r, r + w, ... of that same batch, so w processes
  follow one process (``batch_size`` must be divisible by w).
* **Budget.** ``epochs`` > 0 sets the trainer's Adam steps to epochs × ceil(n_pairs / batch_size),
  i.e. an epoch is n_pairs drawn pairs (close to PDEArena's KS epoch of n_traj × 140 random pairs);
  ``epochs = 0`` (or an explicit ``--steps``/``adam_steps``) uses ``adam_steps`` as given.
* **Difference target.** With ``predict_difference`` the network's target is
  (u(t + Δ) - u(t)) / difference_weight (PDE-Refiner: 0.3, which scales the typical KS one-step
  change to order one), and the prediction is u(t) + difference_weight · output.
* **Conditioning.** Per trajectory. On KS-like data (1D, params ``dt`` and ``L`` or per-sample
  ``x``): the stored time step dt, the grid spacing dx = L / n_x (or from ``x``) and ν (``nu``, when
  present). On other data: every parameter of the file in its order (smoke: ``buoyancy_y``), then
  the stored time step dt from the times (per-sample ``t`` or the file's /t) unless ``dt`` is a
  parameter. Each is mapped affinely so that the training split's range covers [0, 10] (a constant
  maps to 5, with a 5 %-of-value half width), using the training split's statistics kept as
  buffers — a model evaluated on another file keeps its training normalisation.
* **EMA.** Shadow weights (`pdesuite.nn.ema.EMA`, decay ``ema_decay``) updated by
  `after_step`; rollouts, validation and prediction use them.
* **Validation** (`validation_error`): the deterministic (seed 0) rollout of the first
  ``val_trajectories`` trajectories of the valid split for ``val_steps`` model steps, scored by the
  mean of 1 - Pearson correlation over trajectories and steps, the correlation of one step taken
  over all grid points and fields ("rollout_decorrelation"; lower is better, 0 = perfectly
  correlated). `pdesuite validate` reports the full rollout metrics (the ``rollout`` evaluator,
  `pdesuite.validation.rollout`); `AutoregressiveSurrogate.rollout_split` gives whole rolled-out
  splits to other evaluations (e.g. Text2PDE's trajectory relative L2 against a generative model).

Subclasses give `build_network`, `objective` (the loss of a batch), `draw` (the batch's
randomness) and `predict_next` (one model step); `to_channels` and `from_channels` convert between
states and network channels.

Shapes:
    states: (batch, *state) per time, state = (n_x,) for KS, (n_x, n_y, F) for smoke; windows
    (batch, history, *state); rollouts (batch, steps, *state); network input
    (batch, history·F, *spatial), output (batch, F, *spatial).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from pdesuite.data.torch_dataset import TrajectoryWindows
from pdesuite.errors import BadInput
from pdesuite.nn.ema import EMA
from pdesuite.nn.unet import UNet
from pdesuite.nn.unet_pdearena import PDEArenaUNet, relative_to_cumulative
from pdesuite.surrogates.base import Surrogate
from pdesuite.surrogates.task import Task

#: Settings shared by the autoregressive surrogates (PDE-Refiner's KS configuration).
AUTOREGRESSIVE_DEFAULTS: dict[str, Any] = {
    "architecture": "modern",       # modern (pdesuite.nn.UNet) | pdearena (the authors' Unetmod, PDEArenaUNet)
    "hidden": 64,                   # U-Net base width (paper: Unetmod-1d-64)
    "channel_mults": [1, 2, 4, 16],  # widths relative to hidden (PDEArena's cumulative (1, 2, 2, 4))
    "blocks_per_level": 2,
    "norm_groups": 8,
    "history": 1,                   # input states (PDE-Refiner KS: time_history 1)
    "time_step": 4,                 # stored steps per model step (0.8 s for KS)
    "predict_difference": True,
    "difference_weight": 0.3,
    "ema_decay": 0.995,
    "batch_size": 128,
    "epochs": 0,                    # > 0: adam_steps = epochs × ceil(n_pairs / batch_size)
    "val_trajectories": 4,          # validation during training: rollouts of this many valid trajectories
    "val_steps": 40,                # ... over this many model steps
}

#: The U-Net's own settings among them (a surrogate with another network, e.g. `fno`, leaves them out).
UNET_SETTINGS = ("architecture", "hidden", "channel_mults", "blocks_per_level", "norm_groups")
#: The settings every autoregressive surrogate has, whatever its network.
SHARED_DEFAULTS: dict[str, Any] = {k: v for k, v in AUTOREGRESSIVE_DEFAULTS.items() if k not in UNET_SETTINGS}

CONDITIONS = ("dt", "dx", "nu")
ARCHITECTURES = ("modern", "pdearena")


class AutoregressiveSurrogate(Surrogate):
    """Base of the one-step data-driven surrogates (see the module docstring)."""

    physics: ClassVar[bool] = False
    validation_metric: ClassVar[str] = "rollout_decorrelation"
    evaluator: ClassVar[str] = "rollout"
    #: Extra scalar conditions the network takes after the data's (the refiner: the refinement step).
    extra_conditions: ClassVar[int] = 0
    #: Rollouts depend on the generator (sampling noise): enables the uncertainty estimate.
    stochastic: ClassVar[bool] = False

    def __init__(self, task: Task, **config: Any):
        super().__init__(task, **config)
        c = self.config
        self.history, self.time_step = int(c["history"]), int(c["time_step"])
        self.fields: list[str] | None = None  # set below, once the training split is read
        train = self.trajectories("train")
        u = train["u"]  # (n, n_t, *state)
        self.n_train, n_t = u.shape[:2]
        self.spatial: tuple[int, ...] = tuple(train["spatial"])
        self.n_x = self.spatial[0]
        self.n_fields = len(train["fields"])
        self.fields = list(train["fields"])
        self.n_starts = n_t - self.time_step * self.history
        if self.n_starts < 1:
            raise BadInput(f"history {self.history} × time_step {self.time_step} does not fit the {n_t} stored "
                           f"steps of the training trajectories in {task.dataset}")
        self.condition_names = list(train["conditions"])
        raw = self.condition_array(train, task.dataset)  # (n, n_c)
        low, high = raw.min(axis=0), raw.max(axis=0)
        center = 0.5 * (low + high)
        half = np.maximum(0.5 * (high - low), np.maximum(0.05 * np.abs(center), 1e-12))
        self.register_buffer("cond_center", torch.as_tensor(center, dtype=torch.float32))
        self.register_buffer("cond_half", torch.as_tensor(half, dtype=torch.float32))
        # the training windows share the split already read (one field: the field axis back as a view)
        self.windows = TrajectoryWindows(task.dataset, "train", history=self.history, horizon=1, step=self.time_step,
                                         normalize=False, values=u[..., None] if self.n_fields == 1 else u)
        del train["u"], u
        # the same tensor as a buffer, so that it moves with the model (`training_windows` follows it)
        self.register_buffer("train_u", self.windows.u[..., 0] if self.n_fields == 1 else self.windows.u,
                             persistent=False)
        self.register_buffer("train_cond", torch.as_tensor(raw, dtype=torch.float32), persistent=False)
        from pdesuite.data.trajectories import splits

        valid = self.trajectories("valid" if "valid" in splits(task.dataset) else task.split)
        n_val = min(int(c["val_trajectories"]), valid["u"].shape[0])
        val_u = valid["u"][:n_val, :: self.time_step]
        if val_u.shape[1] < self.history + 1:
            raise BadInput(f"history {self.history} × time_step {self.time_step} leaves no step to predict in the "
                           f"{valid['u'].shape[1]}-step evaluation trajectories of {task.dataset}")
        val_raw = self.condition_array(valid, task.dataset)[:n_val]
        self.register_buffer("val_u", torch.as_tensor(val_u, dtype=torch.float32), persistent=False)
        self.register_buffer("val_cond", torch.as_tensor(val_raw, dtype=torch.float32), persistent=False)
        self.steps_per_epoch = math.ceil(self.n_train * self.n_starts / int(c["batch_size"]))
        if c["epochs"] > 0:  # the derived budget (the plan's adam_steps, see adjust_plan)
            c["adam_steps"] = int(c["epochs"]) * self.steps_per_epoch
        self.net = self.build_network(len(self.condition_names) + self.extra_conditions)
        self.ema = EMA(self.net, c["ema_decay"])

    # -- configuration and data ---------------------------------------------------------------------
    @classmethod
    def configure(cls, settings: dict[str, Any], explicit: set[str]) -> dict[str, Any]:
        """An explicit step count (``--steps``, ``--set adam_steps``) replaces a budget in epochs."""
        if "adam_steps" in explicit:
            settings = {**settings, "epochs": 0}
        return settings

    @classmethod
    def estimate_memory(cls, settings: dict[str, Any], dataset) -> float:
        """The training split held in memory (float32, twice: numpy and torch) and the valid rollouts."""
        total = 0.0
        for split in ("train", "valid"):
            shape = dataset.shape(f"{split}/u")
            if shape is not None:
                total += 2 * 4 * float(np.prod(shape, dtype=np.float64))
        return total

    def adjust_plan(self, settings: dict[str, Any]) -> dict[str, Any]:
        """``epochs`` > 0: adam_steps = epochs × ceil(n_pairs / batch_size)."""
        if self.config["epochs"] > 0:
            return {**settings, "adam_steps": self.config["adam_steps"]}
        return settings

    @classmethod
    def resolve_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        c = super().resolve_config(config)
        positive = ("hidden", "blocks_per_level", "norm_groups", "history", "time_step", "batch_size",
                    "val_trajectories", "val_steps")
        for key in positive:
            if key in c and (isinstance(c[key], bool) or int(c[key]) != c[key] or c[key] < 1):
                raise BadInput(f"{cls.name}: {key} must be a positive integer, got {c[key]!r}")
        if int(c["epochs"]) != c["epochs"] or c["epochs"] < 0:
            raise BadInput(f"{cls.name}: epochs must be a non-negative integer, got {c['epochs']!r}")
        if "channel_mults" in c:  # the U-Net's settings
            if not c["channel_mults"] or any(int(m) != m or m < 1 for m in c["channel_mults"]):
                raise BadInput(f"{cls.name}: channel_mults must be a list of positive integers, "
                               f"got {c['channel_mults']}")
            if c["architecture"] not in ARCHITECTURES:
                raise BadInput(f"{cls.name}: unknown architecture {c['architecture']!r} "
                               f"(known: {', '.join(ARCHITECTURES)})")
            if c["architecture"] == "pdearena":
                try:
                    relative_to_cumulative(c["channel_mults"])
                except ValueError as exc:
                    raise BadInput(f"{cls.name}: the pdearena U-Net needs {exc}") from None
        if not 0 <= c["ema_decay"] < 1:
            raise BadInput(f"{cls.name}: ema_decay must lie in [0, 1), got {c['ema_decay']}")
        if not c["difference_weight"] > 0:
            raise BadInput(f"{cls.name}: difference_weight must be positive, got {c['difference_weight']}")
        return c

    def trajectories(self, split: str, index: int | None = None, path=None) -> dict[str, Any]:
        """u (n, n_t, *state) float32 and the per-sample conditions of one split of this surrogate's
        dataset (or of ``path``), see `load_trajectories`; once the model is built, data with other
        fields or another number of spatial dimensions than it learned are bad input."""
        path = path or self.task.dataset
        data = load_trajectories(path, split, self.name, index=index)
        if self.fields is not None and (len(data["fields"]) != self.n_fields
                                        or len(data["spatial"]) != len(self.spatial)):
            raise BadInput(f"{self.name} learned {self.n_fields} field(s) {self.fields} on a {len(self.spatial)}D "
                           f"grid; {path} has {len(data['fields'])} field(s) {data['fields']} on a "
                           f"{len(data['spatial'])}D grid")
        return data

    def condition_array(self, data: dict[str, Any], path=None) -> np.ndarray:
        """This model's raw conditions (n, n_c), in `condition_names` order, from `trajectories` output."""
        missing = [name for name in self.condition_names if name not in data["conditions"]]
        if missing:
            raise BadInput(f"{self.name} is conditioned on {', '.join(self.condition_names)}; "
                           f"{path or 'the data'} lacks {', '.join(missing)}")
        return np.stack([data["conditions"][name] for name in self.condition_names], axis=1)

    # -- the method ---------------------------------------------------------------------------------
    @abstractmethod
    def build_network(self, n_conditions: int) -> nn.Module:
        """The network (called once in __init__, after the data are loaded)."""

    @abstractmethod
    def objective(self, x: torch.Tensor, y: torch.Tensor, cond: torch.Tensor,
                  noise: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Loss terms ("loss": the total) for inputs x (b, history·F, *spatial), targets y
        (b, F, *spatial) (channels, `to_channels`), scaled conditions (b, n_c) and this shard's part of
        `draw`'s randomness."""

    def draw(self, batch: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Randomness of one training batch (drawn for the whole batch on every rank)."""
        return {}

    @abstractmethod
    def predict_next(self, window: torch.Tensor, cond: torch.Tensor,
                     generator: torch.Generator | None = None, averaged: bool = True) -> torch.Tensor:
        """u(t + Δ) (b, *state) from the window (b, history, *state) and scaled conditions (b, n_c)."""

    # -- helpers for subclasses ---------------------------------------------------------------------
    def to_channels(self, states: torch.Tensor) -> torch.Tensor:
        """States (b, k, *state) -> network channels (b, k·F, *spatial), state-major (unchanged for one field)."""
        if self.n_fields == 1:
            return states
        return states.movedim(-1, 2).flatten(1, 2)

    def from_channels(self, z: torch.Tensor) -> torch.Tensor:
        """Network channels (b, F, *spatial) -> one state (b, *state)."""
        return z[:, 0] if self.n_fields == 1 else z.movedim(1, -1)

    def make_unet(self, in_states: int, n_conditions: int) -> nn.Module:
        """The configured U-Net (``architecture``) from ``in_states`` states (in_states·F channels) to
        one output state (F channels), on the data's 1 or 2 spatial dimensions."""
        c = self.config
        factor = 2 ** (len(c["channel_mults"]) - 1)
        if any(n % factor for n in self.spatial):
            raise BadInput(f"{self.name}: {len(c['channel_mults'])} U-Net levels need every spatial size divisible "
                           f"by {factor}, {self.task.dataset} has {' × '.join(map(str, self.spatial))} points")
        dim, fields = len(self.spatial), self.n_fields
        if c["architecture"] == "pdearena":
            return PDEArenaUNet(in_states * fields, fields, hidden=c["hidden"], cumulative_mults=relative_to_cumulative(
                c["channel_mults"]), blocks_per_level=c["blocks_per_level"], n_conditions=n_conditions, dim=dim,
                norm_groups=c["norm_groups"])
        return UNet(in_states * fields, fields, hidden=c["hidden"], channel_mults=c["channel_mults"],
                    blocks_per_level=c["blocks_per_level"], n_conditions=n_conditions, dim=dim,
                    norm_groups=c["norm_groups"])

    def scale_conditions(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw (b, n_c) conditions (KS: dt, dx[, ν]) -> [0, 10] over the training range."""
        return 5.0 + 5.0 * (raw.to(self.cond_center) - self.cond_center) / self.cond_half

    def encode_target(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Target channels (b, F, *spatial) from the input x (b, history·F, *spatial) and the next state y."""
        c = self.config
        return (y - x[:, -self.n_fields :]) / c["difference_weight"] if c["predict_difference"] else y

    def decode_target(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The next state's channels (b, F, *spatial) from the input x and the network's output z."""
        c = self.config
        return x[:, -self.n_fields :] + c["difference_weight"] * z if c["predict_difference"] else z

    def network(self, averaged: bool, *args: Any) -> torch.Tensor:
        """The network's output with the EMA weights (``averaged``) or the trained ones."""
        return self.ema.call(self.net, *args) if averaged else self.net(*args)

    @property
    def parameter_count(self) -> int:
        """Real trainable numbers of the network (a complex weight counts twice)."""
        return sum(p.numel() * (2 if p.is_complex() else 1) for p in self.net.parameters() if p.requires_grad)

    # -- the trainer's interface --------------------------------------------------------------------
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        batch = int(self.config["batch_size"])
        traj = torch.randint(self.n_train, (batch,), generator=generator)
        start = torch.randint(self.n_starts, (batch,), generator=generator)
        noise = self.draw(batch, generator)
        rank, world = shard
        mine = torch.arange(rank, batch, world)
        window = self.training_windows().gather(traj[mine], start[mine])  # (b, h + 1, *spatial, F)
        window = window[..., 0] if self.n_fields == 1 else window  # (b, h + 1, *state)
        cond = self.scale_conditions(self.train_cond[traj[mine].to(self.device)])
        noise = {k: v[mine].to(self.device, self.dtype) for k, v in noise.items()}
        return self.objective(self.to_channels(window[:, : self.history]), self.to_channels(window[:, self.history :]),
                              cond, noise)

    def training_windows(self) -> TrajectoryWindows:
        """The training windows (`pdesuite.data.TrajectoryWindows`) over the `train_u` buffer as it is now:
        moving the model (``to``) replaces its buffers, so the windows are pointed at the current one."""
        self.windows.u = self.train_u[..., None] if self.n_fields == 1 else self.train_u
        return self.windows

    def after_step(self) -> None:
        self.ema.update(self.net)

    @torch.no_grad()
    def rollout(self, initial: torch.Tensor, raw_cond: torch.Tensor, steps: int,
                generator: torch.Generator | None = None, averaged: bool = True) -> torch.Tensor:
        """``steps`` autoregressive model steps from ``initial`` (b, history, *state) -> (b, steps, *state).

        ``raw_cond`` (b, n_c) holds the trajectories' conditions as stored (`condition_names`);
        ``generator`` drives the method's sampling noise (a fixed seed gives a reproducible rollout).
        """
        window = initial.to(self.device, self.dtype)
        cond = self.scale_conditions(raw_cond.to(self.device, self.dtype))
        out = []
        for _ in range(steps):
            nxt = self.predict_next(window, cond, generator, averaged)
            out.append(nxt)
            window = torch.cat([window[:, 1:], nxt[:, None]], dim=1)
        return torch.stack(out, dim=1)

    def validation_error(self) -> float:
        steps = min(int(self.config["val_steps"]), self.val_u.shape[1] - self.history)
        pred = self.rollout(self.val_u[:, : self.history], self.val_cond, steps, torch.Generator().manual_seed(0))
        ref = self.val_u[:, self.history : self.history + steps]
        return float((1.0 - pearson(pred.flatten(2), ref.flatten(2))).mean())

    @torch.no_grad()
    def rollout_split(self, split: str, frames: int | None = None, generator: torch.Generator | None = None,
                      batch: int = 64, path=None, data: dict[str, Any] | None = None) -> np.ndarray:
        """Every trajectory of ``split`` rolled out from its first ``history`` model steps.

        At the model's time resolution v = u[:, ::time_step] (every ``time_step``-th stored state),
        with h = ``history`` and f one model step (`predict_next`):

            û[:, k] = v[:, k] for k < h,   û[:, k] = f(û[:, k-h], ..., û[:, k-1]) for h <= k < frames,

        ``frames`` defaulting to the data's length (more extrapolate). The first frames therefore equal
        the reference exactly, and the same trajectories can be scored against any other model's
        (whole-trajectory and per-frame errors). ``generator`` drives the sampling noise (default: seed
        0, reproducible); ``batch`` trajectories are rolled out at a time. ``path`` reads the split of
        another file, ``data`` passes it already read (`trajectories`).

        Shapes:
            returns: (n, frames, *spatial, F), float, also for one field (KS: (n, frames, n_x, 1)).
        """
        data = self.trajectories(split, path=path) if data is None else data
        u = data["u"][:, :: self.time_step]
        h = self.history
        total = u.shape[1] if frames is None else frames
        if isinstance(total, bool) or not isinstance(total, int | np.integer) or total <= h:
            raise BadInput(f"{self.name}: frames must be an integer above history {h}, got {frames!r}")
        if u.shape[1] < h:
            raise BadInput(f"the {split} trajectories of {self.task.dataset} have {u.shape[1]} model steps, fewer "
                           f"than history {h}")
        initial, raw = torch.as_tensor(u[:, :h]), torch.as_tensor(self.condition_array(data, path or self.task.dataset))
        generator = torch.Generator().manual_seed(0) if generator is None else generator
        parts = []
        for i in range(0, initial.shape[0], batch):
            pred = self.rollout(initial[i : i + batch], raw[i : i + batch], int(total) - h, generator)
            parts.append(torch.cat([initial[i : i + batch].to(pred), pred], dim=1).cpu())
        out = torch.cat(parts).numpy()
        return out[..., None] if self.n_fields == 1 else out

    @torch.no_grad()
    def predict_grid(self) -> np.ndarray:
        """Rollout of the task's sample from its first ``history`` model steps (those copied from the
        reference), at the model's time resolution: shaped like ``task.reference[::time_step]``."""
        reference = self.task.reference[:: self.time_step]
        state = reference[..., 0] if self.n_fields == 1 else reference
        ref = torch.as_tensor(state, dtype=self.dtype)[None]
        data = self.trajectories(self.task.split, index=self.task.index)
        raw = torch.as_tensor(self.condition_array(data, self.task.dataset))
        steps = ref.shape[1] - self.history
        pred = self.rollout(ref[:, : self.history], raw, steps, torch.Generator().manual_seed(0))
        full = torch.cat([ref[:, : self.history].to(pred), pred], dim=1)[0].cpu().numpy()
        return full[..., None] if self.n_fields == 1 else full


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation over the last axis: (..., n) × (..., n) -> (...)."""
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    return (a * b).sum(-1) / torch.sqrt((a * a).sum(-1) * (b * b).sum(-1)).clamp_min(1e-30)


def load_trajectories(path, split: str, who: str = "this surrogate", index: int | None = None) -> dict[str, Any]:
    """One split's trajectories and per-sample conditions, checked for what the autoregressive
    surrogates need (grid data on 1 or 2 spatial dimensions, at least two stored steps), read by
    `pdesuite.data`. The conditions are those of the module docstring: dt, dx[, ν] on KS-like data
    (1D, params ``dt`` and ``L`` or per-sample ``x``), otherwise every parameter and the stored time
    step dt = t_1 - t_0 (unless ``dt`` is a parameter).

    Returns:
        {"u": (n, n_t, *state) float32 — state (n_x,) [or (n_x, n_y)] for one field, (*spatial, F) for
         several —, "conditions": name -> (n,) float64, "fields": field names, "spatial": grid sizes,
         "x": (n, n_x) or None, "t": (n, n_t) or None, "params": dict of (n,) arrays}.
    """
    from pdesuite.data.trajectories import load_trajectories as load
    from pdesuite.data.trajectories import splits

    present = splits(path)
    if split not in present:
        raise BadInput(f"{who} trains on whole trajectories with their per-sample time step and parameters and "
                       f"needs a {split!r} split; {path} has {present}")
    data = load(path, split, index=index)
    u, names, values = data.u, list(data.params), data.params
    if u.ndim not in (4, 5):
        raise BadInput(f"{who} learns fields on a 1D or 2D grid (u of shape (n, n_t, *spatial, n_fields)); {path} "
                       f"has fields {data.fields} and u of shape {(None, *u.shape[1:])}")
    if u.shape[1] < 2:
        raise BadInput(f"{who} learns time steps; the {split} trajectories of {path} have {u.shape[1]} stored step")
    if u.ndim == 4 and "dt" in names and ("L" in names or data.x is not None):  # KS-like: CONDITIONS
        dx = values["L"] / u.shape[2] if "L" in values else data.x[:, 1] - data.x[:, 0]
        conditions = {"dt": values["dt"], "dx": np.asarray(dx, dtype=np.float64)}
        if "nu" in values:
            conditions["nu"] = values["nu"]
    else:
        conditions = {name: np.asarray(values[name], dtype=np.float64) for name in names}
        if "dt" not in conditions:
            times = data.t if data.t is not None else np.broadcast_to(data.times, (u.shape[0], len(data.times)))
            conditions["dt"] = np.asarray(times[:, 1] - times[:, 0], dtype=np.float64)
    state = u[..., 0] if len(data.fields) == 1 else u
    return {"u": state, "conditions": conditions, "fields": list(data.fields), "spatial": tuple(u.shape[2:-1]),
            "x": data.x, "t": data.t, "params": values}
