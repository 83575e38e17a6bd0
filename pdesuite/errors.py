"""Exceptions with a meaning for the command line.

`BadInput` is the user's mistake (unknown name, invalid value, missing or corrupt file, existing
output): the CLI prints its message on one line and exits with status 2. `SolverError` is a
numerical failure (NaN, Newton divergence): nothing is written and the CLI exits with status 1.
"""


class BadInput(ValueError):
    """Invalid user input. The message is a single line that names the problem."""


class SolverError(RuntimeError):
    """A classical solver failed (diverged, produced NaN, did not converge)."""


class MissingDependency(ImportError):
    """An optional heavy dependency (dolfinx, torch_geometric) is not importable."""


class Interrupted(KeyboardInterrupt):
    """The work was stopped by a signal (SIGINT, SIGTERM) after leaving a resumable state (a
    checkpoint at a step boundary, a partial dataset file). The CLI exits with 128 + ``signum``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
