"""The values CI checks fresh runs against are the committed results' values, written by a command."""

from __future__ import annotations

import json

import pytest

from benchmarks.reports.regression import committed_values, main, metric_key, regression_path
from orca.io import read_json


@pytest.mark.parametrize("suite", ["pdebench", "nasbench360", "openml"])
def test_regression_values_equal_the_committed_results(suite) -> None:
    recorded = read_json(regression_path(suite))
    assert committed_values(suite) == recorded, (
        f"{regression_path(suite)} differs from results/{suite}/{recorded['preset']}/runs; rewrite it with "
        f"python -m benchmarks.reports.regression {suite}")


def test_the_command_rewrites_a_hand_edited_value(tmp_path, monkeypatch, capsys) -> None:
    from benchmarks.reports import regression

    original = read_json(regression_path("pdebench"))
    edited = json.loads(json.dumps(original))
    key = metric_key(edited)
    task = sorted(edited[key])[0]
    method = sorted(edited[key][task])[0]
    edited[key][task][method] = 0.001  # a hand edit
    path = tmp_path / "regression.json"
    path.write_text(json.dumps(edited))
    monkeypatch.setattr(regression, "regression_path", lambda suite: path)
    assert main(["pdebench", "--check"]) == 1 and "differs" in capsys.readouterr().out
    assert main(["pdebench"]) == 0
    assert read_json(path) == original and main(["pdebench", "--check"]) == 0
