"""`pdesuite chromatography simulate|fit`: one chromatogram from parameters, or a fit to a measured one.

simulate: CSV (time, signal, c_NAME per analyte; '#' comment lines with the parameters) and a PNG.
fit: the parameter table printed and saved as PREFIX.json and PREFIX.csv, the curves as
PREFIX_curve.csv (time, signal, fit, residual) and PREFIX.png (data, fit and residuals). A fit that
does not converge writes the best point found, marked ``"converged": false``, and exits with status 1.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from pdesuite.errors import BadInput

# numpy, the problem and the solvers are imported by the commands, not by the parser (fast `pdesuite --help`)


def parse_analyte(text: str):
    """``NAME:K_A:K_D[:C0]`` -> Analyte."""
    from pdesuite.problems.chromatography import Analyte

    parts = text.split(":")
    if len(parts) not in (3, 4) or not parts[0]:
        raise BadInput(f"--analyte expects NAME:K_A:K_D[:C0], got {text!r}")
    try:
        values = [float(v) for v in parts[1:]]
    except ValueError:
        raise BadInput(f"--analyte {text!r}: K_A, K_D and C0 must be numbers") from None
    return Analyte(parts[0], *values)


def _pressures(args) -> dict:
    if (args.p_in is None) != (args.p_out is None):
        raise BadInput("give both --p-in and --p-out, or neither")
    return {} if args.p_in is None else {"p_in": args.p_in, "p_out": args.p_out}


def _injection(args):
    from pdesuite.problems.chromatography import Injection

    return Injection(args.injection, args.width, args.t_inj)


def simulate(args) -> int:
    import numpy as np

    from pdesuite.problems.chromatography import Analyte, Chromatography, dimensionless_groups
    from pdesuite.solvers.laplace import report

    analytes = tuple(parse_analyte(a) for a in args.analyte) if args.analyte else (Analyte(),)
    names = [a.name for a in analytes]
    if len(set(names)) != len(names):
        raise BadInput(f"analyte names must differ, got {', '.join(names)}")
    problem = Chromatography(length=args.length, velocity=args.velocity, diffusion=args.diffusion, alpha=args.alpha,
                             q_m=args.q_max, analytes=analytes, injection=_injection(args), t_end=args.t_end,
                             **_pressures(args))
    if args.dt is not None and not (args.dt > 0 and math.isfinite(args.dt)):
        raise BadInput(f"--dt must be positive, got {args.dt}")
    if args.noise < 0 or not math.isfinite(args.noise):
        raise BadInput(f"--noise must be >= 0, got {args.noise}")
    if args.solver == "laplace" and (problem.diffusion > 0 or math.isfinite(problem.q_m)):
        raise BadInput("the Laplace solution assumes D = 0 and linear kinetics: drop --diffusion/--q-max "
                       "or use --solver fd")
    output = Path(args.output)
    if output.suffix.lower() != ".csv":
        raise BadInput(f"output {output} must end in .csv")
    png = output.with_suffix(".png")
    report.check_outputs([output] + ([] if args.no_plot else [png]), args.overwrite)

    if args.seed < 0:
        raise BadInput(f"--seed must be >= 0, got {args.seed}")
    t_end = problem.end_time()
    dt = args.dt if args.dt is not None else t_end / 2000
    if t_end / dt > 2_000_000:
        raise BadInput(f"--dt {dt:g} s gives {t_end / dt:.3g} samples up to t = {t_end:.4g} s (limit 2e6)")
    t = np.arange(0.0, t_end + 0.5 * dt, dt)
    if args.solver == "laplace":
        from pdesuite.solvers.laplace.column import LaplaceColumn

        c = LaplaceColumn(problem, method=args.method).outlet(t)
    else:
        from pdesuite.solvers.fd.chromatography import ColumnFD

        c = ColumnFD(problem, cells=args.cells, scheme=args.scheme).solve(t)
    rng = np.random.default_rng(args.seed)
    signal = c.sum(axis=1) + args.baseline + args.noise * rng.standard_normal(len(t))
    comments = [f"pdesuite chromatography simulate ({args.solver}): L = {problem.length} m, "
                f"u = {problem.velocity} m/s, t0 = {problem.hold_up_time:.6g} s, "
                f"p_in/p_out = {problem.pressure_ratio:.6g}, D = {problem.diffusion}, alpha = {problem.alpha}, "
                f"q_m = {problem.q_m}",
                f"injection {problem.injection.shape}, width {problem.injection.width} s, t_inj "
                f"{problem.injection.t_inj} s; noise {args.noise}, baseline {args.baseline}, seed {args.seed}",
                "analytes: " + "; ".join(f"{a.name} k_a={a.k_a} k_d={a.k_d} c0={a.c0}" for a in analytes)]
    report.write_csv(output, ["time", "signal", *[f"c_{n}" for n in names]], [t, signal, *c.T], comments)
    if not args.no_plot:
        report.plot_chromatogram(png, t, signal, c.T, names,
                                 f"{args.solver}: L = {problem.length} m, t0 = {problem.hold_up_time:.4g} s")
    if not args.quiet:
        groups = dimensionless_groups(problem)
        print(f"t0 = {groups['t0']:.4g} s, Pe = {groups['Pe']:.4g}, P = {groups['P']:.4g}")
        for name, g in groups["analytes"].items():
            print(f"  {name:14s} k' = {g['k_prime']:.4g}, Da = {g['Da']:.4g}, Da_a = {g['Da_a']:.4g}, "
                  f"t_R = {g['t_R']:.4g} s, sigma = {g['sigma_t']:.3g} s, plates = {g['plates']:.4g}")
        print(f"wrote {output}" + ("" if args.no_plot else f" and {png}"))
    return 0


def fit(args) -> int:
    from pdesuite.problems.chromatography import Chromatography
    from pdesuite.solvers.laplace import report
    from pdesuite.solvers.laplace.fitting import fit_chromatogram, read_chromatogram

    if args.t0 is not None and (args.length is not None or args.velocity is not None):
        raise BadInput("give the hold-up time either as --t0 or through --length and --velocity, not both")
    if args.t0 is None:
        if args.length is None or args.velocity is None:
            raise BadInput("the fit needs the hold-up time: --t0 T, or --length L and --velocity U")
        t0 = Chromatography(length=args.length, velocity=args.velocity, alpha=args.alpha).hold_up_time
    else:
        t0 = args.t0
    if not (t0 > 0 and math.isfinite(t0)):
        raise BadInput(f"--t0 must be positive, got {t0}")
    if not (args.alpha > 0 and math.isfinite(args.alpha)):
        raise BadInput(f"--alpha must be positive, got {args.alpha}")
    if args.max_nfev < 1:
        raise BadInput(f"--max-nfev must be >= 1, got {args.max_nfev}")
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    prefix = Path(args.output) if args.output else Path(Path(args.data).stem + "_fit")
    files = [prefix.with_name(prefix.name + ext) for ext in (".json", ".csv", "_curve.csv", ".png")]
    report.check_outputs(files, args.overwrite)
    t, y = read_chromatogram(args.data)
    result = fit_chromatogram(t, y, t0, _injection(args), alpha=args.alpha, n_peaks=args.peaks, names=names,
                              baseline=args.baseline, max_nfev=args.max_nfev)
    summary = {"data": str(args.data), "t0": t0, "alpha": args.alpha,
               "injection": {"shape": args.injection, "width": args.width, "t_inj": args.t_inj}, **result.to_dict()}
    report.write_json(files[0], summary)
    report.write_rows(files[1], [p.row() for p in result.peaks])
    report.write_csv(files[2], ["time", "signal", "fit", "residual"], [t, y, result.fitted, result.residuals])
    report.plot_fit(files[3], result, f"{Path(args.data).name}: Laplace fit, t0 = {t0:.4g} s")
    if not args.quiet:
        print(result.table())
        print("wrote " + ", ".join(str(f) for f in files))
    if not result.converged:
        print(f"pdesuite: fit did not converge ({result.message}); the files hold the best point found",
              file=sys.stderr)
        return 1
    return 0


def add_parsers(sub, common) -> None:
    """The `chromatography` command and its `simulate` and `fit` subcommands."""
    p = sub.add_parser("chromatography", help="GC column: simulate a chromatogram or fit one",
                       description="Gas-chromatography column (Cabrera-Codony et al., arXiv 2501.00001): "
                                   "simulate an outlet chromatogram, or fit the Laplace solution to a measured one.")
    inner = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    inner.required = True

    def injection_options(q):
        q.add_argument("--injection", choices=["pulse", "gaussian"], default="pulse", help="inlet profile")
        q.add_argument("--width", type=float, default=0.5, help="pulse duration or Gaussian sigma (s, default 0.5)")
        q.add_argument("--t-inj", type=float, default=0.0, help="pulse start or Gaussian centre (s, default 0)")

    s = inner.add_parser("simulate", parents=[common], help="one chromatogram from parameters (CSV + PNG)")
    s.add_argument("-o", "--output", required=True, help="output CSV (a PNG of the same name is written too)")
    s.add_argument("--analyte", action="append", metavar="NAME:K_A:K_D[:C0]",
                   help="an analyte: rates k_a, k_d (1/s) and injected concentration (repeatable; default A:20:10:1)")
    s.add_argument("--length", type=float, default=1.0, help="column length L (m, default 1)")
    s.add_argument("--velocity", type=float, default=0.1, help="mean carrier velocity L/t0 (m/s, default 0.1)")
    s.add_argument("--p-in", type=float, help="inlet pressure (with --p-out: compressible carrier, variable velocity)")
    s.add_argument("--p-out", type=float, help="outlet pressure")
    s.add_argument("--diffusion", type=float, default=0.0,
                   help="axial diffusion D (m²/s, default 0; needs --solver fd)")
    s.add_argument("--alpha", type=float, default=1.0, help="phase ratio alpha (default 1)")
    s.add_argument("--q-max", type=float, default=math.inf, help="Langmuir capacity q_m (default inf: linear; fd)")
    injection_options(s)
    s.add_argument("--t-end", type=float, help="end time (s; default: after the last peak)")
    s.add_argument("--dt", type=float, help="sampling interval (s; default t_end/2000)")
    s.add_argument("--solver", choices=["laplace", "fd"], default="laplace", help="Laplace solution or full FD model")
    s.add_argument("--method", choices=["auto", "fourier", "talbot", "bromwich"], default="auto",
                   help="Laplace inversion method (default auto)")
    s.add_argument("--cells", type=int, default=800, help="FD cells (default 800)")
    s.add_argument("--scheme", choices=["upwind", "vanleer", "vanalbada", "koren", "kappa3"], default="kappa3",
                   help="FD advection scheme (default kappa3)")
    s.add_argument("--noise", type=float, default=0.0, help="std of Gaussian noise added to the signal")
    s.add_argument("--baseline", type=float, default=0.0, help="constant added to the signal")
    s.add_argument("--seed", type=int, default=0, help="noise seed")
    s.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    s.add_argument("--overwrite", action="store_true", help="replace existing outputs")

    f = inner.add_parser("fit", parents=[common], help="fit the Laplace solution to a chromatogram CSV",
                         description="Fit k_a, k_d and the area of every peak (and a baseline) to a CSV with "
                                     "columns time and signal.")
    f.add_argument("data", help="CSV with a header naming the columns time and signal")
    f.add_argument("-o", "--output", help="output prefix (default: DATA's name + _fit, here)")
    f.add_argument("--t0", type=float, help="hold-up time (s)")
    f.add_argument("--length", type=float, help="column length (m), with --velocity instead of --t0")
    f.add_argument("--velocity", type=float, help="mean carrier velocity (m/s)")
    f.add_argument("--alpha", type=float, default=1.0, help="phase ratio, to report k_a (default 1)")
    injection_options(f)
    f.add_argument("--peaks", type=int, help="number of analytes (default: every peak found)")
    f.add_argument("--names", help="comma-separated analyte names, in order of elution")
    f.add_argument("--baseline", choices=["constant", "linear", "none"], default="constant", help="baseline model")
    f.add_argument("--max-nfev", type=int, default=200, help="evaluation budget of the least-squares fit")
    f.add_argument("--overwrite", action="store_true", help="replace existing outputs")
