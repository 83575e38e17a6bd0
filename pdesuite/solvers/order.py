"""How a classical solver declares its order of convergence, and how an observed order is fitted.

Every solver that promises an order (finite elements, finite differences, spectral, Laplace
inversion) exposes ``convergence_order``: a `ConvergenceOrder`, a read-only mapping from a name
("L2", "H1", "time", "space", "nodes", ...) to the order of that error, with a `Rate` behind each
name saying how it is measured. For a smooth (for `SPECTRAL`: analytic) solution the error e of the
named quantity behaves like

    e ≈ C h^p             algebraic order p; h the refined quantity `Rate.parameter` names
                          ("h" mesh or cell size, "dt" time step), or
    e ≈ C exp(-c n)       `SPECTRAL`: faster than any power of 1/n, n the number of grid points,
                          modes or quadrature nodes (parameter "n"); c is `Rate.geometric` where
                          the method has a known rate (Talbot: 1.358, Weideman & Trefethen 2007).

    >>> from pdesuite.solvers.order import ConvergenceOrder, Rate
    >>> order = ConvergenceOrder(L2=Rate(3, "h", "L2"), H1=Rate(2, "h", "H1 seminorm"))
    >>> order["L2"], order == {"L2": 3, "H1": 2}
    (3, True)

The single order test (tests/solvers/test_orders.py) fits `observed_rate` over a refinement study of
every solver that declares an order, as diffrax's ``test_ode_order`` and scikit-fem's
``test_convergence`` do; a new solver adds one entry there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

#: The order of a method whose error falls faster than any power of 1/n (exponentially for analytic data).
SPECTRAL: Literal["spectral"] = "spectral"
#: The refined quantities a `Rate` may name.
PARAMETERS = ("h", "dt", "n")


@dataclass(frozen=True)
class Rate:
    """One declared rate: the order, what is refined, in which norm, and when it holds.

    Attributes:
        order: The algebraic order p (error ≈ C parameter^p), or `SPECTRAL`.
        parameter: What is refined: "h" (mesh/cell size), "dt" (time step) or "n" (points, modes, nodes).
        norm: How the error is measured, e.g. "L2", "H1 seminorm", "max", "max / peak".
        condition: When the rate holds, beyond a smooth solution (e.g. "ν = 0: the explicit part alone").
        minimum: The order is a lower bound: the method may converge faster on smooth data (limiters
            that follow a higher-order scheme away from extrema).
        geometric: For `SPECTRAL` rates with a known exponent: c in error ≈ C exp(-c n).
    """

    order: int | Literal["spectral"]
    parameter: str
    norm: str = "max"
    condition: str = ""
    minimum: bool = False
    geometric: float | None = None

    def __post_init__(self) -> None:
        if self.order != SPECTRAL and (isinstance(self.order, bool) or not isinstance(self.order, int)
                                       or self.order < 1):
            raise ValueError(f"a rate's order is a positive integer or {SPECTRAL!r}, got {self.order!r}")
        if self.parameter not in PARAMETERS:
            raise ValueError(f"a rate's parameter is one of {PARAMETERS}, got {self.parameter!r}")
        if self.geometric is not None and (self.order != SPECTRAL or not self.geometric > 0):
            raise ValueError("a geometric rate c > 0 is declared only with a spectral order")
        if self.parameter == "n" and self.order != SPECTRAL:
            raise ValueError("rates in the number of points n are spectral (algebraic rates refine h or dt)")

    def __str__(self) -> str:
        text = f"{self.order}{' or more' if self.minimum else ''} in {self.parameter} ({self.norm})"
        if self.geometric is not None:
            text += f", error ~ exp(-{self.geometric:g} n)"
        return text + (f" when {self.condition}" if self.condition else "")


class ConvergenceOrder(Mapping[str, int | str]):
    """A solver's declared orders: name -> order (int or `SPECTRAL`), with the `Rate` in `rates`.

    Compares equal to a plain dict of the orders (``order == {"L2": 3, "H1": 2}``).
    """

    def __init__(self, **rates: Rate) -> None:
        if not rates:
            raise ValueError("a convergence order names at least one rate")
        for name, rate in rates.items():
            if not isinstance(rate, Rate):
                raise TypeError(f"rate {name!r} must be a Rate, got {type(rate).__name__}")
        self.rates: dict[str, Rate] = dict(rates)

    def __getitem__(self, name: str) -> int | str:
        return self.rates[name].order

    def __iter__(self) -> Iterator[str]:
        return iter(self.rates)

    def __len__(self) -> int:
        return len(self.rates)

    def __hash__(self) -> int:
        return hash(tuple(self.rates.items()))

    def __repr__(self) -> str:
        return "ConvergenceOrder(" + ", ".join(f"{k}={v}" for k, v in self.rates.items()) + ")"

    def merged(self, **rates: Rate) -> ConvergenceOrder:
        """These rates with ``rates`` added (or replaced)."""
        return ConvergenceOrder(**{**self.rates, **rates})


@runtime_checkable
class DeclaresOrder(Protocol):
    """What a solver (a class, an instance, or a function) that promises an order provides."""

    convergence_order: ConvergenceOrder


F = TypeVar("F", bound=Callable)


def declares(order: ConvergenceOrder) -> Callable[[F], F]:
    """Decorator for a solver written as a function: sets ``function.convergence_order``."""

    def attach(function: F) -> F:
        function.convergence_order = order  # type: ignore[attr-defined]
        return function

    return attach


def observed_rate(h: Sequence[float], errors: Sequence[float]) -> float:
    """Least-squares slope of log(error) against log(h): the observed algebraic order."""
    return float(np.polyfit(np.log(np.asarray(h, float)), np.log(np.asarray(errors, float)), 1)[0])


def local_rates(h: Sequence[float], errors: Sequence[float]) -> list[float]:
    """log(e_i / e_{i+1}) / log(h_i / h_{i+1}) between consecutive refinements."""
    h, e = np.log(np.asarray(h, float)), np.log(np.asarray(errors, float))
    return (np.diff(e) / np.diff(h)).tolist()


def geometric_rate(n: Sequence[float], errors: Sequence[float]) -> float:
    """c of the least-squares fit error ≈ C exp(-c n) (spectral convergence in n points or nodes)."""
    return float(-np.polyfit(np.asarray(n, float), np.log(np.asarray(errors, float)), 1)[0])
