"""Training the DCDM network without solutions (Kaneda et al., ICML 2023, §3.3-3.4).

The network f should approximate A⁻¹ up to a scale. For a right-hand side r, the best multiple of
f(r) in the energy norm, α f(r) with α = f(r)ᵀr / f(r)ᵀA f(r) (the step DCDM itself takes), should
reproduce r, so the loss over a batch of unit-norm right-hand sides r_i is

    L = (1/B) Σ_i ‖r_i − α_i A f(r_i)‖²,   α_i = f(r_i)ᵀ r_i / f(r_i)ᵀ A f(r_i),

which is invariant to the scale of f and needs only products with A (no solve, no solution).

Training right-hand sides (the paper's `datasetcreate.py`): m Lanczos steps on A (with full
re-orthogonalisation) from A·z, z ~ N(0, I), give Ritz pairs (θ_k, v_k) sorted by θ; each sample is

    r = Σ_k c_k v_k / ‖·‖,   c_k ~ N(0, 1) · (9 if k < m/2 + θ else 1),

weighted towards the low end of the spectrum, where A⁻¹ is large and CG is slow (θ = 500 of m = 10000
in the paper; here θ defaults to m/20, the same proportion). Only the coupled (non-Dirichlet) rows
are used; the Dirichlet dofs stay zero.

Example:
    A, points = assembled_operator(PoissonSolver(problem, unit_square(64)))
    network, history = train_dcdm(A, GridMap.from_coordinates(points), steps=2000)
    save_network("dcdm-64.pt", network)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from pdesuite.errors import BadInput
from pdesuite.nn.dcdm_cnn import DCDMNet2d
from pdesuite.surrogates.dcdm import GridMap, network_class, network_direction, operator_features


def assembled_operator(solver) -> tuple[sp.csr_matrix, np.ndarray]:
    """The matrix of an FEM solver's bilinear form with its Dirichlet rows (as PETSc solves it), as
    SciPy CSR, and the coordinates of its dofs (n, gdim)."""
    import dolfinx.fem.petsc

    a, _ = solver.forms()
    A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(a), bcs=solver.boundary_conditions())
    A.assemble()
    indptr, indices, values = A.getValuesCSR()
    matrix = sp.csr_matrix((values.copy(), indices.copy(), indptr.copy()), shape=A.getSize())
    A.destroy()
    matrix.eliminate_zeros()
    gdim = solver.V.mesh.geometry.dim
    return matrix, solver.V.tabulate_dof_coordinates()[:, :gdim].copy()


def coupled_rows(A: sp.csr_matrix) -> np.ndarray:
    """Mask of the rows with a non-zero off the diagonal (all but Dirichlet rows)."""
    off = sp.csr_matrix(A - sp.diags(A.diagonal()))
    off.eliminate_zeros()
    return np.diff(off.indptr) > 0


def ritz_pairs(A: sp.spmatrix, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(θ (m,), V (m, n)): Ritz values (ascending) and unit Ritz vectors from m Lanczos steps on the
    symmetric ``A`` started at A z, with full re-orthogonalisation (dense eigenpairs if m >= n)."""
    n = A.shape[0]
    if m >= n:
        values, vectors = np.linalg.eigh(A.toarray())
        return values, vectors.T.copy()
    basis = np.zeros((m, n))
    alpha, beta = np.zeros(m), np.zeros(m)
    q = A @ rng.standard_normal(n)
    q /= np.linalg.norm(q)
    steps = m
    for k in range(m):
        basis[k] = q
        w = A @ q
        alpha[k] = q @ w
        for _ in range(2):  # classical Gram-Schmidt twice against the whole basis
            w -= basis[: k + 1].T @ (basis[: k + 1] @ w)
        beta[k] = np.linalg.norm(w)
        if beta[k] < 1e-12 * abs(alpha[k]):  # an invariant subspace: stop early
            steps = k + 1
            break
        q = w / beta[k]
    tridiagonal = np.diag(alpha[:steps]) + np.diag(beta[: steps - 1], 1) + np.diag(beta[: steps - 1], -1)
    values, coefficients = np.linalg.eigh(tridiagonal)
    vectors = coefficients.T @ basis[:steps]
    return values, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ritz_right_hand_sides(vectors: np.ndarray, count: int, rng: np.random.Generator, theta: int | None = None,
                          low_weight: float = 9.0) -> np.ndarray:
    """``count`` unit vectors Σ c_k v_k with c_k ~ N(0, 1), times ``low_weight`` for the m/2 + θ lowest
    Ritz vectors (``vectors`` sorted by Ritz value); θ defaults to m/20."""
    m = vectors.shape[0]
    theta = m // 20 if theta is None else theta
    if isinstance(theta, bool) or int(theta) != theta or not 0 <= theta <= m:
        raise BadInput(f"dcdm training: theta must be an integer in [0, {m}] (the Ritz vectors), got {theta!r}")
    coefficients = rng.standard_normal((count, m))
    coefficients[:, : min(m, m // 2 + theta)] *= low_weight
    rhs = coefficients @ vectors
    return rhs / np.linalg.norm(rhs, axis=1, keepdims=True)


def torch_sparse(A: sp.spmatrix, dtype=torch.float32, device="cpu") -> torch.Tensor:
    coo = sp.coo_matrix(A)
    indices = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
    return torch.sparse_coo_tensor(indices, torch.as_tensor(coo.data), coo.shape, dtype=dtype, device=device,
                                   check_invariants=False).coalesce()


def dcdm_loss(network: torch.nn.Module, layout: GridMap | Any, A: torch.Tensor, rhs: torch.Tensor,
              active: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
    """(1/B) Σ ‖r − α A f(r)‖² with the energy-optimal α, for unit-norm ``rhs`` (B, n); ``A`` sparse (n, n);
    ``features``: the operator channel of a two-channel network (`operator_features`)."""
    q = network_direction(network, layout, rhs, active, features)
    Aq = torch.sparse.mm(A, q.T).T
    alpha = (q * rhs).sum(1, keepdim=True) / (q * Aq).sum(1, keepdim=True).clamp_min(1e-30)
    return ((rhs - alpha * Aq) ** 2).sum(1).mean()


def train_dcdm(A: sp.spmatrix, layout: GridMap | Any, *, steps: int = 2000, batch: int = 10, lr: float = 1e-3,
               samples: int = 2000, ritz: int = 800, theta: int | None = None, seed: int = 0,
               network: torch.nn.Module | None = None, log_every: int = 100,
               log: Callable[[dict], None] | None = None) -> tuple[torch.nn.Module, list[dict]]:
    """Train a DCDM network for the SPD matrix ``A`` (SciPy sparse, Dirichlet rows allowed) whose
    entries sit on ``layout``: a `GridMap` (the CNN) or a `MeshGraph` (the graph network, from
    `pdesuite.surrogates.dcdm.mesh_graph`).

    ``samples`` right-hand sides are drawn once from ``ritz`` Ritz vectors (`ritz_right_hand_sides`);
    Adam at ``lr`` with a cosine decay to lr/10 over ``steps`` steps of ``batch`` samples (the paper:
    Adam 1e-4, batch 10, far more steps). The default network is `DCDMNet2d` with the operator
    channel (``in_channels=2``, which variable coefficients need), or `DCDMGraphNet` on a
    `MeshGraph`. Returns the network (CPU, float32, eval mode) and the loss history: one dict per
    ``log_every`` steps with the mean loss since the last entry.
    """
    for name, value in (("steps", steps), ("batch", batch), ("samples", samples), ("ritz", ritz)):
        if int(value) != value or value < 1:
            raise BadInput(f"dcdm training: {name} must be a positive integer, got {value!r}")
    if not (lr > 0 and math.isfinite(lr)):
        raise BadInput(f"dcdm training: lr must be a positive number, got {lr!r}")
    A = sp.csr_matrix(A, dtype=float)
    points = layout.flat.size if isinstance(layout, GridMap) else layout.sizes[0]
    if A.shape[0] != A.shape[1] or A.shape[0] != points:
        raise BadInput(f"dcdm training: the matrix is {A.shape[0]} × {A.shape[1]} but the layout has {points} points")
    if abs(A - A.T).max() > 1e-10 * abs(A).max():
        raise BadInput("dcdm training: the matrix is not symmetric")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    active = coupled_rows(A)
    if not active.any():
        raise BadInput("dcdm training: the matrix has no coupled rows (it is diagonal)")
    block = A[active][:, active]
    values, vectors = ritz_pairs(block, ritz, rng)
    if values[0] <= 0:
        raise BadInput(f"dcdm training: the matrix is not positive definite (Ritz value {values[0]:.3g})")
    rhs = np.zeros((samples, A.shape[0]))
    rhs[:, active] = ritz_right_hand_sides(vectors, samples, rng, theta)
    rhs_t = torch.as_tensor(rhs, dtype=torch.float32)
    A_t, active_t = torch_sparse(A), torch.as_tensor(active)
    if network is None:
        network = DCDMNet2d(in_channels=2) if isinstance(layout, GridMap) else network_class("gnn")()
    network.float().train()
    features = operator_features(A.diagonal(), active)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    generator = torch.Generator().manual_seed(seed)
    history, running, start = [], 0.0, time.perf_counter()
    for step in range(1, steps + 1):
        index = torch.randint(samples, (batch,), generator=generator)
        loss = dcdm_loss(network, layout, A_t, rhs_t[index], active_t, features)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        running += float(loss.detach())
        if step % log_every == 0 or step == steps:
            entry = {"step": step, "loss": running / (step - (history[-1]["step"] if history else 0)),
                     "seconds": time.perf_counter() - start}
            history.append(entry)
            running = 0.0
            if log is not None:
                log(entry)
    return network.eval(), history
