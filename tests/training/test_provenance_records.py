"""What a run records of where it came from: config.json's ``commands`` and ``environment`` (pdesuite
train), metrics.json's ``command`` and ``environment`` (pdesuite validate). The report reads them."""

import json

from pdesuite.provenance import command_line, device_name, environment, software_versions

SETTINGS = ["--set=width=8", "--set=depth=2", "--set=n_collocation=64", "--set=adam_steps=4", "--set=lbfgs_steps=0",
            "--set=log_every=1", "--set=val_every=2"]


def test_environment_names_versions_and_the_cpu():
    env = environment("cpu")
    assert env["device"] == "cpu" and env["device_name"].startswith("CPU: ") and len(env["device_name"]) > 5
    assert env["torch"] and env["python"].count(".") == 2 and env["pdesuite"]
    assert env["dolfinx"] == software_versions().get("dolfinx-solver-real")
    assert device_name("cpu") == env["device_name"]


def test_command_line_quotes_what_the_shell_would_split():
    assert command_line(["train", "pinn", "--set", "channel_mults=[1, 2]"]) == \
        "pdesuite train pinn --set 'channel_mults=[1, 2]'"


def test_train_resume_and_validate_record_their_commands_and_environment(tmp_path, heat_like, cli):
    run = tmp_path / "run"
    code, _, err = cli("train", "pinn", "--data", heat_like, "-o", run, "--device", "cpu", "-q", *SETTINGS)
    assert code == 0, err
    first = json.loads((run / "config.json").read_text())
    assert first["commands"] == [command_line(["train", "pinn", "--data", str(heat_like), "-o", str(run), "--device",
                                               "cpu", "-q", *SETTINGS])]
    assert first["environment"]["device"] == "cpu" and first["environment"]["device_name"].startswith("CPU: ")
    code, _, err = cli("train", "pinn", "-o", run, "--resume", "--steps", "6", "-q")
    assert code == 0, err
    resumed = json.loads((run / "config.json").read_text())
    assert resumed["commands"] == [*first["commands"], f"pdesuite train pinn -o {run} --resume --steps 6 -q"]
    assert resumed["environment"] == first["environment"]  # the machine of the first call
    code, _, err = cli("validate", str(run), "-q")
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["command"] == f"pdesuite validate {run} -q"
    assert metrics["environment"]["device_name"] == first["environment"]["device_name"]
