"""The result tables of the README and ``docs/results.md``, generated from the committed reports so that no number
in them is typed by hand.

    python -m benchmarks.reports.readme            # rewrite the blocks in README.md and docs/results.md
    python -m benchmarks.reports.readme --check    # exit 1 when a block differs from what the reports give

Each block is declared in ``readme.json`` (suite, preset, which published methods to show) and sits in a page
between ``<!-- results:SUITE/PRESET -->`` and ``<!-- /results -->``. A block is built only from
``results/<suite>/<preset>/report.csv`` (itself built from the result files by ``python -m benchmarks.report``)
and ``benchmarks/data/published_results.csv``: per task, the data kind, the floors, each method's mean (± std and
the number of seeds when there are several), ‡ where a method does not beat the floor, the best in bold (among the
cells with the task's most seeds), and the
mean wall time of a job, and ° where a neural run stopped on its cap rather than converging, so that every number
carries its context.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orca.exceptions import OrcaError
from orca.io import atomic_write
from orca.metrics import get_metric

from ..catalogue import get_suite
from .published import published_rows
from .tables import bold_cells, compare, compare_paired

SPEC = Path(__file__).with_name("readme.json")
PAGES = ("README.md", "docs/results.md")
BLOCK = re.compile(r"(<!-- results:(?P<key>[\w.-]+/[\w.-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


@dataclass(frozen=True)
class Block:
    """One README table: the report of ``suite``/``preset``.

    Parameters
    ----------
    suite, preset : str
        Whose ``report.csv`` the table shows.
    methods : list of str
        Column order; empty means the report's methods, floors first.
    published : list of str
        Published methods shown beside ours (as reported, never ranked), for tasks whose results name a
        published task.
    per_task : bool
        One row per task; ``False`` gives only the per-method summary (many tasks).
    reference : str
        The method that the summary counts wins, ties and losses against (empty: none).
    """

    suite: str
    preset: str
    methods: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    per_task: bool = True
    reference: str = ""


def load_spec(path: Path = SPEC) -> dict[str, Block]:
    """The declared blocks, keyed ``suite/preset``."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    blocks = {}
    for entry in raw:
        unknown = set(entry) - set(Block.__dataclass_fields__)
        if unknown:
            raise OrcaError(f"{path}: unknown key(s) {sorted(unknown)}; expected one of "
                            f"{sorted(Block.__dataclass_fields__)}")
        block = Block(**entry)
        blocks[f"{block.suite}/{block.preset}"] = block
    return blocks


def _num(value: float) -> str:
    """Four significant digits (the README's precision; the reports keep more)."""
    if pd.isna(value):
        return "–"
    return f"{value:.4g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2e}"


def _seconds(value: float) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.0f} s" if value < 600 else f"{value / 60:.0f} min"


def _cell(row: pd.Series, bold: bool) -> str:
    n = int(row["n"])
    text = _num(row["mean"]) + (f" ± {_num(row['std'])} (n={n})" if n > 1 else "")
    if bold:
        text = f"**{text}**"
    share = row.get("converged")
    unconverged = share is not None and not pd.isna(share) and share < 1
    return text + (" ‡" if row.get("beats_floor") is False else "") + (" °" if unconverged else "")


def _methods(summary: pd.DataFrame, block: Block, floors: tuple[str, ...]) -> list[str]:
    present = list(dict.fromkeys(summary["method"]))
    if block.methods:
        missing = [m for m in block.methods if m not in present]
        if missing:
            raise OrcaError(f"readme block {block.suite}/{block.preset}: method(s) {missing} have no result in the "
                            f"report; expected some of {present}")
        return block.methods
    return [m for m in floors if m in present] + sorted(m for m in present if m not in floors)


def render(block: Block, results: Path = Path("results"), link: str = "results") -> str:
    """The Markdown of one block, from ``report.csv`` and the published numbers; ``link`` is the results
    folder as the page that holds the block reaches it."""
    path = results / block.suite / block.preset / "report.csv"
    if not path.is_file():
        raise OrcaError(f"{path} is missing; build it with python -m benchmarks.report {block.suite} "
                        f"--preset {block.preset}")
    summary = pd.read_csv(path, dtype={"task": str})
    summary["beats_floor"] = summary["beats_floor"].map(lambda b: None if pd.isna(b) else bool(b))
    pairs = path.with_name("scores.csv")  # one row per result: comparisons on the (task, seed) pairs both ran
    scores = pd.read_csv(pairs, dtype={"task": str}) if pairs.is_file() else None
    suite = get_suite(block.suite)
    floors = tuple(f for f in suite.floors if f in set(summary["method"]))
    methods = _methods(summary, block, floors)
    metrics = list(dict.fromkeys(summary["metric"])) if "metric" in summary else ["?"]
    direction = {m: "higher" if get_metric(m).higher_is_better else "lower" for m in metrics}
    seeds = sorted(set(summary.loc[summary["method"].isin(methods), "n"].astype(int)))
    lines = [f"Test {', '.join(f'`{m}` ({direction[m]} is better)' for m in metrics)}; "
             f"{'one seed' if seeds == [1] else 'seeds per cell: ' + ', '.join(map(str, seeds))}; "
             f"from [`results/{block.suite}/{block.preset}/report.md`]({link}/{block.suite}/{block.preset}/report.md)"
             + ("; ‡: does not beat the best floor (" + ", ".join(f"`{f}`" for f in floors) + "), never a win"
                if floors else "")
             + ("; °: not converged (stopped on its epoch cap or time budget, not on patience)"
                if block.per_task and "converged" in summary and (summary["converged"] < 1).any() else "") + ".", ""]
    if block.per_task:
        lines += _per_task(summary, block, methods, floors)
    lines += _summary(summary, block, methods, floors, direction, scores)
    return "\n".join(lines) + "\n"


def _per_task(summary: pd.DataFrame, block: Block, methods: list[str], floors: tuple[str, ...]) -> list[str]:
    published = published_rows(get_suite(block.suite).published) if block.published else []
    head = ["task", "data"] + methods + [f"{m} (paper)" for m in block.published]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task, group in summary.groupby("task", sort=False):
        by = group.set_index("method")
        bold = bold_cells(group[group["method"].isin(methods)], floors)
        name = group["task_name"].iloc[0]
        label = f"{task} {name}" if str(task).isdigit() else str(name)  # OpenML ids: id and name
        cells = [_cell(by.loc[m], m in bold) if m in by.index else "–" for m in methods]
        ptask = group["published_task"].dropna().iloc[0] if "published_task" in group and group[
            "published_task"].notna().any() else None
        pub = {p["method"]: p["value"] for p in published if ptask is not None and p["task"] == ptask}
        lines.append(f"| {label} | {group['data_kind'].iloc[0]} | " + " | ".join(cells)
                     + "".join(f" | {pub.get(m, '–')}" for m in block.published) + " |")
    if "wall_s" in summary:
        wall = summary.groupby("method")["wall_s"].mean()
        lines.append("| mean wall time of a job | | " + " | ".join(_seconds(wall.get(m, float("nan")))
                                                            for m in methods)
                     + " |" * (len(block.published) + 1))
    return lines + [""]


def _summary(summary: pd.DataFrame, block: Block, methods: list[str], floors: tuple[str, ...],
             direction: dict[str, str], scores: pd.DataFrame | None = None) -> list[str]:
    """Mean over the tasks every compared method ran (one metric only) and wins against the reference, on the
    (task, seed) pairs both ran when ``scores`` (one row per result) is given; the floors are in the per-task
    table (and their ‡ marks), not compared here. A method that has run fewer tasks than the others (a long run
    still in progress) would shrink every row's mean to the tasks it ran, so it is left out and named below the
    table with its count (the reference always stays)."""
    methods = [m for m in methods if m not in floors] or methods
    ran = summary[summary["method"].isin(methods)].groupby("method")["task"].nunique()
    partial = [m for m in methods if ran.get(m, 0) < ran.max() and m != block.reference]
    methods = [m for m in methods if m not in partial]
    pivot = summary.pivot(index="task", columns="method", values="mean")[methods].dropna()
    one_scale = len(direction) == 1
    higher = next(iter(direction.values())) == "higher"
    ref = block.reference
    if not ref and (block.per_task or not one_scale):
        return []
    where = f"mean over the {len(pivot)} tasks every method ran"
    if ref and scores is not None and one_scale:  # a mean beside its reference's on the same pairs
        where += f" ({ref}'s on the same (task, seed) pairs)"
    head = ["method", where if one_scale else "tasks"]
    if ref:
        head += [f"mean difference to {ref}{' on the same (task, seed) pairs' if scores is not None else ''} "
                 "[95 % paired bootstrap interval over tasks]", "Wilcoxon p",
                 f"wins / ties / losses vs {ref} (ties: within seed noise, or ahead below the floor)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    common = summary[summary["task"].isin(pivot.index)]
    paired = None if scores is None else scores[scores["task"].isin(pivot.index)]
    for m in methods:
        row = [m, _num(pivot[m].mean()) if one_scale else str(len(pivot))]
        c = None
        if ref and m != ref:
            c = (compare(common, m, ref, higher) if paired is None
                 else compare_paired(paired, m, ref, higher, floors))
        if c is not None and paired is not None and one_scale:  # both means on the pairs the difference uses
            row[1] = f"{_num(c.mean)} ({_num(c.mean_reference)})"
        if c is not None:
            interval = "" if c.difference.low is None else " " + c.difference.interval()
            row += [f"{c.difference.mean:+.4f}{interval}" if one_scale else "–",
                    c.difference.p() if one_scale else "–", f"{c.wins} / {c.ties} / {c.losses}"]
        elif ref:
            row += ["–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    if partial:
        lines += ["", "Not in this table until they have run every task: " + ", ".join(
            f"{m} ({ran.get(m, 0)} of {ran.max()} tasks so far; the report compares it on the tasks it ran)"
            for m in partial) + "."]
    return lines + [""]


def update(readme: Path, results: Path = Path("results"), spec: Path = SPEC) -> tuple[str, list[str]]:
    """The page's text with every declared block re-rendered, and the keys of blocks that changed. Links point
    to ``results/`` as seen from the page (pages sit in the repository root or one folder below it)."""
    blocks = load_spec(spec)
    text = readme.read_text(encoding="utf-8")
    found = [m.group("key") for m in BLOCK.finditer(text)]
    unknown = [k for k in found if k not in blocks]
    if unknown:
        raise OrcaError(f"{readme}: result block(s) {unknown} are not declared in {spec}; expected one of "
                        f"{sorted(blocks)}")
    changed = []
    link = "../results" if readme.parent.name == "docs" else "results"

    def fill(match: re.Match) -> str:
        body = render(blocks[match.group("key")], results, link)
        if body != match.group("body"):
            changed.append(match.group("key"))
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(fill, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate (or --check) the README's result tables from the "
                                                 "committed reports.")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="pages holding result blocks")
    parser.add_argument("--results", default="results")
    parser.add_argument("--check", action="store_true", help="exit 1 if a block differs; change nothing")
    args = parser.parse_args(argv)
    stale = 0
    for page in map(Path, args.pages):
        try:
            text, changed = update(page, Path(args.results))
        except (OrcaError, OSError) as exc:
            print(f"benchmarks.reports.readme: error: {exc}", file=sys.stderr)
            return 2
        stale += len(changed)
        if args.check:
            for key in changed:
                print(f"{page}: block {key} differs from results/{key}/report.csv "
                      f"(run python -m benchmarks.reports.readme)")
        elif changed:
            atomic_write(page, lambda tmp, text=text: Path(tmp).write_text(text, encoding="utf-8"))
            print(f"{page}: blocks rewritten: {', '.join(changed)}")
    if args.check:
        return 1 if stale else 0
    if not stale:
        print("result blocks: all current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
