"""Pseudo-spectral solvers on periodic grids (numpy only): ETDRK4, KS, Burgers, Allen-Cahn, convection, 2D NS."""
