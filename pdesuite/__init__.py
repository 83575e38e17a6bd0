"""pdesuite: classical PDE solvers for reference data, and neural surrogates validated on it.

The top level imports nothing heavy: dolfinx lives in `pdesuite.solvers.fem`, torch in the
modules that train. See docs/ for the user guide.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pdesuite")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from pdesuite.errors import BadInput, MissingDependency, SolverError  # noqa: E402

__all__ = ["BadInput", "MissingDependency", "SolverError", "__version__"]
