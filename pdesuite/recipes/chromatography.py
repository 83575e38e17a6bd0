"""`chromatography`: outlet curves c(L, t) of one analyte through a GC column over ranges of k_a, k_d, u, L.

Per sample: k_a and k_d log-uniform in [k_a_min, k_a_max] and [k_d_min, k_d_max] (1/s), the mean carrier
velocity u and the column length L uniform in [u_min, u_max] (m/s) and [L_min, L_max] (m); ``params`` =
[k_a, k_d, u, L]. Shared by all samples (root ``params``): the phase ratio alpha, the pressure ratio
(1 = constant velocity, else an ideal-gas pressure drop p_in/p_out), D, q_m, the injection (pulse or
Gaussian, width, time, height c0) and the time grid t = linspace(0, t_end, nt). Each curve is the
Laplace solution (D = 0, linear kinetics; `pdesuite.solvers.laplace.column`) or, with
``solver = "fd"``, the full model by finite differences (`pdesuite.solvers.fd.chromatography`, which
also honours D > 0 and a finite q_m). ``u`` has shape (n_samples, nt, 1): one field "c", no space axis.
The recipe checks that every peak of the parameter box fits in the window and is resolved by the grid.
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.chromatography import Analyte, Chromatography, Injection
from pdesuite.recipes.base import Layout, Recipe, Sample
from pdesuite.registry import DATASETS

RANGES = (("k_a_min", "k_a_max"), ("k_d_min", "k_d_max"), ("u_min", "u_max"), ("L_min", "L_max"))


@DATASETS.register("chromatography")
class ChromatographyData(Recipe):
    name: ClassVar[str] = "chromatography"
    problem: ClassVar[str] = "chromatography"
    solver: ClassVar[str] = "LaplaceColumn or ColumnFD (set per instance from params['solver'])"
    fields: ClassVar[list[str]] = ["c"]
    description: ClassVar[str] = "GC column outlet curves c(L, t) over ranges of k_a, k_d, u, L (Laplace solution)"

    def validate(self) -> None:
        p = self.params
        for low, high in RANGES:
            self.require_positive(low)
            self.require_positive(high)
            self.require(p[low] <= p[high], f"need {low} <= {high}, got {p[low]}, {p[high]}")
        for key in ("alpha", "pressure_ratio", "width", "c0", "t_end"):
            self.require_positive(key)
        self.require(p["pressure_ratio"] >= 1, f"pressure_ratio = p_in/p_out must be >= 1 (p_out > p_in would "
                                               f"reverse the flow), got {p['pressure_ratio']}")
        self.require(isinstance(p["D"], int | float) and 0 <= p["D"] < math.inf, f"D must be >= 0, got {p['D']}")
        self.require(isinstance(p["q_m"], int | float) and p["q_m"] > 0,
                     f"q_m must be > 0 (inf = linear), got {p['q_m']}")
        self.require(isinstance(p["t_inj"], int | float) and p["t_inj"] >= 0, f"t_inj must be >= 0, got {p['t_inj']}")
        self.require(p["injection"] in ("pulse", "gaussian"),
                     f"injection must be pulse or gaussian, got {p['injection']!r}")
        self.require(p["solver"] in ("laplace", "fd"), f"solver must be laplace or fd, got {p['solver']!r}")
        if p["solver"] == "laplace":
            self.require(p["D"] == 0 and math.isinf(p["q_m"]),
                         "the Laplace solution assumes D = 0 and linear kinetics (q_m = inf); use solver = fd")
            self.solver = "LaplaceColumn (Laplace transform, D = 0, linear kinetics; Fourier-series inversion)"
        else:
            self.solver = (f"ColumnFD (method of lines, {p['cells']} cells, {p['scheme']} advection, "
                           "BDF, rtol 1e-8)")
        self.require_int("nt", 16)
        self.require_int("cells", 8)
        self.require(p["scheme"] in ("upwind", "vanleer", "vanalbada", "koren", "kappa3"),
                     f"unknown FD scheme {p['scheme']!r}")
        # every corner of the parameter box: the last peak must end in the window, the sharpest be resolved
        dt = p["t_end"] / (p["nt"] - 1)
        latest, sharpest = 0.0, math.inf
        for corner in itertools.product(*[(p[low], p[high]) for low, high in RANGES]):
            column = self.column(*corner)
            a = column.analytes[0]
            sigma = math.sqrt(column.peak_variance(a))
            latest = max(latest, column.retention_time(a) + 6 * sigma)
            sharpest = min(sharpest, sigma)
        self.require(latest <= p["t_end"], f"the slowest peak of the parameter box ends near t = {latest:.4g} s, "
                                           f"after t_end = {p['t_end']}; raise t_end or narrow the ranges")
        self.require(dt <= sharpest / 2, f"the sharpest peak (σ = {sharpest:.3g} s) is not resolved by Δt = "
                                         f"{dt:.3g} s; raise nt to at least {math.ceil(2 * p['t_end'] / sharpest) + 1}")

    def column(self, k_a: float, k_d: float, u: float, L: float) -> Chromatography:
        p = self.params
        try:
            pressures = {} if p["pressure_ratio"] == 1 else {"p_in": float(p["pressure_ratio"]), "p_out": 1.0}
            return Chromatography(length=L, velocity=u, diffusion=float(p["D"]), alpha=float(p["alpha"]),
                                  q_m=float(p["q_m"]), analytes=(Analyte("A", k_a, k_d, float(p["c0"])),),
                                  injection=Injection(p["injection"], float(p["width"]), float(p["t_inj"])),
                                  t_end=float(p["t_end"]), **pressures)
        except BadInput as exc:
            raise BadInput(f"{self.name}: {exc}") from None

    def layout(self) -> Layout:
        p = self.params
        return Layout(arrays={"t": np.linspace(0.0, p["t_end"], p["nt"])}, sample_shape=(p["nt"], 1),
                      param_names=["k_a", "k_d", "u", "L"])

    def draw(self, rng: np.random.Generator) -> tuple[float, float, float, float]:
        p = self.params
        k_a = math.exp(rng.uniform(math.log(p["k_a_min"]), math.log(p["k_a_max"])))
        k_d = math.exp(rng.uniform(math.log(p["k_d_min"]), math.log(p["k_d_max"])))
        return k_a, k_d, float(rng.uniform(p["u_min"], p["u_max"])), float(rng.uniform(p["L_min"], p["L_max"]))

    def solve(self, column: Chromatography) -> np.ndarray:
        p = self.params
        t = np.linspace(0.0, p["t_end"], p["nt"])
        if p["solver"] == "laplace":
            from pdesuite.solvers.laplace.column import LaplaceColumn

            return LaplaceColumn(column, method="auto", tol=1e-12).outlet(t)[:, 0]
        from pdesuite.solvers.fd.chromatography import ColumnFD

        return ColumnFD(column, cells=p["cells"], scheme=p["scheme"], rtol=1e-8, atol=1e-11).solve(t)[:, 0]

    def sample(self, rng, split, export_dir=None, tag=""):
        values = self.draw(rng)
        curve = self.solve(self.column(*values))
        return Sample(curve[:, None], np.array(values, dtype=float))
