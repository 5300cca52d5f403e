"""The report's Markdown: the per-task table, ranks and wins, then every section (:mod:`.tables`,
:mod:`.analysis`) in a fixed order."""

from __future__ import annotations

import pandas as pd

from orca.metrics import get_metric

from .analysis import contrast_table, error_profile_table, near_floor_table, traits_table
from .searches import search_table
from .tables import (
    against_reference,
    bold_cells,
    budget_table,
    by_group_table,
    by_seed_table,
    counts_as_win,
    fmt,
    rollout_table,
    selection_table,
    side_by_side,
    unconverged_mark,
    yardstick_table,
)


def _variant_source(variant: object) -> str:
    """What follows an adopted result's source method in the adoption line: the search variant it took, if any."""
    if not isinstance(variant, str):
        return ""
    return f"'s recorded `{variant}` ensemble" if variant.startswith("top-") else f"'s recorded `{variant}`"


def markdown(suite: str, summary: pd.DataFrame, failed: list[dict], unreadable: list[str],
             published: list[dict], reference: str | None = None, df: pd.DataFrame | None = None,
             means: bool = True, selections: list[dict] | None = None, groups: dict[str, str] | None = None,
             contrasts: list[dict] | None = None, coverage: list[str] | None = None,
             contrast_scores: pd.DataFrame | None = None, also_against: list[str] | None = None) -> str:
    """The report's Markdown; ``means=False`` leaves out averages over tasks (tasks scored on different scales);
    ``selections``: a defaults study's choices, each ``{"candidates", "decides", "on", "base", "references"}`` (:func:`selection_table`);
    ``groups``: task -> group, for the means by group (:func:`by_group_table`); ``contrasts``: one-change
    candidates against their base (:func:`contrast_table`), on ``contrast_scores`` where given (``df`` with the rows
    of bases from other presets); ``coverage``: the lines of :func:`coverage_table`; ``also_against``: other
    baselines every method is compared against as well, each in a table like the reference's."""
    metric = summary.attrs.get("metric", "")
    higher = get_metric(metric).higher_is_better
    methods = sorted(summary["method"].unique())
    lines = [f"# {suite}: results", "",
             f"Test {metric} ({'higher' if higher else 'lower'} is better), mean ± std over seeds (n); best per task "
             "in bold, among the cells with the task's most seeds. Built by `python -m benchmarks.report` from the result files in `runs/`; means over tasks count only the tasks a method ran."
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
    if df is not None and "adopted_from" in df and df["adopted_from"].notna().any():
        adopted = df[df["adopted_from"].notna()]
        where = (adopted["adopted_preset"].map(lambda p: f" in preset `{p}`" if isinstance(p, str) else "")
                 if "adopted_preset" in adopted else "")  # another preset's result: say which
        variant = (adopted["adopted_variant"].map(_variant_source) if "adopted_variant" in adopted
                   else "")  # a search's recorded variant (its ensemble or its refit), not its own result
        pairs = adopted.assign(source=adopted["adopted_from"].map("`{}`".format) + variant + where)
        pairs = pairs.groupby(["method", "source"]).size()
        lines[4:4] = ["Adopted results (`python -m benchmarks.run ... --adopt`; run under another method's name, or "
                      "in another preset (`--from-preset`), with identical settings, or differing only in "
                      "`search.ensemble` or `search.refit`, which takes the source search's recorded variant; each "
                      "file's `adopted_from` names it): "
                      + "; ".join(f"{n} of `{m}`'s from {src}" for (m, src), n in pairs.items()) + ".", ""]
    for task, group in summary.groupby("task", sort=False):
        by = group.set_index("method")
        kind = group["data_kind"].iloc[0]
        name = str(group["task_name"].iloc[0])
        label = (str(task) if name == str(task) else f"{task} {name}") + ("" if kind == "real" else f" ({kind} data)")
        bold = bold_cells(group, summary.attrs.get("floors", ()))
        cells = []
        for m in methods:
            if m not in by.index:
                cells.append("–")
                continue
            r = by.loc[m]
            n = int(r["n"])  # a spread only where there is one: n > 1
            text = f"{fmt(r['mean'])} ± {fmt(r['std'])} ({n})" if n > 1 else f"{fmt(r['mean'])} (1)"
            text = f"**{text}**" if m in bold else text
            cells.append(text + (" ‡" if r.get("beats_floor") is False else "") + unconverged_mark(r))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    counts = summary.groupby("method")["mean"].size()
    if means:
        avg = summary.groupby("method")["mean"].mean()
        lines.append("| mean over tasks (tasks) | " + " | ".join(f"{fmt(avg[m])} ({counts[m]})" for m in methods) + " |")
    pivot = summary.pivot(index="task", columns="method", values="mean")
    # mean ranks only over the tasks every ranked method ran, ranked among themselves; a method that ran fewer
    # tasks than the most any method ran (a run in progress or stopped, or a method for some tasks only) would
    # shrink that set for all, so it is left out of the ranks and named below the table
    partial = [m for m in methods if counts[m] < counts.max()]
    full = [m for m in methods if m not in partial]
    if len(full) < 2:  # one method alone has no rank among others: rank them all over the tasks all of them ran
        partial, full = [], list(methods)
    common = pivot[full].dropna().index
    ranked = summary[summary["task"].isin(common) & summary["method"].isin(full)].copy()
    ranked["rank"] = ranked.groupby("task")["mean"].rank(ascending=not higher, method="min")
    ranks = ranked.groupby("method")["rank"].mean().reindex(methods)
    lines += ["", f"| method | mean rank ({len(common)} tasks every ranked method ran) | "
              + " | ".join(f"wins vs {m}" for m in methods) + " |", "|---|---|" + "---|" * len(methods)]
    for a in methods:
        wins = []
        valid = counts_as_win(summary, a)
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
    if partial:
        lines += ["", "Not ranked, as they ran fewer tasks than the others: " + ", ".join(
            f"{m} ({counts[m]} of {counts.max()})" for m in partial) + "; their wins count the tasks both methods "
            "ran."]
    lines += coverage or []
    if reference:
        lines += against_reference(summary, reference, higher, means, scores=df)
        if means and df is not None:
            lines += by_seed_table(df, reference, higher)
    for other in also_against or []:
        lines += against_reference(summary, other, higher, means, scores=df)
    if means and groups:
        lines += by_group_table(summary, groups)
    if df is not None and contrasts:
        lines += contrast_table(df if contrast_scores is None else contrast_scores, contrasts, higher,
                                tuple(summary.attrs.get("floors", ())))
    if df is not None:
        lines += near_floor_table(df, summary, higher)
        if reference and means:  # differences on one scale across tasks
            lines += traits_table(df, reference, higher, tuple(summary.attrs.get("floors", ())))
    for spec in (selections or []) if df is not None else []:
        lines += selection_table(df, spec["candidates"], higher, spec.get("on", "val"), spec.get("decides"),
                                 spec.get("provisional"), spec.get("base"), spec.get("references", ()))
    if df is not None:
        lines += budget_table(df)
        lines += search_table(df)
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
