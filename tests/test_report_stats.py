"""The reports' uncertainty: the Wilcoxon p-value against an exact enumeration of sign flips, the paired bootstrap
interval against an independent resampling, seed intervals, and ties within seed noise or below the floor."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from benchmarks.reports.stats import paired_difference, seed_interval, seeds_overlap
from benchmarks.reports.tables import compare
from orca.exceptions import ConfigError

DIFF = np.array([0.031, -0.012, 0.054, 0.022, 0.071, -0.043, 0.066, 0.008, -0.005, 0.047])


def _exact_wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided exact signed-rank p-value by enumerating all 2^n sign assignments (no ties, no zeros)."""
    ranks = scipy_stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    totals = np.array([sum(r for r, s in zip(ranks, signs) if s) for signs in
                       itertools.product([0, 1], repeat=len(d))])
    centre = ranks.sum() / 2
    return float(np.mean(np.abs(totals - centre) >= abs(observed - centre) - 1e-12))


def test_wilcoxon_p_equals_the_exact_enumeration() -> None:
    assert paired_difference(DIFF).p_value == pytest.approx(_exact_wilcoxon_p(DIFF), rel=1e-9)
    assert paired_difference(np.abs(DIFF)).p_value == pytest.approx(2 / 2 ** len(DIFF), rel=1e-9)


def test_bootstrap_interval_agrees_with_an_independent_resampling() -> None:
    rng = np.random.default_rng(123)
    means = DIFF[rng.integers(0, len(DIFF), size=(40_000, len(DIFF)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    result = paired_difference(DIFF)
    assert result.mean == pytest.approx(DIFF.mean())
    assert result.low == pytest.approx(low, abs=0.002) and result.high == pytest.approx(high, abs=0.002)
    assert result.low < result.mean < result.high
    assert paired_difference(DIFF, seed=0) == paired_difference(DIFF, seed=0)  # seeded: reports are reproducible


def test_degenerate_cases_have_no_interval_or_p() -> None:
    one = paired_difference([0.02])
    assert (one.n, one.low, one.high, one.p_value) == (1, None, None, None) and one.interval() == "–"
    same = paired_difference([0.01, 0.01, 0.01])
    assert (same.low, same.high) == pytest.approx((0.01, 0.01))
    assert paired_difference([0.0, 0.0]).p_value is None


def test_seed_intervals_and_overlap() -> None:
    low, high = seed_interval(0.9, 0.01, 3)
    half = scipy_stats.t.ppf(0.975, 2) * 0.01 / np.sqrt(3)
    assert (low, high) == pytest.approx((0.9 - half, 0.9 + half))
    assert seeds_overlap((0.9, 0.01, 3), (0.87, 0.01, 3))
    assert not seeds_overlap((0.9, 0.01, 3), (0.80, 0.01, 3))
    assert not seeds_overlap((0.9, 0.0, 1), (0.9, 0.0, 1))  # one seed: no interval, no tie called by noise


def _summary(rows):
    return pd.DataFrame(rows, columns=["task", "method", "mean", "std", "n", "beats_floor"])


def test_a_task_within_seed_noise_or_below_the_floor_is_a_tie() -> None:
    summary = _summary([
        ("a", "orca", 0.90, 0.01, 3, True), ("a", "xgb", 0.80, 0.01, 3, True),    # clear win
        ("b", "orca", 0.88, 0.02, 3, True), ("b", "xgb", 0.87, 0.02, 3, True),    # within noise: tie
        ("c", "orca", 0.60, 0.01, 3, False), ("c", "xgb", 0.55, 0.01, 3, False),  # ahead below the floor: tie
        ("d", "orca", 0.70, 0.01, 3, True), ("d", "xgb", 0.80, 0.01, 3, True),    # clear loss
    ])
    c = compare(summary, "orca", "xgb", higher=True)
    assert (c.tasks, c.wins, c.ties, c.losses) == (4, 1, 2, 1)
    assert c.difference.mean == pytest.approx((0.10 + 0.01 + 0.05 - 0.10) / 4)
    lower = compare(summary.assign(mean=-summary["mean"]), "orca", "xgb", higher=False)
    assert (lower.wins, lower.ties, lower.losses) == (1, 2, 1)  # the sign follows the metric's direction


def test_the_defaults_study_chooses_on_validation_scores_only() -> None:
    """B has the better test scores, A the better validation scores: A is chosen. C ties A on validation score
    but has the lower validation loss, so once C is a candidate it wins the tie. Pairs not every candidate ran
    are left out."""
    import pandas as pd

    from benchmarks.reports.tables import selection_table

    rows = []
    for task in ("t1", "t2"):
        rows += [{"task": task, "seed": 0, "method": "A", "val": 0.9, "val_loss": 0.30, "value": 0.5, "wall_s": 1.0},
                 {"task": task, "seed": 0, "method": "B", "val": 0.7, "val_loss": 0.20, "value": 0.9, "wall_s": 1.0},
                 {"task": task, "seed": 0, "method": "C", "val": 0.9, "val_loss": 0.10, "value": 0.4, "wall_s": 1.0}]
    rows.append({"task": "t3", "seed": 0, "method": "B", "val": 1.0, "val_loss": 0.0, "value": 1.0, "wall_s": 1.0})
    df = pd.DataFrame(rows)
    chosen = lambda lines: [line.split(" | ")[0].strip("| ") for line in lines if line.endswith("| yes |")]  # noqa: E731
    lines = selection_table(df, ["A", "B"], higher=True)
    assert chosen(lines) == ["A"] and "Over the 2 (task, seed) pairs" in lines[3]
    assert chosen(selection_table(df, ["A", "B", "C"], higher=True)) == ["C"]
    assert chosen(selection_table(df.assign(val=-df["val"]), ["A", "B"], higher=False)) == ["A"]
    assert selection_table(df, ["A"], higher=True) == []  # nothing to choose between
    # on the held-out check split: B is better there although A wins on its own validation split
    checked = df.assign(check=df["method"].map({"A": 0.6, "B": 0.8, "C": 0.5}), check_loss=0.1)
    lines = selection_table(checked, ["A", "B"], higher=True, on="check", decides=["refine.select_on"])
    assert chosen(lines) == ["B"] and "`refine.select_on` (check-split scores only)" in lines[1]
    assert selection_table(df, ["A", "B"], higher=True, on="check") == []  # no check scores recorded
    noted = selection_table(checked, ["A", "B"], higher=True, on="check", provisional="one seed")
    assert noted[-1] == "Provisional: this choice is not applied to the defaults yet (one seed)."


def test_a_base_stands_unless_a_candidate_is_clearly_better() -> None:
    """With a base (the current defaults), a candidate with the higher mean check score but differences of both
    signs across tasks (bootstrap interval straddling zero) does not replace it; one better on every task does,
    and it is chosen over the noisy one although its mean is lower. Without a base the higher mean wins."""
    import pandas as pd

    from benchmarks.reports.tables import selection, selection_table

    noisy = [0.3, -0.1, 0.2, -0.1, 0.1, -0.05]  # mean +0.058, interval includes 0
    rows = []
    for i, d in enumerate(noisy):
        for method, check in (("A", 0.6), ("N", 0.6 + d), ("C", 0.65)):
            rows.append({"task": f"t{i}", "seed": 0, "method": method, "check": check, "check_loss": 0.1,
                         "value": 0.5, "wall_s": 1.0})
    df = pd.DataFrame(rows)
    assert selection(df, ["A", "N"], higher=True, on="check")[0] == "N"
    assert selection(df, ["A", "N"], higher=True, on="check", base="A")[0] == "A"
    assert selection(df, ["A", "N", "C"], higher=True, on="check")[0] == "N"
    assert selection(df, ["A", "N", "C"], higher=True, on="check", base="A")[0] == "C"
    # read as an error (lower is better), C is clearly worse than A: A stands, and replaces C as a base
    assert selection(df, ["A", "C"], higher=False, on="check", base="A")[0] == "A"
    assert selection(df, ["A", "C"], higher=False, on="check", base="C")[0] == "A"
    assert selection(df.assign(check=-df["check"]), ["A", "C"], higher=False, on="check", base="A")[0] == "C"
    lines = selection_table(df, ["A", "N"], higher=True, on="check", base="A")
    assert "`A` (the current defaults) stands unless" in lines[3]
    row = next(line for line in lines if line.startswith("| N |"))
    assert "+0.0583 [" in row and not row.endswith("yes |")
    with pytest.raises(ValueError, match=r"selection base 'B'; expected one of \['A', 'N'\]"):
        selection(df, ["A", "N"], higher=True, on="check", base="B")


def test_a_reference_is_shown_beside_the_candidates_and_never_chosen() -> None:
    """A reference (a baseline scored on the same check rows) clearly better than the base on every task is shown
    with its difference to the base but is not chosen; it does not narrow the pairs the candidates are judged on;
    one missing a pair is named, not shown; a method cannot be both."""
    import pandas as pd

    from benchmarks.reports.tables import selection, selection_table

    rows = []
    for i in range(6):
        for method, check in (("A", 0.6), ("N", 0.6 + 0.02 * (-1) ** i), ("R", 0.7 + 0.01 * i)):
            rows.append({"task": f"t{i}", "seed": 0, "method": method, "check": check, "check_loss": 0.1,
                         "value": 0.5, "wall_s": 1.0})
    rows.append({"task": "t6", "seed": 0, "method": "A", "check": 0.6, "check_loss": 0.1, "value": 0.5, "wall_s": 1.})
    rows.append({"task": "t6", "seed": 0, "method": "N", "check": 0.6, "check_loss": 0.1, "value": 0.5, "wall_s": 1.})
    df = pd.DataFrame(rows)  # R has no result on t6
    found = selection(df, ["A", "N"], higher=True, on="check", base="A", references=["R"])
    assert found.chosen == "A" and len(found.pairs) == 7 and found.references == ()  # R lacks t6: not shown
    lines = selection_table(df, ["A", "N"], higher=True, on="check", base="A", references=["R"])
    assert lines[-1] == "Not shown until they have results on all 7 pairs: `R`."
    full = df[df["task"] != "t6"]
    found = selection(full, ["A", "N"], higher=True, on="check", base="A", references=["R"])
    assert found.chosen == "A" and [r[0] for r in found.references] == ["R"]
    assert found.differences["R"].mean == pytest.approx(0.125) and found.differences["R"].low > 0
    lines = selection_table(full, ["A", "N"], higher=True, on="check", base="A", references=["R"])
    row = next(line for line in lines if line.startswith("| R |"))
    assert "+0.1250 [" in row and row.endswith("reference, not a candidate |")
    assert next(line for line in lines if line.startswith("| A |")).endswith("yes |")
    with pytest.raises(ValueError, match="also candidates"):
        selection(full, ["A", "N"], higher=True, on="check", references=["N"])


def test_against_the_reference_pairs_results_on_the_same_seeds() -> None:
    """ORCA ran seed 0 only, the reference seeds 0-2 (seeded table splits: each seed is another test set). The
    comparison must be ORCA's seed 0 against the reference's seed 0, not against the reference's 3-seed mean;
    a task ORCA never ran is left out, and the floor is judged on the same pairs."""
    from benchmarks.reports.tables import compare_paired, paired_cells

    rows = []
    for task, ref, orca, floor in (("a", (0.90, 0.70, 0.70), 0.85, 0.5), ("b", (0.60, 0.62, 0.64), 0.65, 0.5)):
        rows += [(task, "xgb", s, v) for s, v in enumerate(ref)] + [(task, "floor", s, floor) for s in range(3)]
        rows.append((task, "orca", 0, orca))
    rows += [("c", "xgb", 0, 0.9), ("c", "floor", 0, 0.5)]
    scores = pd.DataFrame(rows, columns=["task", "method", "seed", "value"]).assign(
        metric="roc_auc", data_kind="real", task_name=lambda d: d["task"])
    cells = paired_cells(scores, "orca", "xgb", ("floor",))
    assert set(cells["n"]) == {1} and set(cells["task"]) == {"a", "b"}
    c = compare_paired(scores, "orca", "xgb", higher=True, floors=("floor",))
    assert c.tasks == 2 and c.difference.mean == pytest.approx(((0.85 - 0.90) + (0.65 - 0.60)) / 2)
    assert (c.wins, c.losses) == (1, 1)
    # averaged over every seed the reference ran, the same results would read as two wins
    unpaired = compare(scores.groupby(["task", "method"])["value"].agg(mean="mean", n="size").reset_index()
                       .assign(std=0.0, beats_floor=True), "orca", "xgb", higher=True)
    assert unpaired.wins == 2
    assert compare_paired(scores, "orca", "missing", higher=True) is None


def test_seed_by_seed_and_group_tables() -> None:
    """Seed by seed: A's differences to R are paired per (task, seed) and signed so that > 0 is better (lower is
    better here); a seed A did not run shows a dash. By group: each method's mean over its own tasks in a group."""
    import pandas as pd

    from benchmarks.reports.tables import by_group_table, by_seed_table

    rows = [{"task": t, "method": "R", "seed": s, "value": v} for t, s, v in
            (("x", 0, 1.0), ("x", 1, 2.0), ("y", 0, 3.0), ("y", 1, 4.0))]
    rows += [{"task": "x", "method": "A", "seed": 0, "value": 0.5}, {"task": "y", "method": "A", "seed": 0, "value": 3.5}]
    lines = by_seed_table(pd.DataFrame(rows), "R", higher=False)
    assert lines[-1] == "| A | +0.0000 (2) | – |"  # (1.0 - 0.5) and (3.0 - 3.5) average to 0 over 2 tasks
    rows[-1]["value"] = 2.0
    assert by_seed_table(pd.DataFrame(rows), "R", higher=False)[-1] == "| A | +0.7500 (2) | – |"
    assert by_seed_table(pd.DataFrame(rows), "R", higher=True)[-1] == "| A | -0.7500 (2) | – |"
    summary = pd.DataFrame({"task": ["x", "y", "z", "x"], "method": ["A", "A", "A", "R"],
                            "mean": [0.2, 0.4, 0.9, 0.1]})
    lines = by_group_table(summary, {"x": "g1", "y": "g1", "z": "g2"})
    assert lines[-2:] == ["| g1 | 0.3000 (2) | 0.1000 (1) |", "| g2 | 0.9000 (1) | – |"]
    assert by_group_table(summary, {"x": "g1", "y": "g1"}) == []  # one group: nothing to split


def test_single_runs_at_or_near_the_floor_are_listed() -> None:
    """Floor 0.5, best mean 0.9 on task x: a run at 0.45 is below the floor ("at"), 0.52 is within a tenth of the
    way to the best ("near": 0.02 < 0.04), 0.60 is neither; the floor method itself is never listed. With lower
    is better the sign flips. Selection tables count the pairs where a candidate kept the chosen one's epoch."""
    from benchmarks.reports.analysis import near_floor_table
    from benchmarks.reports.tables import selection_table, summarise

    rows = [("x", "floor", s, 0.5, None) for s in range(3)]
    rows += [("x", "A", 0, 0.45, 0), ("x", "A", 1, 0.52, 3), ("x", "A", 2, 0.60, 7)]
    rows += [("x", "B", s, 0.9, 5) for s in range(3)]
    df = pd.DataFrame(rows, columns=["task", "method", "seed", "value", "best_epoch"]).assign(
        metric="accuracy", data_kind="real", task_name="x")
    summary = summarise(df, floors=("floor",))
    summary.attrs["floors"] = ("floor",)
    lines = near_floor_table(df, summary, higher=True)
    assert lines[-2:] == ["| A | x | 0 | 0.4500 | 0.5000 | at | 0 | 3 |", "| A | x | 1 | 0.5200 | 0.5000 | near | 3 | 3 |"]
    flipped = df.assign(value=-df["value"])
    low = summarise(flipped.assign(metric="mse"), floors=("floor",))
    low.attrs["floors"] = ("floor",)
    assert [line.split(" | ")[5] for line in near_floor_table(flipped, low, higher=False)[-2:]] == ["at", "near"]
    assert near_floor_table(df[df["method"] != "A"], summary, higher=True)[-1] == "None of the 3 runs."
    picked = df.assign(val=df["method"].map({"A": 0.5, "B": 0.9}), val_loss=0.1, wall_s=1.0)
    picked.loc[(picked["method"] == "A") & (picked["seed"] == 2), "best_epoch"] = 5
    lines = selection_table(picked[picked["method"] != "floor"], ["A", "B"], higher=True)
    assert "| A | 0.5000 |" in lines[-2] and lines[-2].endswith("| 1/3 |  |") and lines[-1].endswith("| – | yes |")


def test_traits_table_correlates_paired_differences_with_recorded_traits() -> None:
    """A's paired difference to R rises with the columns (rank correlation +1) and falls with the rows (-1),
    averaged over the seeds both ran; the floor is not analysed; a trait recorded on fewer than 8 tasks or
    constant is left out. ``_traits`` reads columns from ``features`` or the column names."""
    from benchmarks.reports.analysis import traits_table
    from benchmarks.reports.results import _traits

    rows = []
    for i in range(9):
        common = {"task": f"t{i}", "features": float(3 + i), "train_rows": float(900 - 50 * i),
                  "classes": 2.0, "categorical_share": float("nan") if i else 0.5}
        for s in range(2):
            rows += [{**common, "method": "R", "seed": s, "value": 0.8},
                     {**common, "method": "A", "seed": s, "value": 0.7 + 0.01 * i * i + 0.001 * s},
                     {**common, "method": "floor", "seed": s, "value": 0.5}]
    rows.append({**rows[1], "seed": 5, "value": 0.0})  # a seed R did not run: not paired, left out
    lines = traits_table(pd.DataFrame(rows), "R", higher=True, floors=("floor",))
    assert lines[-2:] == ["| A | train rows | 9 | -1.00 | 0 |", "| A | features | 9 | +1.00 | 0 |"]
    assert not any("floor" in line.split(" | ")[0] for line in lines[6:])
    low = traits_table(pd.DataFrame(rows).assign(value=lambda d: -d["value"]), "R", higher=False)
    assert low[-1].startswith("| A | features | 9 | +1.00")  # the sign follows the metric's direction
    assert _traits({"rows": {"train": 40}, "columns": ["a", "b", "c", "d"], "categorical": [1]}) == {
        "train_rows": 40.0, "features": 4.0, "categorical_share": 0.25, "classes": pytest.approx(float("nan"), nan_ok=True),
        "length": pytest.approx(float("nan"), nan_ok=True)}


def test_error_profile_table_averages_the_recorded_profile_over_seeds() -> None:
    """Boundary / RMSE is the ratio of the seed means; results without a profile (a table method) are left out."""
    from benchmarks.reports.analysis import error_profile_table

    profile = lambda rmse, b, lo: {"rmse": rmse, "brmse": b, "frmse_low": lo, "frmse_mid": 0.01,  # noqa: E731
                                   "frmse_high": 0.001}
    df = pd.DataFrame([{"task": "adv", "method": "orca", "seed": 0, "profile": profile(0.2, 0.1, 0.05)},
                       {"task": "adv", "method": "orca", "seed": 1, "profile": profile(0.4, 0.5, 0.15)},
                       {"task": "adv", "method": "fno", "seed": 0, "profile": profile(0.1, 0.3, 0.02)},
                       {"task": "adv", "method": "xgb", "seed": 0, "profile": {}}])
    lines = error_profile_table(df)
    assert lines[-2:] == ["| adv | fno | 0.1 | 3.00 | 0.02 | 0.01 | 0.001 |",
                          "| adv | orca | 0.3 | 1.00 | 0.1 | 0.01 | 0.001 |"]
    assert error_profile_table(df.assign(profile=[{}] * 4)) == []


def test_coverage_lists_what_each_preset_method_still_lacks() -> None:
    from benchmarks.reports.tables import coverage_table

    expected = [(t, m, s) for m in ("orca", "floor") for s in (0, 1, 2) for t in ("11", "37")]
    df = pd.DataFrame({"task": ["11", "37", "11", "11", "37", "11", "37", "11", "37"],
                       "method": ["orca", "orca", "orca", "floor", "floor", "floor", "floor", "floor", "floor"],
                       "seed": [0, 0, 1, 0, 0, 1, 1, 2, 2], "value": 0.5})
    lines = coverage_table(expected, df)
    assert "| orca | 3 of 6 | seed 1 (1), seed 2 (2) |" in lines and "| floor | 6 of 6 | – |" in lines
    full = pd.concat([df, pd.DataFrame({"task": ["37", "11", "37"], "method": "orca", "seed": [1, 2, 2],
                                        "value": 0.5})])
    assert coverage_table(expected, full) == ["", "Every job of the preset has a result here."]
    closed = coverage_table(expected, df, {"orca": "its rule stopped it after split 0"})  # a decision, not a gap
    assert "| orca | 3 of 6 | none: closed (its rule stopped it after split 0) |" in closed
    assert not any("seed 1 (1)" in line for line in closed)
    noted = coverage_table(expected, full, replaced=[("orca-skip", "orca", ["t9"], "its rule"), ("x", "y", [], "-")])
    assert noted[:2] == ["", "Every job of the preset has a result here."] and len(noted) == 4
    assert noted[3].startswith("On t9, `orca-skip` takes `orca`'s place (the preset's `replaces`: its rule)")


def test_a_closed_entry_must_name_a_method_and_a_reason() -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    suite = get_suite("openml")
    config = resolve_config(suite, "body-size")
    assert {c["method"] for c in config["closed"]} == {"orca-lr3e-5", "orca-mpnet-lr3e-5"}
    with pytest.raises(ConfigError, match="exactly the keys"):
        resolve_config(suite, "smoke", {"closed": [{"method": "orca"}]})
    with pytest.raises(ConfigError, match="unknown method 'orcaa'"):
        resolve_config(suite, "smoke", {"closed": [{"method": "orcaa", "why": "typo"}]})


def test_budget_table_names_the_machines_once_results_record_them() -> None:
    """Wall times compare only on one kind of machine: the budget table counts results per recorded CPU
    capability, and says nothing when no result records one (the files written before it was recorded)."""
    import pandas as pd

    from benchmarks.reports.tables import budget_table

    df = pd.DataFrame({"method": ["orca", "orca", "orca"], "wall_s": [10.0, 50.0, 12.0],
                       "stop_reason": ["cap"] * 3, "epochs_run": [5] * 3, "converged": [False] * 3,
                       "loss": ["mse"] * 3, "cpu": [None, "AVX2", "AVX512"]})
    assert budget_table(df)[-1].startswith("Machines (PyTorch CPU capability: results): AVX2: 1; AVX512: 1; "
                                           "not recorded: 1.")
    assert not any("Machines" in line for line in budget_table(df.assign(cpu=None)))
    named = budget_table(df.assign(cpu_model=[None, None, "AMD EPYC"]))[-1]  # once one names its model, all say
    assert named.startswith("Machines (PyTorch CPU capability: results): AVX2 (model not recorded): 1; "
                            "AVX512 (AMD EPYC): 1; not recorded (model not recorded): 1.")
    assert "before 2026-12-06 not their model" in named
    assert ("Job time of these 3 results: 0.02 h (the sum of their wall times; jobs run side by side, `--jobs N`, "
            "share the wall clock).") in budget_table(df)  # 72 s
    assert not any("Job time" in line for line in budget_table(df.assign(wall_s=None)))


def test_budget_table_counts_the_precision_an_auto_method_ran_in() -> None:
    """Under ``mixed_precision = auto`` one config computes in bf16 on some machines and fp32 on others: the
    budget table counts each such method's results per precision (from the result files), and adds nothing when
    no result asked for ``auto`` (the reports written before it existed stay as they were)."""
    from benchmarks.reports.results import _precision
    from benchmarks.reports.tables import budget_table

    def rec(asked, ran=None):
        return {"resolved_config": {"method_params": {"refine": {"mixed_precision": asked}}},
                "refine": {} if ran is None else {"precision": ran}}

    assert _precision(rec("auto", "no")) == {"precision_asked": "auto", "precision": "no"}
    assert _precision(rec("bf16")) == {"precision_asked": "bf16", "precision": "bf16"}  # recorded before `auto`
    assert _precision({"resolved_config": {"method_params": {"epochs_1d": 200}}})["precision_asked"] is None
    df = pd.DataFrame({"method": ["orca-tuned"] * 3 + ["orca-bf16"], "wall_s": 10.0, "stop_reason": "cap",
                       "epochs_run": 5, "converged": False, "loss": "ce", "cpu": None,
                       "precision_asked": ["auto", "auto", "auto", "bf16"], "precision": ["no", "bf16", "no", "bf16"]})
    assert budget_table(df)[-1] == ("Refine precision under `mixed_precision = auto` (bf16 where the machine computes "
                                    "it natively, fp32 elsewhere; results): orca-tuned: bf16 1, fp32 2.")
    assert not any("precision" in line for line in budget_table(df.assign(precision_asked="bf16")))


def test_searches_table_states_each_tuned_methods_budget_and_choices() -> None:
    """Issue 20: tuned ORCA's budget beside XGBoost's, from the result files: configurations a job, what
    selected them, pruned trials, search time and the chosen values (XGBoost: whether its defaults were kept);
    methods that do not search add nothing, and a report with no searched method has no section."""
    from benchmarks.reports.searches import search_record, search_table

    def orca(chosen: int, lrs: list[float], pruned: int) -> dict:
        trials = [{"trial": k, "settings": {"refine.lr": lr, "align.objective": "mmd"}, "seconds": 10.0 * (k + 1)}
                  for k, lr in enumerate(lrs)]
        return {"search": {"trials": trials, "chosen": chosen,
                           "budget": {"n_trials": len(lrs), "pruned": pruned, "selection": "validation roc_auc"}}}

    xgb = {"search": {"budget": {"n_iter": 20, "cv_folds": 5}, "kept_defaults": True, "search_seconds": 7.0}}
    timed = {"search": {"budget": {"n_iter": 10000, "cv_folds": 5, "max_seconds": 120}, "kept_defaults": False,
                        "search_seconds": 121.0, "configurations": 157}}
    a, b = search_record(orca(1, [3e-5, 1e-4, 3e-4], 1)), search_record(orca(0, [3e-5, 1e-4], 0))
    assert a == {"configurations": 3, "pruned": 1, "seconds": 60.0, "selection": "validation roc_auc",
                 "chosen": {"refine.lr": 1e-4, "align.objective": "mmd"}}
    assert search_record(timed)["configurations"] == 157 and search_record(xgb)["configurations"] == 20
    assert search_record({"metrics": {}}) is None
    df = pd.DataFrame({"method": ["orca-tuned", "orca-tuned", "xgboost-tuned", "xgboost-tuned", "floor"],
                       "search": [a, b, search_record(xgb), search_record(timed), None]})
    rows = {line.split(" | ")[0].lstrip("| "): line for line in search_table(df) if line.startswith("| ")}
    assert rows["orca-tuned"] == ("| orca-tuned | 2 | 2.5 (2–3) | validation roc_auc | 1 of 5 trials | 45.0 | "
                                  "align.objective: mmd 2; refine.lr: 0.0001 1, 3e-05 1 |")
    assert rows["xgboost-tuned"].startswith("| xgboost-tuned | 2 | 88.5 (20–157) | 5-fold CV on the training "
                                            "part, 120 s budget; the defaults kept unless beaten; 5-fold CV on the "
                                            "training part; the defaults kept unless beaten | – | 64.0 | ")
    assert rows["xgboost-tuned"].endswith("refit with: defaults 1, the best draw 1 |")
    assert "floor" not in rows
    assert search_table(df[df["method"] == "floor"]) == [] and search_table(df.drop(columns="search")) == []
    anchored = [orca(0, [3e-5, 1e-4], 0), orca(1, [3e-5, 1e-4], 0)]  # trial 0 the anchor: kept, then beaten
    for rec in anchored:
        rec["search"]["trials"][0]["settings"] = {}
        rec["search"]["budget"].update(anchor=True, select="beats-anchor")
    kept, beaten = (search_record(r)["chosen"] for r in anchored)
    assert kept == {"anchor": "kept"} and beaten == {"anchor": "beaten", "refine.lr": 1e-4, "align.objective": "mmd"}


def test_a_selection_with_jobs_to_come_is_provisional() -> None:
    """A selection entry whose rule needs every planned job is marked provisional, with the count, while a
    candidate's planned job has no result; complete, already provisional for its own reason, or deciding on the
    pairs in hand (no ``needs_all``), it is left as it is."""
    import pandas as pd

    from benchmarks.reports.build import pending_selection

    spec = {"candidates": ["A", "B"], "on": "check", "base": "A", "needs_all": True}
    expected = [(t, m, 0) for t in ("1", "2") for m in ("A", "B", "C")]
    df = pd.DataFrame({"task": [1, 2, 1, 1], "method": ["A", "A", "B", "C"], "seed": [0, 0, 0, 0]})
    marked = pending_selection(spec, expected, df)
    assert marked["provisional"] == ("3 of the candidates' 4 planned jobs have results; the rule decides on all of "
                                     "them")
    assert spec.get("provisional") is None  # the entry itself is not changed
    whole = pd.concat([df, pd.DataFrame({"task": [2], "method": ["B"], "seed": [0]})])
    assert pending_selection(spec, expected, whole) == spec
    assert pending_selection({**spec, "provisional": "one seed"}, expected, df)["provisional"] == "one seed"
    assert pending_selection({**spec, "needs_all": False}, expected, df) == {**spec, "needs_all": False}


def test_pdebench_reports_compare_every_method_against_unet_as_well_as_fno() -> None:
    """The converged report's second comparison (the suite's ``also_against``): after the table against FNO, one
    against U-Net, whose ``orca-skip`` row matches the committed result files read directly: per task the mean
    over the seeds both ran of U-Net's score minus ORCA's, then the mean over tasks."""
    import json
    from pathlib import Path

    from benchmarks.reports.build import report_text

    runs = Path(__file__).resolve().parents[1] / "results" / "pdebench" / "converged" / "runs"
    scores: dict[tuple[str, str, int], float] = {}
    for path in runs.glob("*.json"):
        rec = json.loads(path.read_text())
        if rec.get("status") == "ok":
            scores[(rec["task"], rec["method"], int(rec["seed"]))] = rec["metrics"]["test"]["nrmse"]
    per_task: dict[str, list[float]] = {}
    for (task, method, seed), value in scores.items():
        if method == "orca-skip" and (task, "unet", seed) in scores:
            per_task.setdefault(task, []).append(scores[(task, "unet", seed)] - value)
    assert len(per_task) >= 8
    expected = np.mean([np.mean(d) for d in per_task.values()])
    text = report_text("pdebench", runs.parents[2], "converged")[0]
    assert text.index("\nAgainst fno (") < text.index("\nAgainst unet (")
    table = text[text.index("\nAgainst unet ("):]
    row = next(line for line in table.splitlines() if line.startswith("| orca-skip | "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[1]) == len(per_task) and cells[4] == f"{expected:+.4f}"
    assert "| unet | " not in table.split("\n\n")[1]  # no row against itself
