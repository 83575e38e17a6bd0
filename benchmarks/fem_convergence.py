"""Print the FEM convergence tables of docs/fem-solvers.md (manufactured solutions).

Every table comes from `pdesuite.solvers.fem.verification`, the studies that the order test
(tests/solvers/test_orders.py) checks against each solver's declared `convergence_order`: linear
solvers in L2 and the H1 seminorm, the θ-schemes in time, steady Navier-Stokes (Taylor-Hood P2/P1)
in h and IPCS (P3/P2) in Δt on a manufactured flow. No timings, so no repeats.

    .venv/bin/python benchmarks/fem_convergence.py [-o benchmarks/results/fem_convergence.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _timing import emit


def spatial_table(title, study) -> str:
    names = list(study["errors"])
    expected = ", ".join(f"{k} {study['expected'][k]}" for k in names)
    lines = [f"**{title}** (expected {expected})", "",
             "| h | " + " | ".join(f"{k} error" for k in names) + " |", "|---" * (len(names) + 1) + "|"]
    for i, h in enumerate(study["h"]):
        lines.append(f"| 1/{round(1 / h)} | " + " | ".join(f"{study['errors'][k][i]:.3e}" for k in names) + " |")
    lines.append("| **rate** | " + " | ".join(f"**{study['rates'][k]:.3f}**" for k in names) + " |")
    return "\n".join(lines) + "\n"


def tables() -> str:
    from pdesuite.solvers.fem import verification as v

    out = ["## Spatial convergence (manufactured solution u = sin(πx)cos(2y) + exp(xy))\n"]
    for case in v.SPATIAL_CASES:
        for degree in (1, 2):
            out.append(spatial_table(f"{case}, P{degree}", v.spatial_study(case, degree)))
    out.append("## Heat / advection-diffusion, space (u linear in t: time is exact)\n")
    for velocity in (None, (1.0, -0.5)):
        for degree in (1, 2):
            name = "heat" if velocity is None else "advection-diffusion b=(1,-0.5)"
            out.append(spatial_table(f"{name}, P{degree}, Crank-Nicolson", v.heat_space_study(degree, velocity)))
    out.append("## θ-schemes, time (u quadratic in space, P2: space is exact)\n")
    out.append("| scheme | " + " | ".join(f"Δt = {dt}" for dt in (0.2, 0.1, 0.05, 0.025)) + " | rate | expected |")
    out.append("|---|---|---|---|---|---|---|")
    for scheme in ("backward-euler", "crank-nicolson", 0.75):
        s = v.heat_time_study(scheme)
        label = scheme if isinstance(scheme, str) else f"θ = {scheme}"
        out.append(f"| {label} | " + " | ".join(f"{e:.3e}" for e in s["errors"]) + f" | {s['rate']:.3f} | "
                   f"{s['expected']} |")
    out.append("\n## Navier-Stokes, manufactured flow on [0, 1]² (ν = 0.1, do-nothing outlet at x = 1)\n")
    out.append(spatial_table("steady Newton, Taylor-Hood P2/P1", v.navier_stokes_space_study(2)))
    s = v.ipcs_time_study()
    out.append(f"**IPCS (BDF2), P3/P2 on 16², t = 1** (expected velocity {s['expected']['time_velocity']}, "
               f"pressure at least {s['expected']['time_pressure']})\n")
    out.append("| Δt | velocity L2 error | pressure L2 error |\n|---|---|---|")
    for i, dt in enumerate(s["dt"]):
        out.append(f"| {dt} | {s['errors']['time_velocity'][i]:.3e} | {s['errors']['time_pressure'][i]:.3e} |")
    out.append(f"| **rate** | **{s['rates']['time_velocity']:.3f}** | **{s['rates']['time_pressure']:.3f}** |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write the tables (Markdown) here instead of stdout")
    args = parser.parse_args(argv)
    return emit(tables(), args.output)


if __name__ == "__main__":
    main()
