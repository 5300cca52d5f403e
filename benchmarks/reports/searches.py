"""What each searched method's tuning cost and chose: the report's "Searches" section, from the ``search`` record
that tuned methods write into their results (ORCA's validation search, :mod:`benchmarks.runner.orca_search`;
XGBoost's cross-validated random search, :func:`baselines.gbdt.xgboost_tuned`)."""

from __future__ import annotations

from collections import Counter

import pandas as pd


def search_record(rec: dict) -> dict | None:
    """One result's search in a common form, ``None`` for a method that does not search.

    Keys: ``configurations`` (configurations tried in the job), ``pruned`` (trials stopped early by a pruner;
    ``None`` where there is no pruner), ``seconds`` (the search's wall time), ``selection`` (what it selected
    on) and ``chosen`` (the chosen configuration's searched settings, with ``anchor``: ``kept`` or ``beaten`` for a
    search whose trial 0 ran the method's own settings; for XGBoost, whose continuous draws do not repeat,
    ``{"refit with": "defaults"}`` or ``{"refit with": "the best draw"}``)."""
    search = rec.get("search")
    if not isinstance(search, dict) or not isinstance(search.get("budget"), dict):
        return None
    budget = search["budget"]
    if "trials" in search:  # ORCA's validation search: one record per trial
        trials = search["trials"]
        chosen = search.get("chosen")
        settings = dict(trials[chosen]["settings"]) if chosen is not None and chosen < len(trials) else {}
        if budget.get("anchor"):  # trial 0 ran the method's own settings: say whether it was kept
            settings = {"anchor": "kept" if chosen == 0 else "beaten", **settings}
        return {"configurations": len(trials), "pruned": budget.get("pruned"),
                "seconds": float(sum(t.get("seconds", 0.0) for t in trials)),
                "selection": budget.get("selection", "validation"), "chosen": settings}
    folds, limit = budget.get("cv_folds"), budget.get("max_seconds")
    selection = (f"{folds}-fold CV on the training part" if folds else "cross-validation") + (
        f", {limit:g} s budget" if limit else "") + "; the defaults kept unless beaten"
    return {"configurations": int(search.get("configurations", budget.get("n_iter", 0))), "pruned": None,
            "seconds": float(search.get("search_seconds", float("nan"))), "selection": selection,
            "chosen": {"refit with": "defaults" if search.get("kept_defaults") else "the best draw"}}


def _span(values: pd.Series) -> str:
    """``median (min–max)`` of integer counts, or the one value when they are all equal."""
    lo, hi, med = int(values.min()), int(values.max()), float(values.median())
    return f"{lo}" if lo == hi else f"{med:g} ({lo}–{hi})"


def _chosen(records: list[dict]) -> str:
    """How often each searched value was chosen, key by key (``key: value n, value n; ...``)."""
    keys = sorted({k for r in records for k in r})
    parts = []
    for key in keys:
        counts = Counter(str(r[key]) for r in records if key in r)
        ordered = sorted(counts.items(), key=lambda x: (-x[1], x[0]))  # most chosen first
        parts.append(f"{key}: " + ", ".join(f"{v} {n}" for v, n in ordered))
    return "; ".join(parts)


def search_table(df: pd.DataFrame) -> list[str]:
    """Per searched method: results, configurations a job, what selected them, pruned trials, mean search time
    and what was chosen; nothing when no result records a search."""
    if "search" not in df or df["search"].isna().all():
        return []
    lines = ["", "## Searches", "",
             "Methods that choose among configurations inside each job, never on the test split: configurations "
             "tried a job (median and range when they differ), what selected them, trials a pruner stopped early "
             "(they still compete), the mean search time a job (the job's wall time is in the budget table) and "
             "how often each searched value was chosen.", "",
             "| method | results | configurations a job | selected on | pruned | mean search time (s) | chosen |",
             "|---|---|---|---|---|---|---|"]
    for method, group in df[df["search"].notna()].groupby("method"):
        records = list(group["search"])
        configs = pd.Series([r["configurations"] for r in records])
        pruned = [r["pruned"] for r in records if r["pruned"] is not None]
        pruned_text = f"{sum(pruned)} of {int(configs.sum())} trials" if pruned else "–"
        seconds = pd.Series([r["seconds"] for r in records], dtype=float).mean()
        selections = "; ".join(sorted({r["selection"] for r in records}))
        lines.append(f"| {method} | {len(records)} | {_span(configs)} | {selections} | {pruned_text} | "
                     f"{seconds:.1f} | {_chosen([r['chosen'] for r in records])} |")
    return lines
