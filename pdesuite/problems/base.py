"""Shared pieces of problem definitions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

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


def finite(value) -> bool:
    """A real number (int or float, not bool) that is finite: what every problem parameter must be."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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


@dataclass(frozen=True)
class LagrangianForm:
    """u_t + a u_x = ν u_xx in Lagrangian form (what the Lagrangian PINN needs): the characteristic
    speed ``a`` is the constant ``speed``, or u itself when ``self_advected`` (Burgers)."""

    speed: float
    viscosity: float
    self_advected: bool = False


class PhysicsInformed:
    """The physics a physics-informed surrogate learns from: the PDE's residual on a network u(X).

    A mixin for problem dataclasses. ``axes`` are the network's input columns (time first for
    evolution problems), ``periodic`` maps periodic axes to their period (surrogates enforce it
    exactly), ``time_order`` is 0 (steady), 1 (u_t = F(u)) or 2 (u_tt = ...).

    For ``time_order == 1`` a problem gives only `spatial_operator` F and inherits the residual
    r = u_t - F(u); INSR-style time stepping uses F alone. Steady and second-order problems override
    `residual`. Derivatives come from `pdesuite.problems.autodiff` (torch is imported there only).

    Shapes:
        X: (N, len(axes)) points with requires_grad; u, residual, F: (N, 1).
    """

    axes: ClassVar[tuple[str, ...]]
    periodic: ClassVar[dict[str, float]] = {}
    time_order: ClassVar[int] = 1

    def spatial_operator(self, u, X, grad, first: int = 1, t=None):
        """F(u) of u_t = F(u) at points X whose spatial coordinates are the columns ``first``, ``first +
        1``, ... of X; u = u(X) with its graph, grad = ∇_X u (all columns). ``t``: the time, for
        operators that depend on it, when X has no time column (``first == 0``, e.g. INSR)."""
        raise NotImplementedError(f"{type(self).__name__} defines no spatial operator u_t = F(u)")

    def residual(self, u_fn, X):
        """r(u) at X; zero for an exact solution. Default (``time_order == 1``): u_t - F(u)."""
        from pdesuite.problems.autodiff import gradient

        u = u_fn(X)
        grad = gradient(u, X)
        return grad[:, 0:1] - self.spatial_operator(u, X, grad, first=1)

    @property
    def steady(self) -> bool:
        return "t" not in self.axes


def physics_problems() -> list[str]:
    """Names of the registered problems that a physics-informed surrogate can learn."""
    from pdesuite.registry import PROBLEMS

    return [name for name in PROBLEMS.names() if issubclass(PROBLEMS.get(name), PhysicsInformed)]


def problem_instance(name: str, params: dict):
    """The registered problem ``name`` built from a dataset sample's parameters (keys that are not
    fields of the problem, e.g. per-sample coordinates, are ignored)."""
    from pdesuite.registry import PROBLEMS

    cls = PROBLEMS.get(name)
    fields = set(getattr(cls, "__dataclass_fields__", {}))
    return cls(**{k: v for k, v in params.items() if k in fields})
