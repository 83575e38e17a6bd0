"""Derivatives by automatic differentiation, for the residuals and spatial operators of problems.

Physics-informed surrogates evaluate a problem's PDE on a network u(X) at points X (N, d) that
require gradients; these helpers take the derivatives with `torch.autograd.grad`, keeping the graph
(``create_graph=True``) so that the loss can be differentiated once more with respect to the weights.
Take all first derivatives from one `gradient` call and reuse it: each call is a backward pass.

`TORCH` is the math namespace (``m``) with which a problem's expressions (``exact(x, t, m)``,
``source``, ``initial``) evaluate on tensors, as `pdesuite.problems.base.NUMPY` does on arrays.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

#: Math namespace for problem expressions evaluated on torch tensors.
TORCH = SimpleNamespace(sin=torch.sin, cos=torch.cos, exp=torch.exp, sqrt=torch.sqrt, tanh=torch.tanh,
                        ln=torch.log, pi=torch.pi, cosh=torch.cosh,
                        as_vector=lambda components: torch.stack(torch.broadcast_tensors(*components)))


def gradient(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """∇u at every point, shape of ``x`` (N, d), keeping the graph for higher derivatives."""
    (g,) = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)
    return g


def derivative(u: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    """∂u/∂x_axis at every point (N, 1), keeping the graph."""
    return gradient(u, x)[:, axis : axis + 1]


def laplacian(u: torch.Tensor, X: torch.Tensor, axes: tuple[int, ...],
              grad: torch.Tensor | None = None) -> torch.Tensor:
    """Σ_a ∂²u/∂x_a² over the columns ``axes`` of X; ``grad`` = ∇u when already computed."""
    grad = gradient(u, X) if grad is None else grad
    return sum(derivative(grad[:, a : a + 1], X, a) for a in axes)


def columns(X: torch.Tensor, first: int) -> list[torch.Tensor]:
    """The coordinate columns X[:, first], X[:, first + 1], ... (each (N, 1)): the ``x`` of expressions."""
    return [X[:, i : i + 1] for i in range(first, X.shape[1])]
