"""Find the runs a report shows and read what each one left behind.

A source given to ``pdesuite report`` is one of:

- a run folder (it holds ``config.json``, written by ``pdesuite train``);
- the output folder of ``pdesuite gpu-validation`` (``summary.json`` and ``results.tar.gz``), or the
  archive itself: its runs, with the commands and the machine from the summary;
- any other folder: every run folder and GPU-validation output below it.

What a run left behind: ``config.json`` (surrogate, data, dataset provenance, profile, settings, and
since this version ``commands`` and ``environment``), ``log.jsonl`` (the training curves),
``metrics.json`` (``pdesuite validate``: metrics, figures, the validating ``environment``), the
figures, ``trajectory.npz`` (one trajectory for the slider) and ``command.json`` (the examples' record).
"""

from __future__ import annotations

import json
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pdesuite.errors import BadInput

IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
GPU_SUMMARY, GPU_ARCHIVE = "summary.json", "results.tar.gz"


@dataclass
class Run:
    """One run folder as the report shows it.

    Attributes:
        path: The folder (inside a temporary extraction for an archive).
        label: Where it came from, for people ("examples-output/refiner/unet-mse-s0").
        config, metrics: ``config.json`` and ``metrics.json`` (None: not validated yet).
        log: The records of ``log.jsonl`` in order; ``log_problems``: lines that could not be read.
        figures: Image files of the folder, the evaluator's first.
        trajectory: ``trajectory.npz`` when the evaluator saved one.
        commands: The command lines that made the run, oldest first.
        machine: What the source says of the machine (a GPU-validation summary's ``machine``).
    """

    path: Path
    label: str
    config: dict[str, Any]
    metrics: dict[str, Any] | None
    log: list[dict[str, Any]]
    log_problems: int
    figures: list[Path]
    trajectory: Path | None
    commands: list[str]
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def surrogate(self) -> str:
        return str(self.config.get("surrogate", "?"))

    @property
    def provenance(self) -> dict[str, Any]:
        """The dataset's provenance as the run recorded it (dataset name, seed, creation time, params)."""
        return dict(self.config.get("dataset_provenance") or {})

    @property
    def dataset(self) -> str:
        return str(self.provenance.get("dataset") or Path(str(self.config.get("data", "?"))).stem)

    @property
    def profile(self) -> str:
        return str(self.config.get("profile") or "?")

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        """"training" and "validation" environments (versions, device) where recorded."""
        out = {}
        if isinstance(self.config.get("environment"), dict):
            out["training"] = self.config["environment"]
        if self.metrics and isinstance(self.metrics.get("environment"), dict):
            out["validation"] = self.metrics["environment"]
        return out

    @property
    def device_name(self) -> str:
        """The device that trained the run: its recorded name, else the GPU-validation machine's, else
        the configured device with a note that its name was not recorded."""
        for env in self.environments.values():
            if env.get("device_name"):
                return str(env["device_name"])
        if self.machine.get("gpu"):
            return str(self.machine["gpu"])
        device = self.config.get("device", "?")
        if self.machine:
            return f"{device} ({self.machine.get('cpus', '?')}-core machine, no GPU)"
        return f"{device} (name not recorded)"

    @property
    def steps(self) -> int | None:
        steps = [r["step"] for r in self.log if isinstance(r.get("step"), int)]
        return max(steps) if steps else None


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} is not readable JSON: {exc}") from None


def read_log(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of a ``log.jsonl`` and the number of lines that were not JSON objects (a cut write)."""
    if not path.is_file():
        return [], 0
    records, bad = [], 0
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            bad += 1
    return records, bad


def read_run(path: Path, label: str, commands: list[str] | None = None, machine: dict | None = None) -> Run:
    """A run folder's files (see the module docstring)."""
    config = read_json(path / "config.json")
    if not isinstance(config, dict) or "surrogate" not in config:
        raise BadInput(f"{path / 'config.json'} is not a run's configuration (it names no surrogate)")
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").is_file() else None
    log, problems = read_log(path / "log.jsonl")
    listed = [path / name for name in (metrics or {}).get("plots", []) if isinstance(name, str)]
    images = [p for p in listed if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    images += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p not in images)
    trajectory = path / "trajectory.npz"
    recorded = list(commands or [])
    recorded += [c for c in config.get("commands", []) if isinstance(c, str)]
    if (path / "command.json").is_file():  # the examples' record of the command that made the folder
        argv = read_json(path / "command.json")
        if isinstance(argv, list):
            recorded.insert(0, shlex.join(["pdesuite", *map(str, argv)]))
    if metrics and isinstance(metrics.get("command"), str):
        recorded.append(metrics["command"])
    unique = list(dict.fromkeys(recorded))
    return Run(path, label, config, metrics, log, problems, images, trajectory if trajectory.is_file() else None,
               unique, dict(machine or {}))


def _safe_extract(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # no absolute paths, links out of the folder or devices
    except (OSError, tarfile.TarError) as exc:
        raise BadInput(f"{archive} is not a readable tar.gz archive: {exc}") from None


def _gpu_commands(summary: dict[str, Any]) -> dict[str, list[str]]:
    """Run folder (relative to the archive: "runs/NAME") -> its train and validate commands, as
    `pdesuite ...` lines (the summary records them with the interpreter that ran them)."""
    out: dict[str, list[str]] = {}
    for stage in (summary.get("stages") or {}).values():
        for run in (stage.get("runs") or {}).values() if isinstance(stage, dict) else ():
            if not isinstance(run, dict) or not run.get("folder"):
                continue
            lines = []
            for job in ("train", "validate"):
                command = (run.get(job) or {}).get("command")
                if isinstance(command, str):
                    lines.append(re.sub(r"^\S*python\S* -m pdesuite ", "pdesuite ", command))
            out[str(run["folder"])] = lines
    return out


def gpu_validation_runs(folder: Path, scratch: Path, archive: Path | None = None) -> list[Run]:
    """The runs of a ``pdesuite gpu-validation`` output ``folder`` (or of its ``archive`` alone)."""
    archive = archive or folder / GPU_ARCHIVE
    summary = read_json(folder / GPU_SUMMARY) if (folder / GPU_SUMMARY).is_file() else {}
    scratch.mkdir(parents=True, exist_ok=True)
    into = scratch / f"gpu-{len(list(scratch.iterdir()))}"
    into.mkdir(parents=True)
    _safe_extract(archive, into)
    commands = _gpu_commands(summary)
    machine = dict(summary.get("machine") or {})
    if summary:
        machine.setdefault("device", summary.get("device"))
    runs = []
    for config in sorted((into / "runs").glob("*/config.json")) if (into / "runs").is_dir() else []:
        relative = config.parent.relative_to(into).as_posix()
        runs.append(read_run(config.parent, f"{folder.name}/{relative}", commands.get(relative), machine))
    return runs


def collect_runs(sources: list[str | Path], scratch: Path) -> list[Run]:
    """Every run of ``sources`` (see the module docstring), in the order found; archives are extracted
    into ``scratch``. BadInput for a missing source or one that holds no run."""
    runs: list[Run] = []
    for source in map(Path, sources):
        if not source.exists():
            raise BadInput(f"{source} does not exist")
        found: list[Run] = []
        if source.is_file():
            if not source.name.endswith((".tar.gz", ".tgz")):
                raise BadInput(f"{source} is a file; give a run folder, a folder of runs, a gpu-validation output "
                               f"folder or its {GPU_ARCHIVE}")
            found = gpu_validation_runs(source.parent, scratch, archive=source)
        elif (source / "config.json").is_file():
            found = [read_run(source, source.name)]
        elif (source / GPU_ARCHIVE).is_file():
            found = gpu_validation_runs(source, scratch)
        else:
            for path in sorted(source.rglob("*")):
                if (path.name == "config.json" and not any(p.name.startswith(".") for p in path.parents)
                        and any((path.parent / name).is_file() for name in ("log.jsonl", "metrics.json"))):
                    found.append(read_run(path.parent, path.parent.relative_to(source.parent).as_posix()))
                elif path.name == GPU_ARCHIVE and (path.parent / GPU_SUMMARY).is_file():
                    found += gpu_validation_runs(path.parent, scratch)
        if not found:
            raise BadInput(f"no runs in {source}: a run folder holds config.json (pdesuite train), a "
                           f"gpu-validation output holds {GPU_SUMMARY} and {GPU_ARCHIVE}")
        runs += found
    return runs
