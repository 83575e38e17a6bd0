"""Print the convergence tables of the pseudo-spectral solvers (docs/datasets/*.md).

The studies are those of `pdesuite.solvers.spectral.verification`, which the order test
(tests/solvers/test_orders.py) checks against each solver's declared `convergence_order`: Burgers
against Cole-Hopf in space and time (ETDRK4 and the exponential Adams methods), KS self-convergence
in time and space, Allen-Cahn in time and space. No timings, so no repeats.

    .venv/bin/python benchmarks/spectral_convergence.py [-o benchmarks/results/spectral_convergence.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _timing import emit


def row(label, errors, rate=None) -> str:
    cells = " | ".join(f"{e:.2e}" for e in errors)
    return f"| {label} | {cells} |" + (f" {rate:.2f} |" if rate is not None else "")


def tables() -> str:
    from pdesuite.solvers.order import observed_rate
    from pdesuite.solvers.spectral import verification as v

    out = []
    s = v.burgers_space_study()
    out += ["Burgers vs Cole-Hopf, ν = 0.1, t = 1, Δt = 0.01 (space):",
            "| N | " + " | ".join(str(n) for n in s["n"]) + " |", row("max error", s["errors"])]
    t = v.burgers_time_study()
    out += ["", "Burgers vs Cole-Hopf, N = 128, t = 2 (time, ETDRK4):",
            "| Δt | " + " | ".join(str(d) for d in t["dt"]) + " | rate |", row("max error", t["errors"], t["rate"])]
    out += ["", "Exponential Adams orders against Cole-Hopf (N = 128, t = 2, h = 0.08 / 0.04 / 0.02):",
            "| scheme | h = 0.08 | 0.04 | 0.02 | rate |"]
    for q in range(2, 7):
        a = v.burgers_time_study(dts=(0.08, 0.04, 0.02), scheme=f"etd-adams{q}")
        out.append(row(f"etd-adams{q}", a["errors"], a["rate"]))
    k = v.ks_time_study()
    out += ["", "KS self-convergence (L = 64, N = 256, t = 4, reference 64 substeps of 0.2):",
            "| h | " + " | ".join(f"{h:.4g}" for h in k["h"]) + " | rate |", row("max error", k["errors"], k["rate"])]
    k5 = v.ks_time_study(substeps=(4, 6, 8), reference_substeps=256, scheme="etd-adams5")
    out += ["", "KS, etd-adams5 against ETDRK4 with 256 substeps of 0.2 (t = 4):",
            "| h | " + " | ".join(f"{h:.4g}" for h in k5["h"]) + " | rate |",
            row("max error", k5["errors"], k5["rate"])]
    ks = v.ks_space_study((32, 48, 64, 96))
    out += ["", "KS in space (t = 4, ETDRK4 Δt = 0.05; trigonometric interpolant against N = 256):",
            "| N | " + " | ".join(str(n) for n in ks["n"]) + " | algebraic slope |",
            row("max error", ks["errors"], -observed_rate(ks["n"], ks["errors"]))]
    a = v.allen_cahn_time_study()
    out += ["", "Allen-Cahn self-convergence in time (N = 256, t = 1):",
            "| h | " + " | ".join(f"{h:.4g}" for h in a["h"]) + " | rate |", row("max error", a["errors"], a["rate"])]
    a = v.smooth_allen_cahn_space_study()
    out += ["", "Allen-Cahn in space, ε = 0.01, u0 = 0.8 sin πx + 0.3 cos(2πx + 0.5), t = 0.5 (against N = 512):",
            "| N | " + " | ".join(str(n) for n in a["n"]) + " | algebraic slope |",
            row("max error", a["errors"], -observed_rate(a["n"], a["errors"]))]
    a = v.allen_cahn_space_study()
    out += ["", "Allen-Cahn benchmark in space (t = 1, difference from N = 2048 on the stored 512 points):",
            "| N | " + " | ".join(str(n) for n in a["n"]) + " |", row("max difference", a["errors"])]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write the tables (Markdown) here instead of stdout")
    args = parser.parse_args(argv)
    return emit(tables(), args.output)


if __name__ == "__main__":
    main()
