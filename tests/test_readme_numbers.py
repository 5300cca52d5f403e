"""Every number in the README's and docs/results.md's result tables comes from a committed report, and every
committed report.csv is what its result files give."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.reports import readme
from benchmarks.reports.build import report_text
from benchmarks.reports.tables import bold_cells
from orca.exceptions import OrcaError

ROOT = Path(__file__).resolve().parents[1]
REPORTS = sorted(p.parent for p in (ROOT / "results").glob("*/*/report.csv"))


def test_every_result_block_equals_what_the_reports_give() -> None:
    for page in readme.PAGES:
        text, changed = readme.update(ROOT / page, ROOT / "results")
        assert not changed, f"{page}: blocks {changed} differ from the reports; run python -m benchmarks.reports.readme"


def test_every_declared_block_is_on_a_page() -> None:
    shown = set()
    for page in readme.PAGES:
        shown |= {m.group("key") for m in readme.BLOCK.finditer((ROOT / page).read_text(encoding="utf-8"))}
    assert set(readme.load_spec()) <= shown


@pytest.mark.parametrize("folder", REPORTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_reports_are_what_the_result_files_and_the_preset_give(folder: Path) -> None:
    """``report.csv`` holds the result files' summary, and ``report.md`` is the text the report builder writes
    today (plots aside): a change of a preset (its methods, its selection entries) or of the results rebuilds
    both."""
    text, summary, _ = report_text(folder.parent.name, folder.parents[1], folder.name)
    assert text == (folder / "report.md").read_text(encoding="utf-8"), (
        f"{folder}/report.md is stale; rebuild it with python -m benchmarks.report {folder.parent.name} "
        f"--preset {folder.name}")
    committed = pd.read_csv(folder / "report.csv", dtype={"task": str})
    assert len(committed) == len(summary), f"{folder}/report.csv is stale; rebuild it with python -m benchmarks.report"
    mine = summary.assign(task=summary["task"].astype(str)).set_index(["task", "method"])
    for row in committed.itertuples():
        ours = mine.loc[(row.task, row.method)]
        assert math.isclose(row.mean, ours["mean"], rel_tol=1e-12, abs_tol=1e-12), (folder, row.task, row.method)
        assert int(row.n) == int(ours["n"])


def test_a_hand_edited_number_is_found(tmp_path) -> None:
    page = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = next(readme.BLOCK.finditer(text))
    body = match.group("body")
    number = next(tok for tok in body.replace("|", " ").split() if tok.replace(".", "").isdigit() and "." in tok)
    page.write_text(text.replace(body, body.replace(number, number + "1", 1)), encoding="utf-8")
    restored, changed = readme.update(page, ROOT / "results")
    assert changed == [match.group("key")]
    assert restored == text  # the generator puts back exactly what the reports say


def test_an_undeclared_block_is_refused(tmp_path) -> None:
    page = tmp_path / "README.md"
    page.write_text("<!-- results:openml/nonsense -->\n<!-- /results -->\n", encoding="utf-8")
    with pytest.raises(OrcaError, match="expected one of"):
        readme.update(page, ROOT / "results")


def _report(tmp_path: Path, rows: list[dict]) -> Path:
    folder = tmp_path / "results" / "openml" / "paper"
    folder.mkdir(parents=True)
    base = {"data_kind": "real", "metric": "roc_auc", "wall_s": 12.0, "published_task": float("nan")}
    pd.DataFrame([{**base, **r} for r in rows]).to_csv(folder / "report.csv", index=False)
    return tmp_path / "results"


def _row(task: str, method: str, mean: float, std: float, n: int, rank: int, floor: float,
         beats_floor: bool | None) -> dict:
    """One report.csv row of task ``task`` (named "a" for task "1", "b" for "2")."""
    return {"task": task, "task_name": "ab"[int(task) - 1], "method": method, "mean": mean, "std": std, "n": n,
            "rank": rank, "floor": floor, "beats_floor": beats_floor}


def test_a_block_marks_floors_spread_and_the_best(tmp_path) -> None:
    results = _report(tmp_path, [
        _row("1", "floor", 0.5, 0.0, 3, 3, 0.5, None), _row("1", "orca", 0.9, 0.01, 3, 1, 0.5, True),
        _row("1", "xgboost", 0.8, 0.02, 3, 2, 0.5, True),
        _row("2", "floor", 0.7, 0.0, 3, 1, 0.7, None), _row("2", "orca", 0.6, 0.05, 3, 3, 0.7, False),
        _row("2", "xgboost", 0.65, 0.0, 3, 2, 0.7, False),
    ])
    text = readme.render(readme.Block("openml", "paper", reference="xgboost"), results)
    assert "| 1 a | real | 0.5 ± 0 (n=3) | **0.9 ± 0.01 (n=3)** | 0.8 ± 0.02 (n=3) |" in text
    assert "| 2 b | real | **0.7 ± 0 (n=3)** | 0.6 ± 0.05 (n=3) ‡ | 0.65 ± 0 (n=3) ‡ |" in text
    assert "seeds per cell: 3" in text
    # against xgboost: orca wins task 1; on task 2 it is behind, but within seed noise: a tie
    assert "| orca | 0.75 | +0.0250 [-0.0500, +0.1000] | 1 | 1 / 1 / 0 |" in text


def test_a_cell_with_fewer_seeds_is_not_bold_even_with_the_better_mean(tmp_path) -> None:
    # orca's one seed beats xgboost's three-seed mean, but its mean is not over the seeds the others averaged
    results = _report(tmp_path, [
        _row("1", "floor", 0.5, 0.0, 3, 3, 0.5, None), _row("1", "orca", 0.9, 0.0, 1, 1, 0.5, True),
        _row("1", "xgboost", 0.8, 0.02, 3, 2, 0.5, True),
    ])
    text = readme.render(readme.Block("openml", "paper", reference="xgboost"), results)
    assert "| 1 a | real | 0.5 ± 0 (n=3) | 0.9 | **0.8 ± 0.02 (n=3)** |" in text
    rows = pd.read_csv(results / "openml" / "paper" / "report.csv", dtype={"task": str})
    assert bold_cells(rows) == {"xgboost"}
    assert bold_cells(rows[rows["method"] != "xgboost"]) == {"floor"}  # the best full cell, whatever its rank
    assert bold_cells(rows.assign(n=3)) == {"orca"}
    # a floor's seeds (cheap, or adopted from another preset) do not set the bar for the trained methods
    assert bold_cells(rows[rows["method"] != "xgboost"], floors=("floor",)) == {"orca"}
    assert bold_cells(rows, floors=("floor",)) == {"xgboost"}
    # a task only one method ran (here only the floor) has no best cell to mark
    assert bold_cells(rows[rows["method"] == "floor"]) == set()
    assert bold_cells(rows[rows["method"] == "floor"], floors=("floor",)) == set()


def test_a_win_below_the_floor_counts_as_a_tie(tmp_path) -> None:
    results = _report(tmp_path, [
        _row("1", "floor", 0.9, 0.0, 1, 1, 0.9, None), _row("1", "orca", 0.85, 0.0, 1, 2, 0.9, False),
        _row("1", "xgboost", 0.80, 0.0, 1, 3, 0.9, False),
    ])
    text = readme.render(readme.Block("openml", "paper", per_task=False, reference="xgboost"), results)
    assert "| orca | 0.85 | +0.0500 | – | 0 / 1 / 0 |" in text
    assert "one seed" in text and "±" not in text


def test_a_mean_beside_its_reference_comes_from_the_pairs_its_difference_uses(tmp_path) -> None:
    """orca ran seeds 0 and 1, xgboost seed 0 only: orca's mean in the summary is its seed-0 mean, beside
    xgboost's on the same pairs, so that the two and the difference agree."""
    results = _report(tmp_path, [
        _row("1", "floor", 0.5, 0.0, 1, 3, 0.5, None), _row("1", "orca", 0.8, 0.1, 2, 1, 0.5, True),
        _row("1", "xgboost", 0.7, 0.0, 1, 2, 0.5, True),
        _row("2", "floor", 0.5, 0.0, 1, 3, 0.5, None), _row("2", "orca", 0.7, 0.1, 2, 1, 0.5, True),
        _row("2", "xgboost", 0.6, 0.0, 1, 2, 0.5, True),
    ])
    scores = [("1", "orca", 0, 0.9), ("1", "orca", 1, 0.7), ("2", "orca", 0, 0.8), ("2", "orca", 1, 0.6),
              ("1", "xgboost", 0, 0.7), ("2", "xgboost", 0, 0.6), ("1", "floor", 0, 0.5), ("2", "floor", 0, 0.5)]
    pd.DataFrame([{"task": t, "task_name": "ab"[int(t) - 1], "method": m, "seed": s, "value": v, "metric": "roc_auc",
                   "data_kind": "real"} for t, m, s, v in scores]).to_csv(
        results / "openml" / "paper" / "scores.csv", index=False)
    text = readme.render(readme.Block("openml", "paper", per_task=False, reference="xgboost"), results)
    assert "(xgboost's on the same (task, seed) pairs)" in text
    assert "| orca | 0.85 (0.65) | +0.2000 " in text  # seed 0: (0.9 + 0.8) / 2 against (0.7 + 0.6) / 2


def test_a_method_still_running_is_named_below_the_summary_not_averaged(tmp_path) -> None:
    """orca-tuned has run task 1 only: kept in, it would shrink every mean to that task; it is left out of the
    summary and named with its count, while the others' means stay over both tasks."""
    results = _report(tmp_path, [
        _row("1", "floor", 0.5, 0.0, 1, 4, 0.5, None), _row("1", "orca", 0.8, 0.0, 1, 2, 0.5, True),
        _row("1", "orca-tuned", 0.9, 0.0, 1, 1, 0.5, True), _row("1", "xgboost", 0.7, 0.0, 1, 3, 0.5, True),
        _row("2", "floor", 0.5, 0.0, 1, 3, 0.5, None), _row("2", "orca", 0.6, 0.0, 1, 2, 0.5, True),
        _row("2", "xgboost", 0.7, 0.0, 1, 1, 0.5, True),
    ])
    text = readme.render(readme.Block("openml", "paper", per_task=False, reference="xgboost"), results)
    assert "mean over the 2 tasks every method ran" in text
    assert "| orca | 0.7 | +0.0000 " in text and "| orca-tuned |" not in text
    assert ("Not in this table until they have run every task: orca-tuned (1 of 2 tasks so far; the report "
            "compares it on the tasks it ran).") in text
    # the reference stays even when it is the one still running
    text = readme.render(readme.Block("openml", "paper", per_task=False, reference="orca-tuned"), results)
    assert "mean over the 1 tasks every method ran" in text and "Not in this table" not in text
