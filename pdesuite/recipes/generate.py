"""Run a recipe into a dataset file: parameters, seeds, workers, progress, provenance, resume."""

from __future__ import annotations

import datetime as _dt
import multiprocessing
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pdesuite.data.reader import open_dataset
from pdesuite.data.writer import DatasetWriter, check_output_path, check_partial, check_writable_folder
from pdesuite.errors import BadInput, SolverError
from pdesuite.recipes.base import Recipe
from pdesuite.registry import DATASETS


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("pdesuite", "numpy", "scipy", "h5py", "dolfinx-solver-real", "fenics-basix", "fenics-ffcx",
                 "fenics-ufl", "gmsh", "torch"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


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


def _mpi_world():
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
             progress: bool = True, params: dict | None = None, command: str | None = None) -> Path:
    """Generate dataset ``name`` into ``output`` and return its path.

    Samples are solved in batches (`Recipe.batch_size`), by this process, by ``workers`` spawned
    processes, or — under ``mpiexec -n N`` — by N MPI ranks, rank 0 writing the one file. Every sample
    draws from its own generator (seed, split, index), so the file is bitwise the same whichever way.
    ``params`` (a full parameter dict, as stored in a file) replaces profile/samples/overrides: that is
    how `regenerate` reproduces a file. ``resume`` continues an interrupted run's partial file. Bad
    input raises BadInput before any solve.
    """
    from tqdm.auto import tqdm

    cls = DATASETS.get(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"--seed must be a non-negative integer, got {seed!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"--workers must be a positive integer, got {workers!r}")
    comm = _mpi_world()
    if comm is not None and workers > 1:
        raise BadInput("use either --workers or mpiexec, not both")
    recipe = cls(dict(params) if params is not None else cls.resolve(profile, samples, overrides))
    output = Path(output)
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
    export = str(export_dir) if export_dir else None
    global _WORKER
    _WORKER = recipe
    if comm is not None and comm.rank > 0:
        _mpi_worker(comm, seed, export)
        return output

    layout = recipe.layout()
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
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(min(workers, len(batches)), mp_context=context, initializer=_init_worker,
                                         initargs=(recipe.name, recipe.params)) as pool:
                    futures = [pool.submit(_run_batch, split, indices, seed, export) for split, indices in batches]
                    for future in futures:
                        write(*future.result())
            bar.close()
    except (SolverError, RuntimeError) as exc:
        if comm is not None:  # the other ranks may be blocked sending: end the whole job
            print(f"pdesuite: failed: {exc}", file=sys.stderr, flush=True)
            comm.Abort(1)
        raise
    return output


# -- MPI: rank 0 writes, every rank solves the batches j with j % size == rank -------------------
def _mpi_root(comm, batches, seed, export, write) -> None:
    comm.bcast(batches, root=0)
    for j, (split, indices) in enumerate(batches):
        owner = j % comm.size
        if owner == 0:
            write(*_run_batch(split, indices, seed, export))
        else:
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
               workers: int = 1, progress: bool = True, export_xdmf=None, command: str | None = None) -> Path:
    """Rebuild a dataset from the metadata stored in ``source`` (same seed: identical arrays)."""
    meta = open_dataset(source)
    for key in ("dataset", "params", "seed", "profile"):
        if key not in meta.attrs:
            raise BadInput(f"{source} lacks the '{key}' attribute needed to regenerate it")
    if Path(output).resolve() == Path(source).resolve():
        raise BadInput("--from and -o name the same file; write the regenerated dataset elsewhere")
    return generate(meta.attrs["dataset"], output, profile=meta.attrs["profile"], seed=int(meta.attrs["seed"]),
                    params=meta.attrs["params"], workers=workers, overwrite=overwrite, resume=resume,
                    export_xdmf=export_xdmf, progress=progress, command=command)
