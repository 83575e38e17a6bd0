"""Exact-score test bed: data whose noised densities are known in closed form.

For data x_0 ~ Σ_k w_k N(μ_k, Σ_k) and x_t = α x_0 + σ ε, the noised density is
p_t = Σ_k w_k N(α μ_k, C_k), C_k = α² Σ_k + σ² I, and the exact denoiser (Tweedie) is

    E[x_0 | x_t] = Σ_k r_k(x) (μ_k + α Σ_k C_k^{-1} (x - α μ_k)),   r_k ∝ w_k N(x; α μ_k, C_k),

computed in the eigenbasis Σ_k = U_k diag(s_k) U_kᵀ, which also makes per-sample t cheap. ε, v and
the score follow from `parameterization`. For one Gaussian the probability-flow ODE is linear and
decouples along the eigenvectors; the monotone affine map between N(α_T μ, C_T) and N(α_t μ, C_t)
gives its solution in closed form:

    x_t = α_t μ + U diag(sqrt((α_t² s + σ_t²) / (α_T² s + σ_T²))) Uᵀ (x_T - α_T μ).

For mixtures `GaussianMixture.ode_solution` integrates dy/dλ = e^λ x̂0(σ y) for y = x/σ (the
data-prediction ODE, Lu et al. 2022b Eq. 8) with classical RK4 uniform in λ, converged to ~1e-10
with the default steps (checked in the tests against the closed form and by step doubling).

For one Gaussian the exact models are affine in x, so a sampler's output is affine in x_T and in its
noise draws: `output_law` gives its exact mean and covariance (the weak error of stochastic samplers
without a Monte Carlo floor), and `Gaussian.marginal` / `Gaussian.denoised_law` the laws to compare with.

Shapes:
    x: (batch, d); times: a float or a (batch,) tensor.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from pdesuite.diffusion.base import Sampler
from pdesuite.diffusion.parameterization import check_prediction, to_eps
from pdesuite.diffusion.schedules import NoiseSchedule, get_schedule
from pdesuite.errors import BadInput


class GaussianMixture:
    """Σ_k w_k N(μ_k, Σ_k) in d dimensions under a noise schedule, with exact models.

    Args:
        means: (K, d). covs: (K, d, d) symmetric positive definite. weights: (K,), normalised here.
        schedule: The noise schedule the models and ODE use.
        dtype, device: Of the stored parameters and of what the models return (float64 recommended).
    """

    def __init__(self, means: Any, covs: Any, weights: Any = None, schedule: Any = "vp-linear",
                 dtype: torch.dtype = torch.float64, device: Any = "cpu") -> None:
        self.means = torch.as_tensor(means, dtype=dtype, device=device)
        self.covs = torch.as_tensor(covs, dtype=dtype, device=device)
        if self.means.dim() != 2 or self.covs.shape != (*self.means.shape, self.means.shape[1]):
            raise BadInput("means must be (K, d) and covs (K, d, d)")
        k = self.means.shape[0]
        w = torch.ones(k) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        if w.shape != (k,) or bool((w <= 0).any()):
            raise BadInput("weights must be K positive numbers")
        self.weights = (w / w.sum()).to(dtype=dtype, device=device)
        self.schedule: NoiseSchedule = get_schedule(schedule)
        self.evals, self.vecs = torch.linalg.eigh(self.covs)  # (K, d), (K, d, d)
        if bool((self.evals <= 0).any()):
            raise BadInput("covariances must be positive definite")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    # -- sampling ------------------------------------------------------------------------------------
    def sample_data(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n draws of x_0 and their component labels."""
        dev, dt = self.means.device, self.means.dtype
        labels = torch.multinomial(self.weights.cpu().float(), n, replacement=True, generator=_cpu(generator))
        labels = labels.to(dev)
        z = torch.randn(n, self.dim, generator=generator, dtype=dt, device=dev)
        root = self.vecs * self.evals.sqrt().unsqueeze(1)  # U diag(sqrt s): (K, d, d)
        return self.means[labels] + torch.einsum("nij,nj->ni", root[labels], z), labels

    def sample_marginal(self, n: int, t: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """n exact draws of x_t = α_t x_0 + σ_t ε."""
        x0, _ = self.sample_data(n, generator)
        a, s = float(self.schedule.alpha(t)), float(self.schedule.sigma(t))
        return a * x0 + s * torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)

    # -- exact models ---------------------------------------------------------------------------------
    def _coef(self, x: torch.Tensor, t: Any) -> tuple[Any, Any]:
        """α_t, σ_t as floats when t is one time (the usual case), else as (1, n, 1) tensors."""
        tt = torch.as_tensor(t, dtype=torch.float64).reshape(-1)
        if tt.numel() == 1 or bool((tt == tt[0]).all()):
            return self._alpha_sigma(float(tt[0]))
        tt = tt.cpu()
        a = self.schedule.alpha(tt).to(x.device, x.dtype).reshape(1, -1, 1)
        s = self.schedule.sigma(tt).to(x.device, x.dtype).reshape(1, -1, 1)
        return a, s

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a handful of test beds, cached per time
    def _alpha_sigma(self, t: float) -> tuple[float, float]:
        return float(self.schedule.alpha(t)), float(self.schedule.sigma(t))

    def _components(self, x: torch.Tensor, a: Any, s: Any, logp: bool = True) -> tuple[Any, torch.Tensor]:
        """Per-component log densities (K, n) and component posterior means (K, n, d)."""
        y = torch.bmm(x[None] - a * self.means[:, None, :], self.vecs)  # eigen-coordinates (K, n, d)
        var = a * a * self.evals[:, None, :] + s * s  # (K, n or 1, d)
        mean = self.means[:, None, :] + torch.bmm((a * self.evals[:, None, :] / var) * y, self.vecs.transpose(1, 2))
        if not logp:
            return None, mean
        lp = -0.5 * ((y * y / var) + torch.log(var)).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)
        return lp, mean

    def _unit(self, x: torch.Tensor) -> tuple[float, float]:
        return 1.0, 0.0

    def log_prob(self, x: torch.Tensor, t: Any = None) -> torch.Tensor:
        """log p_t(x) (t = None: the data density). Shape (n,)."""
        a, s = self._unit(x) if t is None else self._coef(x, t)
        logp, _ = self._components(x, a, s)
        return torch.logsumexp(logp + torch.log(self.weights)[:, None], dim=0)

    def responsibilities(self, x: torch.Tensor, t: Any = None) -> torch.Tensor:
        """Posterior component probabilities r_k(x) at time t (None: data). Shape (n, K)."""
        a, s = self._unit(x) if t is None else self._coef(x, t)
        logp, _ = self._components(x, a, s)
        return torch.softmax(logp + torch.log(self.weights)[:, None], dim=0).T

    def x0(self, x: torch.Tensor, t: Any) -> torch.Tensor:
        """Exact E[x_0 | x_t = x]."""
        return self._x0(x, *self._coef(x, t))

    def _x0(self, x: torch.Tensor, a: Any, s: Any) -> torch.Tensor:
        single = self.means.shape[0] == 1
        logp, mean = self._components(x, a, s, logp=not single)
        if single:
            return mean[0]
        r = torch.softmax(logp + torch.log(self.weights)[:, None], dim=0)
        return (r[:, :, None] * mean).sum(0)

    def model(self, prediction: str = "eps") -> Callable[..., torch.Tensor]:
        """The exact model ``model(x, t, **cond)`` returning ``prediction`` (eps, x0, v or score)."""
        prediction = check_prediction(prediction)

        def exact(x: torch.Tensor, t: torch.Tensor, **cond: Any) -> torch.Tensor:  # noqa: ARG001
            xd = x.to(self.means.dtype)
            a, s = self._coef(xd, t)
            x0 = self._x0(xd, a, s)
            if not isinstance(a, float):
                a, s = a[0], s[0]
            if prediction == "x0":
                out = x0
            else:
                eps = to_eps(x0, xd, a, s, "x0")
                out = {"eps": eps, "v": a * eps - s * x0, "score": -eps / s}[prediction]
            return out.to(x.dtype)

        return exact

    # -- probability-flow ODE ---------------------------------------------------------------------------
    def ode_solution(self, x_start: torch.Tensor, t_start: float, t_end: float, steps: int = 2000) -> torch.Tensor:
        """The PF-ODE solution at ``t_end`` from ``x_start`` at ``t_start`` (RK4 in λ, ``steps`` steps)."""
        sch = self.schedule
        lam0, lam1 = float(sch.lambda_(t_start)), float(sch.lambda_(t_end))
        xd = x_start.to(self.means.dtype)

        def rhs(y: torch.Tensor, lam: float) -> torch.Tensor:
            t = float(sch.t_of_lambda(lam))
            s = float(sch.sigma(t))
            return math.exp(lam) * self.x0(s * y, t)

        y = xd / float(sch.sigma(t_start))
        h = (lam1 - lam0) / steps
        for i in range(steps):
            lam = lam0 + i * h
            k1 = rhs(y, lam)
            k2 = rhs(y + 0.5 * h * k1, lam + 0.5 * h)
            k3 = rhs(y + 0.5 * h * k2, lam + 0.5 * h)
            k4 = rhs(y + h * k3, lam + h)
            y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        return (float(sch.sigma(t_end)) * y).to(x_start.dtype)


class Gaussian(GaussianMixture):
    """One Gaussian N(μ, Σ): exact models and the probability-flow ODE solution in closed form."""

    def __init__(self, mean: Any, cov: Any, schedule: Any = "vp-linear", dtype: torch.dtype = torch.float64,
                 device: Any = "cpu") -> None:
        mean = torch.as_tensor(mean, dtype=dtype)
        super().__init__(mean[None], torch.as_tensor(cov, dtype=dtype)[None], None, schedule, dtype, device)

    def ode_solution(self, x_start: torch.Tensor, t_start: float, t_end: float, steps: int = 0) -> torch.Tensor:
        """Closed form (``steps`` is ignored)."""
        sch = self.schedule
        a0, s0 = float(sch.alpha(t_start)), float(sch.sigma(t_start))
        a1, s1 = float(sch.alpha(t_end)), float(sch.sigma(t_end))
        mu, u, ev = self.means[0], self.vecs[0], self.evals[0]
        scale = torch.sqrt((a1**2 * ev + s1**2) / (a0**2 * ev + s0**2))
        xd = x_start.to(self.means.dtype)
        y = (xd - a0 * mu) @ u
        return (a1 * mu + (y * scale) @ u.T).to(x_start.dtype)

    def marginal(self, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (d,) and covariance (d, d) of x_t: α_t μ and α_t² Σ + σ_t² I."""
        a, s = self._alpha_sigma(float(t))
        return a * self.means[0], self.vecs[0] @ torch.diag(a * a * self.evals[0] + s * s) @ self.vecs[0].T

    def denoised_law(self, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and covariance of E[x_0 | x_t] for x_t ~ p_t: μ and α² Σ C_t^{-1} Σ, C_t = α² Σ + σ² I.

        This is the law of what a sampler that ends with the step to σ = 0 from t (``final_sigma_zero``)
        returns when it follows the exact p_t down to t.
        """
        a, s = self._alpha_sigma(float(t))
        ev = self.evals[0]
        return self.means[0].clone(), self.vecs[0] @ torch.diag(a * a * ev * ev / (a * a * ev + s * s)) @ self.vecs[0].T


def output_law(sampler: Sampler, model: Callable[..., torch.Tensor], mean: torch.Tensor, cov: torch.Tensor,
               **cond: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact mean and covariance of ``sampler.sample(model, x_T)`` for x_T ~ N(mean, cov).

    With a model that is affine in x (the exact model of one Gaussian), every sampler here is affine in
    x_T and in its noise draws z_k:  x_out = c + M x_T + Σ_k S_k z_k,  so x_out ~ N(c + M mean,
    M cov Mᵀ + Σ_k S_k S_kᵀ) exactly (no Monte Carlo floor). A first run counts the draws K; a second
    run on a batch of 1 + d + K d rows reads c + M mean (row 0, no noise), the columns of M L with
    L Lᵀ = cov (rows 1..d, x_T = mean + L e_j) and those of each S_k (block k: noise e_j on row j at
    draw k, zero elsewhere). The noise enters through a subclass that overrides `Sampler.noise_like`.

    Args:
        sampler: Any sampler (runs a copy of its config; sets ``sampler.last_nfe`` as one run would).
        model: ``model(x, t, **cond)``, affine in x (else the result is a linearisation, not the law).
        mean, cov: (d,) and (d, d) law of x_T.

    Returns:
        (mean (d,), covariance (d, d)) of the output, float64.
    """
    d = mean.numel()
    draws: list[int] = []

    def zero(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:  # noqa: ARG001
        draws.append(1)
        return torch.zeros_like(x)

    _with_noise(sampler, zero).sample(model, mean.reshape(1, d).to(torch.float64), **cond)
    k_draws = len(draws)
    rows = 1 + d + k_draws * d
    step = iter(range(k_draws))

    def unit(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:  # noqa: ARG001
        z = torch.zeros_like(x)
        k = next(step)
        z[1 + d + k * d + torch.arange(d), torch.arange(d)] = 1.0
        return z

    chol = torch.linalg.cholesky(cov.to(torch.float64))
    x = mean.to(torch.float64).expand(rows, d).clone()
    x[1:1 + d] += chol.T
    probe = _with_noise(sampler, unit)
    y = probe.sample(model, x, **cond)
    sampler.last_nfe = probe.last_nfe
    a = y[1:] - y[:1]  # rows: (M L)ᵀ then each S_kᵀ
    return y[0], a.T @ a


def _with_noise(sampler: Sampler, noise: Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]) -> Sampler:
    """A copy of ``sampler`` whose noise draws come from ``noise(x, generator)``."""
    cls = type(sampler)
    probe = type(f"{cls.__name__}WithNoise", (cls,), {"noise_like": staticmethod(noise)})
    config = sampler.config()
    config.pop("sampler")
    config["schedule"] = sampler.schedule  # the instance: a table built from betas has no registered name
    return probe(**config)


def random_gaussian(d: int = 4, seed: int = 0, schedule: Any = "vp-linear", eig_range: Sequence[float] = (0.05, 1.0),
                    ) -> Gaussian:
    """A reproducible N(μ, Σ) in d dimensions with eigenvalues log-spaced in ``eig_range``."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    ev = torch.logspace(math.log10(eig_range[0]), math.log10(eig_range[1]), d, dtype=torch.float64)
    mean = 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
    return Gaussian(mean, q @ torch.diag(ev) @ q.T, schedule)


def example_mixture(schedule: Any = "vp-linear", d: int = 2) -> GaussianMixture:
    """Three well-separated anisotropic components in d >= 2 dimensions, weights 0.5/0.3/0.2."""
    means = torch.zeros(3, d, dtype=torch.float64)
    means[0, :2] = torch.tensor([-1.5, 0.0])
    means[1, :2] = torch.tensor([1.2, 1.0])
    means[2, :2] = torch.tensor([1.0, -1.3])
    covs = torch.eye(d, dtype=torch.float64).repeat(3, 1, 1) * 0.04
    covs[0, :2, :2] = torch.tensor([[0.09, 0.03], [0.03, 0.04]])
    covs[1, :2, :2] = torch.tensor([[0.03, -0.01], [-0.01, 0.06]])
    return GaussianMixture(means, covs, [0.5, 0.3, 0.2], schedule)


def _cpu(generator: torch.Generator | None) -> torch.Generator | None:
    """torch.multinomial on a CPU tensor needs a CPU generator."""
    if generator is None or generator.device.type == "cpu":
        return generator
    return torch.Generator().manual_seed(int(generator.initial_seed()))


def gaussian_w2(mean1: torch.Tensor, cov1: torch.Tensor, mean2: torch.Tensor, cov2: torch.Tensor) -> float:
    """The 2-Wasserstein distance between N(mean1, cov1) and N(mean2, cov2):

    W2² = ‖m1 - m2‖² + tr(C1 + C2 - 2 (C2^½ C1 C2^½)^½)   (matrix square roots by eigendecomposition).
    """
    def root(c: torch.Tensor) -> torch.Tensor:
        ev, vec = torch.linalg.eigh(0.5 * (c + c.T))
        return vec @ torch.diag(ev.clamp(min=0).sqrt()) @ vec.T

    c1, c2 = cov1.to(torch.float64), cov2.to(torch.float64)
    r2 = root(c2)
    cross = root(r2 @ c1 @ r2)
    w2 = float((mean1 - mean2).to(torch.float64).pow(2).sum() + torch.trace(c1 + c2 - 2 * cross))
    return math.sqrt(max(w2, 0.0))


def law_error(bed: Gaussian, sampler: Sampler) -> float:
    """The exact distribution error of ``sampler`` with ``bed``'s exact model: W2 between the law of its
    output for x_T drawn from the exact p at t_start (`output_law`) and the exact law at its last grid
    time (the data law N(μ, Σ) after a step to σ = 0). No Monte Carlo; any sampler, stochastic ones too."""
    grid = sampler.grid()
    mean, cov = bed.marginal(grid.t[0])
    out_mean, out_cov = output_law(sampler, bed.model(sampler.prediction), mean, cov)
    if sampler.final_sigma_zero:
        target = bed.means[0], bed.covs[0]
    else:
        target = bed.marginal(grid.t[-1])
    return gaussian_w2(out_mean, out_cov, *target)
