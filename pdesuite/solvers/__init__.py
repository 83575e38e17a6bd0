"""Classical solvers. `fem` needs dolfinx; the grid solvers (later) need only numpy/scipy."""
