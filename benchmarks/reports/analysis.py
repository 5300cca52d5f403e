"""Report sections that look behind the headline numbers: single runs at or near the floor, where a method gains
or loses by task trait, where a field method's error lies, and one-change candidates against their base."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import common_pairs, compare_paired, fmt, paired_differences

NEAR_FLOOR = 0.1
"""A run is *near* its task's floor when its margin above the floor is below this share of the distance from the
floor to the task's best mean score (:func:`near_floor_table`)."""


def near_floor_table(df: pd.DataFrame, summary: pd.DataFrame, higher: bool) -> list[str]:
    """The single runs (not the means over seeds) of the non-floor methods that are not better than their task's
    floor, or better by less than :data:`NEAR_FLOOR` of the way from the floor to the task's best mean score,
    with the epoch each kept: a mean over seeds can hide one run that learnt nothing."""
    if "floor" not in summary or summary["floor"].isna().all():
        return []
    floors = summary.dropna(subset=["floor"]).groupby("task")["floor"].first()
    best = summary.groupby("task")["mean"].agg("max" if higher else "min")
    runs = df[df["task"].isin(floors.index) & ~df["method"].isin(summary.attrs.get("floors", ()))].copy()
    if runs.empty:
        return []
    sign = 1.0 if higher else -1.0
    runs["floor"] = runs["task"].map(floors)
    runs["margin"] = sign * (runs["value"] - runs["floor"])  # > 0: better than the floor
    span = sign * (runs["task"].map(best) - runs["floor"])  # the floor's distance to the task's best mean
    near = runs[(runs["margin"] <= 0) | (runs["margin"] < NEAR_FLOOR * span)]
    total = runs.groupby("method").size()
    lines = ["", "## Single runs at or near the floor", "",
             f"Every run (one seed) not better than its task's floor, or better by less than {NEAR_FLOOR:g} of the "
             "way from the floor to the task's best mean score; kept epoch: the epoch its weights come from "
             "(– for methods that do not train by epochs)."]
    if near.empty:
        return lines + ["", f"None of the {len(runs)} runs."]
    lines += ["", "| method | task | seed | score | floor | at or near | kept epoch | runs of the method |",
              "|---|---|---|---|---|---|---|---|"]
    for r in near.sort_values(["method", "task", "seed"]).itertuples():
        epoch = getattr(r, "best_epoch", None)
        epoch = "–" if epoch is None or pd.isna(epoch) else str(int(epoch))
        lines.append(f"| {r.method} | {r.task} | {r.seed} | {fmt(r.value)} | {fmt(r.floor)} | "
                     f"{'at' if r.margin <= 0 else 'near'} | {epoch} | {total[r.method]} |")
    return lines


MIN_TRAIT_TASKS = 8
"""The fewest tasks with a recorded, varying trait for :func:`traits_table` to correlate it."""


def traits_table(scores: pd.DataFrame, reference: str, higher: bool, floors: tuple[str, ...] = ()) -> list[str]:
    """Where a method gains or loses against ``reference``: the Spearman rank correlation, over tasks, between its
    mean paired difference (> 0 better; the (task, seed) pairs both ran) and each task trait its results record
    (:data:`.results.TRAITS`: training rows, columns, categorical share, classes, series length), with the
    two-sided p-value.
    A trait is left out where fewer than :data:`MIN_TRAIT_TASKS` tasks record it or it does not vary; the
    ``floors`` are not analysed."""
    from scipy.stats import spearmanr

    from .results import TRAITS

    traits = [t for t in TRAITS if t in scores]
    if not traits or "seed" not in scores or reference not in set(scores["method"]):
        return []
    per_task = scores.groupby("task")[traits].median()
    rows = []
    for m in sorted(set(scores["method"]) - {reference, *floors}):
        diff = paired_differences(scores, m, reference, higher).groupby(level="task").mean()
        for trait in traits:
            x = per_task.loc[diff.index, trait]
            ok = x.notna()
            if ok.sum() < MIN_TRAIT_TASKS or x[ok].nunique() < 2 or diff[ok].nunique() < 2:
                continue
            rho, p = spearmanr(x[ok], diff[ok])
            rows.append(f"| {m} | {trait.replace('_', ' ')} | {int(ok.sum())} | {rho:+.2f} | {p:.3g} |")
    if not rows:
        return []
    return ["", f"## Where methods gain or lose against {reference}", "",
            f"Spearman rank correlation over tasks between a method's mean difference to {reference} (> 0 better; "
            "the (task, seed) pairs both ran) and a trait of the task its results record; p: two-sided, not "
            "corrected for the number of rows.", "",
            "| method | trait | tasks | Spearman ρ | p |", "|---|---|---|---|---|", *rows]


def error_profile_table(df: pd.DataFrame) -> list[str]:
    """Where a field method's error lies, per task and method (means over its seeds): RMSE, boundary RMSE relative
    to it (> 1: the error concentrates on the boundary) and the RMSE of the low, middle and high Fourier bands,
    for the results that record them (:data:`.results.PROFILE`)."""
    if "profile" not in df or not df["profile"].map(bool).any():
        return []
    rows = df[df["profile"].map(bool)]
    keys = ("rmse", "brmse", "frmse_low", "frmse_mid", "frmse_high")
    wide = pd.DataFrame([{k: p.get(k, np.nan) for k in keys} for p in rows["profile"]], index=rows.index)
    wide[["task", "method"]] = rows[["task", "method"]]
    means = wide.groupby(["task", "method"], sort=True)[list(keys)].mean()
    lines = ["", "## Where the error lies", "",
             "Test RMSE, the boundary RMSE relative to it (> 1: the error concentrates on the boundary) and the RMSE "
             "of the low, middle and high Fourier bands (PDEBench's fRMSE), mean over each method's seeds.", "",
             "| task | method | RMSE | boundary / RMSE | fRMSE low | fRMSE mid | fRMSE high |",
             "|---|---|---|---|---|---|---|"]
    for (task, method), r in means.iterrows():
        ratio = r["brmse"] / r["rmse"] if r["rmse"] > 0 else np.nan
        lines.append(f"| {task} | {method} | {r['rmse']:.4g} | {ratio:.2f} | {r['frmse_low']:.3g} | "
                     f"{r['frmse_mid']:.3g} | {r['frmse_high']:.3g} |")
    return lines


def contrast_table(scores: pd.DataFrame, contrasts: list[dict], higher: bool, floors: tuple[str, ...] = ()
                   ) -> list[str]:
    """Each ``{"method", "against", "changes"}`` of a suite's ``contrasts`` (a candidate that differs from its base
    in the settings ``changes``) compared on the (task, seed) pairs both ran: the mean difference (> 0: the
    candidate is better) with its paired interval and Wilcoxon p over tasks, wins / ties / losses, the geometric
    mean of the per-task score ratio (candidate / base, where every score is positive), the ratio of mean wall time
    and the median ratio of training samples seen (:func:`_samples_ratio`). Contrasts of one change (one setting,
    or one section such as ``search``) go under "One change at a time", those of several under "Several changes
    at once", so that no difference is read as one setting's effect. Contrasts with no common pair are left
    out."""
    lines: dict[bool, list[str]] = {True: [], False: []}  # one change? -> rows
    for spec in contrasts:
        m, base = spec["method"], spec["against"]
        c = compare_paired(scores, m, base, higher, floors)
        if c is None:
            continue
        a, b = common_pairs(scores, m, base)  # index (task, seed), the pairs both ran
        per_task = pd.DataFrame({"a": a["value"], "b": b["value"]}).groupby(level="task").mean()
        ratio = (f"{float(np.exp(np.log(per_task['a'] / per_task['b']).mean())):.3f}"
                 if (per_task > 0).all().all() else "–")
        wall = (f"{a['wall_s'].mean() / b['wall_s'].mean():.2f}"
                if "wall_s" in a and b["wall_s"].mean() > 0 else "–")
        if wall != "–" and "threads" in a and set(a["threads"]) != set(b["threads"]):
            wall += " (threads differ)"  # a job on one thread of two cores takes about 1.8x as long
        found = _validation_per_task(a, b, higher)  # read once, for the two validation columns
        val, agree = _validation_difference(found), _agreement(found, a, b, higher)
        samples = _samples_ratio(a, b)
        changes = ", ".join(f"`{k}`" for k in spec.get("changes", []))
        row = (f"| {m} | {base} | {changes} | {c.tasks} ({len(a)} pairs) | "
               f"{c.difference.mean:+.4f} {c.difference.interval()} | {c.difference.p()} | "
               f"{c.wins} / {c.ties} / {c.losses} | {ratio} | {wall} | {samples} | {val} | {agree} |")
        lines[len(spec.get("changes", [])) <= 1].append(row)
    header = ["| candidate | against | changes | tasks | mean difference [95 % interval] | Wilcoxon p | "
              "wins / ties / losses | score ratio | wall-time ratio | samples-seen ratio | "
              "validation: mean difference | validation vs test: Spearman ρ |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    columns = ("mean difference (> 0: the candidate is better) with its paired bootstrap 95 % interval and Wilcoxon "
               "p over tasks; wins / ties / losses as above; the geometric mean over tasks of the score ratio "
               "(candidate / base; for an error metric < 1 is better); the ratio of mean wall time per job (not "
               "comparable where the two ran on different thread counts, e.g. one with `--jobs 2`, which is marked); "
               "the median over pairs of the ratio of training samples seen (candidate / base; under a wall-clock "
               "budget, how much work each did, by seed where the seeds differ); and the mean difference on the "
               "validation splits (the metric there, or the validation loss where the runs record no validation "
               "metric) with the tasks on which it favours the candidate, the one a choice between the two may be "
               f"made on; and, over tasks (at least {MIN_TRAIT_TASKS}), the Spearman rank correlation between the "
               "validation and the test differences with its p: whether the validation difference foretells the "
               "test difference task by task (near 0, a choice made on validation is a choice by chance on test).")
    out = []
    if lines[True]:
        out += ["", "## One change at a time", "",
                "Each candidate against the method it differs from in the one listed setting (or section, such as "
                "`search`, which stands for every setting under it), on the (task, seed) pairs both ran: " + columns,
                "", *header, *lines[True]]
    if lines[False]:
        out += ["", "## Several changes at once", "",
                "Each candidate against a method it differs from in all the listed settings at once, so a "
                "difference belongs to the settings together, not to any one of them; on the (task, seed) pairs "
                "both ran, in the columns " + ("of the section above." if lines[True] else "below: " + columns),
                "", *header, *lines[False]]
    return out


def _samples_ratio(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """The median over the (task, seed) pairs of ``a``'s training samples seen over ``b``'s, where both record
    them (neural runs; :func:`.results._training`), followed by each seed's median where the seeds' medians differ
    (on an epoch-capped preset every ratio is 1.00 and the seeds add nothing); ``–`` where no pair records them.

    ``a``, ``b``: :func:`.tables.common_pairs`' two frames (numeric columns only), indexed by (task, seed) in the
    same order."""
    if "samples_seen" not in a or "samples_seen" not in b:
        return "–"
    ratio = (a["samples_seen"] / b["samples_seen"].where(b["samples_seen"] > 0)).dropna()
    if ratio.empty:
        return "–"
    text = f"{float(ratio.median()):.2f}"
    by_seed = {s: f"{v:.2f}" for s, v in ratio.groupby(level="seed").median().items()}
    if len(set(by_seed.values())) > 1:
        text += " (seed " + ", ".join(f"{s}: {v}" for s, v in by_seed.items()) + ")"
    return text


def _validation_per_task(a: pd.DataFrame, b: pd.DataFrame, higher: bool
                         ) -> tuple[pd.Series, pd.Series, str] | None:
    """The per-task mean over seeds of the paired validation difference (> 0: ``a`` better), ``b``'s per-task mean
    validation value and the label of what was compared: the validation metric where every pair records it, else
    the validation loss (lower is better); ``None`` where neither is recorded."""
    for column, sign, label in (("val", 1.0 if higher else -1.0, "metric"), ("val_loss", -1.0, "loss")):
        if column in a and a[column].notna().all() and b[column].notna().all():
            per_task = (sign * (a[column] - b[column])).groupby(level="task").mean()  # over each task's seeds
            return per_task, b[column].groupby(level="task").mean(), label
    return None


def _validation_difference(found: tuple[pd.Series, pd.Series, str] | None) -> str:
    """From :func:`_validation_per_task`'s ``found``: the mean over tasks of the paired validation difference
    (> 0: the candidate better), its share of the base's mean validation value and the number of tasks whose mean
    difference over seeds favours the candidate; ``–`` where no validation score is recorded."""
    if found is None:
        return "–"
    per_task, base_values, label = found
    diff, base = float(per_task.mean()), float(base_values.mean())
    share = f", {100 * diff / abs(base):+.2f} %" if base else ""
    return f"{diff:+.4g} ({label}{share}; better on {int((per_task > 0).sum())} of {len(per_task)} tasks)"


def _agreement(found: tuple[pd.Series, pd.Series, str] | None, a: pd.DataFrame, b: pd.DataFrame,
               higher: bool) -> str:
    """Whether the validation differences foretell the test differences: the Spearman rank correlation over
    tasks between the per-task mean paired difference on validation (``found``, :func:`_validation_per_task`'s)
    and on test (both > 0: ``a`` better), with its two-sided p; ``–`` with fewer than :data:`MIN_TRAIT_TASKS`
    tasks or where either does not vary. Near 0, a choice made on validation between the two is a choice by chance
    on test."""
    from scipy.stats import spearmanr

    if found is None:
        return "–"
    val = found[0]
    test = ((1.0 if higher else -1.0) * (a["value"] - b["value"])).groupby(level="task").mean()
    test = test.loc[val.index]
    if len(val) < MIN_TRAIT_TASKS or val.nunique() < 2 or test.nunique() < 2:
        return "–"
    rho, p = spearmanr(val, test)
    return f"{rho:+.2f} (p {p:.2g})"
