"""Your own PDE, without editing pdesuite: define it, write its reference, train PINN, LPINN and PIG.

    u_t + a u_x = ν u_xx on x ∈ [-1, 1) periodic, t ∈ [0, 1],
    u0 = sin(πx) + 0.5 sin(3πx),   exact u = Σ_k A_k e^{-ν (kπ)² t} sin(kπ(x - a t)).

The problem below is the whole definition: its domain (axes, period), its physics (the operator F of
u_t = F(u), written in torch; the residual u_t - F(u) follows), its initial data and exact solution
(written once for numpy and torch through the math namespace ``m``), and, because it is an advection-
diffusion equation, its Lagrangian form, which makes the Lagrangian PINN applicable. `write_reference`
evaluates the exact solution on a grid into a normal dataset file; then the usual trainer and
validation run on it, as for any built-in problem (`pdesuite train`/`validate` would too, in a script
that registers the problem first).

    .venv/bin/python examples/custom_pde.py --out examples-output/custom-pde [--steps 1500]
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pdesuite.data.reference import write_reference
from pdesuite.io import json_value
from pdesuite.problems.base import LagrangianForm, PhysicsInformed, Problem
from pdesuite.registry import PROBLEMS
from pdesuite.training.trainer import make_config, train
from pdesuite.validation.validate import validate_run


@PROBLEMS.register("two-mode-advection")
@dataclass(frozen=True)
class TwoModeAdvection(PhysicsInformed, Problem):
    """u_t + a u_x = ν u_xx on [-1, 1) periodic, u0 = sin(πx) + 0.5 sin(3πx)."""

    name = "two-mode-advection"
    axes = ("t", "x")
    periodic = {"x": 2.0}
    a: float = 2.0
    nu: float = 0.01

    def spatial_operator(self, u, X, grad, first=1, t=None):  # F(u) = -a u_x + ν u_xx, by autograd
        from pdesuite.problems.autodiff import derivative

        u_x = grad[:, first : first + 1]
        return -self.a * u_x + self.nu * derivative(u_x, X, first)

    def exact(self, x, t, m):
        return sum(amp * m.exp(-self.nu * (k * m.pi) ** 2 * t) * m.sin(k * m.pi * (x[0] - self.a * t))
                   for k, amp in ((1, 1.0), (3, 0.5)))

    def initial(self, x, m):
        return self.exact(x, 0.0 * x[0], m)

    def lagrangian_form(self) -> LagrangianForm:
        return LagrangianForm(speed=self.a, viscosity=self.nu)


#: Each method at its `small` profile's network and points, the budget set by --steps.
METHODS = {"pinn": {"hard_ic": "true"}, "lpinn": {}, "pig": {"sigma": "0.2"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output/custom-pde"))
    parser.add_argument("--steps", type=int, default=1500, help="Adam steps of each method (no L-BFGS)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    x = -1.0 + 2.0 * np.arange(128) / 128
    data = write_reference(args.out / "two-mode.h5", TwoModeAdvection(), {"t": np.linspace(0, 1, 51), "x": x},
                           overwrite=True)
    print(f"reference: {data}")
    rows = []
    for method, settings in METHODS.items():
        run = args.out / f"{method}-s{args.seed}"
        overrides = {**settings, "lbfgs_steps": "0"}
        config = make_config(method, data, profile="small", steps=args.steps, device="cpu", seed=args.seed,
                             overrides=overrides)
        # a folder made with other settings is refused, never silently reused
        stored = run / "config.json"
        if stored.exists() and json.loads(stored.read_text())["settings"] != json.loads(
                json.dumps(config["settings"], default=json_value)):
            raise SystemExit(f"{run} holds a run made with other settings; choose another --out")
        if not (run / "checkpoint.pt").exists():
            train(run, config, progress=False)
        evaluation = validate_run(run)
        rows.append((method, evaluation["relative_l2"], evaluation["max_error"]))
        print(f"{method:6s} relative L2 {evaluation['relative_l2']:.3e}, max error {evaluation['max_error']:.3e}")
    lines = ["| method | relative L2 | max error |", "|---|---|---|"]
    lines += [f"| {m} | {e:.2e} | {mx:.2e} |" for m, e, mx in rows]
    (args.out / "table.md").write_text("\n".join(lines) + f"\n\n{args.steps} Adam steps, seed {args.seed}\n")
    assert all(math.isfinite(e) for _, e, _ in rows)


if __name__ == "__main__":
    main()
