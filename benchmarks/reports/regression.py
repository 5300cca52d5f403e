"""Write a suite's ``regression.json`` (the values CI checks fresh runs against) from its committed results.

The file names its preset, seed, tolerance and the metric key; under that key, the (task, method) pairs CI
re-runs. This command replaces every value with the committed result's test score (4 decimals), so the file is
never edited by hand; ``tests/test_regression_values.py`` fails when a value differs from the committed result.

    python -m benchmarks.reports.regression pdebench [--results results] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orca.io import atomic_write, read_json

from ..catalogue import get_suite

_SETTINGS = ("about", "comment", "tolerance", "preset", "seed")


def regression_path(suite_name: str) -> Path:
    return get_suite(suite_name).root / "regression.json"


def metric_key(recorded: dict) -> str:
    """The one key of the file that holds task -> method -> value."""
    keys = [k for k in recorded if k not in _SETTINGS]
    if len(keys) != 1:
        raise ValueError(f"expected one metric key besides {_SETTINGS}; found {keys}")
    return keys[0]


def committed_values(suite_name: str, results: Path = Path("results"), recorded: dict | None = None) -> dict:
    """``recorded`` (default: the suite's file) with each value read from the committed result file."""
    recorded = dict(recorded or read_json(regression_path(suite_name)))
    key = metric_key(recorded)
    runs = Path(results) / suite_name / recorded["preset"] / "runs"
    values: dict[str, dict[str, float]] = {}
    for task, methods in recorded[key].items():
        for method in methods:
            path = runs / f"{task}--{method}--s{recorded['seed']}.json"
            if not path.is_file():
                raise FileNotFoundError(f"{path} is not committed; run the {recorded['preset']} preset first")
            rec = read_json(path)
            if rec.get("status") != "ok":
                raise ValueError(f"{path} records a failed run ({rec.get('error')})")
            values.setdefault(task, {})[method] = round(float(rec["metrics"]["test"][key]), 4)
    recorded[key] = values
    return recorded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--results", default="results")
    parser.add_argument("--check", action="store_true", help="only say whether the file matches the results")
    args = parser.parse_args(argv)
    path = regression_path(args.suite)
    current = read_json(path)
    fresh = committed_values(args.suite, Path(args.results), current)
    if args.check:
        same = fresh == current
        print(f"{path}: {'matches' if same else 'differs from'} the committed results")
        return 0 if same else 1
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(fresh, indent=2) + "\n", encoding="utf-8"))
    print(f"{path} written from {args.results}/{args.suite}/{fresh['preset']}/runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
