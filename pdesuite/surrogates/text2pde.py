"""`text2pde`: latent diffusion over whole trajectories (Zhou et al., "Text2PDE", ICLR 2025).

A trained trajectory autoencoder (`trajectory-ae`, the ``autoencoder`` setting names its run folder)
maps every trajectory u of the dataset to the mean μ(u) of its latent posterior; the latents are
scaled to unit standard deviation, x_0 = μ(u) / s (s: the training latents' standard deviation, the
LDM "scale factor"). A diffusion transformer f_θ (`pdesuite.nn.dit.LatentDiT`) learns the DDPM
objective on those latents:

    t ~ U{0..N-1},  ε ~ N(0, I),  x_t = α_t x_0 + σ_t ε,
    L(θ) = E ‖f_θ(x_t, t, c) - y‖²,   y = ε (``prediction = eps``) or α_t ε - σ_t x_0 (``v``),

on Text2PDE's discrete schedule (N = 1000 linear betas 8.5e-4 .. 0.012; `pdesuite.diffusion`). The
condition c (``conditioning``):

* ``first-frame``: the autoencoder's latent of the first frame held for the whole trajectory,
  concatenated to x_t channel-wise (the model then predicts how that frame evolves);
* ``text``: the trajectory's prompt (the dataset's ``prompt`` extra) embedded by a frozen sentence
  encoder (`pdesuite.nn.sentence_encoder`, 384 numbers), standardised per component over the training
  prompts, driving the adaptive layer norms with the timestep; in training a prompt is replaced by a
  learned null embedding with probability ``cond_dropout``, so classifier-free guidance (Ho & Salimans
  2022) can sharpen the condition at sampling time: f = f_∅ + w (f_c - f_∅), w = ``guidance``;
* ``none``: unconditional.

Generation draws x_T ~ N(0, I) and integrates with one of the project's samplers (``sampler``,
``nfe`` evaluations; `pdesuite.diffusion.make_sampler`: ddpm, ddim, dpm-solver++, unipc, the
heavy-ball ones, ...), then decodes x_0 s with the autoencoder: the whole trajectory at once, no
autoregressive rollout. A first-frame model returns the given first frame as frame 0 (as a rollout
does). Shadow (EMA) weights of the DiT are used for generation.

Validation (``generation_l2``, lower is better): the mean relative L2 over whole trajectories of
``val_samples`` generated valid trajectories (seed 0, the configured sampler). `pdesuite validate`
runs the ``trajectory-generation`` evaluator (`pdesuite.validation.generation`).

Shapes: latents (n, C, T', X', Y'); text embeddings (n, 384); trajectories (n, T, *space, F).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from pdesuite.errors import BadInput
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.base import Surrogate
from pdesuite.surrogates.trajectory_autoencoder import TrajectoryAutoencoder, trajectory_l2

#: Text2PDE's denoising schedule (1000 linear betas 8.5e-4 .. 0.012).
SCHEDULE: dict[str, Any] = {"name": "ddpm-linear", "beta_start": 8.5e-4, "beta_end": 0.012, "num_train_steps": 1000}
CONDITIONINGS = ("first-frame", "text", "none")


@SURROGATES.register("text2pde")
class Text2PDE(Surrogate):
    name: ClassVar[str] = "text2pde"
    description: ClassVar[str] = "latent diffusion transformer over whole trajectories, first-frame or text conditioned"
    physics: ClassVar[bool] = False
    plan: ClassVar[str] = "adam-lbfgs"
    evaluator: ClassVar[str] = "trajectory-generation"
    validation_metric: ClassVar[str] = "generation_l2"
    defaults: ClassVar[dict[str, Any]] = {
        "autoencoder": "",             # run folder of a trajectory-ae trained on this dataset
        "conditioning": "first-frame",  # first-frame | text | none
        "size": "small",               # pdesuite.nn.dit.SIZES
        "patch": [1, 2, 2],            # space-time patch (t, x, y) of the latent
        "prediction": "eps",           # eps | v
        "noise_schedule": dict(SCHEDULE),
        "cond_dropout": 0.1,           # text: probability of the null prompt in training
        "guidance": 1.0,               # text: classifier-free guidance weight w (1: plain conditional)
        "sampler": "dpm-solver++",     # generation sampler (pdesuite list samplers)
        "nfe": 25,                     # its model evaluations
        "batch_size": 16,
        "ema_decay": 0.999,
        "val_samples": 8,
        "text_embeddings": "",         # a table from `pdesuite embed-prompts` (machines without the encoder)
    }
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {"adam_steps": 2500, "lr": 1e-3, "min_lr": 1e-5, "schedule": "cosine", "val_every": 500,
                  "checkpoint_every": 500, "log_every": 50, "ema_decay": 0.995},
        "gpu": {"size": "gpu", "batch_size": 64, "adam_steps": 20000, "lr": 3e-4, "min_lr": 1e-6,
                "schedule": "cosine", "val_every": 2000, "checkpoint_every": 2000, "log_every": 200,
                "val_samples": 32},
        "paper": {"size": "paper", "batch_size": 4, "adam_steps": 600000, "lr": 1e-5, "schedule": "constant",
                  "val_every": 10000, "checkpoint_every": 10000, "log_every": 1000, "val_samples": 64},
    }
    positive_integers = ("batch_size", "val_samples", "nfe")
    non_negative_numbers = ("guidance",)
    choices: ClassVar[dict[str, tuple]] = {"conditioning": CONDITIONINGS, "prediction": ("eps", "v")}

    @classmethod
    def from_dataset(cls, path, **config):
        return cls(None, dataset=str(path), **config)

    @classmethod
    def check_settings(cls, settings: dict[str, Any]) -> None:
        super().check_settings(settings)
        if not 0.0 <= settings["cond_dropout"] < 1.0:
            raise BadInput(f"text2pde: cond_dropout must lie in [0, 1), got {settings['cond_dropout']!r}")
        if not 0.0 <= settings["ema_decay"] < 1.0:
            raise BadInput(f"text2pde: ema_decay must lie in [0, 1), got {settings['ema_decay']!r}")
        if not settings["autoencoder"]:
            raise BadInput("text2pde needs a trained autoencoder: --set autoencoder=RUNDIR (train trajectory-ae first)")
        from pdesuite.registry import SAMPLERS

        SAMPLERS.get(settings["sampler"])  # an unknown sampler is bad input here, before training

    def __init__(self, task=None, dataset: str | None = None, **config: Any):
        super().__init__(task, **config)
        if dataset is None:
            raise BadInput(f"{self.name} is built from a dataset file (from_dataset)")
        from pdesuite.data.reader import open_dataset
        from pdesuite.diffusion import get_schedule
        from pdesuite.nn.dit import SIZES, LatentDiT
        from pdesuite.nn.ema import EMA

        c = self.config
        if c["size"] not in SIZES:
            raise BadInput(f"text2pde: unknown size {c['size']!r} (known: {', '.join(SIZES)})")
        self.dataset = dataset
        self.run_folder: str | None = None  # where searched sampler schedules are looked up by name (schedules/)
        self.available_splits = open_dataset(dataset).splits
        self.schedule = get_schedule(c["noise_schedule"])
        if not self.schedule.discrete:
            raise BadInput(f"text2pde trains on a discrete DDPM schedule, got {self.schedule.name!r}")
        try:
            self.autoencoder = TrajectoryAutoencoder.load_run(c["autoencoder"], dataset)
        except BadInput as exc:
            raise BadInput(f"text2pde: {exc}") from None
        latent = self.autoencoder.latent_shape
        self.latent_shape = tuple(latent)
        context = latent[0] if c["conditioning"] == "first-frame" else 0
        cond_dim = 0
        object.__setattr__(self, "_text", None)
        if c["conditioning"] == "text":
            if self.autoencoder.split_arrays("train")["prompt"] is None:
                raise BadInput(f"text2pde with text conditioning needs prompts; {dataset} has none (regenerate it: "
                               "smoke and cylinder-flow samples carry them)")
            # not a submodule: the frozen encoder is no part of the state dict, checkpoints or .to(device)
            object.__setattr__(self, "_text", self.text_encoder())
            cond_dim = int(self._text.dim)
        try:
            self.net = LatentDiT.from_size(c["size"], latent[0], latent[1:], c["patch"], context_channels=context,
                                           cond_dim=cond_dim)
        except BadInput as exc:
            raise BadInput(f"text2pde: {exc}") from None
        self.ema = EMA(self.net, c["ema_decay"])
        # sentence vectors of prompts that differ in a few words are nearly parallel (cosines ~0.9): the
        # network sees them standardised over the training prompts, so those differences are O(1)
        train = self.latents("train")
        if cond_dim:
            self.register_buffer("text_mean", torch.as_tensor(train["text"].mean(axis=0)))
            self.register_buffer("text_std", torch.as_tensor(np.maximum(train["text"].std(axis=0), 1e-6)))
        self.register_buffer("latent_scale", torch.tensor(float(np.std(train["x0"])) or 1.0))

    # -- conditioning data ---------------------------------------------------------------------------
    def text_encoder(self):
        from pdesuite.nn.sentence_encoder import text_encoder

        return text_encoder(self.config["text_embeddings"] or None)

    def embed(self, prompts: list[str]) -> np.ndarray:
        """Sentence embeddings (n, d) of ``prompts``; a model trained without text refuses them."""
        if self.config["conditioning"] != "text":
            raise BadInput(f"this text2pde model is conditioned on {self.config['conditioning']}, not on text: "
                           "it takes no prompt")
        return self._text.embed(list(prompts))  # blank prompts are refused there (check_prompts)

    def latents(self, split: str) -> dict[str, Any]:
        """A split's encoded data, computed once: x0 (n, C, T', ...) unscaled posterior means, the
        first-frame latents and the prompt embeddings where the conditioning needs them."""
        cache = self.__dict__.setdefault("_latent_cache", {})
        if split not in cache:
            ae = self.autoencoder
            arrays = ae.split_arrays(split)
            u = arrays["u"]
            entry: dict[str, Any] = {"x0": ae.encode_array(u)}
            if self.config["conditioning"] == "first-frame":
                entry["context"] = ae.encode_array(np.repeat(u[:, :1], u.shape[1], axis=1))
            if self.config["conditioning"] == "text":
                if arrays["prompt"] is None:
                    raise BadInput(f"text2pde with text conditioning needs prompts; the {split} split of "
                                   f"{self.dataset} has none (regenerate it: smoke and cylinder-flow carry them)")
                entry["prompts"] = list(arrays["prompt"])
                entry["text"] = self.embed(entry["prompts"])
            cache[split] = entry
        return cache[split]

    def conditions(self, split: str, rows: np.ndarray | torch.Tensor) -> dict[str, torch.Tensor]:
        """The network's conditioning keywords for rows of a split (scaled like x0)."""
        data, rows = self.latents(split), np.asarray(rows)
        if self.config["conditioning"] == "first-frame":
            return {"context": self.tensor(data["context"][rows]) / self.latent_scale}
        if self.config["conditioning"] == "text":
            return {"cond_vector": self.text_vector(data["text"][rows])}
        return {}

    def text_vector(self, embeddings: np.ndarray) -> torch.Tensor:
        """The network's condition for sentence embeddings (n, d): standardised per component over the
        training prompts."""
        return (self.tensor(embeddings) - self.text_mean) / self.text_std

    # -- training ------------------------------------------------------------------------------------
    def loss(self, generator: torch.Generator, shard: tuple[int, int] = (0, 1)) -> dict[str, torch.Tensor]:
        c = self.config
        rank, world = shard
        if c["batch_size"] % world:
            raise BadInput(f"text2pde: batch_size {c['batch_size']} is not divisible by {world} processes")
        train = self.latents("train")
        b = c["batch_size"]
        picks = torch.randint(len(train["x0"]), (b,), generator=generator)
        steps = torch.randint(self.schedule.num_train_steps, (b,), generator=generator)
        noise = torch.randn((b, *self.latent_shape), generator=generator)
        drop = torch.rand(b, generator=generator) < c["cond_dropout"]
        mine = torch.arange(rank, b, world)
        rows = picks[mine].numpy()
        x0 = self.tensor(train["x0"][rows]) / self.latent_scale
        t = steps[mine].to(torch.float64)
        alpha = torch.exp(self.schedule.log_alpha(t)).to(x0).view(-1, *[1] * (x0.dim() - 1))
        sigma = torch.exp(self.schedule.log_sigma(t)).to(x0).view(-1, *[1] * (x0.dim() - 1))
        eps = noise[mine].to(x0)
        cond = self.conditions("train", rows)
        if c["conditioning"] == "text":
            cond["drop"] = drop[mine].to(self.device)
        out = self.net(alpha * x0 + sigma * eps, t.to(x0), **cond)
        target = eps if c["prediction"] == "eps" else alpha * eps - sigma * x0
        return {"loss": (out - target).pow(2).mean()}

    def after_step(self) -> None:
        self.ema.update(self.net)

    # -- generation ----------------------------------------------------------------------------------
    def sampler(self, name=None, nfe: int | None = None):
        """The configured sampler (or ``name`` with ``nfe`` evaluations) on this model's schedule.

        ``name`` may also be a schedule searched for this model (`pdesuite.diffusion.search`): a
        ``.json`` file, as a path or by file name in the run folder's ``schedules/`` (``run_folder``,
        set by whoever loaded the run), or a loaded `SearchedSchedule`; or a built `Sampler` on this
        model's noise schedule. A schedule searched for other weights, another noise schedule or
        prediction type, or with another NFE than ``nfe`` is refused in one line.
        """
        from pdesuite.diffusion import Sampler, make_sampler
        from pdesuite.diffusion.searched import SearchedSchedule, is_searched, load_searched, schedule_fingerprint

        if isinstance(name, Sampler):
            if schedule_fingerprint(name.schedule) != schedule_fingerprint(self.schedule) or \
                    name.prediction != self.config["prediction"]:
                raise BadInput(f"text2pde: a sampler for this model must use its noise schedule "
                               f"{self.schedule.name!r} and prediction {self.config['prediction']!r}")
            if nfe is not None and name.steps is not None and nfe != name.steps:
                raise BadInput(f"text2pde: the sampler given spends {name.steps} NFE, not {nfe}")
            return name
        if isinstance(name, SearchedSchedule) or (isinstance(name, str) and is_searched(name)):
            found = name if isinstance(name, SearchedSchedule) else load_searched(name, self.run_folder)
            if nfe is not None and nfe != found.nfe:
                raise BadInput(f"text2pde: searched schedule {found.name!r} spends {found.nfe} NFE, not {nfe}")
            return found.build(self.schedule, prediction=self.config["prediction"], fingerprint=self.fingerprint())
        name, nfe = name or self.config["sampler"], self.config["nfe"] if nfe is None else nfe
        if isinstance(nfe, bool) or not isinstance(nfe, int) or nfe < 1:
            raise BadInput(f"text2pde: nfe must be a positive integer, got {nfe!r}")
        if nfe > self.schedule.num_train_steps:
            raise BadInput(f"text2pde: nfe {nfe} exceeds the schedule's {self.schedule.num_train_steps} steps")
        return make_sampler(name, schedule=self.schedule.config(), steps=nfe, prediction=self.config["prediction"])

    @torch.no_grad()
    def generate_latents(self, cond: dict[str, torch.Tensor], n: int, *, sampler: str | None = None,
                         nfe: int | None = None, guidance: float | None = None,
                         generator: torch.Generator | None = None) -> torch.Tensor:
        """x_0 s (n, C, T', ...) sampled from pure noise under the conditioning keywords ``cond``."""
        from pdesuite.diffusion import ClassifierFreeGuidance

        chosen = self.sampler(sampler, nfe)
        x = torch.randn((n, *self.latent_shape), generator=generator, dtype=self.dtype).to(self.device)

        def model(x: torch.Tensor, t: torch.Tensor, **kw: Any) -> torch.Tensor:
            return self.ema.call(self.net, x, t, **kw)

        w = self.config["guidance"] if guidance is None else float(guidance)
        call = model
        if self.config["conditioning"] == "text" and w != 1.0:
            call = ClassifierFreeGuidance(model, w, uncond={"cond_vector": cond["cond_vector"],
                                                            "drop": torch.ones(n, dtype=torch.bool,
                                                                               device=self.device)})
        return chosen.sample(call, x, generator=generator, **cond) * self.latent_scale

    def generate(self, split: str, rows=None, *, prompts: list[str] | None = None, sampler: str | None = None,
                 nfe: int | None = None, guidance: float | None = None, generator: torch.Generator | None = None,
                 batch_size: int = 32) -> np.ndarray:
        """Generated trajectories (n, T, *space, F) for ``rows`` of ``split`` (their first frames or
        prompts), or for ``prompts`` given as text (text-conditioned models only)."""
        if prompts is not None:
            vectors = self.embed(prompts)
            conds = [{"cond_vector": self.text_vector(vectors[i: i + batch_size])}
                     for i in range(0, len(prompts), batch_size)]
        else:
            n = len(self.latents(split)["x0"])
            rows = np.arange(n) if rows is None else np.asarray(rows)
            conds = [self.conditions(split, rows[i: i + batch_size]) for i in range(0, len(rows), batch_size)]
        generator = generator or torch.Generator().manual_seed(0)
        out = []
        for cond in conds:
            n_rows = next(iter(cond.values())).shape[0] if cond else min(batch_size, len(rows))
            z = self.generate_latents(cond, n_rows, sampler=sampler, nfe=nfe, guidance=guidance, generator=generator)
            out.append(self.autoencoder.decode_array(z))
        generated = np.concatenate(out)
        if prompts is None and self.config["conditioning"] == "first-frame":
            generated[:, 0] = self.autoencoder.split_arrays(split)["u"][rows, 0]  # the given frame, as a rollout has it
        return generated

    def validation_error(self) -> float:
        split = "valid" if "valid" in self.available_splits else "test"
        rows = np.arange(min(self.config["val_samples"], len(self.latents(split)["x0"])))
        generated = self.generate(split, rows)
        reference = self.autoencoder.split_arrays(split)["u"][rows]
        return float(np.mean(trajectory_l2(generated, reference)))

    def predict_grid(self) -> np.ndarray:
        """The generated trajectory for sample ``index`` of ``split`` (T, *space, F)."""
        n = len(self.latents(self.config["split"])["x0"])
        i = self.config["index"]
        if not 0 <= i < n:
            raise BadInput(f"sample {i} out of range: {self.config['split']} has {n} trajectories")
        return self.generate(self.config["split"], [i])[0]
