"""`ks` and `ks-conditional`: Kuramoto-Sivashinsky trajectories as in LPSDA / PDE-Refiner.

    u_t + u u_x + u_xx + ν u_xxxx = 0 on [0, L), periodic,

following LPSDA's generator (Brandstetter et al. 2022, ``generate/generate_data.py``):
L = 64·U(0.9, 1.1) per trajectory, 256 points x_j = jL/256; initial condition
Σ_{i=1..10} A_i sin(2π l_i x / L + φ_i), A ~ U(-0.5, 0.5), φ ~ U(0, 2π), l ∈ {1, 2}; end time
T = T0·U(0.9, 1.1) on ``nt`` equally spaced output times t = linspace(0, T, nt), so Δt = T/(nt - 1)
≈ 0.2; the last ``keep`` outputs are stored. Training: T0 = 100, nt = 500, keep 140; validation and
test: T0 = 200, nt = 1000, keep 640 (same Δt). ν = 1 (`ks`) or ν ~ U(0.5, 1.5) (`ks-conditional`).

Differences from LPSDA: the solver is pseudo-spectral with 2/3 dealiasing and exponential time
stepping (LPSDA: spectral differentiation without dealiasing and scipy's Radau, tolerance 1e-9), with
``substeps`` steps of ``scheme`` per output step: by default the fifth-order exponential Adams method
(``etd-adams5``, 32 substeps: as accurate as Radau, 9.7x faster than ETDRK4 at that accuracy), or
ETDRK4 (``etdrk4``; files written before ``scheme`` existed used it);
`benchmarks/ks_generation.py` measures both against an extended-precision reference.
Stored per sample: ``params`` = [L, dt, nu], and the split's own ``t`` (n, keep) and ``x`` (n, 256).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from pdesuite.problems.ks import KuramotoSivashinsky
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS
from pdesuite.solvers.spectral.ks import KSSolver, ks_initial_condition
from pdesuite.solvers.spectral.periodic1d import get_scheme


@DATASETS.register("ks")
class KuramotoSivashinskyData(Recipe):
    name: ClassVar[str] = "ks"
    problem: ClassVar[str] = "ks"
    solver: ClassVar[str] = "KSSolver (pseudo-spectral, 2/3 dealiasing, ETDRK4 or exponential Adams)"
    fields: ClassVar[list[str]] = ["u"]
    description: ClassVar[str] = "Kuramoto-Sivashinsky trajectories, L = 64·U(0.9, 1.1), LPSDA's setup"

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        return int(self.params["batch"])

    def validate(self) -> None:
        p = self.params
        self.require_int("nx", 4)
        self.require(p["nx"] % 2 == 0, f"nx must be a positive even number, got {p['nx']}")
        self.require_positive("length")
        self.require_positive("t_end_train")
        self.require_positive("t_end_eval")
        self.require(0 <= p["spread"] < 1, f"spread must lie in [0, 1), got {p['spread']}")
        for split in ("train", "eval"):
            self.require_int(f"nt_{split}", 2)
            self.require_int(f"keep_{split}", 1, p[f"nt_{split}"])
        self.require_int("substeps", 1)
        self.require_int("batch", 1)
        self.require_int("n_sines", 1)
        self.require_int("l_max", 1)
        self.require(0 < p["nu_min"] <= p["nu_max"], f"need 0 < nu_min <= nu_max, got {p['nu_min']}, {p['nu_max']}")
        p.setdefault("scheme", "etdrk4")  # files written before the scheme was a parameter used ETDRK4
        limit = get_scheme(p["scheme"]).max_cfl
        # the exponential schemes are stable for the stiff linear part; the explicit nonlinear part needs
        # the substep to resolve the advection: |u|max ≈ 3, CFL number u Δt/Δx below the scheme's limit,
        # for the longest substep of either split
        output_step = max(p[f"t_end_{key}"] / (p[f"nt_{key}"] - 1) for key in ("train", "eval"))
        h = output_step * (1 + p["spread"]) / p["substeps"]
        dx = p["length"] * (1 - p["spread"]) / p["nx"]
        cfl = 3.0 * h / dx
        self.require(cfl <= limit, f"time step too large for stability: substep {h:.3g} with dx {dx:.3g} "
                                   f"(CFL {cfl:.3f} > {limit:g} for {p['scheme']}); raise substeps or nt")

    def _split_key(self, split: str) -> str:
        return "train" if split == "train" else "eval"

    def layout(self) -> Layout:
        p = self.params
        keep = {split: p[f"keep_{self._split_key(split)}"] for split in ("train", "valid", "test")}
        return Layout(
            arrays={"t": np.arange(max(keep.values()), dtype=float)},  # step index; times are per sample
            array_attrs={"t": {"meaning": "output step index; per-sample times in /{split}/t"}},
            sample_shape={s: (k, p["nx"], 1) for s, k in keep.items()},
            param_names=["L", "dt", "nu"],
            extras={"t": ({s: (k,) for s, k in keep.items()}, np.float64), "x": ((p["nx"],), np.float64)},
        )

    def draw(self, rng: np.random.Generator, split: str) -> dict:
        """One trajectory's random parameters, drawn in a fixed order from its own generator."""
        p, key = self.params, self._split_key(split)
        spread = p["spread"]
        length = p["length"] * rng.uniform(1 - spread, 1 + spread)
        t_end = p[f"t_end_{key}"] * rng.uniform(1 - spread, 1 + spread)
        amplitudes = rng.uniform(-0.5, 0.5, p["n_sines"])
        phases = rng.uniform(0.0, 2 * np.pi, p["n_sines"])
        wavenumbers = rng.integers(1, p["l_max"] + 1, p["n_sines"])
        nu = p["nu_min"] if p["nu_min"] == p["nu_max"] else rng.uniform(p["nu_min"], p["nu_max"])
        return {"length": length, "dt": t_end / (p[f"nt_{key}"] - 1), "nu": nu, "amplitudes": amplitudes,
                "phases": phases, "wavenumbers": wavenumbers, "t_end": t_end}

    def sample_batch(self, rngs, split: str, export_dir: Path | None = None, tags=None) -> list[Sample]:
        p, key = self.params, self._split_key(split)
        draws = [self.draw(rng, split) for rng in rngs]
        problems = [KuramotoSivashinsky(length=d["length"], nu=d["nu"], t_end=d["t_end"]) for d in draws]
        solver = KSSolver.from_problems(problems, p["nx"])
        x = solver.x
        u0 = np.stack([ks_initial_condition(x[b], d["length"], d["amplitudes"], d["phases"], d["wavenumbers"])
                       for b, d in enumerate(draws)])
        nt, keep = p[f"nt_{key}"], p[f"keep_{key}"]
        dt = np.array([d["dt"] for d in draws])
        u = solver.solve(u0, dt, n_steps=nt - 1, substeps=p["substeps"], keep_from=nt - keep, scheme=p["scheme"])
        steps = np.arange(nt - keep, nt)
        return [Sample(u[b][..., None], np.array([d["length"], d["dt"], d["nu"]]),
                       {"t": steps * d["dt"], "x": x[b]}) for b, d in enumerate(draws)]

    def sample(self, rng, split, export_dir=None, tag=""):
        return self.sample_batch([rng], split, export_dir, [tag])[0]


@DATASETS.register("ks-conditional")
class KuramotoSivashinskyConditional(KuramotoSivashinskyData):
    name: ClassVar[str] = "ks-conditional"
    description: ClassVar[str] = "Kuramoto-Sivashinsky trajectories with viscosity nu ~ U(0.5, 1.5) per trajectory"
