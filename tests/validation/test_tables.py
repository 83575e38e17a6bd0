"""The markdown helpers of the comparison scripts: mean ± std over runs, the table layout, a row per time."""

from pdesuite.validation.tables import markdown, mean_std, over_time


def test_mean_std_over_runs_and_a_single_run():
    assert mean_std([1.0, 3.0], ".2f") == "2.00 ± 1"
    assert mean_std([0.5], ".2e") == "5.00e-01" and mean_std([float("nan")]) == "-"


def test_markdown_and_over_time_layout():
    table = markdown(["method", "error"], [["INSR", 0.1], ["grid", "2e-3"]])
    assert table.splitlines() == ["| method | error |", "|---|---|", "| INSR | 0.1 |", "| grid | 2e-3 |"]
    lines = over_time([0.0, 0.05], {"error a": [1e-3, 2e-3], "KE": [1.0, 0.99]}, {"error a": ".1e"}).splitlines()
    assert lines[0] == "| t | error a | KE |"
    assert lines[2:] == ["| 0.00 | 1.0e-03 | 1 |", "| 0.05 | 2.0e-03 | 0.99 |"]
