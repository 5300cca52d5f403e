"""CI regression check: ORCA and XGBoost on 2 OpenML datasets, 1 split, must stay within 0.02 ROC AUC of the
values recorded in ``benchmarks/suites/openml/regression.json`` (taken from the committed smoke results)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.run import run
from orca.io import read_json

RECORDED = Path(__file__).parent.parent / "benchmarks" / "suites" / "openml" / "regression.json"


@pytest.mark.slow
def test_orca_and_xgboost_do_not_regress(tmp_path) -> None:
    from benchmarks.suites.openml import mirror_folder
    from orca.exceptions import DataError

    recorded = read_json(RECORDED)
    try:
        mirror_folder(read_json(Path(__file__).parent.parent / "benchmarks" / "suites" / "openml" / "default.json"))
    except DataError as exc:
        pytest.skip(f"OpenML mirror not available here: {exc}")
    tasks = sorted(recorded["roc_auc"])
    paths = run("openml", recorded["preset"], tasks=tasks, methods=["orca", "xgboost"], seeds=[recorded["seed"]],
                results=tmp_path)
    drops = []
    for path in paths:
        rec = json.loads(path.read_text())
        assert rec["status"] == "ok", rec["error"]
        want = recorded["roc_auc"][rec["task"]][rec["method"]]
        got = rec["metrics"]["test"]["roc_auc"]
        if got < want - recorded["tolerance"]:
            drops.append(f"{rec['method']} on {rec['task']}: {got:.4f} < recorded {want:.4f} - {recorded['tolerance']}")
    assert not drops, "; ".join(drops)
