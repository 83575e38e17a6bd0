"""Print the convergence tables of the pseudo-spectral solvers (docs/datasets/*.md).

    .venv/bin/python benchmarks/spectral_convergence.py
"""

from pdesuite.solvers.spectral import verification as v


def row(label, xs, errors, rate=None):
    cells = " | ".join(f"{e:.2e}" for e in errors)
    return f"| {label} | {cells} |" + (f" {rate:.2f} |" if rate is not None else "")


def main() -> None:
    s = v.burgers_space_study()
    print("Burgers vs Cole-Hopf, ν = 0.1, t = 1, Δt = 0.01 (space):")
    print("| N | " + " | ".join(str(n) for n in s["n"]) + " |")
    print(row("max error", s["n"], s["errors"]))
    t = v.burgers_time_study()
    print("\nBurgers vs Cole-Hopf, N = 128, t = 2 (time):")
    print("| Δt | " + " | ".join(str(d) for d in t["dt"]) + " | rate |")
    print(row("max error", t["dt"], t["errors"], t["rate"]))
    k = v.ks_time_study()
    print("\nKS self-convergence (L = 64, N = 256, t = 4, reference 64 substeps of 0.2):")
    print("| h | " + " | ".join(f"{h:.4g}" for h in k["h"]) + " | rate |")
    print(row("max error", k["h"], k["errors"], k["rate"]))
    a = v.allen_cahn_time_study()
    print("\nAllen-Cahn self-convergence in time (N = 256, t = 1):")
    print("| h | " + " | ".join(f"{h:.4g}" for h in a["h"]) + " | rate |")
    print(row("max error", a["h"], a["errors"], a["rate"]))
    a = v.allen_cahn_space_study()
    print("\nAllen-Cahn in space (t = 1, difference from N = 2048 on the stored 512 points):")
    print("| N | " + " | ".join(str(n) for n in a["n"]) + " |")
    print(row("max difference", a["n"], a["errors"]))


if __name__ == "__main__":
    main()
