"""Heavy-ball momentum for diffusion samplers: what the three momentum samplers share.

Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn 2023, "Diffusion Sampling with Momentum for
Mitigating Divergence Artifacts": high-order solvers have small stability regions; damping their
update by Polyak's heavy ball enlarges them. For a method x_{n+1} = x_n + δ Σ b_i f_{n-i}:

* **HB** (Eq. 14): v_{n+1} = (1 - β) v_n + β Σ b_i f_{n-i},  x_{n+1} = x_n + δ v_{n+1}, β ∈ (0, 1]
  (β = 1: the method). Theorem 1: first order for every β < 1.
  Samplers: ``plms-hb`` (`pdesuite.diffusion.plms_hb`), ``dpm-solver++-hb``
  (`pdesuite.diffusion.dpm_solver_pp_hb`).
* **GHVB** (Eq. 16-19): the velocity averages the raw outputs, then the Adams-Bashforth-like
  combination uses coefficients that keep order r for every β (Theorem 2). Sampler: ``ghvb``
  (`pdesuite.diffusion.ghvb`).

The samplers live one per file; this module holds the damping check they share and keeps their
class names importable from here (``from pdesuite.diffusion.momentum import GHVB``).
"""

from __future__ import annotations

import importlib
from typing import Any

from pdesuite.errors import BadInput

#: class name -> module, for ``from pdesuite.diffusion.momentum import ...`` (loaded on first use)
_SAMPLERS = {"PLMSHeavyBall": "pdesuite.diffusion.plms_hb", "GHVB": "pdesuite.diffusion.ghvb",
             "DPMSolverPPHeavyBall": "pdesuite.diffusion.dpm_solver_pp_hb"}

__all__ = ["check_beta", *_SAMPLERS]


def check_beta(beta: float) -> float:
    """The damping β as a float, `BadInput` unless 0 < β <= 1."""
    beta = float(beta)
    if not 0.0 < beta <= 1.0:
        raise BadInput(f"momentum damping beta must be in (0, 1], got {beta}")
    return beta


def __getattr__(name: str) -> Any:
    """The momentum samplers by class name, imported from their own modules on first access (PEP 562)."""
    if name in _SAMPLERS:
        return getattr(importlib.import_module(_SAMPLERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
