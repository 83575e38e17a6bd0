"""Finite-difference solvers on grids (numpy/scipy only)."""
