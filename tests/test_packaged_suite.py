"""The packaged suite (scikit-learn's datasets, offline): the alignment ablation runs through the runner and
measures the embedder on one scale between the stages; its smoke preset is the core's wdbc run."""

from __future__ import annotations

import json

import pytest

from benchmarks.run import run


@pytest.mark.slow
def test_ablation_measures_the_yardstick_between_stages(tmp_path) -> None:
    overrides = {"task_params": {"digits-1d": {"orca": {"refine": {"epochs": 1}}}},
                 "method_params": {"orca-mmd": {"align": {"steps": 20}}}}
    out = run("packaged", "ablation", tasks=["digits-1d"], methods=["orca-none", "orca-mmd"], overrides=overrides,
              results=tmp_path, allow_dirty=True)  # a test, not a committed result: the tree's state does not matter
    assert out.failed == [] and len(out) == 2
    none, mmd = (json.loads(p.read_text()) for p in out)
    assert none["method"] == "orca-none" and mmd["method"] == "orca-mmd"
    y0, y1 = none["yardstick"], mmd["yardstick"]
    assert y0["before"] == pytest.approx(y1["before"])  # same body, same seed: the same starting embedder
    assert y0["aligned"] == y0["before"]  # no stage 2: the embedder did not move
    assert y1["aligned"] < 0.9 * y1["before"]  # 20 MMD steps moved it towards the source, on the common scale
    assert mmd["align"]["steps"] == 20 and none["align"]["steps"] == 0
    assert {"accuracy", "roc_auc"} <= set(mmd["metrics"]["test"]) and mmd["data"]["kind"] == "real"
    from benchmarks.reports.build import report

    text = report("packaged", tmp_path, "ablation").read_text()
    assert "## Stage 2 on one scale" in text and "– (no alignment)" in text
