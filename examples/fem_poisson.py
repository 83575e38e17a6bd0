"""Poisson with a variable coefficient and mixed boundary conditions, verified by manufactured solution.

The problem:

    -∇·(κ∇u) = f  in Ω = (0, 1)²,     κ(x, y) = 1 + x²/2 + sin(y)/4,
            u = g  on the left and bottom sides (Dirichlet),
      κ∇u·n = h  on the right and top sides (Neumann),

with f, g and h chosen so that the exact solution is u = sin(πx) cos(2y) + exp(xy). We give pdesuite
only κ, the exact solution and where Γ_D is: the solver derives f = -∇·(κ∇u) and h = κ∇u·n in UFL.
P1 and P2 Lagrange elements converge at O(h^{p+1}) in L2; the script prints the error table,
the fitted orders, and writes a log-log plot and the finest P2 solution for ParaView.

    .venv/bin/python examples/fem_poisson.py [--out DIR] [--max-n 64]
"""

import argparse
from pathlib import Path

import numpy as np

from pdesuite.problems import Poisson
from pdesuite.solvers.fem import PoissonSolver, unit_square
from pdesuite.solvers.fem.verification import observed_rate


def exact(x, m):
    return m.sin(m.pi * x[0]) * m.cos(2.0 * x[1]) + m.exp(x[0] * x[1])


problem = Poisson(
    kappa=lambda x, m: 1.0 + 0.5 * x[0] ** 2 + 0.25 * m.sin(x[1]),
    exact=exact,
    dirichlet_boundary=lambda x: (x[0] < 1e-12) | (x[1] < 1e-12),
)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output"))
    parser.add_argument("--max-n", type=int, default=64, help="finest cells per side")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    resolutions = [n for n in (4, 8, 16, 32, 64, 128) if n <= args.max_n]
    rates = {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    for degree in (1, 2):
        errors = []
        for n in resolutions:
            u = PoissonSolver(problem, unit_square(n), degree=degree).solve()
            errors.append(u.errornorm(exact, "L2"))
        h = 1.0 / np.array(resolutions)
        rates[degree] = observed_rate(h[1:], errors[1:])
        print(f"P{degree}: " + "  ".join(f"h=1/{n}: {e:.2e}" for n, e in zip(resolutions, errors, strict=True))
              + f"   L2 order {rates[degree]:.2f} (theory {degree + 1})")
        ax.loglog(h, errors, "o-", label=f"P{degree}, order {rates[degree]:.2f}")
    ax.set_xlabel("h")
    ax.set_ylabel(r"$\|u_h - u\|_{L^2}$")
    ax.set_title("Poisson, variable κ, mixed BC")
    ax.legend()
    fig.savefig(args.out / "fem_poisson_convergence.png", dpi=110)
    u.export_xdmf(args.out / "fem_poisson_p2.xdmf")
    print(f"wrote {args.out / 'fem_poisson_convergence.png'} and {args.out / 'fem_poisson_p2.xdmf'}")
    return rates


if __name__ == "__main__":
    main()
