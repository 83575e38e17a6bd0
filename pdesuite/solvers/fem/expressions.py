"""Turn problem expressions (written against a math namespace) into UFL."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import ufl

#: The UFL math namespace handed to problem expressions.
UFL = SimpleNamespace(
    sin=ufl.sin, cos=ufl.cos, exp=ufl.exp, sqrt=ufl.sqrt, tanh=ufl.tanh, ln=ufl.ln, pi=ufl.pi,
    as_vector=ufl.as_vector,
)


def spatial(mesh) -> list:
    """Coordinates of ``mesh`` as a list of UFL scalars (x[0], x[1], ...)."""
    x = ufl.SpatialCoordinate(mesh)
    return [x[i] for i in range(mesh.geometry.dim)]


def steady(expr, mesh):
    """UFL for a steady expression ``expr(x, m)`` (None stays None)."""
    return None if expr is None else expr(spatial(mesh), UFL)


def transient(expr, mesh, t):
    """UFL for ``expr(x, t, m)``; ``t`` is a `dolfinx.fem.Constant` so changing it needs no recompile."""
    return None if expr is None else expr(spatial(mesh), t, UFL)


def to_ufl(expr, mesh, t=None):
    """UFL for a problem coefficient: numbers and expressions become formulas, a `Field` is
    interpolated into Lagrange P_degree (a Coefficient, so the compiled form does not depend on it)."""
    from pdesuite.problems.base import Field

    if expr is None:
        return None
    if isinstance(expr, int | float):
        return ufl.as_ufl(float(expr))
    if hasattr(expr, "constant_value"):  # see pdesuite.problems.base.constant
        return ufl.as_ufl(expr.constant_value)
    if isinstance(expr, Field):
        import dolfinx

        V = dolfinx.fem.functionspace(mesh, ("Lagrange", expr.degree))
        function = dolfinx.fem.Function(V)
        function.interpolate(numpy_interpolant(expr))
        return function
    return expr(spatial(mesh), UFL) if t is None else expr(spatial(mesh), t, UFL)


def numpy_interpolant(expr, t=None):
    """Callable ``x (3, n) -> values`` for `dolfinx.fem.Function.interpolate` from a problem expression."""
    from pdesuite.problems.base import NUMPY

    if t is None:
        return lambda x: expr(x, NUMPY) + 0.0 * x[0]
    return lambda x: expr(x, t, NUMPY) + 0.0 * x[0]


def bind_parameters(problem, mesh) -> None:
    """Give every `Parametric` coefficient of ``problem`` a dolfinx Constant on ``mesh``."""
    import dataclasses

    import dolfinx
    from petsc4py import PETSc

    from pdesuite.problems.base import Parametric

    for item in dataclasses.fields(problem):
        value = getattr(problem, item.name)
        if isinstance(value, Parametric) and getattr(value, "mesh", None) is not mesh:
            value.bind(dolfinx.fem.Constant(mesh, np.zeros(value.values.shape, dtype=PETSc.ScalarType)))
            value.mesh = mesh
