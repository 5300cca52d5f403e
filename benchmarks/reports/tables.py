"""Markdown tables from result rows: per-task scores (mean ± std over seeds), means and ranks, pairwise wins,
the comparison against a suite's reference method, roll-out curves and published numbers beside ours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

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


def bold_cells(rows: pd.DataFrame, floors: tuple[str, ...] | list[str] = ()) -> set[str]:
    """The methods whose cell is bold in one task's ``rows`` (one row per method, with ``rank`` and ``n``, as
    :func:`summarise` gives them): the best rank among the cells with the task's most seeds. A cell with fewer
    seeds is never bold, since its mean is not over the seeds the others averaged (the pairwise tables compare on
    the seeds both ran). The most seeds are counted over the methods other than the ``floors`` where any ran: a
    trivial predictor's seeds, cheap to have, do not keep every trained method's cell from being bold. A task
    with one method's result has no bold cell: the best of one is no comparison (a floor alone is not a win)."""
    if rows["mean"].notna().sum() < 2:
        return set()
    trained = rows[~rows["method"].isin(floors)]
    most = (trained if not trained.empty else rows)["n"].max()
    full = rows[rows["n"] >= most]
    if full.empty:
        return set()
    return set(full.loc[full["rank"] == full["rank"].min(), "method"])


def counts_as_win(summary: pd.DataFrame, method: str) -> pd.Series:
    """Per task: whether ``method``'s result may count as a win (it beats the floor, or no floor ran)."""
    rows = summary[summary["method"] == method].set_index("task")
    return rows["beats_floor"].map(lambda b: b is not False) if "beats_floor" in rows else rows["mean"].notna()


def unconverged_mark(row: pd.Series) -> str:
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
    return lines + job_time_line(df) + machines_line(df) + precision_line(df)


def job_time_line(df: pd.DataFrame) -> list[str]:
    """The job time the results took in all (the sum of their wall times, one job's CPU threads each), so that a
    re-run's cost is read off its report; nothing when no result records its wall time."""
    wall = pd.to_numeric(df["wall_s"], errors="coerce").dropna() if "wall_s" in df else pd.Series(dtype=float)
    if wall.empty:
        return []
    return ["", f"Job time of these {len(wall)} results: {wall.sum() / 3600:.2f} h (the sum of their wall times; "
            "jobs run side by side, `--jobs N`, share the wall clock)."]


def precision_line(df: pd.DataFrame) -> list[str]:
    """For methods whose refine precision was ``auto`` (bf16 where the device has native bf16 products, fp32
    elsewhere: :func:`orca.precision.resolve_precision`), how many of their results ran in each; nothing when no
    result asked for ``auto``."""
    if "precision_asked" not in df:
        return []
    auto = df[df["precision_asked"] == "auto"]
    if auto.empty:
        return []
    parts = []
    for method, group in auto.groupby("method"):
        counts = group["precision"].fillna("not recorded").replace({"no": "fp32"}).value_counts().sort_index()
        parts.append(f"{method}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return ["", "Refine precision under `mixed_precision = auto` (bf16 where the machine computes it natively, "
            "fp32 elsewhere; results): " + "; ".join(parts) + "."]


def machines_line(df: pd.DataFrame) -> list[str]:
    """Which CPUs the results ran on (PyTorch's capability name, recorded since 2026-12-01, with the CPU's model
    name where the result records it, since 2026-12-06), once any result records one: wall times and time budgets
    compare only between runs on one kind of machine, and bf16 autocast is fast only where the CPU has native bf16
    products (:mod:`orca.precision`)."""
    if "cpu" not in df or df["cpu"].dropna().empty:
        return []
    kind = df["cpu"].fillna("not recorded")
    models = df["cpu_model"] if "cpu_model" in df else pd.Series(None, index=df.index, dtype=object)
    named = models.notna().any()
    if named:  # a model's name beside its capability; results before the model was recorded say so
        kind = kind + models.map(lambda m: f" ({m})" if isinstance(m, str) and m else " (model not recorded)")
    counts = kind.value_counts()
    text = "; ".join(f"{name}: {n}" for name, n in counts.sort_index().items())
    since = " and before 2026-12-06 not their model" if named else ""
    return ["", f"Machines (PyTorch CPU capability: results): {text}. Wall times and time budgets compare only "
            f"between runs on one kind of machine; results recorded before 2026-12-01 do not name theirs{since}."]


def fmt(value: float) -> str:
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
    valid = counts_as_win(summary, method).reindex(both.index).fillna(True).astype(bool)
    cells = summary.set_index(["task", "method"])
    cols = [c for c in ("mean", "std", "n") if c in cells]
    noise = pd.Series([len(cols) == 3 and seeds_overlap(tuple(cells.loc[(t, method), cols]),
                                                        tuple(cells.loc[(t, reference), cols]))
                       for t in both.index], index=both.index, dtype=bool)
    counted = diff.where((valid | (diff <= 0)) & ~noise, 0.0)  # below the floor, or within seed noise: a tie
    return Comparison(len(both), float(both[method].mean()), float(both[reference].mean()),
                      paired_difference(diff.to_numpy()), int((counted > 0).sum()), int((counted == 0).sum()),
                      int((counted < 0).sum()))


def common_pairs(scores: pd.DataFrame, method: str, reference: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The numeric columns of ``method``'s and ``reference``'s results on the (task, seed) pairs both ran, each
    indexed by (task, seed) in the same order (a pair with several rows is averaged).

    ``scores``: one row per result, with at least task, method, seed and value."""
    a, b = (scores[scores["method"] == m].groupby(["task", "seed"]).mean(numeric_only=True)
            for m in (method, reference))
    both = a.index.intersection(b.index)
    return a.loc[both], b.loc[both]


def paired_differences(scores: pd.DataFrame, method: str, reference: str, higher: bool) -> pd.Series:
    """``method``'s score minus ``reference``'s on each (task, seed) pair both ran, signed so that > 0 means
    ``method`` is better; indexed by (task, seed), empty when they share no pair."""
    a, b = common_pairs(scores, method, reference)
    return (a["value"] - b["value"]) * (1 if higher else -1)


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
        avg = ((fmt(c.mean), fmt(c.mean_reference), f"{c.difference.mean:+.4f}", c.difference.interval())
               if means else ("–",) * 4)
        p = c.difference.p() if means else "–"  # signed ranks of differences on different scales mean nothing
        lines.append(f"| {m} | {c.tasks} | {' | '.join(avg)} | {p} | {c.wins} / {c.ties} / "
                     f"{c.losses} |")
    return lines


def coverage_table(expected: list[tuple[str, str, int]], df: pd.DataFrame,
                   closed: dict[str, str] | None = None,
                   replaced: list[tuple[str, str, list[str], str]] | None = None) -> list[str]:
    """How much of the preset the report covers: per method of the (task, method, seed) jobs ``expected`` (the
    preset's methods and those with results in its folder, over its tasks and seeds), the results in hand and the
    seeds still without one (with their number of tasks), so that a partial re-run says what is still to come.
    ``df``: one row per successful current result. ``closed``: methods that will run no further jobs here (the
    preset's ``closed`` list), with the reason, shown instead of their missing seeds. ``replaced``: (method, the
    method it replaces, the tasks where it does, why) from the preset's ``replaces`` list; the replaced method's
    jobs on those tasks are not in ``expected``, and a line below the table says so."""
    closed = closed or {}
    notes = [f"On {', '.join(tasks)}, `{m}` takes `{r}`'s place (the preset's `replaces`: {why}); `{r}`'s jobs "
             "there are not counted above, and its results there, if any, are reported beside it."
             for m, r, tasks, why in replaced or [] if tasks]
    notes = ["", *notes] if notes else []
    have = set(zip(df["task"].astype(str), df["method"], df["seed"].astype(int)))
    rows, complete = [], True
    for method in dict.fromkeys(m for _, m, _ in expected):
        jobs = [(t, s) for t, m, s in expected if m == method]
        missing = pd.Series([s for t, s in jobs if (str(t), method, int(s)) not in have], dtype=int)
        complete &= missing.empty
        if method in closed and not missing.empty:
            rows.append(f"| {method} | {len(jobs) - len(missing)} of {len(jobs)} | none: closed ({closed[method]}) |")
            continue
        pending = ", ".join(f"seed {s} ({n})" for s, n in missing.value_counts().sort_index().items()) or "–"
        rows.append(f"| {method} | {len(jobs) - len(missing)} of {len(jobs)} | {pending} |")
    if complete:
        return ["", "Every job of the preset has a result here.", *notes]
    return ["", "## Coverage of the preset", "",
            "Results in hand of the jobs the preset defines (tasks x seeds) for its own methods and for any "
            "other method with results here (run with `--methods`), and the seeds still to come with "
            "their number of tasks (queued or running; the tables above use what is in hand, each comparison "
            "on the (task, seed) pairs both methods ran)."
            + (" A closed method runs no further jobs here, for the reason given." if any(
                m in closed for _, m, _ in expected) else ""), "",
            "| method | results | still to come: seed (tasks) |", "|---|---|---|", *rows, *notes]


def by_seed_table(scores: pd.DataFrame, reference: str, higher: bool) -> list[str]:
    """Each method's mean difference to ``reference`` seed by seed (positive = better), over the tasks both ran
    with that seed: where a seed is a split (seeded table splits, OpenML's folds) this is the comparison split by
    split. ``scores``: one row per result (task, method, seed, value)."""
    if "seed" not in scores or scores["seed"].nunique() < 2 or reference not in set(scores["method"]):
        return []
    seeds = sorted(scores["seed"].unique())
    lines = ["", f"Against {reference}, seed by seed (mean difference over the tasks both ran with that seed, their "
             "number in brackets; > 0 means better):", "",
             "| method | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for m in sorted(set(scores["method"]) - {reference}):
        diff = paired_differences(scores, m, reference, higher)  # index (task, seed)
        if diff.empty:
            continue
        per = diff.groupby(level="seed").agg(["mean", "count"])
        lines.append(f"| {m} | " + " | ".join(f"{per.loc[s, 'mean']:+.4f} ({int(per.loc[s, 'count'])})"
                                              if s in per.index else "–" for s in seeds) + " |")
    return lines


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
        lines.append(f"| {group} | " + " | ".join(f"{fmt(part.loc[m, 'mean'])} ({int(part.loc[m, 'count'])})"
                                                 if m in part.index else "–" for m in methods) + " |")
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
        lines.append(f"| {task} | {method} | " + " | ".join(fmt(v) for v in curve) + " |")
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
        mine = [fmt(rows.loc[m, "mean"]) if m in rows.index else "–" for m in ours]
        pub = {p["method"]: p["value"] for p in published if p["task"] == name}
        lines.append(f"| {task} ({name}) | {kind} | " + " | ".join(mine) + " | "
                     + " | ".join(pub.get(m, "–") for m in theirs) + " |")
    return lines


class Selection(NamedTuple):
    """What :func:`selection` found."""

    chosen: str | None
    """The chosen candidate; ``None`` when fewer than two candidates have results on common pairs."""
    rows: list[tuple[str, float, float, float, float]]
    """Per candidate with results: (name, mean score, mean loss, mean test score, mean wall time in seconds)."""
    pairs: pd.Index
    """The (task, seed) pairs every candidate ran, over which the means are taken."""
    differences: dict[str, PairedDifference]
    """With a base: each other candidate's paired difference to it (:func:`base_differences`); else empty."""
    references: tuple[tuple[str, float, float, float, float], ...] = ()
    """Per reference method with results on every pair: as ``rows``; never chosen (its difference to the base,
    when there is one, is in ``differences``)."""


def selection(df: pd.DataFrame, candidates: list[str], higher: bool, on: str = "val", base: str | None = None,
              references: tuple[str, ...] | list[str] = ()) -> Selection:
    """A defaults study's choice among ``candidates``, made on training-side scores only.

    Over the (task, seed) pairs every candidate ran: each one's mean score on ``on`` (``"val"``: the metric on the
    validation split the run carved from its training data, the split its epochs were selected on; ``"check"``: a
    held-out check split of the training part that the fit never saw, for comparing selection rules), the mean
    loss there, the mean test score and mean wall time; the chosen candidate has the best mean score, ties broken
    by the lower loss. With a ``base`` (the current defaults), the base stands unless a candidate is clearly
    better: only candidates whose paired difference to the base (:func:`base_differences`) has a 95 % interval
    above zero compete with it. The test scores play no part. ``references`` (methods that are not candidates, a
    baseline scored on the same rows, say) are summarised on the same pairs where they have every one of them,
    with their difference to the base, and take no part in the choice or in which pairs count.
    """
    overlap = set(references) & set(candidates)
    if overlap:
        raise ValueError(f"selection references {sorted(overlap)} are also candidates; a method is one or the other")
    if on not in ("val", "check"):
        raise ValueError(f"selection on {on!r}; expected one of ['val', 'check']")
    if base is not None and base not in candidates:
        raise ValueError(f"selection base {base!r}; expected one of {candidates}")
    sub = df[df["method"].isin(candidates)]
    if sub.empty or len(set(sub["method"])) < 2 or on not in sub:
        return Selection(None, [], pd.Index([]), {})
    val = sub.pivot_table(index=["task", "seed"], columns="method", values=on).dropna()
    if val.empty or len(val.columns) < 2:
        return Selection(None, [], pd.Index([]), {})
    keys = val.index

    def summary(m: str) -> tuple[str, float, float, float, float]:
        rows = df[df["method"] == m].set_index(["task", "seed"]).loc[keys]
        return (m, float(rows[on].mean()), float(rows[f"{on}_loss"].mean()), float(rows["value"].mean()),
                float(rows["wall_s"].mean()))

    table = [summary(m) for m in candidates if m in val.columns]
    refs = df[df["method"].isin(references)].pivot_table(index=["task", "seed"], columns="method",
                                                          values=on).reindex(keys)  # (pairs, references)
    complete = [m for m in references if m in refs.columns and refs[m].notna().all()]  # on every pair, or not shown
    diffs: dict[str, PairedDifference] = {}
    table_in = table
    if base is not None and base in val.columns:
        diffs = base_differences(val, base, higher)
        clear = {m for m, d in diffs.items() if d.low is not None and d.low > 0}
        table_in = [r for r in table if r[0] == base or r[0] in clear]
        if complete:
            both = pd.concat([val[[base]], refs[complete]], axis=1)  # (pairs, 1 + references)
            diffs.update(base_differences(both, base, higher))
    chosen = min(table_in, key=lambda r: (-r[1] if higher else r[1], r[2]))[0]
    return Selection(chosen, table, keys, diffs, tuple(summary(m) for m in complete))


def base_differences(scores: pd.DataFrame, base: str, higher: bool) -> dict[str, PairedDifference]:
    """Per candidate column of ``scores`` (index (task, seed), one column per candidate) other than ``base``: its
    score minus the base's, signed so that positive is better, averaged over each task's seeds, with the paired
    bootstrap interval and Wilcoxon p over tasks (:func:`~benchmarks.reports.stats.paired_difference`)."""
    sign = 1.0 if higher else -1.0
    out = {}
    for m in scores.columns.drop(base):
        per_task = (sign * (scores[m] - scores[base])).groupby(level="task").mean()  # (tasks,)
        out[m] = paired_difference(per_task.to_numpy())
    return out


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
                    decides: list[str] | None = None, provisional: str | None = None,
                    base: str | None = None, references: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The report's section on a defaults study's choice (:func:`selection`) of the settings ``decides``;
    ``provisional``: why the choice is shown but not yet applied to the defaults; ``base``: the candidate that
    stands unless another is clearly better; ``references``: methods shown below the candidates on the same pairs,
    never chosen."""
    chosen, table, keys, diffs, ref_rows = selection(df, candidates, higher, on, base, references)
    if chosen is None:
        return []
    tasks = len(set(k[0] for k in keys))
    where = ("validation" if on == "val" else "check-split")
    what = f" of {', '.join(f'`{d}`' for d in decides)}" if decides else ""
    rule = (f"`{base}` (the current defaults) stands unless a candidate's {where} score beats it clearly: its "
            "mean difference over tasks (each task's seeds averaged) has a paired bootstrap 95 % interval above "
            f"zero; among such candidates the mean {where} score decides" if base is not None
            else f"the mean {where} score decides")
    lines = ["", f"## Choosing the defaults{what} ({where} scores only)", "",
             f"Over the {len(keys)} (task, seed) pairs every candidate ran ({tasks} tasks): {rule}, ties broken by "
             f"the lower {where} loss; the test scores are shown beside and take no part in the choice."
             + (" The check split is a share of the training part held out before the fit, which neither the fit "
                "nor its epoch selection saw." if on == "check" else ""), ""]
    beside = f" difference to {base} [95 % interval] |" if base is not None else ""
    lines += [f"| candidate | mean {where} score | mean {where} loss | mean test score | mean wall time (s) | "
              f"kept the same epoch as {chosen} |{beside} chosen |", "|---|---|---|---|---|---|---|"
              + ("---|" if base is not None else "")]
    same = _same_epoch(df, candidates, chosen, keys)
    for m, v, loss, t, w in [*table, *ref_rows]:
        d = (f" {diffs[m].mean:+.4f} {diffs[m].interval()} |" if m in diffs else " – |") if base is not None else ""
        mark = "yes" if m == chosen else "reference, not a candidate" if m in references else ""
        lines.append(f"| {m} | {fmt(v)} | {fmt(loss)} | {fmt(t)} | {w:.0f} | {same.get(m, '–')} |{d} {mark} |")
    missing = [m for m in references if m not in [r[0] for r in ref_rows]]
    if missing:
        lines += ["", f"Not shown until they have results on all {len(keys)} pairs: "
                  + ", ".join(f"`{m}`" for m in missing) + "."]
    if provisional:
        lines += ["", f"Provisional: this choice is not applied to the defaults yet ({provisional})."]
    return lines
