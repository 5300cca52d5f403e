"""Figures from result rows: bar charts per task (and per task group) with the published values beside ours,
score against cost, per-task differences against the suite's reference method, stage-2 and refine curves, a test
sample beside each method's prediction (with colour bars), roll-out error growth. Every task label carries its
data kind when it is not real."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from orca.exceptions import require
from orca.metrics import get_metric


def plots(suite: str, df: pd.DataFrame, summary: pd.DataFrame, out: Path,
          groups: dict[str, str] | None = None, reference: str | None = None,
          published: dict[tuple[str, str], float] | None = None) -> list[Path]:
    """The bar chart of every task (and one per task group when ``groups`` maps tasks to groups), score against
    wall time, per-task differences against ``reference``, examples, roll-out error growth, stage-2 distance
    curves and ORCA's validation score per refine epoch. ``published`` maps (task, published method) to the
    published value drawn hatched beside ours."""
    mpl = require("matplotlib", "plots", "The report's plots")
    mpl.use("Agg")

    out.mkdir(parents=True, exist_ok=True)
    paths = [bar_chart(summary, out / "scores.png", f"{suite}: test {summary.attrs['metric']} per task", published)]
    for group in sorted(set((groups or {}).values())):
        part = summary[summary["task"].map(lambda t: (groups or {}).get(t) == group)]
        if not part.empty:
            part.attrs = dict(summary.attrs)
            slug = "".join(c if c.isalnum() else "-" for c in group.lower())
            paths.append(bar_chart(part, out / f"scores-{slug}.png", f"{suite}: {group}", published))
    if "wall_s" in summary and summary["wall_s"].notna().any():
        paths.append(cost_plot(summary, out / "score-vs-time.png", f"{suite}: test score against wall time per job"))
    if reference is not None and reference in set(summary["method"]):
        paths += difference_plots(summary, reference, out, suite)
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


def task_label(summary: pd.DataFrame, task: str) -> str:
    """The task's name on a plot, with its data kind when the data are not real ("darcy (generated)")."""
    kinds = summary.loc[summary["task"] == task, "data_kind"]
    kind = kinds.iloc[0] if len(kinds) else "real"
    return str(task) if kind == "real" else f"{task} ({kind})"


def bar_chart(summary: pd.DataFrame, path: Path, title: str,
              published: dict[tuple[str, str], float] | None = None) -> Path:
    """Mean test score per (task, method) with the std over seeds as error bars (only where n > 1); log scale for
    errors; published values (as reported, on the benchmark's own data) as hatched grey bars beside ours."""
    import matplotlib.pyplot as plt

    metric = summary.attrs["metric"]
    tasks = list(dict.fromkeys(summary["task"]))
    methods = sorted(summary["method"].unique())
    ours = {"".join(c for c in m.lower() if c.isalnum()) for m in methods}

    def ran(name: str) -> bool:  # the method or a variant of it ("ORCA": orca-skip) is among ours
        key = "".join(c for c in name.lower() if c.isalnum())
        return any(o.startswith(key) for o in ours)

    theirs = sorted({m for (t, m) in (published or {}) if t in tasks and ran(m)})  # for scale
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(tasks) + 2), 4.5))
    width = 0.8 / (len(methods) + len(theirs))
    for i, m in enumerate(methods):
        sub = summary[summary["method"] == m].set_index("task").reindex(tasks)
        spread = sub["std"].where(sub["n"] > 1)  # whiskers only where there is a spread to show (n > 1)
        ax.bar(np.arange(len(tasks)) + i * width, sub["mean"], width, yerr=spread, label=m, capsize=2)
    shades = np.linspace(0.35, 0.8, max(len(theirs), 1))
    for j, m in enumerate(theirs):
        values = [published.get((t, m), np.nan) for t in tasks]
        ax.bar(np.arange(len(tasks)) + (len(methods) + j) * width, values, width, color=str(shades[j]),
               hatch="//", edgecolor="white", label=f"{m} (published)")
    ax.set_xticks(np.arange(len(tasks)) + 0.4 - width / 2, [task_label(summary, t) for t in tasks], rotation=30,
                  ha="right", fontsize=8)
    ax.set_ylabel(f"test {metric}")
    if not get_metric(metric).higher_is_better:
        ax.set_yscale("log")
    return _finish(fig, ax, title, path, legend_outside=True)


def cost_plot(summary: pd.DataFrame, path: Path, title: str) -> Path:
    """Per task, each method's mean test score against the mean wall time of its job (log time axis): who is
    better at what cost."""
    import matplotlib.pyplot as plt

    metric = summary.attrs["metric"]
    tasks = list(dict.fromkeys(summary["task"]))[:12]
    cols = min(4, len(tasks))
    rows = int(np.ceil(len(tasks) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows + 0.6), squeeze=False)
    methods = sorted(summary["method"].unique())
    colours = {m: f"C{i % 10}" for i, m in enumerate(methods)}
    for ax, task in zip(axes.flat, tasks):
        sub = summary[summary["task"] == task]
        for _, r in sub.iterrows():
            ax.scatter(max(float(r["wall_s"]), 0.1), r["mean"], color=colours[r["method"]], label=r["method"])
        ax.set_xscale("log")
        if not get_metric(metric).higher_is_better:
            ax.set_yscale("log")
        ax.set_title(textwrap.fill(task_label(summary, task), 32), fontsize=8)
        ax.set_xlabel("wall time per job (s)", fontsize=7)
        ax.set_ylabel(f"test {metric}", fontsize=7)
        ax.tick_params(which="both", labelsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=colours[m], label=m) for m in methods]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(methods), 6), fontsize=7)
    fig.suptitle(textwrap.fill(title, 90), fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def difference_plots(summary: pd.DataFrame, reference: str, out: Path, suite: str) -> list[Path]:
    """Per method, its per-task difference to ``reference`` (positive: better), sorted, with the task names."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    metric = summary.attrs["metric"]
    sign = 1 if get_metric(metric).higher_is_better else -1
    pivot = summary.pivot(index="task", columns="method", values="mean")
    names = summary.groupby("task")["task_name"].first()
    paths = []
    for m in sorted(c for c in pivot.columns if c != reference and c not in summary.attrs.get("floors", ())):
        diff = ((pivot[m] - pivot[reference]) * sign).dropna().sort_values()
        if len(diff) < 2:
            continue
        fig, ax = plt.subplots(figsize=(6, max(0.22 * len(diff) + 1.4, 2.4)))
        ax.barh(np.arange(len(diff)), diff.to_numpy(), color=["C2" if d > 0 else "C3" for d in diff])
        labels = [f"{t} {names.get(t, '')}".strip() if str(t).isdigit() else task_label(summary, t)
                  for t in diff.index]
        ax.set_yticks(np.arange(len(diff)), labels, fontsize=7)
        ax.axvline(0, color="k", lw=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # few ticks, so that long decimals stay apart
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)  # no offset text over the axis label
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel(textwrap.fill(f"{m} − {reference}, test {metric} ({'higher' if sign > 0 else 'lower'} is "
                                    f"better; > 0: {m} better)", 60), fontsize=8)
        fit_title(fig, ax, f"{suite}: {m} against {reference} per task ({int((diff > 0).sum())} of {len(diff)} "
                           "ahead)", fontsize=9)
        paths.append(out / f"difference-{m}-vs-{reference}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def _finish(fig, ax, title: str, path: Path, legend_outside: bool = False) -> Path:
    """Title (wrapped, never clipped), legend (right of the axes with ``legend_outside``, where it would cover
    bars), layout; save to ``path`` and close."""
    import matplotlib.pyplot as plt

    if legend_outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=7)
    fit_title(fig, ax, title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def fit_title(fig, ax, title: str, fontsize: float = 10) -> None:
    """Set ``ax``'s title wrapped at the widest line length (70 characters down to 20) at which, after the
    figure's tight layout, it lies inside the figure: a fixed length clips a long title on a small figure."""
    renderer = fig.canvas.get_renderer()
    for width in range(70, 19, -5):
        text = ax.set_title(textwrap.fill(title, width), fontsize=fontsize)
        fig.tight_layout()
        box = text.get_window_extent(renderer)
        if box.x0 >= fig.bbox.x0 and box.x1 <= fig.bbox.x1:
            return


def line_plot(path: Path, title: str, xlabel: str, ylabel: str, series: list[tuple], log: bool = False,
              marker: str | None = None) -> Path:
    """One small figure of ``(x, y, label)`` curves, saved to ``path``."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for x, y, label in series:
        ax.plot(x, y, marker=marker, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps and epochs are whole numbers
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
            fig, axes = plt.subplots(1, len(panels), figsize=(2.8 * len(panels), 2.9))
            lo, hi = float(np.min(target)), float(np.max(target))
            for ax, (title, field) in zip(axes, panels):
                image = ax.imshow(np.asarray(field), vmin=None if title == "input" else lo,
                                  vmax=None if title == "input" else hi, cmap="viridis")
                fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=6)
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
