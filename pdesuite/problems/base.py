"""Shared pieces of problem definitions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from pdesuite.errors import BadInput

#: A steady expression ``f(x, m)``: ``x`` the coordinates (``x[0]``, ``x[1]``), ``m`` a math namespace.
Expr = Callable[[Sequence[Any], Any], Any]
#: A time-dependent expression ``f(x, t, m)``.
TimeExpr = Callable[[Sequence[Any], Any, Any], Any]

#: The numpy math namespace for evaluating expressions on arrays.
NUMPY = SimpleNamespace(
    sin=np.sin, cos=np.cos, exp=np.exp, sqrt=np.sqrt, tanh=np.tanh, ln=np.log, pi=math.pi,
    as_vector=lambda components: np.stack(np.broadcast_arrays(*components)),
)


def constant(value: float) -> Expr:
    """An expression that is the same number everywhere (broadcasts against ``x[0]``)."""

    def expr(x, m):  # noqa: ARG001 - signature shared by all expressions
        return value + 0.0 * x[0]

    expr.constant_value = float(value)  # lets problems validate sign without evaluating
    return expr


def require(condition: bool, message: str) -> None:
    """Raise `BadInput` (a `ValueError`) with ``message`` unless ``condition`` holds."""
    if not condition:
        raise BadInput(message)


def positive_if_constant(expr: Expr | float, name: str) -> None:
    value = expr if isinstance(expr, int | float) else getattr(expr, "constant_value", None)
    if value is not None:
        require(math.isfinite(value) and value > 0, f"{name} must be positive, got {value}")


def as_expr(value: Expr | float | None) -> Expr | None:
    """Numbers become constant expressions; callables and None pass through."""
    if value is None or callable(value):
        return value
    return constant(float(value))


def on_whole_boundary(x: np.ndarray) -> np.ndarray:
    """Boundary marker selecting every boundary facet. ``x`` has shape (3, n_points)."""
    return np.ones(x.shape[1], dtype=bool)


@dataclass(frozen=True)
class Problem:
    """Base class: a named PDE with optional exact solution.

    Subclasses are frozen dataclasses that validate their values in ``__post_init__`` and raise
    `BadInput` (a `ValueError`) with a one-line message for invalid ones.
    """

    name = "problem"
    #: Number of space dimensions.
    dim: int = 2

    @property
    def has_exact_solution(self) -> bool:
        return getattr(self, "exact", None) is not None


@dataclass(frozen=True)
class Field:
    """A coefficient known through a numpy function, e.g. a random field of a dataset sample.

    Finite-element solvers interpolate it into Lagrange P_degree instead of building a UFL formula,
    so samples that differ only in data reuse one compiled form.

    Attributes:
        function: ``x (dim or 3, n) -> values (n,)``.
        degree: Interpolation degree used by FE solvers.
    """

    function: Callable[[np.ndarray], np.ndarray]
    degree: int = 2

    def __call__(self, x, m):
        if m is not NUMPY:
            raise TypeError("a Field is interpolated by the solver, not written in UFL")
        return np.asarray(self.function(np.asarray(x)), dtype=float)


class Parametric:
    """An expression ``formula(x, m, θ)`` with a parameter array θ that changes between solves.

    On numpy it evaluates with the current values; in UFL θ is a dolfinx Constant (bound by the FE
    solver through `bind`), so a dataset of many samples compiles its forms once and only updates θ.

    Args:
        formula: ``(x, m, theta) -> value``; index ``theta[i, j]`` works for both backends.
        shape: Shape of θ.
    """

    def __init__(self, formula: Callable, shape: tuple[int, ...]):
        self.formula = formula
        self.values = np.zeros(shape)
        self.constant = None  # a dolfinx.fem.Constant once bound to a mesh

    def set(self, values) -> None:
        values = np.asarray(values, dtype=float)
        if values.shape != self.values.shape:
            raise ValueError(f"parameter shape {values.shape} != {self.values.shape}")
        self.values = values.copy()
        if self.constant is not None:
            self.constant.value[...] = values

    def bind(self, constant) -> None:
        self.constant = constant
        constant.value[...] = self.values

    def __call__(self, x, m):
        if m is NUMPY:
            return self.formula(x, m, self.values)
        if self.constant is None:
            raise RuntimeError("Parametric expression used in UFL before the solver bound it to a mesh")
        return self.formula(x, m, self.constant)
