"""The Deep Conjugate Direction Method (Kaneda et al., ICML 2023) as a PETSc solver for FEM Poisson.

The problem, with P1 elements on a structured n × n mesh of the unit square:

    -∇·(κ∇u) = f,   u = 0 on ∂Ω,   κ(x, y) = exp(1.5 sin(2πx) sin(2πy)),
    f(x, y) = 1 + 10 exp(-20 ((x - 0.3)² + (y - 0.6)²)).

Its matrix A is symmetric positive definite. DCDM solves A x = b from x = 0 by

    d_k = f_θ(r_k / ‖r_k‖)                                       (the network's search direction)
    d_k ← d_k − Σ_{j = k-2, k-1} (d_kᵀ A d_j)/(d_jᵀ A d_j) d_j      (A-orthogonal to the last two)
    x_{k+1} = x_k + α_k d_k,  r_{k+1} = r_k − α_k A d_k,  α_k = d_kᵀ r_k / d_kᵀ A d_k,

where f_θ is a small CNN trained, without any solution, to make A f_θ(r) parallel to r:

    min_θ  mean_i ‖r_i − α_i A f_θ(r_i)‖²,   α_i = f_θ(r_i)ᵀ r_i / f_θ(r_i)ᵀ A f_θ(r_i),

over right-hand sides r_i mixed from Ritz vectors of A (weighted towards the low end of the
spectrum). The script trains the network at ``--n-train`` (``--steps`` Adam steps, about a minute at
the defaults on one core), saves it, and solves at ``--n`` with CG, ICC-PCG and DCDM, all through
`PoissonSolver(..., petsc_options=...)`; DCDM is selected as a KSP of type python. It prints the
iterations to a relative residual of 1e-6 and the difference from a direct (LU) solve.

    .venv/bin/python examples/dcdm_poisson.py [--out DIR] [--n-train 32] [--n 64] [--steps 600]
"""

import argparse
import time
from pathlib import Path

from mpi4py import MPI  # noqa: F401 - before dolfinx

import numpy as np
import torch

from pdesuite.problems.poisson import oscillating_coefficient_poisson
from pdesuite.solvers.fem import PoissonSolver, unit_square
from pdesuite.surrogates.dcdm import GridMap, save_network
from pdesuite.surrogates.dcdm_training import assembled_operator, train_dcdm

problem = oscillating_coefficient_poisson()  # κ = exp(1.5 sin 2πx sin 2πy), bump source; u = 0 on ∂Ω
TOLERANCE = {"ksp_rtol": 1e-6, "ksp_atol": 0.0, "ksp_max_it": 20000}
SOLVERS = {
    "CG": {"ksp_type": "cg", "pc_type": "none", "ksp_norm_type": "unpreconditioned"},
    "ICC-PCG": {"ksp_type": "cg", "pc_type": "icc", "ksp_norm_type": "unpreconditioned"},
    "DCDM": {"ksp_type": "python", "ksp_python_type": "pdesuite.surrogates.dcdm.DCDMSolver"},
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples-output"))
    parser.add_argument("--n-train", type=int, default=32, help="cells per side of the training mesh")
    parser.add_argument("--n", type=int, default=64, help="cells per side of the test mesh")
    parser.add_argument("--steps", type=int, default=600, help="Adam steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    # 1. train: only products with A are needed (no solutions)
    A, points = assembled_operator(PoissonSolver(problem, unit_square(args.n_train)))
    start = time.perf_counter()
    network, history = train_dcdm(A, GridMap.from_coordinates(points), steps=args.steps, lr=1e-2 if
                                  args.steps < 400 else 5e-3, ritz=min(800, (args.n_train - 1) ** 2),
                                  samples=1000, seed=args.seed, log_every=max(1, args.steps // 5),
                                  log=lambda e: print(f"step {e['step']}: loss {e['loss']:.4f}"))
    print(f"trained at {args.n_train}² in {time.perf_counter() - start:.1f} s")
    weights = save_network(args.out / f"dcdm-{args.n_train}.pt", network, train_n=args.n_train, steps=args.steps)

    # 2. solve at another size (the CNN is fully convolutional) with each solver, and compare with LU
    domain = unit_square(args.n)
    direct = PoissonSolver(problem, domain).solve().function.x.array
    results = {}
    print(f"\n{args.n}² mesh, relative residual 1e-6:")
    for name, options in SOLVERS.items():
        options = {**options, **TOLERANCE}
        if name == "DCDM":
            options["dcdm_weights"] = str(weights)
        u = PoissonSolver(problem, domain, petsc_options=options).solve()
        error = float(np.linalg.norm(u.function.x.array - direct) / np.linalg.norm(direct))
        results[name] = {"iterations": u.info["ksp_iterations"], "seconds": u.info["solve_seconds"], "error": error}
        print(f"{name:8s} iterations {u.info['ksp_iterations']:5d}   seconds {u.info['solve_seconds']:.3f}   "
              f"relative difference from LU {error:.1e}")
    return results


if __name__ == "__main__":
    main()
