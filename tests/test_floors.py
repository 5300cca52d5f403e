"""Floors: the trivial predictors, their planning per task, and how the report treats methods below them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from baselines.floors import label_frequency, mean, persistence, prior
from orca.exceptions import ConfigError


def test_prior_mean_and_persistence() -> None:
    from sklearn.metrics import roc_auc_score

    y = np.array([0, 0, 0, 2, 2, 1, 0, 0])
    p = prior(y, 4)(np.zeros((3, 5)))
    assert p.shape == (3, 4) and np.allclose(p[0], [5 / 8, 1 / 8, 2 / 8, 0.0])
    assert roc_auc_score(np.array([0, 1, 0, 1]), prior(np.array([0, 1, 1]), 2)(np.zeros((4, 1)))[:, 1]) == 0.5
    assert np.argmax(prior(y, 4, logits=True)(np.zeros((1, 1))), axis=1)[0] == 0  # the majority class
    multi = label_frequency(np.array([[1, 0], [1, 1], [0, 0], [1, 0]]))(np.zeros((2, 1)))
    assert np.allclose(multi, [[0.75, 0.25], [0.75, 0.25]])
    fields = np.arange(24, dtype=np.float32).reshape(3, 2, 4)
    assert np.allclose(mean(fields)(np.zeros((5, 1)))[4], fields.mean(axis=0))
    x = np.ones((2, 1, 8))
    assert np.array_equal(persistence((1, 8), (1, 8))(x), x)
    with pytest.raises(ConfigError, match="same grid"):
        persistence((3, 8, 8), (1, 8, 8))


def test_persistence_is_planned_only_for_time_evolutions() -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs

    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection", "darcy"], ["floor", "persistence", "fno"], [0])
    assert sorted(j.filename for j in jobs) == ["advection--floor--s0.json", "advection--fno--s0.json",
                                                "advection--persistence--s0.json", "darcy--floor--s0.json",
                                                "darcy--fno--s0.json"]
    # NAS-Bench-360 tasks name their methods; the floor runs on every task all the same
    _, nb = plan_jobs(get_suite("nasbench360"), "smoke", None, ["floor"], [0])
    assert len(nb) == len({j.task for j in nb}) > 0


def _df(rows):
    return pd.DataFrame([{"task": t, "method": m, "seed": 0, "metric": "nrmse", "value": v, "data_kind": "generated",
                          "task_name": t, "dirty": False, "published_task": None} for t, m, v in rows])


def test_a_method_below_the_floor_is_marked_and_never_wins() -> None:
    """On task b the floor (0.4) beats both methods: ORCA's 0.5 against FNO's 0.6 is no win; on task a it is."""
    from benchmarks.reports.markdown import markdown
    from benchmarks.reports.tables import against_reference, summarise

    df = _df([("a", "floor", 0.9), ("a", "orca", 0.2), ("a", "fno", 0.3),
              ("b", "floor", 0.4), ("b", "orca", 0.5), ("b", "fno", 0.6)])
    summary = summarise(df, ("floor",))
    summary.attrs.update(metric="nrmse", floors=("floor",))
    by = summary.set_index(["task", "method"])
    assert by.loc[("a", "orca"), "beats_floor"] is True and by.loc[("b", "orca"), "beats_floor"] is False
    assert by.loc[("b", "floor"), "beats_floor"] is None
    text = markdown("t", summary, [], [], [], reference="fno", df=df)
    assert "0.5000 (1) ‡" in text and "0.2000 (1)**" in text and "± 0.0000 (1)" not in text
    orca_row = next(line for line in text.splitlines() if line.startswith("| orca | "))
    assert orca_row.split(" | ")[3] == "1/2"  # wins vs fno: task a only
    ref = "\n".join(against_reference(summary, "fno", higher=False))
    assert "| orca | 2 | 0.3500 | 0.4500 | +0.1000 | [+0.1000, +0.1000] | 0.5 | 1 / 1 / 0 |" in ref  # b: a tie


def test_mean_ranks_count_only_the_tasks_every_ranked_method_ran() -> None:
    """FNO ran one task (and won it); ORCA and the floor ran three. FNO's rank is not 1.00 from its one task: a
    method that ran fewer tasks than the others is left out of the ranks (and named), and the others are ranked
    over the tasks they all ran, not over the one task all three ran."""
    from benchmarks.reports.markdown import markdown
    from benchmarks.reports.tables import summarise

    df = _df([("a", "floor", 0.9), ("a", "orca", 0.5), ("a", "fno", 0.1),
              ("b", "floor", 0.9), ("b", "orca", 0.2),
              ("c", "floor", 0.9), ("c", "orca", 0.3)])
    summary = summarise(df, ("floor",))
    summary.attrs.update(metric="nrmse", floors=("floor",))
    text = markdown("t", summary, [], [], [], df=df)
    assert "mean rank (3 tasks every ranked method ran)" in text
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1] for line in text.splitlines()
            if line.startswith(("| fno |", "| orca |", "| floor |"))}
    assert rows == {"fno": "–", "orca": "1.00", "floor": "2.00"}
    assert "Not ranked, as they ran fewer tasks than the others: fno (1 of 3)" in text
    fno = next(line for line in text.splitlines() if line.startswith("| fno | –"))
    assert fno.rstrip(" |").split(" | ")[2::2] == ["1/1", "1/1"]  # its wins (vs floor, vs orca) count the task it ran


def test_a_lone_method_with_every_task_is_not_ranked_alone() -> None:
    """Where only one method (here the floor) ran every task, ranking it alone would print 1.00 for a trivial
    predictor: all methods are then ranked over the tasks all of them ran (here none)."""
    from benchmarks.reports.markdown import markdown
    from benchmarks.reports.tables import summarise

    df = _df([("a", "floor", 0.9), ("a", "orca", 0.5), ("b", "floor", 0.9), ("b", "fno", 0.1)])
    summary = summarise(df, ("floor",))
    summary.attrs.update(metric="nrmse", floors=("floor",))
    text = markdown("t", summary, [], [], [], df=df)
    assert "mean rank (0 tasks every ranked method ran)" in text and "Not ranked" not in text
    assert "| floor | – |" in text
