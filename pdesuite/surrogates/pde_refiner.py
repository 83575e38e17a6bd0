"""PDE-Refiner (Lippe, Veeling, Perdikaris, Turner & Brandstetter, NeurIPS 2023).

A one-step surrogate that refines its own prediction in K denoising steps, so that it also learns
the low-amplitude (mostly high-wavenumber) modes an MSE-trained model neglects. With z the
(scaled difference) target of `unet-mse`, x the input window and c the conditions, step
k = 0..K of the refinement has the noise variance

    σ_0² = 1,   σ_k² ≈ min_noise_std^(k/K)  (k ≥ 1),       α_k = sqrt(1 - σ_k²),

exactly σ_k² = 1 - ᾱ with ᾱ = Π (1 - β) the DDPM products of β_n = min_noise_std^(n/K), n ≥ k
(β_0 = 1), as in the authors' code (a diffusers ``DDPMScheduler`` with these ``trained_betas``,
which numbers the steps the other way round: its index K - k). For the paper's K = 3 and
min_noise_std = 4e-7 (which therefore acts as a *variance*):

    | k (here)                | 0 | 1      | 2       | 3      |
    | σ_k² = 1 - ᾱ            | 1 | 7.4e-3 | 5.47e-5 | 4.0e-7 |
    | σ_k                     | 1 | 0.086  | 7.4e-3  | 6.3e-4 |

**Training** (v-prediction, Salimans & Ho 2022): draw k uniformly from {0..K} (so the pure-noise
step k = 0 — the MSE-like prediction — has probability 1/(K+1)), ε ~ N(0, I) and minimise

    ‖f_θ([x, α_k z + σ_k ε], c, k) - (α_k ε - σ_k z)‖².

**Prediction** (one model step) is `pdesuite.diffusion`'s DDPM sampler on this table
(`refiner_schedule`: a `DiscreteVP` from the betas above, pure noise at t = K; `refiner_sampler`):
start from z̃_0 = ε (pure noise); at step k the network's v gives ẑ = α_k z̃_k - σ_k v; at k = 0 this
is the MSE-like prediction -v. Unless k = K, the next input is drawn from the DDPM posterior
q(z̃_{k+1} | z̃_k, ẑ) (Ho et al. 2020, Eq. 7), i.e. ẑ renoised to variance ≈ σ_{k+1}²
(mean (σ'/σ) e^{-h} z̃_k + α'(1 - e^{-2h}) ẑ, variance σ'²(1 - e^{-2h}) with e^{-2h} =
α²σ'²/(σ²α'²); `pdesuite.diffusion.ddpm.posterior_coefficients`); after step K the estimate ẑ is the
prediction u(t) + w ẑ. That is K + 1 network calls per model step. The noise comes from the
caller's generator (drawn on its device), so a seeded rollout is reproducible, and several seeds
give the samples of the paper's uncertainty estimate.

The refinement step enters the network as a fourth scalar condition, 10 k / K.

Shapes:
    window (batch, history, *state) -> next state (batch, *state) (KS: state = (n_x,)); the network
    sees (batch, (history + 1)·F, *spatial) channels: the window's and the noisy target's.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, ClassVar

import torch
from torch import nn

from pdesuite.diffusion.base import Sampler
from pdesuite.diffusion.ddpm import DDPM
from pdesuite.diffusion.schedules import DiscreteVP
from pdesuite.errors import BadInput
from pdesuite.registry import SURROGATES
from pdesuite.surrogates.autoregressive import AUTOREGRESSIVE_DEFAULTS, AutoregressiveSurrogate
from pdesuite.surrogates.unet_mse import PROFILES


def refiner_schedule(num_refinement_steps: int, min_noise_std: float) -> DiscreteVP:
    """The authors' DDPM table as a schedule: time n = K - k for refinement step k.

    β_n = min_noise_std^((K-n)/K), n = 0..K (β_0 = min_noise_std, β_K = 1: pure noise at t = K, a
    zero-terminal-SNR table) and ᾱ_n = Π_{j<=n} (1 - β_j).
    """
    K = num_refinement_steps
    return DiscreteVP([min_noise_std ** ((K - n) / K) for n in range(K + 1)], name="pde-refiner")


def refiner_alpha_bars(num_refinement_steps: int, min_noise_std: float) -> list[float]:
    """ᾱ_k = α_k² for k = 0..K (k = 0: pure noise, ᾱ = 0); σ_k² = 1 - ᾱ_k (`refiner_schedule` read backwards)."""
    return refiner_schedule(num_refinement_steps, min_noise_std).alphas_cumprod.flip(0).tolist()


@lru_cache(maxsize=8)
def refiner_sampler(num_refinement_steps: int, min_noise_std: float) -> DDPM:
    """The refinement chain: DDPM ("small" posterior variance) over every level t = K, ..., 0 of
    `refiner_schedule`, then the clean point, for a v-predicting model: K + 1 evaluations, K noise draws."""
    K = num_refinement_steps
    return DDPM(refiner_schedule(K, min_noise_std), timesteps=list(range(K, -1, -1)), final_sigma_zero=True,
                prediction="v", variance="small")


@SURROGATES.register("pde-refiner")
class PDERefiner(AutoregressiveSurrogate):
    name: ClassVar[str] = "pde-refiner"
    description: ClassVar[str] = "PDE-Refiner: one-step U-Net refined by K denoising steps (v-prediction)"
    defaults: ClassVar[dict[str, Any]] = {**AUTOREGRESSIVE_DEFAULTS, "num_refinement_steps": 3,
                                          "min_noise_std": 4e-7,
                                          "uncertainty_samples": 0}  # pdesuite validate: S >= 2 extra rollouts
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "small": {**PROFILES["small"], "uncertainty_samples": 4},
        "gpu": {**PROFILES["gpu"], "uncertainty_samples": 4},
        "paper": {**PROFILES["paper"], "num_refinement_steps": 3, "min_noise_std": 4e-7, "uncertainty_samples": 8},
    }
    extra_conditions: ClassVar[int] = 1
    stochastic: ClassVar[bool] = True

    def __init__(self, task, **config: Any):
        super().__init__(task, **config)
        K = int(self.config["num_refinement_steps"])
        alpha_bars = refiner_alpha_bars(K, float(self.config["min_noise_std"]))
        self.alphas = [math.sqrt(a) for a in alpha_bars]
        self.sigmas = [math.sqrt(1.0 - a) for a in alpha_bars]
        self.register_buffer("alpha_k", torch.tensor(self.alphas), persistent=False)
        self.register_buffer("sigma_k", torch.tensor(self.sigmas), persistent=False)
        self.refinement: Sampler | None = None  # a searched chain (use_refinement); None: every level, as trained
        self.run_folder: str | None = None  # where searched chains are looked up by name (schedules/)

    @classmethod
    def resolve_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        c = super().resolve_config(config)
        K = c["num_refinement_steps"]
        if isinstance(K, bool) or int(K) != K or K < 1:
            raise BadInput(f"pde-refiner: num_refinement_steps must be an integer >= 1, got {K!r}")
        if not 0.0 < c["min_noise_std"] < 1.0:
            raise BadInput(f"pde-refiner: min_noise_std must lie in (0, 1), got {c['min_noise_std']!r}")
        if c["uncertainty_samples"] < 0 or c["uncertainty_samples"] == 1:
            raise BadInput(f"pde-refiner: uncertainty_samples must be 0 (off) or at least 2, "
                           f"got {c['uncertainty_samples']}")
        return c

    def build_network(self, n_conditions: int) -> nn.Module:
        return self.make_unet(self.history + 1, n_conditions)

    def _step_condition(self, cond: torch.Tensor, k: torch.Tensor | int) -> torch.Tensor:
        K = int(self.config["num_refinement_steps"])
        level = torch.as_tensor(k, dtype=cond.dtype, device=cond.device).expand(cond.shape[0])
        return torch.cat([cond, (10.0 * level / K)[:, None]], dim=1)

    # -- searched chains ------------------------------------------------------------------------------
    def use_refinement(self, chain: Any = None) -> None:
        """Refine with another chain over the trained levels (`pdesuite.validation.schedule_search`).

        ``chain``: None (the trained chain, every level), a searched chain (`SearchedSchedule`, or its
        ``.json`` file as a path or by name in the run folder's ``schedules/``) recorded for these
        weights, or a built sampler on the refiner's table whose times are trained levels t = K - k,
        starting at pure noise (t = K) and ending with the step to σ = 0, for this v-prediction model.
        """
        from pdesuite.diffusion.searched import SearchedSchedule, load_searched, schedule_fingerprint

        if chain is None:
            self.refinement = None
            return
        K, m = int(self.config["num_refinement_steps"]), float(self.config["min_noise_std"])
        schedule = refiner_schedule(K, m)
        if isinstance(chain, str | SearchedSchedule):
            found = chain if isinstance(chain, SearchedSchedule) else load_searched(chain, self.run_folder)
            chain = found.build(schedule, prediction="v", fingerprint=self.fingerprint())
        if not isinstance(chain, Sampler):
            raise BadInput(f"pde-refiner: a refinement chain is a searched schedule or a sampler, got {chain!r}")
        times = list(chain.grid().t[:-1])
        if schedule_fingerprint(chain.schedule) != schedule_fingerprint(schedule) or chain.prediction != "v" \
                or not chain.final_sigma_zero or not times or times[0] != K \
                or any(t != int(t) or not 0 <= t <= K for t in times):
            raise BadInput(f"pde-refiner: a refinement chain visits trained levels only: times K - k (integers in "
                           f"0..{K}) on this model's table, from pure noise t = {K}, v prediction, ending at "
                           "sigma = 0")
        self.refinement = chain

    # -- training -----------------------------------------------------------------------------------
    def draw(self, batch: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        K = int(self.config["num_refinement_steps"])
        return {"k": torch.randint(K + 1, (batch,), generator=generator),
                "eps": torch.randn(batch, self.n_fields, *self.spatial, generator=generator)}

    def objective(self, x: torch.Tensor, y: torch.Tensor, cond: torch.Tensor,
                  noise: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        z, eps, k = self.encode_target(x, y), noise["eps"], noise["k"].long()
        expand = (slice(None),) + (None,) * (z.ndim - 1)
        alpha, sigma = self.alpha_k[k].to(z)[expand], self.sigma_k[k].to(z)[expand]
        noisy = alpha * z + sigma * eps
        v = self.net(torch.cat([x, noisy], dim=1), self._step_condition(cond, k))
        return {"loss": (v - (alpha * eps - sigma * z)).pow(2).mean()}

    # -- prediction ---------------------------------------------------------------------------------
    def predict_next(self, window: torch.Tensor, cond: torch.Tensor,
                     generator: torch.Generator | None = None, averaged: bool = True) -> torch.Tensor:
        K = int(self.config["num_refinement_steps"])
        sampler = self.refinement or refiner_sampler(K, float(self.config["min_noise_std"]))
        x = self.to_channels(window)
        shape = (x.shape[0], self.n_fields, *x.shape[2:])
        z = torch.randn(shape, generator=generator, dtype=window.dtype).to(window.device)

        def model(noisy: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # t: the schedule time K - k per row
            return self.network(averaged, torch.cat([x, noisy], dim=1), self._step_condition(cond, K - t))

        return self.from_channels(self.decode_target(x, sampler.sample(model, z, generator=generator)))
