"""Finite-difference solvers on grids (numpy/scipy only): smoke (MAC projection), nonlinear diffusion."""
