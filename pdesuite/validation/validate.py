"""`pdesuite validate RUNDIR`: best weights -> the surrogate's evaluator -> metrics.json + figures."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from pdesuite.errors import BadInput
from pdesuite.io import RunFolder, write_json
from pdesuite.provenance import environment
from pdesuite.registry import EVALUATORS
from pdesuite.validation.evaluation import Evaluation, TrainedRun


def load_trained(run_dir: str | os.PathLike | RunFolder, config: dict | None = None):
    """(surrogate, `TrainedRun`): the run's surrogate with its best weights (``best.pt``, else the last
    checkpoint), in eval mode; ``config`` replaces the stored one (e.g. another reference file)."""
    from pdesuite.training.trainer import build

    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder(run_dir)
    config = config or folder.read_config()
    weights = folder.weights()
    if not weights.is_file():
        raise BadInput(f"{folder.path} has no weights yet (best.pt or checkpoint.pt)")
    surrogate = build(config)
    try:
        state = torch.load(weights, weights_only=False, map_location=surrogate.device)
        surrogate.load_state_dict(state["model"])
    except Exception as exc:  # a truncated or foreign file: the user's to fix
        raise BadInput(f"cannot load the weights {weights}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    surrogate.run_folder = str(folder.path)  # where a searched sampler schedule is found by name (schedules/)
    return surrogate.eval(), TrainedRun(config, weights, state)


def validate_run(run_dir: str | os.PathLike, data: str | os.PathLike | None = None,
                 output: str | os.PathLike | None = None, command: str | None = None, **options) -> Evaluation:
    """Evaluate a run's best weights (``best.pt``, else the last checkpoint) against its reference.

    ``data`` replaces the dataset the run was trained with (same layout required). The surrogate's
    evaluator (``Surrogate.evaluator``) computes the `Evaluation`; its figures and ``metrics.json``
    go into ``output`` (default: the run folder). ``options`` are the evaluator's (``seed``,
    ``uncertainty_samples``, ...; None means its default). The record also holds the ``environment``
    (versions, the device) and ``command``, the command line that asked for it, when given.
    """
    folder = RunFolder(run_dir)
    config = folder.read_config()
    other = None
    if data is not None and Path(data).resolve() != Path(config["data"]).resolve():
        other = describe_change(config, data)
        config["data"] = str(Path(data).resolve())
    surrogate, run = load_trained(folder, config)
    evaluator = EVALUATORS.get(surrogate.evaluator)(**options)
    output = Path(output) if output else folder.path
    evaluation = evaluator.evaluate(surrogate, run, output)
    if other is not None:
        evaluation.provenance["reference"] = {**evaluation.provenance.get("reference", {}), **other}
        evaluation.notes.append(other["note"])
    evaluation.provenance["environment"] = environment(surrogate.device)
    if command is not None:
        evaluation.provenance["command"] = command
    write_json(evaluation.record(), output / "metrics.json")
    return evaluation


def describe_change(config: dict, data: str | os.PathLike) -> dict:
    """How ``data`` differs from the file the run was trained on (its dataset and parameters)."""
    from pdesuite.data.reader import open_dataset

    trained = config.get("dataset_provenance", {})
    meta = open_dataset(data).attrs
    differs = {}
    for key in ("dataset", "problem"):
        if trained.get(key) != meta.get(key):
            differs[key] = [trained.get(key), meta.get(key)]
    old, new = trained.get("params") or {}, meta.get("params") or {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            differs[f"params.{key}"] = [old.get(key), new.get(key)]
    shown = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in list(differs.items())[:4]) or "same dataset settings"
    return {"trained_on": config["data"], "differs_from_training": differs,
            "note": f"validating on {data}, not the training data {config['data']} ({shown})"}
