"""Print the FEM convergence tables of docs/fem-solvers.md (manufactured solutions).

    .venv/bin/python benchmarks/fem_convergence.py > benchmarks/results/fem_convergence.md
"""

from pdesuite.solvers.fem import verification as v


def spatial_table(title, study) -> str:
    lines = [f"**{title}** (expected L2 {study['expected']['L2']}, H1 {study['expected']['H1']})", "",
             "| h | L2 error | H1 error |", "|---|---|---|"]
    for h, e0, e1 in zip(study["h"], study["errors"]["L2"], study["errors"]["H1"], strict=True):
        lines.append(f"| 1/{round(1 / h)} | {e0:.3e} | {e1:.3e} |")
    lines.append(f"| **rate** | **{study['rates']['L2']:.3f}** | **{study['rates']['H1']:.3f}** |")
    return "\n".join(lines) + "\n"


def main() -> None:
    print("## Spatial convergence (manufactured solution u = sin(πx)cos(2y) + exp(xy))\n")
    for case in v.SPATIAL_CASES:
        for degree in (1, 2):
            print(spatial_table(f"{case}, P{degree}", v.spatial_study(case, degree)))
    print("## Heat / advection-diffusion, space (u linear in t: time is exact)\n")
    for velocity in (None, (1.0, -0.5)):
        for degree in (1, 2):
            name = "heat" if velocity is None else "advection-diffusion b=(1,-0.5)"
            print(spatial_table(f"{name}, P{degree}, Crank-Nicolson", v.heat_space_study(degree, velocity)))
    print("## θ-schemes, time (u quadratic in space, P2: space is exact)\n")
    print("| scheme | " + " | ".join(f"Δt = {dt}" for dt in (0.2, 0.1, 0.05, 0.025)) + " | rate | expected |")
    print("|---|---|---|---|---|---|---|")
    for scheme in ("backward-euler", "crank-nicolson", 0.75):
        s = v.heat_time_study(scheme)
        label = scheme if isinstance(scheme, str) else f"θ = {scheme}"
        print(f"| {label} | " + " | ".join(f"{e:.3e}" for e in s["errors"]) + f" | {s['rate']:.3f} | {s['expected']} |")


if __name__ == "__main__":
    main()
