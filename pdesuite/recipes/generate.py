"""Run a recipe into a dataset file: parameters, seeds, workers, progress, provenance, resume."""

from __future__ import annotations

import contextlib
import datetime as _dt
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from pdesuite import resources
from pdesuite.data.reader import open_dataset
from pdesuite.data.writer import DatasetWriter, check_partial
from pdesuite.errors import BadInput, SolverError
from pdesuite.io import FileLock, check_output_path, check_writable_folder
from pdesuite.provenance import software_versions
from pdesuite.recipes.base import Recipe
from pdesuite.registry import DATASETS


def make_recipe(name: str, profile: str = "small", samples: int | None = None,
                overrides: dict[str, str] | None = None) -> Recipe:
    cls = DATASETS.get(name)
    return cls(cls.resolve(profile, samples, overrides))


# -- worker processes ---------------------------------------------------------------------------
_WORKER: Recipe | None = None


def _init_worker(name: str, params: dict) -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = DATASETS.get(name)(params)
    _WORKER.prepare()


def _run_batch(split: str, indices: list[int], seed: int, export_dir: str | None):
    """Solve samples ``indices`` of ``split`` (in a worker, or in-process)."""
    assert _WORKER is not None
    try:
        samples = _WORKER.run_indices(split, indices, seed, Path(export_dir) if export_dir else None)
    except SolverError as exc:
        which = f"sample {indices[0]}" if len(indices) == 1 else f"samples {indices[0]}..{indices[-1]}"
        raise SolverError(f"{split} {which}: {exc}") from exc
    return split, indices, samples


def mpi_world():
    """COMM_WORLD when running under mpiexec with more than one process, else None."""
    if not any(key in os.environ for key in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")):
        return None  # not launched by an MPI launcher: do not initialise MPI
    from mpi4py import MPI

    return MPI.COMM_WORLD if MPI.COMM_WORLD.size > 1 else None


def _agree(comm, check) -> None:
    """Run ``check`` on rank 0 and raise its BadInput on every rank (so no rank starts work alone)."""
    message = None
    if comm is None or comm.rank == 0:
        try:
            check()
        except BadInput as exc:
            message = str(exc)
    if comm is not None:
        message = comm.bcast(message, root=0)
    if message is not None:
        raise BadInput(message)


def generate(name: str, output: str | os.PathLike, profile: str = "small", samples: int | None = None,
             seed: int = 0, overrides: dict[str, str] | None = None, workers: int = 1,
             overwrite: bool = False, resume: bool = False, export_xdmf: str | os.PathLike | None = None,
             progress: bool = True, params: dict | None = None, command: str | None = None,
             force: bool = False) -> Path:
    """Generate dataset ``name`` into ``output`` and return its path.

    Samples are solved in batches (`Recipe.batch_size`), by this process, by ``workers`` spawned
    processes, or — under ``mpiexec -n N`` — by N MPI ranks, rank 0 writing the one file. Every sample
    draws from its own generator (seed, split, index), so the file is bitwise the same whichever way.
    ``params`` (a full parameter dict, as stored in a file) replaces profile/samples/overrides: that is
    how `regenerate` reproduces a file. ``resume`` continues an interrupted run's partial file. Bad
    input raises BadInput before any solve, and so does a size this machine cannot hold (memory or disk;
    ``force`` skips that check, `pdesuite.resources`). The output path is locked for the whole write
    (`pdesuite.io.FileLock`): a second writer is refused while the first runs.
    """
    cls = DATASETS.get(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"--seed must be a non-negative integer, got {seed!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"--workers must be a positive integer, got {workers!r}")
    comm = mpi_world()
    if comm is not None and workers > 1:
        raise BadInput("use either --workers or mpiexec, not both")
    recipe = cls(dict(params) if params is not None else cls.resolve(profile, samples, overrides))
    output = Path(output)
    _agree(comm, lambda: check_output_path(output, overwrite))
    with contextlib.ExitStack() as held:  # rank 0 (or the one process) holds the lock for the whole write
        if comm is None or comm.rank == 0:
            _agree(comm, lambda: held.enter_context(FileLock(output)))
        else:
            _agree(comm, lambda: None)
        return _generate(recipe, output, profile, seed, comm, workers, overwrite, resume, export_xdmf, progress,
                         command, force)


def _generate(recipe: Recipe, output: Path, profile: str, seed: int, comm, workers: int, overwrite: bool,
              resume: bool, export_xdmf, progress: bool, command: str | None, force: bool) -> Path:
    from tqdm.auto import tqdm

    _agree(comm, lambda: (check_output_path(output, overwrite), check_partial(output, resume, overwrite)))
    export_dir = Path(export_xdmf) if export_xdmf is not None else None
    if export_dir is not None:
        def check_export():
            try:
                export_dir.mkdir(parents=True, exist_ok=True)
            except OSError:
                raise BadInput(f"--export-xdmf folder {export_dir} cannot be created") from None
            check_writable_folder(export_dir, "--export-xdmf folder")
        _agree(comm, check_export)

    recipe.prepare()
    layout = recipe.layout()
    _agree(comm, lambda: check_resources(recipe, layout, output, max(workers, comm.size if comm else 1), force))
    export = str(export_dir) if export_dir else None
    global _WORKER
    _WORKER = recipe
    if comm is not None and comm.rank > 0:
        _mpi_worker(comm, seed, export)
        return output

    attrs = {
        "dataset": recipe.name, "problem": recipe.problem, "solver": recipe.solver, "profile": profile,
        "seed": int(seed), "pdesuite_version": software_versions().get("pdesuite", "unknown"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "params": recipe.params, "fields": list(recipe.fields), "software": software_versions(),
        "command": command or " ".join(sys.argv), "description": recipe.description, **recipe.extra_attrs(),
    }
    try:
        with DatasetWriter(output, attrs, overwrite=overwrite, resume=resume) as writer:
            for path, array in layout.arrays.items():
                writer.write_array(path, array, layout.array_attrs.get(path))
            batches: list[tuple[str, list[int]]] = []
            for split, count in recipe.splits():
                writer.create_split(split, count, layout.shape(split), layout.param_names,
                                    extras=layout.extras_for(split))
                todo = writer.todo(split)
                size = max(1, int(recipe.batch_size))
                batches += [(split, todo[i:i + size]) for i in range(0, len(todo), size)]
            if writer.resumed_samples and progress:
                print(f"resuming {output.name}: {writer.resumed_samples} sample(s) already written", file=sys.stderr)
            total = sum(len(indices) for _, indices in batches)
            bar = tqdm(total=total, desc=f"generate {recipe.name}", unit="sample", disable=not progress)

            def write(split, indices, samples):
                for index, sample in zip(indices, samples, strict=True):
                    writer.write_sample(split, index, sample.u, sample.params, sample.extras)
                bar.update(len(indices))

            if comm is not None:
                _mpi_root(comm, batches, seed, export, write)
            elif workers == 1 or len(batches) <= 1:
                for split, indices in batches:
                    write(*_run_batch(split, indices, seed, export))
            else:
                _run_pool(recipe, batches, seed, export, min(workers, len(batches)), write)
            bar.close()
    except (SolverError, RuntimeError) as exc:
        if comm is not None:  # the other ranks may be blocked sending: end the whole job
            print(f"pdesuite: failed: {exc}", file=sys.stderr, flush=True)
            comm.Abort(1)
        raise
    except KeyboardInterrupt as exc:  # the partial file is closed and kept (DatasetWriter)
        if comm is not None:  # end every rank now: some may be busy solving or blocked sending
            print("pdesuite: interrupted; run the same command with --resume to continue", file=sys.stderr,
                  flush=True)
            comm.Abort(128 + getattr(exc, "signum", signal.SIGINT))
        raise
    return output


def check_resources(recipe: Recipe, layout, output: Path, solvers: int, force: bool) -> None:
    """Refuse sizes this machine cannot hold: the file on disk (float32 samples, uncompressed: an
    upper bound), and in memory the index bookkeeping (~100 bytes per sample) plus ``solvers`` batches
    in flight (float64, with the solver's temporaries: 8 copies)."""
    samples = dict(recipe.splits())
    elements = {split: int(np.prod(layout.shape(split))) for split in samples}
    disk = sum(4 * elements[split] * count for split, count in samples.items())
    batch = max(1, int(recipe.batch_size))
    memory = 100 * sum(samples.values()) + solvers * 8 * 8 * batch * max(elements.values(), default=0)
    resources.check(f"{recipe.name} with {sum(samples.values())} samples", memory=memory, disk=disk, path=output,
                    force=force)


def _watch_parent(parent: int) -> None:
    """In a worker: exit when the process that started it is gone (killed, even by kill -9)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _pool_init(name: str, params: dict, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends the pool
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    _init_worker(name, params)


def _run_batch_args(args) -> tuple:
    return _run_batch(*args)


def _run_pool(recipe: Recipe, batches, seed: int, export, processes: int, write) -> None:
    """The batches on spawned worker processes, written in order as they come; any interruption or
    failure terminates every worker at once (no orphan survives the parent)."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(processes, initializer=_pool_init, initargs=(recipe.name, recipe.params, os.getpid()))
    try:
        for result in pool.imap(_run_batch_args, [(split, indices, seed, export) for split, indices in batches]):
            write(*result)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


# -- MPI: rank 0 writes, every rank solves the batches j with j % size == rank -------------------
def _mpi_root(comm, batches, seed, export, write) -> None:
    comm.bcast(batches, root=0)
    for j, (split, indices) in enumerate(batches):
        owner = j % comm.size
        if owner == 0:
            write(*_run_batch(split, indices, seed, export))
        else:
            while not comm.Iprobe(source=owner, tag=j):  # poll, so that SIGINT/SIGTERM reach Python
                time.sleep(0.005)
            result = comm.recv(source=owner, tag=j)
            if isinstance(result, Exception):
                raise result
            write(*result)


def _mpi_worker(comm, seed, export) -> None:
    batches = comm.bcast(None, root=0)
    for j, (split, indices) in enumerate(batches):
        if j % comm.size == comm.rank:
            try:
                result = _run_batch(split, indices, seed, export)
            except SolverError as exc:
                result = exc
            comm.send(result, dest=0, tag=j)
            if isinstance(result, Exception):
                return


def regenerate(source: str | os.PathLike, output: str | os.PathLike, overwrite: bool = False, resume: bool = False,
               workers: int = 1, progress: bool = True, export_xdmf=None, command: str | None = None,
               force: bool = False) -> Path:
    """Rebuild a dataset from the metadata stored in ``source`` (same seed: identical arrays)."""
    meta = open_dataset(source)
    for key in ("dataset", "params", "seed", "profile"):
        if key not in meta.attrs:
            raise BadInput(f"{source} lacks the '{key}' attribute needed to regenerate it")
    if Path(output).resolve() == Path(source).resolve():
        raise BadInput("--from and -o name the same file; write the regenerated dataset elsewhere")
    return generate(meta.attrs["dataset"], output, profile=meta.attrs["profile"], seed=int(meta.attrs["seed"]),
                    params=meta.attrs["params"], workers=workers, overwrite=overwrite, resume=resume,
                    export_xdmf=export_xdmf, progress=progress, command=command, force=force)
