"""Allen-Cahn: u_t = ε u_xx + a (u - u³) on [-1, 1), periodic (the PINN benchmark has ε = 1e-4, a = 5).

Fourier form: v_t = (a - ε k²) v - a F[u³]; pseudo-spectral + ETDRK4.
"""

from __future__ import annotations

import numpy as np

from pdesuite.errors import BadInput
from pdesuite.problems.allen_cahn import AllenCahn
from pdesuite.solvers.spectral.periodic1d import Periodic1DSolver


class AllenCahnSolver(Periodic1DSolver):
    """Batched Allen-Cahn solver on [x0, x0 + L). Orders: time 4, space spectral."""

    def __init__(self, n: int, epsilon: float = 1e-4, reaction: float = 5.0, length: float = 2.0,
                 x0: float = -1.0, batch: int = 1, dealias: bool = True):
        super().__init__(n, length, batch, dealias, x0=x0)
        if not epsilon > 0:
            raise BadInput(f"diffusivity epsilon must be positive, got {epsilon}")
        self.epsilon, self.reaction = float(epsilon), float(reaction)

    @classmethod
    def from_problems(cls, problems, n: int, dealias: bool = True) -> AllenCahnSolver:
        """A batch of `AllenCahn` problems on [-1, 1) (their domain); ε and a are shared by the batch."""
        problems = cls._checked_problems(problems, AllenCahn, cls.__name__)
        if len({(p.epsilon, p.reaction) for p in problems}) > 1:
            raise BadInput(f"{cls.__name__} solves a batch with one epsilon and one reaction; got several")
        first = problems[0]
        solver = cls(n, epsilon=first.epsilon, reaction=first.reaction, length=2.0, x0=-1.0, batch=len(problems),
                     dealias=dealias)
        solver.problems = problems
        return solver

    def linear_symbol(self) -> np.ndarray:
        return self.reaction - self.epsilon * self.k**2

    def nonlinear(self, v: np.ndarray) -> np.ndarray:
        # u³ = u · u²: the 2/3 rule leaves aliasing of the cubic only in modes it then discards
        return -self.reaction * self.product(v, self.product(v))
