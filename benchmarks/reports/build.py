"""Reports built only from result JSON: Markdown and CSV tables, ranks and wins, published numbers beside
ours, and plots.

    python -m benchmarks.report SUITE [--preset smoke|paper] [--results results]

Writes ``results/<suite>/<preset>/report.md``, ``report.csv`` (one row per task and method), ``scores.csv`` (one
row per result) and ``plots/`` for the given preset, or for every
preset that has results. Every number in the tables comes from a
result file or from ``benchmarks/data/published_results.csv`` (the published rows, copied with their evidence
tags from the reference material). Published numbers are shown as reported and never ranked against our runs;
tasks run on generated or proxy data are marked as such.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from orca.exceptions import OrcaError
from orca.io import atomic_write

from ..catalogue import available_suites, get_suite
from ..runner.config import presets_of, resolve_config
from ..runner.jobs import expand_jobs
from ..runner.suite import Suite
from .markdown import markdown
from .plots import plots
from .published import published_rows
from .results import load_results
from .tables import coverage_table, summarise

SCORE_COLUMNS = ("task", "task_name", "method", "seed", "value", "metric", "data_kind")
"""The columns of ``scores.csv``, one row per result, from which the README pairs methods on (task, seed)."""


def presets_with_results(suite_name: str, results: str | Path = "results") -> list[str]:
    """The presets that have a ``runs/`` folder under ``results/<suite>/``."""
    return [p for p in presets_of(get_suite(suite_name)) if (Path(results) / suite_name / p / "runs").is_dir()]


def rows_of(suite_name: str, folder: Path) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """One row per successful result in ``folder/runs``, with the failed records and the files left out
    (unreadable, or superseded: see below); raises :class:`OrcaError` where no result succeeded."""
    suite = get_suite(suite_name)
    # methods whose settings come from outside the config (the estimators' defaults): a result made under
    # other such settings is superseded. (Other methods' settings are all in the config, and a run may be
    # reported under command-line overrides.)
    expected = {job.filename: job.config_hash for job in expand_jobs(suite, resolve_config(suite, folder.name))
                if job.method in suite.method_base}
    df, failed, unreadable = load_results(folder / "runs", suite.metric_version_of, expected)
    if df.empty:
        raise OrcaError(f"no successful result files under {folder / 'runs'}; "
                        f"run python -m benchmarks.run {suite_name} --preset {folder.name}")
    return df, failed, unreadable


def summary_of(suite_name: str, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[dict], list[str]]:
    """The per-(task, method) summary of the result files in ``folder/runs`` (what ``report.csv`` holds), with
    the rows, the failed records and the files left out (:func:`rows_of`)."""
    suite = get_suite(suite_name)
    df, failed, unreadable = rows_of(suite_name, folder)
    floors = tuple(f for f in suite.floors if f in set(df["method"]))
    summary = summarise(df, floors)
    summary.attrs["metric"] = df["metric"].iloc[0]
    summary.attrs["floors"] = floors
    return summary, df, failed, unreadable


def _number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def selections_of(config: dict) -> list[dict]:
    """A config's defaults-study choices: its ``selection``, one ``{"candidates", "decides", "on"}`` or a list of
    them (``on``: ``"val"``, the default, or ``"check"``); an entry with ``"base": candidate`` keeps that
    candidate unless another is clearly better (:func:`~benchmarks.reports.tables.selection`); an entry with
    ``"provisional": reason`` is reported but not yet applied to the defaults; one with ``"needs_all": true`` is
    reported as provisional until every planned job of its candidates has a result (:func:`pending_selection`)."""
    spec = config.get("selection") or []
    return [spec] if isinstance(spec, dict) else list(spec)


def pending_selection(spec: dict, expected: list[tuple[str, str, int]], df: pd.DataFrame) -> dict:
    """A selection entry with ``"needs_all": true`` (its rule decides on every planned job of its candidates),
    marked provisional while any of those jobs (``expected``: the preset's (task, method, seed) jobs) has no result
    in ``df``; other entries (a study that decides on the pairs in hand) are returned as they are."""
    if not spec.get("needs_all"):
        return spec
    have = set(zip(df["task"].astype(str), df["method"], df["seed"].astype(int))) if "method" in df else set()
    planned = [(str(t), m, int(s)) for t, m, s in expected if m in spec["candidates"]]
    missing = [j for j in planned if j not in have]
    if not missing or spec.get("provisional"):
        return spec
    return {**spec, "provisional": f"{len(planned) - len(missing)} of the candidates' {len(planned)} planned jobs "
                                   "have results; the rule decides on all of them"}


def contrasts_of(suite_name: str, results: str | Path, contrasts: list[dict], df: pd.DataFrame
                 ) -> tuple[list[dict], pd.DataFrame]:
    """The contrasts as :func:`~benchmarks.reports.analysis.contrast_table` takes them, and the rows they are
    computed on: ``df``, plus for each contrast whose base comes from another preset (``"preset"``) that preset's
    results of the base, relabelled ``"<against> (<preset> preset)"`` so that they pair with this preset's
    candidate on (task, seed). A preset without results of the base adds no rows (the contrast is left out)."""
    specs, extra, loaded = [], [], {}  # loaded: preset -> its rows (None: no results), read once
    for spec in contrasts:
        if "preset" not in spec:
            specs.append(spec)
            continue
        label = f"{spec['against']} ({spec['preset']} preset)"
        specs.append({"method": spec["method"], "against": label, "changes": spec["changes"]})
        if spec["preset"] not in loaded:
            try:
                loaded[spec["preset"]] = rows_of(suite_name, Path(results) / suite_name / spec["preset"])[0]
            except OrcaError:  # no results there yet
                loaded[spec["preset"]] = None
        other = loaded[spec["preset"]]
        if other is not None:
            extra.append(other[other["method"] == spec["against"]].assign(method=label))
    return specs, pd.concat([df, *extra], ignore_index=True) if extra else df


def _reference_method(suite: Suite, df: pd.DataFrame) -> str | None:
    """The first of the suite's reference methods that has results, or ``None``."""
    return next((m for m in suite.reference_methods if m in set(df["method"])), None)


def _report_parts(suite_name: str, results: str | Path, preset: str
                  ) -> tuple[str, pd.DataFrame, pd.DataFrame, str | None, list[dict]]:
    """``report.md``'s text, the summary, the rows it was made from, the reference method and the published
    rows: worked out once for both :func:`report_text` and :func:`report`."""
    suite = get_suite(suite_name)
    folder = Path(results) / suite_name / preset
    summary, df, failed, unreadable = summary_of(suite_name, folder)
    reference = _reference_method(suite, df)
    published = published_rows(suite.published)
    config = resolve_config(suite, preset)
    ran = sorted(set(df["method"])) if "method" in df else []  # a method run on request (--methods) is covered too
    methods = list(dict.fromkeys([*config["methods"], *ran]))
    expected = [(job.task, job.method, job.seed) for job in expand_jobs(suite, {**config, "methods": methods})]
    contrasts, contrast_scores = contrasts_of(suite_name, results, config.get("contrasts") or [], df)
    closed = {c["method"]: c["why"] for c in config.get("closed") or []}
    unreplaced = {(j.task, j.method) for j in expand_jobs(suite, {**config, "methods": methods, "replaces": []})}
    dropped = unreplaced - {(t, m) for t, m, _ in expected}  # (task, method) pairs a replacing method took
    replaced = [(r["method"], r["replaces"], sorted(t for t, m in dropped if m == r["replaces"]), r["why"])
                for r in config.get("replaces") or []]
    text = markdown(f"{suite_name} ({preset} preset)", summary, failed, unreadable, published,
                    reference=reference, df=df, means=suite.comparable_means,
                    selections=[pending_selection(spec, expected, df) for spec in selections_of(config)],
                    groups=suite.task_groups, contrasts=contrasts,
                    coverage=coverage_table(expected, df, closed, replaced), contrast_scores=contrast_scores,
                    also_against=[m for m in suite.also_against if m != reference])
    return text, summary, df, reference, published


def report_text(suite_name: str, results: str | Path = "results", preset: str = "smoke"
                ) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """``report.md``'s text for one preset's result files, with the summary and the rows it was made from."""
    text, summary, df, _, _ = _report_parts(suite_name, results, preset)
    return text, summary, df


def report(suite_name: str, results: str | Path = "results", preset: str = "smoke") -> Path:
    """Write ``report.md``, ``report.csv`` and ``plots/`` for one preset's result files."""
    suite = get_suite(suite_name)
    folder = Path(results) / suite_name / preset
    text, summary, df, reference, published = _report_parts(suite_name, results, preset)
    atomic_write(folder / "report.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    atomic_write(folder / "report.csv", lambda tmp: summary.to_csv(tmp, index=False))
    scores = df[[c for c in SCORE_COLUMNS if c in df]]  # one row per result: what same-split pairing needs
    atomic_write(folder / "scores.csv", lambda tmp: scores.to_csv(tmp, index=False))
    mapping = df.dropna(subset=["published_task"]).groupby("task")["published_task"].first()
    beside = {(task, p["method"]): float(p["value"]) for task, name in mapping.items() for p in published
              if p["task"] == name and _number(p["value"])}
    plots(suite_name, df, summary, folder / "plots", suite.task_groups, reference=reference, published=beside)
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
        skipped = sorted(Path(args.results, args.suite).glob("*/SKIPPED"))
        if not presets and skipped:
            print(f"{args.suite}: no report: the run was skipped ({skipped[0].read_text().strip()})")
            return 0
        if not presets:
            raise OrcaError(f"no results under {Path(args.results) / args.suite}; "
                            f"run python -m benchmarks.run {args.suite}")
        for preset in presets:
            skipped = Path(args.results) / args.suite / preset / "SKIPPED"
            if skipped.is_file() and not (Path(args.results) / args.suite / preset / "runs").is_dir():
                print(f"{args.suite} ({preset}): no report: the run was skipped ({skipped.read_text().strip()})")
                continue
            path = report(args.suite, args.results, preset)
            print(f"report written to {path} (and report.csv, plots/)")
    except OrcaError as exc:
        print(f"benchmarks.report: error: {exc}", file=sys.stderr)
        return 2
    return 0
