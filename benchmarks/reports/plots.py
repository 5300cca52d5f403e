"""Figures from result rows: bar charts per task (and per task group), stage-2 and refine curves, a test sample
beside each method's prediction, roll-out error growth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from orca.exceptions import require
from orca.metrics import get_metric


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
        spread = sub["std"].where(sub["n"] > 1)  # whiskers only where there is a spread to show (n > 1)
        ax.bar(np.arange(len(tasks)) + i * width, sub["mean"], width, yerr=spread, label=m, capsize=2)
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
