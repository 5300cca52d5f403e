"""Reports built only from result JSON: Markdown and CSV tables, ranks and wins, published numbers beside
ours, and plots.

    python -m benchmarks.report SUITE [--preset smoke|paper] [--results results]

Writes ``results/<suite>/<preset>/report.md``, ``report.csv`` and ``plots/`` for the given preset, or for every
preset that has results. Every number in the tables comes from a
result file or from ``benchmarks/data/published_results.csv`` (the published rows, copied with their evidence
tags from the reference material). Published numbers are shown as reported and never ranked against our runs;
tasks run on generated or proxy data are marked as such.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orca.exceptions import OrcaError, require
from orca.io import atomic_write, read_json
from orca.metrics import get_metric

from .suite import available_suites, get_suite, presets_of

PUBLISHED = Path(__file__).parent / "data" / "published_results.csv"


def load_results(folder: Path) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Rows of successful runs, the failed records, and files that could not be read."""
    rows, failed, unreadable = [], [], []
    for path in sorted(folder.glob("*.json")):
        try:
            rec = read_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            unreadable.append(path.name)
            continue
        if rec.get("status") != "ok":
            failed.append(rec)
            continue
        metric = rec["metric"]
        test = rec.get("metrics", {}).get("test", {})
        rows.append({"task": rec["task"], "method": rec["method"], "seed": rec["seed"], "metric": metric,
                     "value": test.get(metric, float("nan")), "data_kind": rec.get("data", {}).get("kind", "real"),
                     "task_name": rec.get("data", {}).get("name", rec["task"]), "file": path.name,
                     "align_curve": (rec.get("align") or {}).get("curve") or [],
                     "val_curve": _val_curve(rec),
                     "published_task": rec.get("data", {}).get("published_task"),
                     "example": rec.get("example"),
                     "rollout": (rec.get("rollout") or {}).get("relative_l2_per_step"),
                     "final": rec.get("metrics", {}).get("test_final", {}).get(metric)})
    return pd.DataFrame(rows), failed, unreadable


def _val_curve(rec: dict) -> tuple[str, list[float]]:
    """ORCA's validation score per refine epoch and its name (``("", [])`` for runs that record none)."""
    history = [h for h in (rec.get("refine") or {}).get("history") or [] if isinstance(h, dict)]
    names = [k for k in (history[0] if history else {}) if k.startswith("val_") and k != "val_loss"]
    if not names:
        return "", []
    return names[0].removeprefix("val_"), [float(h[names[0]]) for h in history]


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count per (task, method), with the rank of each method within its task (1 = best)."""
    metric = df["metric"].iloc[0]
    higher = get_metric(metric).higher_is_better
    agg = df.groupby(["task", "method"]).agg(mean=("value", "mean"), std=("value", "std"), n=("value", "size"),
                                             data_kind=("data_kind", "first"), task_name=("task_name", "first"))
    agg = agg.reset_index()
    agg["std"] = agg["std"].fillna(0.0)
    agg["rank"] = agg.groupby("task")["mean"].rank(ascending=not higher, method="min")
    return agg


def _fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def against_reference(summary: pd.DataFrame, reference: str, higher: bool, means: bool = True) -> list[str]:
    """Per method, over the tasks both ran: mean score, mean difference to ``reference`` (positive = better) and
    wins / ties / losses against it (only the last when the tasks' scores are on different scales)."""
    pivot = summary.pivot(index="task", columns="method", values="mean")
    if reference not in pivot:
        return []
    lines = ["", f"Against {reference} (tasks both ran; difference > 0 means better than {reference}):", "",
             f"| method | tasks | mean | mean {reference} | mean difference | wins / ties / losses |", "|---|---|---|---|---|---|"]
    for m in sorted(c for c in pivot.columns if c != reference):
        both = pivot[[m, reference]].dropna()
        if both.empty:
            continue
        diff = (both[m] - both[reference]) * (1 if higher else -1)
        avg = (_fmt(both[m].mean()), _fmt(both[reference].mean()), f"{diff.mean():+.4f}") if means else ("–",) * 3
        lines.append(f"| {m} | {len(both)} | {avg[0]} | {avg[1]} | {avg[2]} | {int((diff > 0).sum())} / "
                     f"{int((diff == 0).sum())} / {int((diff < 0).sum())} |")
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


def markdown(suite: str, summary: pd.DataFrame, failed: list[dict], unreadable: list[str],
             published: list[dict], reference: str | None = None, df: pd.DataFrame | None = None,
             means: bool = True) -> str:
    """The report's Markdown; ``means=False`` leaves out averages over tasks (tasks scored on different scales)."""
    metric = summary.attrs.get("metric", "")
    higher = get_metric(metric).higher_is_better
    methods = sorted(summary["method"].unique())
    lines = [f"# {suite}: results", "",
             f"Test {metric} ({'higher' if higher else 'lower'} is better), mean ± std over seeds (n); best per task "
             "in bold. Built by `python -m benchmarks.report` from the result files in `runs/`; means over tasks count only the tasks a method ran.", "",
             "| task | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for task, group in summary.groupby("task", sort=False):
        by = group.set_index("method")
        kind = group["data_kind"].iloc[0]
        label = f"{task} {group['task_name'].iloc[0]}" + ("" if kind == "real" else f" ({kind} data)")
        best = by["rank"].min()
        cells = []
        for m in methods:
            if m not in by.index:
                cells.append("–")
                continue
            r = by.loc[m]
            text = f"{_fmt(r['mean'])} ± {_fmt(r['std'])} ({int(r['n'])})"
            cells.append(f"**{text}**" if r["rank"] == best else text)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    counts = summary.groupby("method")["mean"].size()
    if means:
        avg = summary.groupby("method")["mean"].mean()
        lines.append("| mean over tasks (tasks) | " + " | ".join(f"{_fmt(avg[m])} ({counts[m]})" for m in methods) + " |")
    lines += ["", "| method | mean rank | " + " | ".join(f"wins vs {m}" for m in methods) + " |",
              "|---|---|" + "---|" * len(methods)]
    pivot = summary.pivot(index="task", columns="method", values="mean")
    ranks = summary.groupby("method")["rank"].mean()
    for a in methods:
        wins = []
        for b in methods:
            if a == b:
                wins.append("–")
                continue
            both = pivot[[a, b]].dropna()
            better = (both[a] > both[b]) if higher else (both[a] < both[b])
            wins.append(f"{int(better.sum())}/{len(both)}")
        lines.append(f"| {a} | {ranks[a]:.2f} | " + " | ".join(wins) + " |")
    if reference:
        lines += against_reference(summary, reference, higher, means)
    if df is not None:
        lines += side_by_side(summary, df, published)
        lines += rollout_table(df)
    if published:
        lines += ["", "## Published numbers (as reported; not computed here, not ranked against the rows above)", "",
                  "| benchmark | task | metric | method | value | evidence | source |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {p['benchmark']} | {p['task']} | {p['metric']} | {p['method']} | {p['value']} | "
                  f"{p['evidence']} | {p['source']} |" for p in published]
    if failed:
        lines += ["", "## Failed jobs", ""] + [f"- {f['task']} / {f['method']} / seed {f['seed']}: {f['error']}"
                                              for f in failed]
    if unreadable:
        lines += ["", "## Unreadable result files (re-run by the runner)", ""] + [f"- {u}" for u in unreadable]
    return "\n".join(lines) + "\n"


def plots(suite: str, df: pd.DataFrame, summary: pd.DataFrame, out: Path,
          groups: dict[str, str] | None = None) -> list[Path]:
    """The bar chart of every task (and one per task group when ``groups`` maps tasks to groups), examples,
    roll-out error growth, stage-2 distance curves and ORCA's validation score per refine epoch."""
    mpl = require("matplotlib", "plots", "The report's plots")
    mpl.use("Agg")

    out.mkdir(parents=True, exist_ok=True)
    paths = [bar_chart(summary, out / "scores.png", f"{suite}: test {summary.attrs['metric']} per task")]
    for group in sorted(set((groups or {}).values())):
        part = summary[summary["task"].map(lambda t: (groups or {}).get(t) == group)]
        if not part.empty:
            part.attrs = dict(summary.attrs)
            slug = "".join(c if c.isalnum() else "-" for c in group.lower())
            paths.append(bar_chart(part, out / f"scores-{slug}.png", f"{suite}: {group}"))
    paths += example_plots(suite, df, out)
    paths += rollout_plots(suite, df, out)
    curves = df[df["align_curve"].map(len) > 0]
    for task, group in curves.groupby("task"):
        series = [(np.arange(len(row["align_curve"])), row["align_curve"], f"{row['method']} seed {row['seed']}")
                  for _, row in group.iterrows()]
        paths.append(line_plot(out / f"align-{task}.png", f"{suite} {task}: stage-2 distance", "align step",
                               "distance", series))
    curves = df[df["val_curve"].map(lambda c: len(c[1]) > 1)]
    for task, group in curves.groupby("task"):
        series = [(np.arange(1, len(row["val_curve"][1]) + 1), row["val_curve"][1],
                   f"{row['method']} seed {row['seed']}") for _, row in group.iterrows()]
        name = group.iloc[0]["val_curve"][0]
        title = f"{suite} {task}: ORCA selection score ({name}, val)"
        paths.append(line_plot(out / f"refine-{task}.png", title, "epoch", name, series,
                               log=name in ("relative_l2", "rmse", "nrmse", "mse", "loss")))
    return paths


def bar_chart(summary: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean test score per (task, method) with the std over seeds as error bars; log scale for errors."""
    import matplotlib.pyplot as plt

    metric = summary.attrs["metric"]
    tasks = list(dict.fromkeys(summary["task"]))
    methods = sorted(summary["method"].unique())
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(tasks) + 2), 4))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        sub = summary[summary["method"] == m].set_index("task").reindex(tasks)
        ax.bar(np.arange(len(tasks)) + i * width, sub["mean"], width, yerr=sub["std"], label=m, capsize=2)
    ax.set_xticks(np.arange(len(tasks)) + 0.4 - width / 2, tasks, rotation=30, ha="right")
    ax.set_ylabel(f"test {metric}")
    if not get_metric(metric).higher_is_better:
        ax.set_yscale("log")
    return _finish(fig, ax, title, path)


def _finish(fig, ax, title: str, path: Path) -> Path:
    """Title, legend, layout; save to ``path`` and close."""
    import matplotlib.pyplot as plt

    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def line_plot(path: Path, title: str, xlabel: str, ylabel: str, series: list[tuple], log: bool = False,
              marker: str | None = None) -> Path:
    """One small figure of ``(x, y, label)`` curves, saved to ``path``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for x, y, label in series:
        ax.plot(x, y, marker=marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    return _finish(fig, ax, title, path)


def example_plots(suite: str, df: pd.DataFrame, out: Path) -> list[Path]:
    """Per task, the first test sample's target beside each method's prediction (seed 0 or the lowest seed)."""
    import matplotlib.pyplot as plt

    paths = []
    have = df[df["example"].notna()]
    for task, group in have.groupby("task"):
        group = group.sort_values(["method", "seed"]).drop_duplicates("method")
        target = np.asarray(group["example"].iloc[0]["target"])
        if target.ndim == 1:
            fig, ax = plt.subplots(figsize=(6, 3.5))
            ax.plot(np.asarray(group["example"].iloc[0]["input"]), color="0.7", lw=1, label="input")
            ax.plot(target, color="k", lw=2, label="target")
            for _, row in group.iterrows():
                ax.plot(np.asarray(row["example"]["prediction"]), lw=1, label=row["method"])
            ax.set_xlabel("grid point")
            ax.legend(fontsize=7)
        else:
            panels = [("input", group["example"].iloc[0]["input"]), ("target", target)]
            panels += [(row["method"], row["example"]["prediction"]) for _, row in group.iterrows()]
            fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.8))
            lo, hi = float(np.min(target)), float(np.max(target))
            for ax, (title, field) in zip(axes, panels):
                ax.imshow(np.asarray(field), vmin=None if title == "input" else lo, vmax=None if title == "input"
                          else hi, cmap="viridis")
                ax.set_title(title, fontsize=8)
                ax.axis("off")
        fig.suptitle(f"{suite} {task}: first test sample", fontsize=9)
        fig.tight_layout()
        paths.append(out / f"example-{task}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def rollout_plots(suite: str, df: pd.DataFrame, out: Path) -> list[Path]:
    """Per roll-out task, each method's error against the roll-out step (log scale)."""
    rows = df[df["rollout"].notna()] if "rollout" in df else df.iloc[:0]
    paths = []
    for task, group in rows.groupby("task"):
        series = []
        for method, sub in group.groupby("method"):
            curves = np.array(list(sub["rollout"]), dtype=float)  # (seeds, steps)
            series.append((np.arange(1, curves.shape[1] + 1), np.nanmean(curves, axis=0), method))
        paths.append(line_plot(out / f"rollout-{task}.png", f"{suite} {task}: error growth", "roll-out step",
                               f"test {group['metric'].iloc[0]}", series, log=True, marker="o"))
    return paths


def published_rows(benchmarks: tuple[str, ...]) -> list[dict[str, Any]]:
    with open(PUBLISHED, newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["benchmark"] in benchmarks]


def presets_with_results(suite_name: str, results: str | Path = "results") -> list[str]:
    """The presets that have a ``runs/`` folder under ``results/<suite>/``."""
    return [p for p in presets_of(get_suite(suite_name)) if (Path(results) / suite_name / p / "runs").is_dir()]


def report(suite_name: str, results: str | Path = "results", preset: str = "smoke") -> Path:
    suite = get_suite(suite_name)
    folder = Path(results) / suite_name / preset
    df, failed, unreadable = load_results(folder / "runs")
    if df.empty:
        raise OrcaError(f"no successful result files under {folder / 'runs'}; "
                        f"run python -m benchmarks.run {suite_name} --preset {preset}")
    summary = summarise(df)
    summary.attrs["metric"] = df["metric"].iloc[0]
    text = markdown(f"{suite_name} ({preset} preset)", summary, failed, unreadable, published_rows(suite.published),
                    reference=next((m for m in suite.reference_methods if m in set(df["method"])), None), df=df,
                    means=suite.comparable_means)
    atomic_write(folder / "report.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    atomic_write(folder / "report.csv", lambda tmp: summary.to_csv(tmp, index=False))
    plots(suite_name, df, summary, folder / "plots", suite.task_groups)
    return folder / "report.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a suite's report from its result files.")
    parser.add_argument("suite")
    parser.add_argument("--preset", help="default: every preset that has results")
    parser.add_argument("--results", default="results")
    args, _ = parser.parse_known_args(argv)  # the runner's other options may be passed through
    try:
        if args.suite not in available_suites():
            raise OrcaError(f"unknown suite {args.suite!r}; available: {available_suites()}")
        presets = [args.preset] if args.preset else presets_with_results(args.suite, args.results)
        if not presets:
            raise OrcaError(f"no results under {Path(args.results) / args.suite}; "
                            f"run python -m benchmarks.run {args.suite}")
        for preset in presets:
            path = report(args.suite, args.results, preset)
            print(f"report written to {path} (and report.csv, plots/)")
    except OrcaError as exc:
        print(f"benchmarks.report: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
