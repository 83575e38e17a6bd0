"""The `pdesuite` command (also `python -m pdesuite`).

Exit status: 0 success, 2 bad input (one-line message), 1 internal or numerical failure,
130 interrupted (a dataset being generated keeps its partial file; rerun the command to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from pdesuite.errors import BadInput, Interrupted, MissingDependency, SolverError
from pdesuite.io import json_value
from pdesuite.provenance import command_line
from pdesuite.settings import parse_assignments


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as BadInput (one line, exit 2)."""

    def error(self, message: str):
        raise BadInput(f"{self.prog}: {message}")


def _progress(args) -> bool:
    return not args.quiet and sys.stderr.isatty() and _rank() == 0


# -- commands ---------------------------------------------------------------------------------------
def cmd_list(args) -> int:
    from pdesuite.registry import ALL

    kinds = [args.kind] if args.kind else list(ALL)
    for kind in kinds:
        registry = ALL[kind]
        print(f"{kind}:")
        names = registry.names()
        if not names:
            print("  (none yet)")
        for name in names:
            entry = registry.get(name)
            doc = getattr(entry, "description", "") or (entry.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:24s} {doc}")
    return 0


def cmd_generate(args) -> int:
    from pdesuite.recipes.generate import generate, regenerate

    command = "pdesuite " + " ".join(sys.argv[1:])
    if args.source:
        if args.dataset or args.set or args.samples is not None or args.profile or args.seed is not None:
            raise BadInput("--from rebuilds a file from its own metadata; do not combine it with a dataset "
                           "name, --profile, --samples, --seed or --set")
        path = regenerate(args.source, args.output, overwrite=args.overwrite, resume=args.resume, workers=args.workers,
                          progress=_progress(args), export_xdmf=args.export_xdmf, command=command, force=args.force)
    else:
        if not args.dataset:
            raise BadInput("generate needs a DATASET name or --from FILE (see 'pdesuite list datasets')")
        path = generate(args.dataset, args.output, profile=args.profile or "small", samples=args.samples,
                        seed=0 if args.seed is None else args.seed, overrides=parse_assignments(args.set),
                        workers=args.workers, overwrite=args.overwrite, resume=args.resume,
                        export_xdmf=args.export_xdmf, force=args.force,
                        progress=_progress(args), command=command)
    if not args.quiet and _rank() == 0:
        from pdesuite.data import validate_dataset

        summary = validate_dataset(path, check_values=False)
        counts = ", ".join(f"{s} {info['samples']}" for s, info in summary["splits"].items())
        print(f"wrote {path} ({counts} samples, u {summary['splits'][next(iter(summary['splits']))]['u_shape'][1:]})")
    return 0


def cmd_inspect(args) -> int:
    from pdesuite.data import validate_dataset

    summary = validate_dataset(args.file)
    if args.json:
        print(json.dumps(summary, indent=2, default=json_value))
        return 0
    attrs = summary["attrs"]
    print(f"{args.file}: valid pdesuite dataset v{attrs['format_version']}")
    for key in ("dataset", "problem", "solver", "profile", "seed", "pdesuite_version", "created", "fields"):
        print(f"  {key:17s} {attrs.get(key)}")
    print(f"  {'params':17s} {json.dumps(attrs['params'])}")
    if "mesh" in summary:
        print(f"  {'mesh':17s} {summary['mesh']['points'][0]} nodes, {summary['mesh']['cells'][0]} "
              f"{summary['mesh']['cell_type']} cells")
    coords = ", ".join(f"{k} {v}" for k, v in summary["coordinates"].items())
    print(f"  {'coordinates':17s} {coords}")
    for split, info in summary["splits"].items():
        ranges = ", ".join(f"{name} [{lo:.4g}, {hi:.4g}]" for name, (lo, hi) in info.get("per_field", {}).items())
        print(f"  /{split:16s} u {tuple(info['u_shape'])} {info['dtype']}, chunks {tuple(info['chunks'] or ())}, "
              f"{info['compression']}; {ranges}")
        if "mesh" in info:  # the split's own mesh
            print(f"  {'':17s} its mesh: {info['mesh']['points'][0]} nodes, {info['mesh']['cells'][0]} "
                  f"{info['mesh']['cell_type']} cells")
    if "stats" in summary:  # the normalisation statistics (pdesuite.data.TrajectoryWindows)
        stats = summary["stats"]
        fields = attrs.get("fields") or []
        values = ", ".join(f"{name} {m:.4g} ± {s:.4g}"
                           for name, m, s in zip(fields, stats["mean"], stats["std"], strict=False))
        print(f"  {'stats':17s} over {stats['split']} ({stats['samples']} samples): {values}")
    return 0


def cmd_export(args) -> int:
    from pdesuite.data.export import export_pdebench, export_the_well

    if args.to == "pdebench":
        out = export_pdebench(args.file, args.output, overwrite=args.overwrite)
        if not args.quiet:
            files = ", ".join(sorted(p.name for p in out.iterdir()))
            print(f"wrote {out} (PDEBench layout, one file per split: {files})")
        return 0
    out = export_the_well(args.file, args.output, overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {out} (The Well layout: {out / 'data'}/<split>/*.hdf5 and {out / 'stats.yaml'})")
    return 0


def cmd_report(args) -> int:
    from pdesuite.validation.report import build_report

    index = build_report(args.sources, args.output, title=args.title, overwrite=args.overwrite,
                         progress=_progress(args))
    if not args.quiet:
        print(f"wrote {index} (open it in a browser; no server or network needed)")
    return 0


def cmd_search_schedule(args) -> int:
    from pdesuite.validation.schedule_search import search_run

    if args.nfe < 1:
        raise BadInput(f"--nfe must be a positive integer, got {args.nfe}")
    _, path, summary = search_run(args.run, args.nfe, sampler=args.sampler, options=args.option, against=args.against,
                                  kind=args.objective, samples=args.samples, budget=args.budget, seed=args.seed,
                                  name=args.name)
    if not args.quiet:
        print(summary)
        print(f"wrote {path}")
    return 0


def cmd_embed_prompts(args) -> int:
    from pdesuite.io import check_output_path
    from pdesuite.nn.sentence_encoder import embed_prompts

    check_output_path(args.output, args.overwrite)
    table = embed_prompts(args.data, args.output)
    if not args.quiet:
        print(f"wrote {table.path} ({len(table)} prompts, {table.dim}-dim, {table.name})")
    return 0


def cmd_train(args) -> int:
    from pdesuite.training.trainer import announce, make_config, train

    run_dir = Path(args.output)
    if args.resume:
        from pdesuite.training.trainer import resume_config

        fixed = {"profile": args.profile, "seed": args.seed, "dtype": args.dtype, "device": args.device,
                 "amp": args.amp or None, "tf32": args.tf32 or None, "compile": args.compile or None}
        config = resume_config(run_dir, surrogate=args.surrogate, data=args.data, steps=args.steps,
                               overrides=parse_assignments(args.set), fixed=fixed)
        summary = train(run_dir, config, resume=True, progress=_progress(args), time_limit=args.time_limit,
                        command=command_line(args.argv))
    else:
        if not args.data:
            raise BadInput("train needs --data FILE (a dataset from 'pdesuite generate')")
        config = make_config(args.surrogate, args.data, profile=args.profile or "small", steps=args.steps,
                             device=args.device or "auto", seed=0 if args.seed is None else args.seed,
                             dtype=args.dtype or "float32", amp=args.amp, overrides=parse_assignments(args.set),
                             tf32=args.tf32, compile=args.compile, force=args.force)
        summary = train(run_dir, config, progress=_progress(args), time_limit=args.time_limit,
                        command=command_line(args.argv))
    announce(summary, run_dir, args.quiet or _rank() != 0)
    return 0


def cmd_validate(args) -> int:
    from pdesuite.validation.validate import validate_run

    if args.uncertainty_samples is not None and (args.uncertainty_samples < 0 or args.uncertainty_samples == 1):
        raise BadInput(f"--uncertainty-samples must be 0 (off) or at least 2, got {args.uncertainty_samples}")
    if args.nfe is not None and args.nfe < 1:
        raise BadInput(f"--nfe must be a positive integer, got {args.nfe}")
    evaluation = validate_run(args.run, data=args.data, output=args.output, seed=args.seed,
                              uncertainty_samples=args.uncertainty_samples, sampler=args.sampler, nfe=args.nfe,
                              guidance=args.guidance, command=command_line(args.argv))
    if not args.quiet:
        for note in evaluation.notes:
            print(f"pdesuite: note: {note}", file=sys.stderr)
        out = Path(args.output or args.run)
        p = evaluation.provenance
        print(f"{p['surrogate']} ({p['weights']}, step {p['step']}): {evaluation.summary}")
        files = [out / "metrics.json", *(out / name for name in evaluation.figures)]
        print("wrote " + ", ".join(str(f) for f in files[:-1]) + (" and " if len(files) > 1 else "") + str(files[-1]))
    return 0


def cmd_sample(args) -> int:
    from pdesuite.validation.generation import sample_run

    path, count = sample_run(args.run, args.output, prompts=args.prompt, split=args.split, count=args.count,
                             sampler=args.sampler, nfe=args.nfe, guidance=args.guidance, seed=args.seed,
                             overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {path} ({count} generated trajectories)")
    return 0


def cmd_plot(args) -> int:
    from pdesuite.data.plot import plot_sample

    output = args.output or Path(args.file).with_suffix(".png").name
    path = plot_sample(args.file, output, split=args.split, index=args.index, field=args.field)
    if not args.quiet:
        print(f"wrote {path}")
    return 0


def cmd_chromatography(args) -> int:
    from pdesuite.solvers.laplace import commands

    return commands.simulate(args) if args.action == "simulate" else commands.fit(args)


def cmd_gpu_validation(args) -> int:
    from pdesuite.gpu_validation import run_validation

    result = run_validation(args.output, args.budget, smoke=args.smoke, device=args.device, work=args.work,
                            parallel=args.parallel, seeds=args.seeds, stages=args.stages, compile=args.compile,
                            command="pdesuite " + " ".join(sys.argv[1:]), quiet=args.quiet, carried=args.carried)
    if not args.quiet:
        states = ", ".join(f"{name} {stage['status']}" for name, stage in result["stages"].items())
        print(f"gpu-validation: {states}; see {args.output / 'summary.md'}")
    return 0


def cmd_demo(args) -> int:
    from pdesuite.demo import run_demo

    run_demo(Path(args.output), quiet=args.quiet)
    return 0


# -- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summaries")
    parser = _Parser(prog="pdesuite", description="Classical PDE reference data and neural surrogates.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", parents=[common], help="list problems, datasets, surrogates, samplers, plans or "
                       "evaluators")
    p.add_argument("kind", nargs="?", choices=["problems", "datasets", "surrogates", "samplers", "plans", "evaluators"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("generate", parents=[common], help="generate a named reference dataset",
                       description="Generate a named dataset into an HDF5 file (format v1), or rebuild one "
                                   "from the metadata of an existing file with --from.")
    p.add_argument("dataset", nargs="?", help="dataset name (pdesuite list datasets)")
    p.add_argument("-o", "--output", required=True, help="output .h5 file")
    p.add_argument("--from", dest="source", metavar="FILE", help="regenerate from FILE's stored metadata")
    p.add_argument("--profile", help="recipe profile: small (CPU, default), gpu (where the recipe has one) or paper")
    p.add_argument("--samples", type=int, help="training samples (valid/test keep the recipe's proportions)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a recipe parameter (repeatable)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--resume", action="store_true", help="continue an interrupted generation (its partial file)")
    p.add_argument("--export-xdmf", metavar="DIR", help="also write each solution as XDMF for ParaView")
    p.add_argument("--force", action="store_true", help="skip the memory/disk check (or PDESUITE_FORCE=1)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("inspect", parents=[common], help="validate a dataset file and summarise it")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("export", parents=[common],
                       help="write a grid dataset in a peer's layout (The Well, PDEBench)",
                       description="Write a dataset file in The Well's HDF5 layout, which the_well's WellDataset "
                                   "loads, or in PDEBench's, which pdebench's FNO/U-Net dataset classes load "
                                   "(docs/dataset-format.md).")
    p.add_argument("file", help="pdesuite dataset file (grid data)")
    p.add_argument("--to", required=True, choices=["the-well", "pdebench"], help="target layout")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", parents=[common], help="an HTML report of validated runs, with verdicts",
                       description="Gather run folders (and gpu-validation outputs) into a static HTML site: an index "
                                   "with one row per run (surrogate, dataset, profile, device, headline metric, the "
                                   "paper's figure, verdict) and a page per run (metrics, training curves, figures, "
                                   "commands, versions). See docs/report.md.")
    p.add_argument("sources", nargs="+", metavar="RUN_OR_FOLDER",
                   help="run folders, folders holding runs, gpu-validation output folders or results.tar.gz")
    p.add_argument("-o", "--output", required=True, help="report folder (index.html goes there)")
    p.add_argument("--title", default="pdesuite validation report", help="the index page's title")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("search-schedule", parents=[common],
                       help="search a sampler's time grid for a trained text2pde or pde-refiner run",
                       description="Search the time steps (and per-step orders) of a trained model's sampler at a "
                                   "fixed NFE against validation trajectories; saves RUNDIR/schedules/NAME.json, "
                                   "which --sampler of validate and sample takes (docs/diffusion/search.md).")
    p.add_argument("run", help="text2pde or pde-refiner run folder")
    p.add_argument("--nfe", type=int, required=True, help="model evaluations (pde-refiner: network calls per step)")
    p.add_argument("--sampler", help="text2pde: the sampler to search (default: the run's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="text2pde: a fixed sampler option, e.g. variant=3M")
    p.add_argument("--against", choices=["converged", "data"], default="converged",
                   help="text2pde: the model's converged sample from the same noise (default) or the reference data")
    p.add_argument("--objective", choices=["rollout", "one-step"], default="rollout",
                   help="pde-refiner: relative L2 over the first 16 model steps, or of one step")
    p.add_argument("--samples", type=int, help="validation trajectories (default 4 text2pde, 8 pde-refiner)")
    p.add_argument("--budget", type=int, default=60, help="text2pde: objective calls of the search (default 60)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    p.add_argument("--name", help="file name in RUNDIR/schedules/ (default SAMPLER-NFE or refiner-NFE)")
    p.set_defaults(func=cmd_search_schedule)

    p = sub.add_parser("embed-prompts", parents=[common], help="embed a dataset's prompts for text conditioning",
                       description="Embed every distinct prompt of a dataset file with the frozen text encoder "
                                   "(all-MiniLM-L6-v2) into an HDF5 table, for machines without the model package.")
    p.add_argument("data", help="dataset file whose samples carry a prompt (smoke, cylinder-flow)")
    p.add_argument("-o", "--output", required=True, help="output .h5 table")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_embed_prompts)

    p = sub.add_parser("plot", parents=[common], help="plot one sample of a dataset file (PNG)")
    p.add_argument("file")
    p.add_argument("-o", "--output", help="PNG file (default: FILE's name with .png, here)")
    p.add_argument("--split", choices=["train", "valid", "test"], help="split (default: the first present)")
    p.add_argument("--index", type=int, default=0, help="sample index (default 0)")
    p.add_argument("--field", help="only this field")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("train", parents=[common], help="train a surrogate on a dataset",
                       description="Train a surrogate into a run folder (config.json, checkpoint.pt, best.pt, "
                                   "log.jsonl); --resume continues an interrupted run exactly.")
    p.add_argument("surrogate", help="surrogate name (pdesuite list surrogates)")
    p.add_argument("--data", help="dataset file (the reference the surrogate learns and is judged on)")
    p.add_argument("-o", "--output", required=True, help="run folder")
    p.add_argument("--profile", help="small (CPU, default), gpu (about 8 minutes on one H100) "
                   "or paper")
    p.add_argument("--steps", type=int, help="Adam steps (overrides the profile)")
    p.add_argument("--device", help="auto (cuda when available; default), cpu or cuda")
    p.add_argument("--dtype", help="float32 (default) or float64")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast of the loss on GPU")
    p.add_argument("--tf32", action="store_true", help="TF32 matrix products and convolutions on GPU "
                   "(default: full float32)")
    p.add_argument("--compile", action="store_true", help="torch.compile the surrogate's networks")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop at the first step boundary after SECONDS, with a checkpoint (--resume continues)")
    p.add_argument("--seed", type=int, help="seed for weights and collocation points (default 0)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    p.add_argument("--force", action="store_true", help="skip the memory check (or PDESUITE_FORCE=1)")
    p.add_argument("--resume", action="store_true", help="continue the run in -o from its checkpoint (more steps "
                   "or another learning rate may be given; other settings must match the run's)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("validate", parents=[common], help="evaluate a trained surrogate against its reference")
    p.add_argument("run", help="run folder")
    p.add_argument("--data", help="another dataset file with the same layout")
    p.add_argument("-o", "--output", help="folder for metrics.json and plots (default: the run folder)")
    p.add_argument("--seed", type=int, default=0, help="seed of stochastic rollouts (pde-refiner; default 0)")
    p.add_argument("--uncertainty-samples", type=int, metavar="S",
                   help="pde-refiner: S >= 2 extra stochastic rollouts for the uncertainty estimate (0: off; "
                        "default: the run's uncertainty_samples setting)")
    p.add_argument("--sampler", help="text2pde: the sampler (default: the run's; pdesuite list samplers)")
    p.add_argument("--nfe", type=int, help="text2pde: the sampler's model evaluations (default: the run's)")
    p.add_argument("--guidance", type=float, help="text2pde: classifier-free guidance weight (text models)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("sample", parents=[common], help="generate trajectories with a trained text2pde model",
                       description="Generate whole trajectories from a prompt (text models) or from the first "
                                   "frames of a split (first-frame models) into an HDF5 file.")
    p.add_argument("run", help="text2pde run folder")
    p.add_argument("-o", "--output", required=True, help="output .h5 file")
    p.add_argument("--prompt", action="append", help="a sentence (repeat for several; text models only)")
    p.add_argument("--split", default="test", help="split whose first frames or prompts condition (default test)")
    p.add_argument("--count", type=int, help="trajectories of the split (default all)")
    p.add_argument("--sampler", help="sampler (default: the run's)")
    p.add_argument("--nfe", type=int, help="model evaluations (default: the run's)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance weight (text models)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial noise (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_sample)

    from pdesuite.solvers.laplace.commands import add_parsers as add_chromatography

    add_chromatography(sub, common)
    sub.choices["chromatography"].set_defaults(func=cmd_chromatography)

    from pdesuite.gpu_validation import add_parser as add_gpu_validation

    add_gpu_validation(sub, common)
    sub.choices["gpu-validation"].set_defaults(func=cmd_gpu_validation)

    p = sub.add_parser("demo", parents=[common], help="quickstart: small FEM dataset, plot and summary")
    p.add_argument("-o", "--output", default="demo-output", help="output folder (default demo-output/)")
    p.set_defaults(func=cmd_demo)
    return parser


def _rank() -> int:
    """This process's rank when launched by torchrun (RANK) or mpiexec (0 otherwise): only rank 0 prints."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return int(os.environ["RANK"])
    from pdesuite.recipes.generate import mpi_world

    comm = mpi_world()
    return 0 if comm is None else comm.rank


def _version() -> str:
    from pdesuite import __version__

    return f"pdesuite {__version__}"


def _sigterm(signum, frame):  # noqa: ARG001
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():  # a script may call main() from worker threads
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        args = build_parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in config.json and metrics.json
        if not getattr(args, "func", None):
            build_parser().print_help()
            return 2
        return args.func(args)
    except BadInput as exc:
        print(f"pdesuite: error: {exc}", file=sys.stderr)
        return 2
    except (SolverError, MissingDependency) as exc:
        print(f"pdesuite: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("pdesuite: interrupted; run the same command with --resume to continue", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        sys.stderr.close()
        return 0
    except Exception as exc:  # an internal failure: one line, traceback on request
        if os.environ.get("PDESUITE_DEBUG"):
            raise
        print(f"pdesuite: internal error: {type(exc).__name__}: {exc} (set PDESUITE_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
