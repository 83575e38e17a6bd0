"""`trajectory-ae`: the autoencoder of Text2PDE's latent diffusion (Zhou et al., ICLR 2025), trained alone.

Whole trajectories are compressed to a small latent and decoded back; a latent diffusion model
(`text2pde`, `pdesuite.surrogates.text2pde`) then learns to generate those latents. Each field is
first normalised by its training mean and standard deviation (buffers, saved with the weights):

    ũ = (u - m_f) / s_f,   (μ, log σ²) = E(ũ),   z = μ + σ ε,   L = mean (D(z) - ũ)² + β KL,

* grid data (``smoke``: (T, X, Y, F)): the convolutional VAE `pdesuite.nn.conv_vae.TrajectoryVAE`;
* mesh data (``cylinder-flow``: (T, N, F) on the file's mesh): the kernel-integral (graph neural
  operator) autoencoder `pdesuite.nn.mesh_autoencoder.MeshTrajectoryAutoencoder` onto a latent grid.

Minibatches of ``batch_size`` trajectories are drawn with replacement from the trainer's generator;
rank r of w data-parallel processes takes rows r, r + w, ... of the batch.

Validation (``reconstruction_l2``, lower is better): the mean over the first ``val_samples``
trajectories of the valid split of the relative L2 error ‖D(μ) - u‖ / ‖u‖ over the whole trajectory
in physical units (the posterior mean, no sampling). `pdesuite validate` runs the ``reconstruction``
evaluator (per field, per frame, figures; `pdesuite.validation.generation`).

Shapes: u (n, T, *space, F); latents (n, C, T', *latent grid).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.base import Surrogate


def read_trajectories(path: str | os.PathLike, split: str) -> dict[str, Any]:
    """u (n, T, *space, F) float32 of one split, the fields, whether it is mesh data (then ``points``
    (N, 2) too), the per-sample params and the string ``prompt`` extra when present."""
    from pdesuite.data.reader import open_dataset, open_h5

    data = open_dataset(path)
    if split not in data.splits:
        raise BadInput(f"{path} has no split {split!r} (has: {', '.join(data.splits)})")
    with open_h5(path) as f:
        mesh = "mesh" in f
    if not mesh:
        from pdesuite.data.trajectories import load_trajectories

        loaded = load_trajectories(path, split)
        if loaded.spatial_dims != 2:
            raise BadInput(f"trajectory autoencoders take 2D grid or mesh data; {path} has "
                           f"{loaded.spatial_dims} spatial dimension(s)")
        return {"u": loaded.u, "fields": loaded.fields, "mesh": False, "params": loaded.params,
                "prompt": loaded.extras.get("prompt"), "problem": loaded.problem, "times": loaded.times}
    from pdesuite.data.graphs import read_mesh

    arrays = data.split(split)
    points, _, _ = read_mesh(path, split)
    u = np.asarray(arrays["u"], dtype=np.float32)
    if u.ndim != 4:
        raise BadInput(f"{path}: mesh data u must be (n, T, n_nodes, F), got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise BadInput(f"{path}: the {split} split contains NaN/inf values")
    names = list(arrays.get("param_names", []))
    params = {name: np.asarray(arrays["params"])[:, i].astype(np.float64) for i, name in enumerate(names)}
    prompt = None
    if "prompt" in arrays:  # DatasetFile.split reads the extras too
        prompt = [v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(arrays["prompt"])]
    return {"u": u, "fields": list(data.fields), "mesh": True, "points": np.asarray(points)[:, :2],
            "params": params, "prompt": prompt, "problem": data.attrs.get("problem", ""),
            "times": np.asarray(data.coordinates()["t"])}


@SURROGATES.register("trajectory-ae")
class TrajectoryAutoencoder(Surrogate):
    name: ClassVar[str] = "trajectory-ae"
    description: ClassVar[str] = "VAE of whole trajectories (conv for grids, kernel-integral for meshes; Text2PDE)"
    physics: ClassVar[bool] = False
    plan: ClassVar[str] = "adam-lbfgs"
    evaluator: ClassVar[str] = "reconstruction"
    validation_metric: ClassVar[str] = "reconstruction_l2"
    defaults: ClassVar[dict[str, Any]] = {
        "latent_channels": 8,        # C
        "hidden": 16,                # width of the first level
        "channel_mults": [1, 2, 4],  # grid VAE: one stride-2 step (all of t, x, y) between levels
        "blocks_per_level": 1,
        "kl_weight": 1e-6,           # β (Text2PDE: 1e-7)
        "batch_size": 4,             # trajectories per step
        "val_samples": 8,            # valid trajectories scored by validation_error
        "latent_grid": [32, 8],      # mesh data: latent grid points along x and y
        "radius": 0.0,               # mesh data: kernel-integral radius (0: 1.5 latent-grid spacings)
        "time_downsample": 1,        # mesh data: 1 or 2
    }
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        # one core: ~0.3 s per step of 4 smoke trajectories (32², 16 frames); 16 latent channels (12x
        # compression) reconstruct better than 8 (24x) at the same step count: 0.144 against 0.153
        "small": {"latent_channels": 16, "adam_steps": 1000, "lr": 2e-3, "min_lr": 1e-5, "schedule": "cosine",
                  "val_every": 200,
                  "checkpoint_every": 200, "log_every": 25},
        "gpu": {"hidden": 32, "channel_mults": [1, 2, 4], "blocks_per_level": 2, "batch_size": 16,
                "adam_steps": 6000, "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine", "val_every": 1000,
                "checkpoint_every": 1000, "log_every": 100, "val_samples": 32},
        "paper": {"hidden": 64, "channel_mults": [1, 2, 4, 4], "blocks_per_level": 2, "latent_channels": 16,
                  "kl_weight": 1e-7, "batch_size": 4, "adam_steps": 200000, "lr": 1e-4, "schedule": "constant",
                  "val_every": 5000, "checkpoint_every": 5000, "log_every": 500, "val_samples": 64},
    }
    positive_integers = ("latent_channels", "hidden", "blocks_per_level", "batch_size", "val_samples")
    non_negative_numbers = ("kl_weight", "radius")
    choices: ClassVar[dict[str, tuple]] = {"time_downsample": (1, 2)}

    @classmethod
    def from_dataset(cls, path, **config):
        return cls(None, dataset=str(path), **config)

    def __init__(self, task=None, dataset: str | None = None, **config: Any):
        super().__init__(task, **config)
        if dataset is None:
            raise BadInput(f"{self.name} is built from a dataset file (from_dataset)")
        from pdesuite.data.reader import open_dataset
        from pdesuite.data.statistics import field_statistics

        c = self.config
        if not c["channel_mults"] or any(isinstance(m, bool) or int(m) != m or m < 1 for m in c["channel_mults"]):
            raise BadInput(f"{self.name}: channel_mults must be a list of positive integers, got {c['channel_mults']}")
        self.dataset = dataset
        self.available_splits = open_dataset(dataset).splits
        if "train" not in self.available_splits:
            raise BadInput(f"{self.name} needs a train split; {dataset} has {', '.join(self.available_splits)}")
        train = read_trajectories(dataset, "train")
        self.fields, self.mesh = train["fields"], train["mesh"]
        u = train["u"]
        self.sample_shape = tuple(u.shape[1:])
        stats = field_statistics(dataset, "train")  # stored in the file (per field, over the train split)
        self.register_buffer("field_mean", torch.as_tensor(stats.mean, dtype=torch.float32))
        self.register_buffer("field_std", torch.as_tensor(np.maximum(stats.std, 1e-8), dtype=torch.float32))
        self._arrays: dict[str, dict] = {"train": train}
        if self.mesh:
            from pdesuite.nn.mesh_autoencoder import MeshTrajectoryAutoencoder

            grid = c["latent_grid"]
            if not isinstance(grid, list) or len(grid) != 2 or any(isinstance(g, bool) or int(g) != g or g < 2
                                                                   for g in grid):
                raise BadInput(f"{self.name}: latent_grid must be two integers >= 2, got {grid!r}")
            self.net = MeshTrajectoryAutoencoder(train["points"], latent_grid=tuple(int(g) for g in grid),
                                                 latent_channels=c["latent_channels"], hidden=c["hidden"],
                                                 radius=c["radius"] or None, n_fields=len(self.fields),
                                                 time_downsample=c["time_downsample"])
            self.latent_shape = tuple(self.net.latent_shape(self.sample_shape[0]))
        else:
            from pdesuite.nn.conv_vae import TrajectoryVAE

            self.net = TrajectoryVAE(len(self.fields), c["latent_channels"], c["hidden"], c["channel_mults"],
                                     c["blocks_per_level"])
            try:
                self.latent_shape = self.net.latent_shape(self.sample_shape)
            except BadInput as exc:
                raise BadInput(f"{self.name} on {dataset}: {exc}") from None

    @classmethod
    def load_run(cls, run_dir: str | os.PathLike, dataset: str | os.PathLike) -> TrajectoryAutoencoder:
        """The trained autoencoder of run folder ``run_dir`` (best weights, else the last checkpoint; eval
        mode, frozen) built on ``dataset``. Another surrogate's run, a run without weights or weights of
        another shape are bad input."""
        from pdesuite.io import RunFolder

        folder = Path(run_dir)
        if not (folder / "config.json").is_file():
            raise BadInput(f"autoencoder {run_dir} is not a run folder (no config.json)")
        run = RunFolder(folder)
        config = run.read_config()
        if config.get("surrogate") != cls.name:
            raise BadInput(f"{run_dir} is a {config.get('surrogate')!r} run, not a {cls.name} autoencoder")
        weights = run.weights()
        if not weights.is_file():
            raise BadInput(f"autoencoder {run_dir} has no weights yet (best.pt or checkpoint.pt)")
        known = cls.all_defaults()
        settings = {k: v for k, v in config.get("settings", {}).items() if k in known}
        model = cls.from_dataset(dataset, **settings)
        try:
            state = torch.load(weights, weights_only=False, map_location="cpu")
            model.load_state_dict(state["model"])
        except Exception as exc:  # a truncated or foreign file
            raise BadInput(f"cannot load the autoencoder weights {weights}: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0]}") from None
        for p in model.parameters():
            p.requires_grad_(False)
        return model.eval()

    # -- data ------------------------------------------------------------------------------------------
    def split_arrays(self, split: str) -> dict[str, Any]:
        """`read_trajectories` of this surrogate's dataset, read once."""
        if split not in self._arrays:
            arrays = read_trajectories(self.dataset, split)
            if tuple(arrays["u"].shape[1:]) != self.sample_shape or arrays["fields"] != self.fields:
                raise BadInput(f"{self.dataset}: the {split} split has trajectories {arrays['u'].shape[1:]} of "
                               f"{arrays['fields']}, the autoencoder was built for {self.sample_shape} of "
                               f"{self.fields}")
            self._arrays[split] = arrays
        return self._arrays[split]

    def normalize(self, u: torch.Tensor) -> torch.Tensor:
        return (u - self.field_mean) / self.field_std

    def denormalize(self, u: torch.Tensor) -> torch.Tensor:
        return u * self.field_std + self.field_mean

    # -- the model ---------------------------------------------------------------------------------------
    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior (μ, log σ²) of physical trajectories u (b, T, *space, F)."""
        return self.net.encode(self.normalize(u.to(self.device, self.dtype)))

    def decode_normalized(self, z: torch.Tensor) -> torch.Tensor:
        """The network's (normalised) trajectories (b, T, *space, F) of latents z (b, C, T', ...)."""
        z = z.to(self.device, self.dtype)
        return self.net.decode(z, self.sample_shape[0]) if self.mesh else self.net.decode(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Physical trajectories (b, T, *space, F) of latents z (b, C, T', ...)."""
        return self.denormalize(self.decode_normalized(z))

    @torch.no_grad()
    def encode_array(self, u: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """Posterior means (n, C, T', ...) of physical trajectories (n, T, *space, F), in batches."""
        out = [self.encode(torch.as_tensor(u[i: i + batch_size]))[0].float().cpu().numpy()
               for i in range(0, len(u), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, *self.latent_shape), np.float32)

    @torch.no_grad()
    def decode_array(self, z: np.ndarray | torch.Tensor, batch_size: int = 16) -> np.ndarray:
        """Physical trajectories (n, T, *space, F) of latents (n, C, T', ...), in batches."""
        out = [self.decode(torch.as_tensor(z[i: i + batch_size])).float().cpu().numpy()
               for i in range(0, len(z), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, *self.sample_shape), np.float32)

    def reconstruct(self, split: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(reference, reconstruction D(μ(u))) of the first ``count`` trajectories of ``split``."""
        u = self.split_arrays(split)["u"][:count]
        return u, self.decode_array(self.encode_array(u))

    # -- the trainer's interface -------------------------------------------------------------------------
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        from pdesuite.nn.conv_vae import kl_divergence

        c = self.config
        rank, world = shard
        if c["batch_size"] % world:
            raise BadInput(f"{self.name}: batch_size {c['batch_size']} is not divisible by {world} processes")
        train = self.split_arrays("train")["u"]
        picks = torch.randint(len(train), (c["batch_size"],), generator=generator)
        noise = torch.randn((c["batch_size"], *self.latent_shape), generator=generator)
        mine = torch.arange(rank, c["batch_size"], world)
        u = self.normalize(torch.as_tensor(train[picks[mine].numpy()], device=self.device, dtype=self.dtype))
        mean, logvar = self.net.encode(u)
        z = mean + torch.exp(0.5 * logvar) * noise[mine].to(mean)
        reconstruction = (self.decode_normalized(z) - u).pow(2).mean()
        kl = kl_divergence(mean, logvar)
        return {"loss": reconstruction + c["kl_weight"] * kl, "reconstruction": reconstruction, "kl": kl}

    def validation_error(self) -> float:
        split = "valid" if "valid" in self.available_splits else "test"
        reference, reconstruction = self.reconstruct(split, self.config["val_samples"])
        return float(np.mean(trajectory_l2(reconstruction, reference)))

    def predict_grid(self) -> np.ndarray:
        """The reconstruction of sample ``index`` of ``split`` (T, *space, F)."""
        u = self.split_arrays(self.config["split"])["u"]
        i = self.config["index"]
        if not 0 <= i < len(u):
            raise BadInput(f"sample {i} out of range: {self.config['split']} has {len(u)} trajectories")
        return self.decode_array(self.encode_array(u[i: i + 1]))[0]


def trajectory_l2(prediction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-trajectory relative L2 ‖p - r‖ / ‖r‖ over all times, points and fields: (n, ...) -> (n,)."""
    n = reference.shape[0]
    diff = (np.asarray(prediction, np.float64) - reference).reshape(n, -1)
    return np.linalg.norm(diff, axis=1) / np.maximum(np.linalg.norm(np.asarray(reference, np.float64).reshape(n, -1),
                                                                    axis=1), 1e-30)


def frame_l2(prediction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-trajectory, per-frame relative L2 over points and fields: (n, T, ...) -> (n, T)."""
    n, t = reference.shape[:2]
    return trajectory_l2(np.reshape(prediction, (n * t, -1)), np.reshape(reference, (n * t, -1))).reshape(n, t)
