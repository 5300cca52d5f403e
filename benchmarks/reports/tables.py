"""Markdown tables from result rows: per-task scores (mean ± std over seeds), means and ranks, pairwise wins,
the comparison against a suite's reference method, roll-out curves and published numbers beside ours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orca.metrics import get_metric

from .stats import PairedDifference, paired_difference, seeds_overlap


def summarise(df: pd.DataFrame, floors: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean, std and count per (task, method), with the rank of each method within its task (1 = best), the
    task's metric, the mean wall time of a job (``wall_s``, the budget actually spent) and the published task
    the results name (if any).

    With ``floors`` (the suite's trivial methods), ``floor`` is the best floor score on the task and
    ``beats_floor`` says whether a method is strictly better than it (``None`` for the floors themselves and on
    tasks where no floor ran)."""
    metric = df["metric"].iloc[0]
    higher = get_metric(metric).higher_is_better
    extra = {k: (k, "first") for k in ("metric", "published_task") if k in df}
    if "wall_s" in df:
        extra["wall_s"] = ("wall_s", "mean")
    if "converged" in df:  # the share of a cell's runs that stopped on patience (NaN: no epoch training)
        df = df.assign(converged=pd.to_numeric(df["converged"], errors="coerce"),
                       epochs_run=pd.to_numeric(df["epochs_run"], errors="coerce"))
        extra |= {"converged": ("converged", "mean"), "epochs_run": ("epochs_run", "mean")}
    agg = df.groupby(["task", "method"]).agg(mean=("value", "mean"), std=("value", "std"), n=("value", "size"),
                                             data_kind=("data_kind", "first"), task_name=("task_name", "first"),
                                             **extra)
    agg = agg.reset_index()
    agg["std"] = agg["std"].fillna(0.0)
    agg["rank"] = agg.groupby("task")["mean"].rank(ascending=not higher, method="min")
    is_floor = agg["method"].isin(floors)
    best = agg[is_floor].groupby("task")["mean"].agg("max" if higher else "min")
    agg["floor"] = agg["task"].map(best)
    beats = (agg["mean"] > agg["floor"]) if higher else (agg["mean"] < agg["floor"])
    agg["beats_floor"] = [None if f or pd.isna(fl) else bool(b) for f, fl, b in zip(is_floor, agg["floor"], beats)]
    return agg


def _counts_as_win(summary: pd.DataFrame, method: str) -> pd.Series:
    """Per task: whether ``method``'s result may count as a win (it beats the floor, or no floor ran)."""
    rows = summary[summary["method"] == method].set_index("task")
    return rows["beats_floor"].map(lambda b: b is not False) if "beats_floor" in rows else rows["mean"].notna()


def _unconverged(row: pd.Series) -> str:
    """`` °`` when some run of a (task, method) cell stopped on its cap or budget rather than on patience."""
    share = row.get("converged")
    return " °" if share is not None and not pd.isna(share) and share < 1 else ""


def budget_table(df: pd.DataFrame) -> list[str]:
    """Per method, what the runs cost and how they ended: results, mean wall time of a job, epochs run, how many
    converged (stopped on patience) and why the others stopped."""
    if "stop_reason" not in df:
        return []
    lines = ["", "## Budget and convergence", "",
             "Per method over all its results: the mean wall time of a job (the whole job: data, training, "
             "scoring), epochs run (min–max), the runs that converged (stopped because the validation score had not "
             "improved for `patience` epochs) and why the others stopped (`cap`: the epoch cap, `budget`: the time "
             "budget). Methods that do not train by epochs show –. Runs recorded before the stop record existed "
             "had no patience, so they stopped on their cap.", "",
             "| method | results | mean wall time (s) | epochs run | converged | stop reasons | training loss |",
             "|---|---|---|---|---|---|---|"]
    for method, group in df.groupby("method"):
        reasons = group["stop_reason"].dropna()
        epochs = pd.to_numeric(group["epochs_run"], errors="coerce").dropna()
        wall = pd.to_numeric(group["wall_s"], errors="coerce").mean() if "wall_s" in group else float("nan")
        if reasons.empty:
            lines.append(f"| {method} | {len(group)} | {wall:.1f} | – | – | – | – |")
            continue
        span = "–" if epochs.empty else (f"{int(epochs.min())}" if epochs.min() == epochs.max()
                                         else f"{int(epochs.min())}–{int(epochs.max())}")
        counts = ", ".join(f"{k} {v}" for k, v in reasons.value_counts().sort_index().items())
        converged = int((group["converged"] == True).sum())  # noqa: E712 (None stays out)
        losses = ", ".join(sorted(set(group["loss"].dropna()))) if "loss" in group else ""
        lines.append(f"| {method} | {len(group)} | {wall:.1f} | {span} | {converged}/{len(reasons)} | {counts} | "
                     f"{losses or 'not recorded'} |")
    return lines


def _fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


@dataclass(frozen=True)
class Comparison:
    """``method`` against ``reference`` over the tasks both ran (see :func:`compare`)."""

    tasks: int
    mean: float
    mean_reference: float
    difference: PairedDifference
    wins: int
    ties: int
    losses: int


def compare(summary: pd.DataFrame, method: str, reference: str, higher: bool) -> Comparison | None:
    """``method`` against ``reference`` over the tasks both ran: the mean difference (positive = better) with its
    paired bootstrap interval and Wilcoxon p-value over tasks, and wins / ties / losses. A task is a tie when the
    scores are equal, when the two cells' seed intervals overlap (n > 1 on both sides), or when ``method`` is
    ahead but does not beat the floor (never a win)."""
    pivot = summary.pivot(index="task", columns="method", values="mean")
    if method not in pivot or reference not in pivot:
        return None
    both = pivot[[method, reference]].dropna()
    if both.empty:
        return None
    diff = (both[method] - both[reference]) * (1 if higher else -1)
    valid = _counts_as_win(summary, method).reindex(both.index).fillna(True).astype(bool)
    cells = summary.set_index(["task", "method"])
    cols = [c for c in ("mean", "std", "n") if c in cells]
    noise = pd.Series([len(cols) == 3 and seeds_overlap(tuple(cells.loc[(t, method), cols]),
                                                        tuple(cells.loc[(t, reference), cols]))
                       for t in both.index], index=both.index, dtype=bool)
    counted = diff.where((valid | (diff <= 0)) & ~noise, 0.0)  # below the floor, or within seed noise: a tie
    return Comparison(len(both), float(both[method].mean()), float(both[reference].mean()),
                      paired_difference(diff.to_numpy()), int((counted > 0).sum()), int((counted == 0).sum()),
                      int((counted < 0).sum()))


def paired_cells(scores: pd.DataFrame, method: str, reference: str, floors: tuple[str, ...] = ()) -> pd.DataFrame:
    """The summary (:func:`summarise`) of ``method`` and ``reference`` over only the (task, seed) pairs both ran,
    with the floors on the same pairs: where a seed changes the split (seeded table splits, OpenML's folds), a
    cell averaged over other seeds than its reference's would compare different test sets.

    ``scores``: one row per result, with at least task, method, seed, value, metric, data_kind and task_name."""
    a = scores[scores["method"] == method]
    b = scores[scores["method"] == reference]
    both = set(zip(a["task"], a["seed"])) & set(zip(b["task"], b["seed"]))
    keep = scores["method"].isin([method, reference, *floors]) & pd.Series(
        [(t, s) in both for t, s in zip(scores["task"], scores["seed"])], index=scores.index)
    sub = scores[keep]
    if sub.empty:
        return sub
    return summarise(sub, tuple(f for f in floors if f in set(sub["method"])))


def compare_paired(scores: pd.DataFrame, method: str, reference: str, higher: bool,
                   floors: tuple[str, ...] = ()) -> Comparison | None:
    """:func:`compare` over the (task, seed) pairs both methods ran (:func:`paired_cells`)."""
    if not ((scores["method"] == method).any() and (scores["method"] == reference).any()):
        return None
    cells = paired_cells(scores, method, reference, floors)
    return compare(cells, method, reference, higher) if len(cells) else None


def against_reference(summary: pd.DataFrame, reference: str, higher: bool, means: bool = True,
                      scores: pd.DataFrame | None = None) -> list[str]:
    """Per method, over the tasks both ran: mean score, mean difference to ``reference`` (positive = better) with
    its paired bootstrap 95 % interval and Wilcoxon p-value over tasks, and wins / ties / losses against it (only
    the last three when the tasks' scores are on different scales). With ``scores`` (one row per result), each
    method is compared on the (task, seed) pairs both ran (:func:`paired_cells`)."""
    if reference not in set(summary["method"]):
        return []
    pairs = scores is not None and "seed" in scores
    lines = ["", f"Against {reference} ({'the (task, seed) pairs' if pairs else 'tasks'} both ran, so that seeded "
             f"splits are compared on the same split; difference > 0 means better than {reference}; the interval "
             "is a paired bootstrap over tasks, p the two-sided Wilcoxon signed-rank test over tasks; a task is a "
             "tie when the seeds' 95 % intervals overlap, and a result that does not beat the floor counts as a tie, "
             "never a win):", "",
             f"| method | tasks | mean | mean {reference} | mean difference | 95 % interval | Wilcoxon p | "
             "wins / ties / losses |", "|---|---|---|---|---|---|---|---|"]
    floors = tuple(summary.attrs.get("floors", ()))
    for m in sorted(c for c in set(summary["method"]) if c != reference):
        c = (compare_paired(scores, m, reference, higher, floors) if pairs
             else compare(summary, m, reference, higher))
        if c is None:
            continue
        avg = ((_fmt(c.mean), _fmt(c.mean_reference), f"{c.difference.mean:+.4f}", c.difference.interval())
               if means else ("–",) * 4)
        p = c.difference.p() if means else "–"  # signed ranks of differences on different scales mean nothing
        lines.append(f"| {m} | {c.tasks} | {' | '.join(avg)} | {p} | {c.wins} / {c.ties} / "
                     f"{c.losses} |")
    return lines


def contrast_table(scores: pd.DataFrame, contrasts: list[dict], higher: bool, floors: tuple[str, ...] = ()
                   ) -> list[str]:
    """One change at a time: each ``{"method", "against", "changes"}`` of a suite's ``contrasts`` (a candidate
    that differs from its base in the one setting ``changes``) compared on the (task, seed) pairs both ran: the
    mean difference (> 0: the candidate is better) with its paired interval and Wilcoxon p over tasks, wins / ties /
    losses, the geometric mean of the per-task score ratio (candidate / base, where every score is positive) and
    the ratio of mean wall time. Contrasts with no common pair are left out."""
    lines = []
    for spec in contrasts:
        m, base = spec["method"], spec["against"]
        c = compare_paired(scores, m, base, higher, floors)
        if c is None:
            continue
        a = scores[scores["method"] == m].set_index(["task", "seed"])
        b = scores[scores["method"] == base].set_index(["task", "seed"])
        both = a.index.intersection(b.index)
        per_task = pd.DataFrame({"a": a.loc[both, "value"], "b": b.loc[both, "value"]}).groupby(level="task").mean()
        ratio = (f"{float(np.exp(np.log(per_task['a'] / per_task['b']).mean())):.3f}"
                 if (per_task > 0).all().all() else "–")
        wall = (f"{a.loc[both, 'wall_s'].mean() / b.loc[both, 'wall_s'].mean():.2f}"
                if "wall_s" in scores and b.loc[both, "wall_s"].mean() > 0 else "–")
        changes = ", ".join(f"`{k}`" for k in spec.get("changes", []))
        lines.append(f"| {m} | {base} | {changes} | {c.tasks} ({len(both)} pairs) | "
                     f"{c.difference.mean:+.4f} {c.difference.interval()} | {c.difference.p()} | "
                     f"{c.wins} / {c.ties} / {c.losses} | {ratio} | {wall} |")
    if not lines:
        return []
    return ["", "## One change at a time", "",
            "Each candidate against the method it differs from in one setting, on the (task, seed) pairs both ran: "
            "mean difference (> 0: the candidate is better) with its paired bootstrap 95 % interval and Wilcoxon p "
            "over tasks; wins / ties / losses as above; the geometric mean over tasks of the score ratio (candidate / "
            "base; for an error metric < 1 is better); the ratio of mean wall time per job.", "",
            "| candidate | against | changes | tasks | mean difference [95 % interval] | Wilcoxon p | "
            "wins / ties / losses | score ratio | wall-time ratio |", "|---|---|---|---|---|---|---|---|---|", *lines]


def by_seed_table(scores: pd.DataFrame, reference: str, higher: bool) -> list[str]:
    """Each method's mean difference to ``reference`` seed by seed (positive = better), over the tasks both ran
    with that seed: where a seed is a split (seeded table splits, OpenML's folds) this is the comparison split by
    split. ``scores``: one row per result (task, method, seed, value)."""
    if "seed" not in scores or scores["seed"].nunique() < 2 or reference not in set(scores["method"]):
        return []
    value = scores.groupby(["method", "task", "seed"])["value"].mean()
    ref = value.loc[reference]
    seeds = sorted(scores["seed"].unique())
    lines = ["", f"Against {reference}, seed by seed (mean difference over the tasks both ran with that seed, their "
             "number in brackets; > 0 means better):", "",
             "| method | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for m in sorted(set(scores["method"]) - {reference}):
        own = value.loc[m]
        both = own.index.intersection(ref.index)
        if not len(both):
            continue
        diff = (own.loc[both] - ref.loc[both]) * (1 if higher else -1)  # index (task, seed)
        per = diff.groupby(level="seed").agg(["mean", "count"])
        lines.append(f"| {m} | " + " | ".join(f"{per.loc[s, 'mean']:+.4f} ({int(per.loc[s, 'count'])})"
                                              if s in per.index else "–" for s in seeds) + " |")
    return lines


MIN_TRAIT_TASKS = 8
"""The fewest tasks with a recorded, varying trait for :func:`traits_table` to correlate it."""


def traits_table(scores: pd.DataFrame, reference: str, higher: bool, floors: tuple[str, ...] = ()) -> list[str]:
    """Where a method gains or loses against ``reference``: the Spearman rank correlation, over tasks, between its
    mean paired difference (> 0 better; the (task, seed) pairs both ran) and each task trait its results record
    (:data:`.results.TRAITS`: training rows, columns, categorical share, classes), with the two-sided p-value.
    A trait is left out where fewer than :data:`MIN_TRAIT_TASKS` tasks record it or it does not vary; the
    ``floors`` are not analysed."""
    from scipy.stats import spearmanr

    from .results import TRAITS

    traits = [t for t in TRAITS if t in scores]
    if not traits or "seed" not in scores or reference not in set(scores["method"]):
        return []
    per_task = scores.groupby("task")[traits].median()
    value = scores.groupby(["method", "task", "seed"])["value"].mean()
    ref = value.loc[reference]
    rows = []
    for m in sorted(set(scores["method"]) - {reference, *floors}):
        own = value.loc[m]
        both = own.index.intersection(ref.index)
        diff = ((own.loc[both] - ref.loc[both]) * (1 if higher else -1)).groupby(level="task").mean()
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


def by_group_table(summary: pd.DataFrame, groups: dict[str, str]) -> list[str]:
    """Each method's mean score over the tasks of each group (``groups``: task -> group), the number of tasks it
    ran in brackets; a task's score is its mean over the method's own seeds, as in the first table."""
    present = summary[summary["task"].isin(list(groups))]
    if present.empty or len(set(groups.values())) < 2:
        return []
    methods = sorted(summary["method"].unique())
    lines = ["", "Means by task group (each method's tasks in the group, their number in brackets):", "",
             "| group | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for group in sorted(set(groups.values())):
        part = present[present["task"].map(groups) == group].groupby("method")["mean"].agg(["mean", "count"])
        lines.append(f"| {group} | " + " | ".join(f"{_fmt(part.loc[m, 'mean'])} ({int(part.loc[m, 'count'])})"
                                                 if m in part.index else "–" for m in methods) + " |")
    return lines


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


def rollout_table(df: pd.DataFrame) -> list[str]:
    """Roll-out tasks: each method's error after every step (mean over seeds), then the final step's."""
    rows = df[df["rollout"].notna()] if "rollout" in df else df.iloc[:0]
    if rows.empty:
        return []
    steps = max(len(r) for r in rows["rollout"])
    lines = ["", "## Autoregressive roll-outs", "",
             "The table above scores roll-out tasks by the error averaged over the steps (PDEBench); here is the "
             "error after each step, mean over seeds.", "",
             "| task | method | " + " | ".join(f"step {k + 1}" for k in range(steps)) + " |",
             "|---|---|" + "---|" * steps]
    for (task, method), group in rows.groupby(["task", "method"]):
        curve = np.nanmean(np.array([r for r in group["rollout"] if len(r) == steps], dtype=float), axis=0)
        lines.append(f"| {task} | {method} | " + " | ".join(_fmt(v) for v in curve) + " |")
    return lines


def yardstick_table(df: pd.DataFrame) -> list[str]:
    """Runs that measured the embedder's distance to the source on one common scale (the alignment ablation):
    before alignment, after it and after fine-tuning, with the objective's own first and last distance."""
    rows = df[df["yardstick"].notna()] if "yardstick" in df else df.iloc[:0]
    if rows.empty:
        return []
    lines = ["", "## Stage 2 on one scale", "",
             "The embedder's distance to the source features on a common yardstick (the `otdd-exact` distance of a "
             "fixed stratified batch of the training part), whatever the method aligned with; and the method's own "
             "objective at its first and last align step. Mean over seeds.", "",
             "| task | method | yardstick: before -> aligned -> after refine | own objective: first -> last step |",
             "|---|---|---|---|"]
    for (task, method), group in rows.groupby(["task", "method"], sort=False):
        y = {k: np.mean([r[k] for r in group["yardstick"]]) for k in ("before", "aligned", "after_refine")}
        curves = [c for c in group["align_curve"] if len(c)]
        own = (f"{np.mean([c[0] for c in curves]):.3f} -> {np.mean([c[-1] for c in curves]):.3f}" if curves
               else "– (no alignment)")
        lines.append(f"| {task} | {method} | {y['before']:.3f} -> {y['aligned']:.3f} -> {y['after_refine']:.3f} | "
                     f"{own} |")
    return lines


def side_by_side(summary: pd.DataFrame, df: pd.DataFrame, published: list[dict]) -> list[str]:
    """Our mean per (task, method) next to the published values of the same task (tasks whose results name a
    ``published_task``), with the data kind, so generated-data rows are never read as the real benchmark."""
    mapping = df.dropna(subset=["published_task"]).groupby("task")["published_task"].first()
    if mapping.empty or not published:
        return []
    ours = sorted(summary["method"].unique())
    theirs = sorted({p["method"] for p in published if p["task"] in set(mapping)})
    lines = ["", "## Side by side with the published numbers", "",
             "Ours on the data named in the second column; published values as reported (different data when "
             "ours are generated).", "",
             "| task | our data | " + " | ".join(f"ours: {m}" for m in ours) + " | "
             + " | ".join(f"published: {m}" for m in theirs) + " |", "|---|---|" + "---|" * (len(ours) + len(theirs))]
    for task, name in mapping.items():
        rows = summary[summary["task"] == task].set_index("method")
        kind = rows["data_kind"].iloc[0] if len(rows) else "?"
        mine = [_fmt(rows.loc[m, "mean"]) if m in rows.index else "–" for m in ours]
        pub = {p["method"]: p["value"] for p in published if p["task"] == name}
        lines.append(f"| {task} ({name}) | {kind} | " + " | ".join(mine) + " | "
                     + " | ".join(pub.get(m, "–") for m in theirs) + " |")
    return lines


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
        lines.append(f"| {r.method} | {r.task} | {r.seed} | {_fmt(r.value)} | {_fmt(r.floor)} | "
                     f"{'at' if r.margin <= 0 else 'near'} | {epoch} | {total[r.method]} |")
    return lines


def selection(df: pd.DataFrame, candidates: list[str], higher: bool, on: str = "val"
              ) -> tuple[str | None, list[tuple[str, float, float, float, float]], pd.Index]:
    """A defaults study's choice among ``candidates``, made on training-side scores only.

    Over the (task, seed) pairs every candidate ran: each one's mean score on ``on`` (``"val"``: the metric on the
    validation split the run carved from its training data, the split its epochs were selected on; ``"check"``: a
    held-out check split of the training part that the fit never saw, for comparing selection rules), the mean
    loss there, the mean test score and mean wall time; the chosen candidate has the best mean score, ties broken
    by the lower loss. The test scores play no part. Returns ``(chosen, rows, pairs)``; ``chosen`` is ``None``
    when fewer than two candidates have results on common pairs.
    """
    if on not in ("val", "check"):
        raise ValueError(f"selection on {on!r}; expected one of ['val', 'check']")
    sub = df[df["method"].isin(candidates)]
    if sub.empty or len(set(sub["method"])) < 2 or on not in sub:
        return None, [], pd.Index([])
    val = sub.pivot_table(index=["task", "seed"], columns="method", values=on).dropna()
    if val.empty or len(val.columns) < 2:
        return None, [], pd.Index([])
    keys = val.index
    table = []
    for m in [c for c in candidates if c in val.columns]:
        rows = sub[sub["method"] == m].set_index(["task", "seed"]).loc[keys]
        table.append((m, float(rows[on].mean()), float(rows[f"{on}_loss"].mean()), float(rows["value"].mean()),
                      float(rows["wall_s"].mean())))
    return min(table, key=lambda r: (-r[1] if higher else r[1], r[2]))[0], table, keys


def _same_epoch(df: pd.DataFrame, candidates: list[str], chosen: str, keys: pd.Index) -> dict[str, str]:
    """Per candidate: on how many of the (task, seed) pairs ``keys`` its run kept the same epoch as ``chosen``'s
    (``k/n``, over the pairs where both recorded one)."""
    if "best_epoch" not in df:
        return {}
    epochs = df[df["method"].isin(candidates)].pivot_table(index=["task", "seed"], columns="method",
                                                            values="best_epoch", aggfunc="first")
    epochs = epochs.reindex(keys)
    if chosen not in epochs:
        return {}
    out = {}
    for m in epochs.columns.drop(chosen):
        both = epochs[[m, chosen]].dropna()
        if len(both):
            out[m] = f"{int((both[m] == both[chosen]).sum())}/{len(both)}"
    return out


def selection_table(df: pd.DataFrame, candidates: list[str], higher: bool, on: str = "val",
                    decides: list[str] | None = None, provisional: str | None = None) -> list[str]:
    """The report's section on a defaults study's choice (:func:`selection`) of the settings ``decides``;
    ``provisional``: why the choice is shown but not yet applied to the defaults."""
    chosen, table, keys = selection(df, candidates, higher, on)
    if chosen is None:
        return []
    tasks = len(set(k[0] for k in keys))
    where = ("validation" if on == "val" else "check-split")
    what = f" of {', '.join(f'`{d}`' for d in decides)}" if decides else ""
    lines = ["", f"## Choosing the defaults{what} ({where} scores only)", "",
             f"Over the {len(keys)} (task, seed) pairs every candidate ran ({tasks} tasks): the mean {where} "
             f"score decides, ties broken by the lower {where} loss; the test scores are shown beside and take no "
             "part in the choice."
             + (" The check split is a share of the training part held out before the fit, which neither the fit "
                "nor its epoch selection saw." if on == "check" else ""), "",
             f"| candidate | mean {where} score | mean {where} loss | mean test score | mean wall time (s) | "
             f"kept the same epoch as {chosen} | chosen |", "|---|---|---|---|---|---|---|"]
    same = _same_epoch(df, candidates, chosen, keys)
    lines += [f"| {m} | {_fmt(v)} | {_fmt(loss)} | {_fmt(t)} | {w:.0f} | {same.get(m, '–')} | "
              f"{'yes' if m == chosen else ''} |" for m, v, loss, t, w in table]
    if provisional:
        lines += ["", f"Provisional: this choice is not applied to the defaults yet ({provisional})."]
    return lines


def markdown(suite: str, summary: pd.DataFrame, failed: list[dict], unreadable: list[str],
             published: list[dict], reference: str | None = None, df: pd.DataFrame | None = None,
             means: bool = True, selections: list[dict] | None = None, groups: dict[str, str] | None = None,
             contrasts: list[dict] | None = None) -> str:
    """The report's Markdown; ``means=False`` leaves out averages over tasks (tasks scored on different scales);
    ``selections``: a defaults study's choices, each ``{"candidates", "decides", "on"}`` (:func:`selection_table`);
    ``groups``: task -> group, for the means by group (:func:`by_group_table`); ``contrasts``: one-change
    candidates against their base (:func:`contrast_table`)."""
    metric = summary.attrs.get("metric", "")
    higher = get_metric(metric).higher_is_better
    methods = sorted(summary["method"].unique())
    lines = [f"# {suite}: results", "",
             f"Test {metric} ({'higher' if higher else 'lower'} is better), mean ± std over seeds (n); best per task "
             "in bold. Built by `python -m benchmarks.report` from the result files in `runs/`; means over tasks count only the tasks a method ran."
             + (" ‡: not better than the task's floor (the best trivial predictor: "
                + ", ".join(f"`{f}`" for f in summary.attrs.get("floors", ())) + "); such a result never counts "
                "as a win." if summary.attrs.get("floors") and "beats_floor" in summary else "")
             + (" °: at least one of the cell's runs did not converge (it stopped on its epoch cap or time budget, "
                "not on patience; see the budget table)." if "converged" in summary else ""), "",
             "| task | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    if df is not None and "dirty" in df and df["dirty"].any():
        lines[4:4] = [f"**{int(df['dirty'].sum())} of {len(df)} results were computed from a working tree with "
                      "uncommitted changes** (their files record the commit and `dirty: true`); they are not "
                      "guaranteed to come from the committed code.", ""]
    for task, group in summary.groupby("task", sort=False):
        by = group.set_index("method")
        kind = group["data_kind"].iloc[0]
        name = str(group["task_name"].iloc[0])
        label = (str(task) if name == str(task) else f"{task} {name}") + ("" if kind == "real" else f" ({kind} data)")
        best = by["rank"].min()
        cells = []
        for m in methods:
            if m not in by.index:
                cells.append("–")
                continue
            r = by.loc[m]
            n = int(r["n"])  # a spread only where there is one: n > 1
            text = f"{_fmt(r['mean'])} ± {_fmt(r['std'])} ({n})" if n > 1 else f"{_fmt(r['mean'])} (1)"
            text = f"**{text}**" if r["rank"] == best else text
            cells.append(text + (" ‡" if r.get("beats_floor") is False else "") + _unconverged(r))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    counts = summary.groupby("method")["mean"].size()
    if means:
        avg = summary.groupby("method")["mean"].mean()
        lines.append("| mean over tasks (tasks) | " + " | ".join(f"{_fmt(avg[m])} ({counts[m]})" for m in methods) + " |")
    pivot = summary.pivot(index="task", columns="method", values="mean")
    common = pivot.dropna().index  # mean ranks only over the tasks every method ran, ranked among themselves
    ranked = summary[summary["task"].isin(common)].copy()
    ranked["rank"] = ranked.groupby("task")["mean"].rank(ascending=not higher, method="min")
    ranks = ranked.groupby("method")["rank"].mean().reindex(methods)
    lines += ["", f"| method | mean rank ({len(common)} tasks every method ran) | "
              + " | ".join(f"wins vs {m}" for m in methods) + " |", "|---|---|" + "---|" * len(methods)]
    for a in methods:
        wins = []
        valid = _counts_as_win(summary, a)
        for b in methods:
            if a == b:
                wins.append("–")
                continue
            both = pivot[[a, b]].dropna()
            better = (both[a] > both[b]) if higher else (both[a] < both[b])
            better &= valid.reindex(both.index).fillna(True).astype(bool)  # no win below the floor
            wins.append(f"{int(better.sum())}/{len(both)}")
        rank = "–" if pd.isna(ranks[a]) else f"{ranks[a]:.2f}"
        lines.append(f"| {a} | {rank} | " + " | ".join(wins) + " |")
    if reference:
        lines += against_reference(summary, reference, higher, means, scores=df)
        if means and df is not None:
            lines += by_seed_table(df, reference, higher)
    if means and groups:
        lines += by_group_table(summary, groups)
    if df is not None and contrasts:
        lines += contrast_table(df, contrasts, higher, tuple(summary.attrs.get("floors", ())))
    if df is not None:
        lines += near_floor_table(df, summary, higher)
        if reference and means:  # differences on one scale across tasks
            lines += traits_table(df, reference, higher, tuple(summary.attrs.get("floors", ())))
    for spec in (selections or []) if df is not None else []:
        lines += selection_table(df, spec["candidates"], higher, spec.get("on", "val"), spec.get("decides"),
                                 spec.get("provisional"))
    if df is not None:
        lines += budget_table(df)
        lines += side_by_side(summary, df, published)
        lines += error_profile_table(df)
        lines += rollout_table(df)
        lines += yardstick_table(df)
    if published:
        lines += ["", "## Published numbers (as reported; not computed here, not ranked against the rows above)", "",
                  "| benchmark | task | metric | method | value | evidence | source |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {p['benchmark']} | {p['task']} | {p['metric']} | {p['method']} | {p['value']} | "
                  f"{p['evidence']} | {p['source']} |" for p in published]
    if failed:
        lines += ["", "## Failed jobs", ""] + [f"- {f['task']} / {f['method']} / seed {f['seed']}: {f['error']}"
                                              for f in failed]
    if unreadable:
        lines += ["", "## Result files left out (unreadable or superseded; re-run by the runner)", ""] + [f"- {u}" for u in unreadable]
    return "\n".join(lines) + "\n"
