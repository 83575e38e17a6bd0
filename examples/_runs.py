"""What the comparison scripts in examples/ share: run a `pdesuite` command in this process, and train
and validate a run folder once (a later run of the script reuses or resumes it).

Imported by the scripts as ``from _runs import ...`` (Python puts a script's own folder on sys.path).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from pdesuite.training.trainer import record_command


def run(args: list[str]) -> None:
    """``pdesuite ARGS`` in this process, echoed; a failure ends the script."""
    from pdesuite.cli import main

    print("$ pdesuite " + shlex.join(args), flush=True)
    if main(args) != 0:
        raise SystemExit(f"pdesuite {' '.join(args)} failed")


def generate_once(path: Path, generate: list[str], commands: list[str] | None = None) -> Path:
    """Run ``generate`` (the `pdesuite generate` arguments, writing ``path``) unless ``path`` exists (a
    later run of the script reuses the file); appends the command to ``commands``. Returns ``path``."""
    if not path.exists():
        run(generate)
    if commands is not None:
        commands.append("pdesuite " + shlex.join(generate))
    return path


def train_once(folder: Path, train: list[str], commands: list[str] | None = None) -> dict:
    """Train (``train``: the `pdesuite train` arguments, ``-o folder`` among them) and validate, unless the
    folder holds that run already: a finished one is reused, an interrupted one resumed with the same
    arguments (the trainer's resume rules refuse what may not change); a folder made by another command
    is refused (`record_command`). Appends the two commands to ``commands``; returns metrics.json."""
    record_command(folder, train)
    if not (folder / "metrics.json").exists():
        run([*train, "--resume"] if (folder / "checkpoint.pt").exists() else train)
        run(["validate", str(folder), "-q"])
    if commands is not None:
        commands += ["pdesuite " + shlex.join(train), f"pdesuite validate {folder}"]
    return json.loads((folder / "metrics.json").read_text())
