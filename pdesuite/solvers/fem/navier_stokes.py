"""Incompressible Navier-Stokes: steady Newton (Taylor-Hood) and transient IPCS, with DFG forces.

The equations, in SI units (velocity u in m/s, pressure p in Pa = N/m², density ρ in kg/m³,
dynamic viscosity μ = ρν in Pa·s):

    ρ (∂u/∂t + (u·∇)u) - μ Δu + ∇p = f,    ∇·u = 0    in Ω,
    u = g on the inlet,   u = 0 on walls and cylinder,   μ ∂u/∂n - p n = 0 on the outlet,

with f = 0 in the DFG benchmark (`DFGCylinderFlow.body_force`; manufactured solutions set it).

The outlet condition is the "do-nothing" condition of the DFG benchmark; it is the natural
boundary condition of the weak form below (written with ∇u:∇v, not the symmetric gradient).
Multiplying by test functions (v, q) that vanish where u is prescribed and integrating by parts:

    ρ (∂u/∂t, v) + ρ ((u·∇)u, v) + μ (∇u, ∇v) - (p, ∇·v) - (q, ∇·u) = (f, v).

Solvers:
    `NavierStokesSteady`: drops ∂u/∂t and solves the nonlinear system with Newton's method
        (PETSc SNES, exact Jacobian from UFL, MUMPS LU) on Taylor-Hood P_k/P_{k-1} elements.
    `NavierStokesIPCS`: incremental pressure correction in time (three linear solves per step).

Forces on the cylinder (`force_coefficients`) are computed by default from the residual of the
momentum equation tested with a function that is a unit vector on the cylinder (a "volume
integral"), which converges at the rate of the energy norm squared rather than that of the
boundary traction (John 2004). The boundary-integral formula is available for comparison.

Boundary parts come from the domain's markers: "inlet", "outlet", "walls", "cylinder" (as made
by `dfg_channel`), or "left" (inlet), "right" (outlet), "bottom"/"top" (walls) for rectangles. A
domain without markers is treated as a channel: x = x_min inlet, x = x_max outlet, rest walls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from mpi4py import MPI

import basix.ufl
import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from petsc4py import PETSc

from pdesuite.errors import BadInput, SolverError
from pdesuite.problems.base import NUMPY
from pdesuite.problems.navier_stokes import DFGCylinderFlow
from pdesuite.solvers.fem.base import DIRECT, unique_prefix
from pdesuite.solvers.fem.mesh import Domain
from pdesuite.solvers.fem.solution import FEMSolution, TimeSeries
from pdesuite.solvers.order import ConvergenceOrder, Rate

#: Newton's method with a backtracking line search; each linear system by MUMPS LU.
NEWTON_LU = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-10,
    "snes_atol": 1e-12,
    "snes_max_it": 30,
    **DIRECT,
}
#: Linear solvers of the three IPCS sub-steps. The momentum matrix changes every step (it holds
#: the extrapolated convection velocity) and is well conditioned (mass/Δt dominates): GMRES with
#: block-Jacobi/ILU. The pressure Laplacian and the mass matrix are constant: factorised once.
IPCS_SOLVERS = {
    "momentum": {"ksp_type": "gmres", "pc_type": "bjacobi", "sub_pc_type": "ilu",
                 "ksp_rtol": 1e-10, "ksp_atol": 1e-14, "ksp_max_it": 500},
    "pressure": dict(DIRECT),
    "correction": dict(DIRECT),
}

#: Marker names for each boundary role, in order of preference.
ROLES = {
    "inlet": ("inlet", "left"),
    "outlet": ("outlet", "right"),
    "walls": ("walls", "bottom", "top"),
    "cylinder": ("cylinder",),
}


# --- boundaries ---------------------------------------------------------------------------------
def boundary_parts(domain: Domain) -> dict[str, np.ndarray]:
    """Local facet indices of the inlet, outlet, walls and cylinder (the last may be empty).

    Raises:
        BadInput: the domain's markers name no inlet or no outlet.
    """
    mesh = domain.mesh
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, fdim + 1)
    if domain.facet_tags is not None and domain.markers:
        parts = {}
        for role, names in ROLES.items():
            found = [domain.facet_tags.find(domain.markers[n]) for n in names if n in domain.markers]
            parts[role] = np.unique(np.concatenate(found)).astype(np.int32) if found else \
                np.empty(0, dtype=np.int32)
        for role in ("inlet", "outlet"):
            if not any(n in domain.markers for n in ROLES[role]):
                raise BadInput(f"the mesh has no {role} marker (needs one of {ROLES[role]}; "
                               f"found {sorted(domain.markers)})")
        return parts
    # No markers: a channel whose inlet/outlet are the left/right ends of the bounding box.
    x = mesh.geometry.x
    xmin = mesh.comm.allreduce(float(x[:, 0].min()) if x.size else np.inf, op=MPI.MIN)
    xmax = mesh.comm.allreduce(float(x[:, 0].max()) if x.size else -np.inf, op=MPI.MAX)
    tol = 1e-10 * (xmax - xmin)
    inlet = dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda p: np.abs(p[0] - xmin) < tol)
    outlet = dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda p: np.abs(p[0] - xmax) < tol)
    walls = np.setdiff1d(dolfinx.mesh.exterior_facet_indices(mesh.topology),
                         np.concatenate([inlet, outlet])).astype(np.int32)
    return {"inlet": inlet, "outlet": outlet, "walls": walls, "cylinder": np.empty(0, dtype=np.int32)}


def _global_count(comm: MPI.Comm, local: np.ndarray) -> int:
    return comm.allreduce(int(local.size), op=MPI.SUM)


def _inflow_interpolant(problem: DFGCylinderFlow, t: float) -> Callable[[np.ndarray], np.ndarray]:
    """x (3, n) -> inflow velocity (2, n) at time t, from ``problem.inflow(x, t, m)``."""
    return lambda x: np.stack(np.broadcast_arrays(*problem.inflow(x, t, NUMPY))).astype(np.float64)


def _body_force(problem: DFGCylinderFlow, mesh, t):
    """The problem's body force as a UFL vector at time ``t`` (a number or a Constant), or None."""
    from pdesuite.solvers.fem.expressions import UFL, spatial

    force = problem.body_force(spatial(mesh), t, UFL)
    return None if force is None else ufl.as_vector(force)


def _check_problem(problem, domain) -> None:
    if not isinstance(problem, DFGCylinderFlow):
        raise BadInput(f"Navier-Stokes solvers need a DFGCylinderFlow problem, got {type(problem).__name__}")
    if not isinstance(domain, Domain):
        raise BadInput(f"Navier-Stokes solvers need a Domain (see pdesuite.solvers.fem), "
                       f"got {type(domain).__name__}")
    if domain.mesh.geometry.dim != 2:
        raise BadInput(f"Navier-Stokes solvers are 2D, got a {domain.mesh.geometry.dim}D mesh")


def _check_degree(degree) -> int:
    if int(degree) != degree or degree < 2:
        raise BadInput(f"Taylor-Hood velocity degree must be an integer >= 2, got {degree}")
    return int(degree)


def _taylor_hood_orders(degree: int) -> ConvergenceOrder:
    """Taylor-Hood P_k/P_{k-1} for smooth solutions (Girault & Raviart 1986, Ch. IV; Boffi, Brezzi &
    Fortin 2013, §8.8): velocity O(h^{k+1}) in L2 and O(h^k) in H1, pressure O(h^k) in L2."""
    return ConvergenceOrder(velocity_L2=Rate(degree + 1, "h", "L2"), velocity_H1=Rate(degree, "h", "H1 seminorm"),
                            pressure_L2=Rate(degree, "h", "L2"))


# --- forces -------------------------------------------------------------------------------------
class DragLift:
    """Drag and lift coefficients of the cylinder for given velocity/pressure Functions.

    The forms are compiled once; calling the object assembles them for the Functions' current
    values (so a time loop evaluates it every step cheaply).

    Volume formulation (``method="volume"``, default): with φ_x, φ_y ∈ V_h equal to the unit
    vectors e_x, e_y at the cylinder's degrees of freedom and 0 at all others, the force that the
    fluid exerts on the cylinder (N per metre of depth) is

        F_i = -[ρ (∂u/∂t + (u·∇)u, φ_i) + μ (∇u, ∇φ_i) - (p, ∇·φ_i)],    i = x, y,

    i.e. minus the momentum residual tested with φ_i; by Green's formula this equals
    ∫_S (μ ∂u/∂n_S - p n_S) ds with n_S the normal out of the cylinder for the exact solution.
    Only cells touching the cylinder contribute. ``∂u/∂t`` is the UFL expression ``dudt`` when
    given (a transient solver passes its time-difference quotient), else omitted (steady flow).

    Surface formulation (``method="surface"``): F = ∫_S (p n - μ (∇u) n) ds with n the outward
    normal of the fluid domain (pointing into the cylinder); less accurate for the same mesh.

    The coefficients are c_D = F_x · 2/(ρ Ū² D) and c_L = F_y · 2/(ρ Ū² D).
    """

    def __init__(self, problem: DFGCylinderFlow, domain: Domain, u: dolfinx.fem.Function,
                 p: dolfinx.fem.Function, dudt=None, method: str = "volume"):
        if method not in ("volume", "surface"):
            raise BadInput(f"unknown force method {method!r} (use 'volume' or 'surface')")
        mesh = domain.mesh
        facets = boundary_parts(domain)["cylinder"]
        if _global_count(mesh.comm, facets) == 0:
            raise BadInput("the mesh has no 'cylinder' boundary part to compute forces on")
        self.problem, self.method, self.comm = problem, method, mesh.comm
        rho = dolfinx.fem.Constant(mesh, float(problem.density))
        mu = dolfinx.fem.Constant(mesh, float(problem.density * problem.viscosity))
        tdim, fdim = mesh.topology.dim, mesh.topology.dim - 1
        if method == "volume":
            V = u.function_space
            dofs = dolfinx.fem.locate_dofs_topological(V, fdim, facets)
            # Cells holding a cylinder dof are exactly the cells touching a cylinder vertex.
            mesh.topology.create_connectivity(0, tdim)
            vertices = dolfinx.mesh.compute_incident_entities(mesh.topology, facets, fdim, 0)
            cells = np.unique(dolfinx.mesh.compute_incident_entities(mesh.topology, vertices, 0, tdim))
            cell_tags = dolfinx.mesh.meshtags(mesh, tdim, cells.astype(np.int32),
                                              np.ones(cells.size, dtype=np.int32))
            dx = ufl.Measure("dx", domain=mesh, subdomain_data=cell_tags, subdomain_id=1)
            acceleration = ufl.grad(u) * u
            if dudt is not None:
                acceleration = acceleration + dudt
            self._phis = []
            forms = []
            for i in range(2):
                phi = dolfinx.fem.Function(V)
                phi.x.array.reshape(-1, V.dofmap.index_map_bs)[dofs, i] = 1.0
                phi.x.scatter_forward()
                self._phis.append(phi)
                residual = (rho * ufl.inner(acceleration, phi) + mu * ufl.inner(ufl.grad(u), ufl.grad(phi))
                            - p * ufl.div(phi)) * dx
                forms.append(-residual)
        else:
            tags = np.ones(facets.size, dtype=np.int32)
            facet_tags = dolfinx.mesh.meshtags(mesh, fdim, np.sort(facets), tags)
            ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags, subdomain_id=1)
            n = ufl.FacetNormal(mesh)
            traction = p * n - mu * ufl.grad(u) * n
            forms = [traction[i] * ds for i in range(2)]
        self._forms = [dolfinx.fem.form(f) for f in forms]
        self.scale = problem.force_coefficient_scale()

    def forces(self) -> tuple[float, float]:
        """(F_x, F_y), the force per unit depth on the cylinder (N/m)."""
        local = [dolfinx.fem.assemble_scalar(f) for f in self._forms]
        fx, fy = self.comm.allreduce(np.array(local, dtype=np.float64), op=MPI.SUM)
        return float(fx), float(fy)

    def __call__(self) -> tuple[float, float]:
        """(c_D, c_L)."""
        fx, fy = self.forces()
        return fx * self.scale, fy * self.scale


def _as_function(value) -> dolfinx.fem.Function:
    return value.function if isinstance(value, FEMSolution) else value


def force_coefficients(velocity, pressure, problem: DFGCylinderFlow, domain: Domain,
                       method: str = "volume") -> tuple[float, float]:
    """Drag and lift coefficients (c_D, c_L) of the cylinder for a steady flow.

    c_D = 2 F_x / (ρ Ū² D), c_L = 2 F_y / (ρ Ū² D), with F the force per unit depth that the fluid
    exerts on the cylinder, Ū = 2 U_m / 3 and D the diameter. See `DragLift` for the formulas;
    the default "volume" formulation tests the momentum residual with a function equal to e_x
    (e_y) on the cylinder and 0 elsewhere on the boundary, the "surface" one integrates the
    traction over the cylinder.

    Args:
        velocity: FEMSolution (or Function) with u_h.
        pressure: FEMSolution (or Function) with p_h.
        problem: The DFGCylinderFlow (ρ, ν, U_m, D).
        domain: The mesh with a "cylinder" marker.
        method: "volume" (default) or "surface".

    Raises:
        BadInput: no cylinder marker, or an unknown method.
    """
    _check_problem(problem, domain)
    return DragLift(problem, domain, _as_function(velocity), _as_function(pressure), method=method)()


# --- steady ------------------------------------------------------------------------------------
class NavierStokesSteady:
    """Steady Navier-Stokes by Newton's method on Taylor-Hood elements.

    Find (u, p) ∈ P_k² × P_{k-1} with u = g on the inlet, u = 0 on walls and cylinder, such that

        F((u, p); (v, q)) = ρ ((u·∇)u, v) + μ (∇u, ∇v) - (p, ∇·v) - (q, ∇·u) = 0

    for all (v, q) with v = 0 on the Dirichlet boundary. Newton's method uses the exact Jacobian
    (the Gateaux derivative of F, derived by UFL) from the zero initial guess; every linear system
    is solved by MUMPS LU.

    Args:
        problem: A DFGCylinderFlow (not pulsating); its inflow profile is g.
        domain: Mesh and markers (e.g. from `dfg_channel` or a rectangle for channel flow).
        degree: Velocity degree k >= 2 (pressure k - 1). Default 2 (P2/P1).
        petsc_options: SNES/KSP options (default `NEWTON_LU`).

    Attributes:
        convergence_order: Expected orders in h for smooth solutions: velocity L2 k + 1,
            velocity H1 k, pressure L2 k (3, 2, 2 for P2/P1).
    """

    name: ClassVar[str] = "navier-stokes-steady"

    def __init__(self, problem: DFGCylinderFlow, domain: Domain, degree: int = 2,
                 petsc_options: dict | None = None):
        _check_problem(problem, domain)
        if problem.pulsating:
            raise BadInput("a pulsating inflow has no steady state; use NavierStokesIPCS")
        self.problem, self.domain, self.degree = problem, domain, _check_degree(degree)
        self.petsc_options = dict(NEWTON_LU if petsc_options is None else petsc_options)
        mesh = domain.mesh
        cell, gdim = mesh.basix_cell(), mesh.geometry.dim
        element_u = basix.ufl.element("Lagrange", cell, self.degree, shape=(gdim,))
        element_p = basix.ufl.element("Lagrange", cell, self.degree - 1)
        self.W = dolfinx.fem.functionspace(mesh, basix.ufl.mixed_element([element_u, element_p]))
        self.V, _ = self.W.sub(0).collapse()
        self.Q, _ = self.W.sub(1).collapse()
        self.parts = boundary_parts(domain)

    @property
    def convergence_order(self) -> ConvergenceOrder:
        return _taylor_hood_orders(self.degree)

    # --- the mathematics ----------------------------------------------------------------------
    def residual(self, w: dolfinx.fem.Function) -> ufl.Form:
        """F((u, p); (v, q)) for the mixed unknown w = (u, p)."""
        mesh = self.domain.mesh
        rho = dolfinx.fem.Constant(mesh, float(self.problem.density))
        mu = dolfinx.fem.Constant(mesh, float(self.problem.density * self.problem.viscosity))
        u, p = ufl.split(w)
        v, q = ufl.TestFunctions(self.W)
        form = (rho * ufl.inner(ufl.grad(u) * u, v) + mu * ufl.inner(ufl.grad(u), ufl.grad(v))
                - p * ufl.div(v) - q * ufl.div(u)) * ufl.dx
        force = _body_force(self.problem, mesh, 0.0)
        return form if force is None else form - ufl.inner(force, v) * ufl.dx

    def boundary_conditions(self) -> list[dolfinx.fem.DirichletBC]:
        """u = g (the problem's inflow) on the inlet, u = 0 on walls and cylinder."""
        fdim = self.domain.mesh.topology.dim - 1
        space = (self.W.sub(0), self.V)
        inflow = dolfinx.fem.Function(self.V)
        inflow.interpolate(_inflow_interpolant(self.problem, 0.0))
        zero = dolfinx.fem.Function(self.V)
        no_slip = np.concatenate([self.parts["walls"], self.parts["cylinder"]])
        return [dolfinx.fem.dirichletbc(zero, dolfinx.fem.locate_dofs_topological(space, fdim, no_slip),
                                        self.W.sub(0)),
                dolfinx.fem.dirichletbc(inflow, dolfinx.fem.locate_dofs_topological(
                    space, fdim, self.parts["inlet"]), self.W.sub(0))]

    # --- the solve ------------------------------------------------------------------------------
    def solve(self) -> tuple[FEMSolution, FEMSolution]:
        """Newton's method from w = 0.

        Returns:
            (velocity, pressure) as FEMSolutions (u in m/s, p in Pa). Both carry the same ``info``:
            newton_iterations, residual_norm, snes_reason, dofs, reynolds, solve_seconds, and
            drag/lift coefficients (volume formulation) when the mesh has a cylinder.

        Raises:
            SolverError: Newton's method diverged or the solution is not finite.
        """
        w = dolfinx.fem.Function(self.W)
        problem = dolfinx.fem.petsc.NonlinearProblem(
            self.residual(w), w, bcs=self.boundary_conditions(),
            petsc_options_prefix=unique_prefix("ns_steady"), petsc_options=self.petsc_options)
        snes = problem.solver
        start = time.perf_counter()
        try:
            problem.solve()
        except PETSc.Error as exc:
            raise SolverError(f"{self.name}: PETSc failed during Newton's method ({exc})") from exc
        reason = int(snes.getConvergedReason())
        info = {
            "newton_iterations": int(snes.getIterationNumber()),
            "residual_norm": float(snes.getFunctionNorm()),
            "snes_reason": reason,
            "dofs": self.W.dofmap.index_map.size_global * self.W.dofmap.index_map_bs,
            "reynolds": self.problem.reynolds,
            "degree": self.degree,
            "solve_seconds": time.perf_counter() - start,
        }
        if reason <= 0:
            raise SolverError(f"{self.name}: Newton's method did not converge (SNES reason {reason}, "
                              f"{info['newton_iterations']} iterations, "
                              f"residual {info['residual_norm']:.3e})")
        if not np.all(np.isfinite(w.x.array)):
            raise SolverError(f"{self.name}: solution is not finite")
        u, p = w.sub(0).collapse(), w.sub(1).collapse()
        u.name, p.name = "velocity", "pressure"
        if _global_count(self.domain.comm, self.parts["cylinder"]):
            info["drag"], info["lift"] = DragLift(self.problem, self.domain, u, p)()
        return FEMSolution(u, None, info), FEMSolution(p, None, dict(info))


# --- transient: IPCS ----------------------------------------------------------------------------
@dataclass
class IPCSResult:
    """What `NavierStokesIPCS.run` returns.

    Attributes:
        velocity: u_h at the saved times.
        pressure: p_h at the saved times.
        times: t_n for every step n = 1..N (s).
        drag: c_D(t_n) for every step (None when the mesh has no cylinder).
        lift: c_L(t_n) for every step (None when the mesh has no cylinder).
        info: Run diagnostics (steps, dt, mesh, dofs, iterations, wall time).
    """

    velocity: TimeSeries
    pressure: TimeSeries
    times: np.ndarray
    drag: np.ndarray | None
    lift: np.ndarray | None
    info: dict = field(default_factory=dict)


class NavierStokesIPCS:
    """Incremental pressure-correction scheme (IPCS) for the transient Navier-Stokes equations.

    Taylor-Hood P_k velocity / P_{k-1} pressure on separate spaces, BDF2 in time. One step
    t_n -> t_{n+1} = t_n + Δt solves three linear problems (Goda's incremental projection in the
    standard, non-rotational form; Guermond, Minev & Shen 2006, §3):

    1. Tentative velocity u* (u* = g(t_{n+1}) on the inlet, 0 on walls/cylinder), implicit in
       viscosity and in the convected velocity, with the extrapolated transport velocity
       ū = 2u^n - u^{n-1}:

           ρ/(2Δt) (3u* - 4u^n + u^{n-1}, v) + ρ ((ū·∇)u*, v) + μ (∇u*, ∇v) + (∇p^n, v) = (f(t_{n+1}), v).

       (No Temam term ½((∇·ū)u*, v): the end-of-step velocities of a projection method are only
       approximately divergence-free, and with that term the DFG 2D-2 lift amplitude came out 4%
       too low at Δt = 0.0025 on the coarse mesh, getting worse as Δt decreased, and the
       Crank-Nicolson variant became unstable in a viscous channel.)

    2. Pressure increment φ = p^{n+1} - p^n, with φ = 0 on the outlet:

           (∇φ, ∇q) = -3ρ/(2Δt) (∇·u*, q).

    3. Velocity correction (projection), with the velocity's Dirichlet conditions:

           (u^{n+1}, v) = (u*, v) - 2Δt/(3ρ) (∇φ, v),    p^{n+1} = p^n + φ.

    The first step is the same with backward Euler (3/2, 2, 1/2 -> 1, 1, 0 and ū = u^0). Step 1
    changes every step (through ū) and is solved by GMRES + ILU; steps 2 and 3 have constant
    matrices that are LU-factorised once (MUMPS). Velocity is second order in Δt; the pressure
    has the O(Δt) boundary layer of non-rotational projection methods.

    Why BDF2 and not Crank-Nicolson with Adams-Bashforth extrapolation (the FEniCS DFG tutorial):
    BDF2 damps the start-up and splitting transients that Crank-Nicolson (not L-stable) leaves
    ringing; in the viscous channel test (ν Δt / h² = 0.5) BDF2 reached the steady Poiseuille
    flow to 2e-7 where CN/AB2 was still at 2e-5 after the same 120 steps.

    Args:
        problem: A DFGCylinderFlow (inflow g(x, t) from ``problem.inflow``, pulsating or not).
        domain: Mesh and markers.
        dt: Time step Δt > 0 (s); shortened so that an integer number of steps reaches t_end.
        degree: Velocity degree k >= 2 (pressure k - 1).
        petsc_options: Optional dict with keys "momentum", "pressure", "correction", each a dict of
            PETSc KSP options replacing the defaults in `IPCS_SOLVERS`.
    """

    name: ClassVar[str] = "navier-stokes-ipcs"

    def __init__(self, problem: DFGCylinderFlow, domain: Domain, dt: float, degree: int = 2,
                 petsc_options: dict | None = None):
        _check_problem(problem, domain)
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
            raise BadInput(f"time step dt must be positive, got {dt}")
        self.problem, self.domain, self.degree = problem, domain, _check_degree(degree)
        self.dt = float(dt)
        unknown = set(petsc_options or {}) - set(IPCS_SOLVERS)
        if unknown:
            raise BadInput(f"unknown IPCS solver keys {sorted(unknown)} (use {sorted(IPCS_SOLVERS)})")
        self.petsc_options = {key: dict((petsc_options or {}).get(key, default))
                              for key, default in IPCS_SOLVERS.items()}
        mesh = domain.mesh
        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", self.degree, (mesh.geometry.dim,)))
        self.Q = dolfinx.fem.functionspace(mesh, ("Lagrange", self.degree - 1))
        self.parts = boundary_parts(domain)
        self.has_cylinder = _global_count(domain.comm, self.parts["cylinder"]) > 0

    @property
    def convergence_order(self) -> ConvergenceOrder:
        """Taylor-Hood in space; in time (Guermond, Minev & Shen 2006, §3.3) velocity O(Δt²) in L2 and
        pressure at least O(Δt) in L2 (the bound allows for the boundary layer of the non-rotational
        incremental scheme; on smooth manufactured flows the pressure was observed at 1.9)."""
        return _taylor_hood_orders(self.degree).merged(time_velocity=Rate(2, "dt", "L2"),
                                                       time_pressure=Rate(1, "dt", "L2", minimum=True))

    # --- the mathematics ----------------------------------------------------------------------
    def forms(self, u_n, u_nm1, u_star, p_n, phi, dt, bdf, t_new=None):
        """The bilinear and linear forms (a, L) of the sub-steps "momentum" (u*), "pressure" (φ)
        and "correction" (u^{n+1}).

        ``bdf`` holds Constants (β0, β1, β2, e): ∂u/∂t ≈ (β0 u* - β1 u^n + β2 u^{n-1})/Δt and
        ū = (1 + e) u^n - e u^{n-1}; (3/2, 2, 1/2, 1) for BDF2 and (1, 1, 0, 0) for the first step.
        ``t_new`` (a Constant holding t_{n+1}) is where the body force is evaluated, if there is one.
        """
        mesh = self.domain.mesh
        rho = dolfinx.fem.Constant(mesh, float(self.problem.density))
        mu = dolfinx.fem.Constant(mesh, float(self.problem.density * self.problem.viscosity))
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        p, q = ufl.TrialFunction(self.Q), ufl.TestFunction(self.Q)
        b0, b1, b2, e = bdf
        dx = ufl.dx
        u_bar = (1 + e) * u_n - e * u_nm1
        step1 = (rho / dt * ufl.inner(b0 * u - b1 * u_n + b2 * u_nm1, v) * dx
                 + rho * ufl.inner(ufl.grad(u) * u_bar, v) * dx
                 + mu * ufl.inner(ufl.grad(u), ufl.grad(v)) * dx
                 + ufl.inner(ufl.grad(p_n), v) * dx)
        force = _body_force(self.problem, mesh, t_new) if t_new is not None else None
        if force is not None:  # f at t_{n+1}
            step1 -= ufl.inner(force, v) * dx
        a1, L1 = ufl.lhs(step1), ufl.rhs(step1)
        a2 = ufl.inner(ufl.grad(p), ufl.grad(q)) * dx
        L2 = -b0 * rho / dt * ufl.div(u_star) * q * dx
        a3 = ufl.inner(u, v) * dx
        L3 = ufl.inner(u_star, v) * dx - dt / (b0 * rho) * ufl.inner(ufl.grad(phi), v) * dx
        return {"momentum": (a1, L1), "pressure": (a2, L2), "correction": (a3, L3)}

    # --- the time loop ------------------------------------------------------------------------
    def run(self, t_end: float | None = None, save_times: Sequence[float] | None = None,
            progress: bool = False, callback: Callable | None = None) -> IPCSResult:
        """March from rest (u = 0, p = 0 at t = 0) to ``t_end``.

        Args:
            t_end: Final time (s); default ``problem.t_end``.
            save_times: Times at which to keep u_h and p_h (each is matched to the nearest step);
                default: only the final time (or the last step when ``callback`` stops early).
            progress: Show a tqdm progress bar.
            callback: Called after every step as ``callback(t, u, p)`` with the solver's current
                velocity and pressure Functions (the state the next step starts from, so changes
                to them act on the run); returning True stops the run early.

        Returns:
            `IPCSResult` with the saved solutions and c_D, c_L for every step (volume
            formulation, with ∂u/∂t by the same BDF formula as the step).

        Raises:
            BadInput: t_end <= 0 or save times outside (0, t_end].
            SolverError: a linear solve failed or the solution became non-finite.
        """
        t_end = self.problem.t_end if t_end is None else t_end
        if not (isinstance(t_end, int | float) and math.isfinite(t_end) and t_end > 0):
            raise BadInput(f"t_end must be positive, got {t_end}")
        n_steps = max(1, math.ceil(t_end / self.dt - 1e-9))
        dt_value = t_end / n_steps
        keep_last = save_times is None
        save_times = [t_end] if save_times is None else sorted(float(s) for s in save_times)
        if any(s < 0 or s > t_end + 1e-12 for s in save_times):
            raise BadInput(f"save_times must lie in [0, t_end={t_end}], got {save_times}")
        save_steps = {int(round(s / dt_value)) for s in save_times}

        mesh, comm = self.domain.mesh, self.domain.comm
        fdim = mesh.topology.dim - 1
        V, Q = self.V, self.Q
        u_n, u_nm1, u_star, u_new = (dolfinx.fem.Function(V, name=name) for name in
                                     ("u_n", "u_nm1", "u_star", "velocity"))
        p_n, phi = dolfinx.fem.Function(Q, name="pressure"), dolfinx.fem.Function(Q, name="phi")
        dt = dolfinx.fem.Constant(mesh, dt_value)
        t_new = dolfinx.fem.Constant(mesh, dt_value)  # t_{n+1}, for a body force

        # Dirichlet conditions: inflow g(t) on the inlet, no-slip, φ = 0 on the outlet.
        inflow = dolfinx.fem.Function(V)
        inlet_cells = dolfinx.mesh.compute_incident_entities(mesh.topology, self.parts["inlet"], fdim,
                                                             fdim + 1)
        no_slip = np.concatenate([self.parts["walls"], self.parts["cylinder"]])
        bcs_u = [dolfinx.fem.dirichletbc(np.zeros(2, dtype=PETSc.ScalarType),
                                         dolfinx.fem.locate_dofs_topological(V, fdim, no_slip), V),
                 dolfinx.fem.dirichletbc(inflow, dolfinx.fem.locate_dofs_topological(
                     V, fdim, self.parts["inlet"]))]
        bcs_p = [dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dolfinx.fem.locate_dofs_topological(
            Q, fdim, self.parts["outlet"]), Q)]

        bdf = [dolfinx.fem.Constant(mesh, value) for value in (1.0, 1.0, 0.0, 0.0)]  # first step: BDF1
        steps = {key: (dolfinx.fem.form(a), dolfinx.fem.form(L)) for key, (a, L) in
                 self.forms(u_n, u_nm1, u_star, p_n, phi, dt, bdf, t_new).items()}
        bcs = {"momentum": bcs_u, "pressure": bcs_p, "correction": bcs_u}
        space = {"momentum": V, "pressure": Q, "correction": V}
        matrices, vectors, solvers = {}, {}, {}
        for key, (a, _) in steps.items():
            if key == "momentum":  # reassembled every step
                matrices[key] = dolfinx.fem.petsc.create_matrix(a)
            else:
                matrices[key] = dolfinx.fem.petsc.assemble_matrix(a, bcs=bcs[key])
                matrices[key].assemble()
            vectors[key] = dolfinx.fem.petsc.create_vector(space[key])
            ksp = PETSc.KSP().create(comm)
            ksp.setOperators(matrices[key])
            prefix = unique_prefix(f"ipcs_{key}")
            ksp.setOptionsPrefix(prefix)
            options = PETSc.Options()
            for name, value in self.petsc_options[key].items():
                options[f"{prefix}{name}"] = value
            ksp.setFromOptions()
            for name in self.petsc_options[key]:
                del options[f"{prefix}{name}"]
            solvers[key] = ksp
        solvers["momentum"].setInitialGuessNonzero(
            self.petsc_options["momentum"].get("ksp_type") != "preonly")
        dudt = (bdf[0] * u_new - bdf[1] * u_n + bdf[2] * u_nm1) / dt  # before u_n, u_nm1 move on
        forces = DragLift(self.problem, self.domain, u_new, p_n, dudt=dudt) if self.has_cylinder else None

        def linear_solve(key, x):
            a, L = steps[key]
            b = vectors[key]
            with b.localForm() as local:
                local.set(0.0)
            dolfinx.fem.petsc.assemble_vector(b, L)
            dolfinx.fem.petsc.apply_lifting(b, [a], bcs=[bcs[key]])
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            dolfinx.fem.petsc.set_bc(b, bcs[key])
            ksp = solvers[key]
            ksp.solve(b, x.x.petsc_vec)
            reason = ksp.getConvergedReason()
            if reason < 0:
                raise SolverError(f"{self.name}: {key} solve failed at t = {t:.6g} (PETSc reason {reason})")
            x.x.scatter_forward()
            iterations[key] += ksp.getIterationNumber()

        times = np.empty(0)
        drag, lift = [], []
        saved_u, saved_p = [], []
        iterations = dict.fromkeys(steps, 0)
        if 0 in save_steps:
            saved_u.append(FEMSolution(u_n.copy(), 0.0))
            saved_p.append(FEMSolution(p_n.copy(), 0.0))
        pulsating = self.problem.pulsating
        # the inflow is re-interpolated every step when it may depend on t (a pulsating DFG inflow, or
        # a subclass's, as in manufactured-solution studies)
        unsteady_inflow = pulsating or type(self.problem).inflow is not DFGCylinderFlow.inflow
        inflow.interpolate(_inflow_interpolant(self.problem, dt_value), cells0=inlet_cells)
        start = time.perf_counter()
        step_times = []
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, disable=not progress or comm.rank != 0, unit="step",
                   desc=f"IPCS Re={self.problem.reynolds:.0f}")
        t = 0.0
        try:
            for n in range(1, n_steps + 1):
                t = n * dt_value
                if n == 2:  # BDF2 from the second step on
                    for constant, value in zip(bdf, (1.5, 2.0, 0.5, 1.0), strict=True):
                        constant.value = value
                t_new.value = t
                if unsteady_inflow:
                    inflow.interpolate(_inflow_interpolant(self.problem, t), cells0=inlet_cells)
                # 1. tentative velocity (matrix depends on ū)
                A1 = matrices["momentum"]
                A1.zeroEntries()
                dolfinx.fem.petsc.assemble_matrix(A1, steps["momentum"][0], bcs=bcs_u)
                A1.assemble()
                u_star.x.array[:] = u_n.x.array  # initial guess
                linear_solve("momentum", u_star)
                # 2. pressure increment
                linear_solve("pressure", phi)
                # 3. velocity correction, and the new pressure
                linear_solve("correction", u_new)
                p_n.x.array[:] += phi.x.array
                if forces is not None:
                    c_d, c_l = forces()
                    drag.append(c_d)
                    lift.append(c_l)
                u_nm1.x.array[:] = u_n.x.array
                u_n.x.array[:] = u_new.x.array
                finite = np.all(np.isfinite(u_new.x.array)) and np.all(np.isfinite(p_n.x.array))
                if not comm.allreduce(bool(finite), op=MPI.LAND):
                    raise SolverError(f"{self.name}: solution became non-finite at t = {t:.6g} "
                                      f"(step {n}; try a smaller dt or a finer mesh)")
                step_times.append(t)
                if n in save_steps:
                    saved_u.append(FEMSolution(u_n.copy(), t))
                    saved_p.append(FEMSolution(p_n.copy(), t))
                bar.update()
                if forces is not None and progress and n % 20 == 0:
                    bar.set_postfix(c_D=f"{drag[-1]:.4f}", c_L=f"{lift[-1]:.4f}")
                if callback is not None and callback(t, u_n, p_n):
                    break
        finally:
            bar.close()
            for ksp in solvers.values():
                ksp.destroy()
            for obj in (*matrices.values(), *vectors.values()):
                obj.destroy()
        times = np.array(step_times)
        if keep_last and (not saved_u or saved_u[-1].time != times[-1]):  # stopped early
            saved_u.append(FEMSolution(u_n.copy(), float(times[-1])))
            saved_p.append(FEMSolution(p_n.copy(), float(times[-1])))
        for s in saved_u:
            s.function.name = "velocity"
        for s in saved_p:
            s.function.name = "pressure"
        info = {
            "steps": len(times), "dt": dt_value, "t_end": float(times[-1]), "degree": self.degree,
            "reynolds": self.problem.reynolds, "pulsating": pulsating,
            "dofs_velocity": V.dofmap.index_map.size_global * V.dofmap.index_map_bs,
            "dofs_pressure": Q.dofmap.index_map.size_global,
            "mean_iterations": {k: v / max(1, len(times)) for k, v in iterations.items()},
            "wall_seconds": time.perf_counter() - start,
            "mesh": dict(self.domain.description),
        }
        return IPCSResult(TimeSeries(saved_u, dict(info)), TimeSeries(saved_p, dict(info)), times,
                          np.array(drag) if forces is not None else None,
                          np.array(lift) if forces is not None else None, info)
