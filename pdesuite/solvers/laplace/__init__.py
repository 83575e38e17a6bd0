"""Laplace-transform solutions: numerical inversion and the gas-chromatography column (D = 0).

    inversion   talbot, fourier_series, bromwich, invert, FourierSeries
    column      LaplaceColumn, FittingBasis, retention_kernel, injection_transform
    fitting     fit_chromatogram, read_chromatogram, find_peaks, FitResult, PeakEstimate

The names are loaded on first use (the command line imports this package for its parser only).
"""

from importlib import import_module

_EXPORTS = {
    "talbot": "inversion", "fourier_series": "inversion", "bromwich": "inversion", "invert": "inversion",
    "FourierSeries": "inversion",
    "LaplaceColumn": "column", "FittingBasis": "column", "retention_kernel": "column",
    "injection_transform": "column",
    "fit_chromatogram": "fitting", "read_chromatogram": "fitting", "find_peaks": "fitting",
    "FitResult": "fitting", "PeakEstimate": "fitting",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"pdesuite.solvers.laplace.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
