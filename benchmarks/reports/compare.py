"""Committed results against freshly re-computed ones: the table ``./reproduce.sh`` prints.

For every committed result of a preset (``results/<suite>/<preset>/runs/*.json``), the fresh run's file of the
same name is read from another results folder and the two test scores of the suite's ranking metric are
compared within the suite's tolerance (``tolerances.json``: relative, from the measured run-to-run spread).
A job that was not re-run, failed, or moved by more than the tolerance is a ✗, named so it can be inspected.

    python -m benchmarks.reports.compare --fresh reproduced [--committed results] [--preset smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from orca.io import read_json

TOLERANCES = Path(__file__).with_name("tolerances.json")


@dataclass
class Row:
    """One committed result beside its re-computed value."""

    suite: str
    job: str
    metric: str
    committed: float | None
    fresh: float | None
    tolerance: float
    ok: bool | None
    """True within tolerance, False not, None when the suite was skipped (its data cannot be had here)."""
    why: str = ""


def tolerance_of(suite: str) -> float:
    """The relative tolerance of ``suite``'s scores (``tolerances.json``; 0 for a suite it does not list)."""
    return float(json.loads(TOLERANCES.read_text())["relative"].get(suite, 0.0))


def _score(record: dict) -> float | None:
    value = (record.get("metrics") or {}).get("test", {}).get(record.get("metric", ""))
    return None if value is None else float(value)


def compare(committed: Path, fresh: Path, preset: str = "smoke", suites: list[str] | None = None) -> list[Row]:
    """A row per committed successful result of ``preset`` under ``committed``, against ``fresh``."""
    rows = []
    for runs in sorted(Path(committed).glob(f"*/{preset}/runs")):
        suite = runs.parent.parent.name
        if suites is not None and suite not in suites:
            continue
        tol = tolerance_of(suite)
        skipped = Path(fresh) / suite / preset / "SKIPPED"
        for path in sorted(runs.glob("*.json")):
            old = read_json(path)
            if old.get("status") != "ok":
                continue
            job, metric, before = path.stem, old.get("metric", "?"), _score(old)
            if skipped.is_file():
                rows.append(Row(suite, job, metric, before, None, tol, None,
                                f"skipped: {skipped.read_text().strip()}"))
                continue
            other = Path(fresh) / suite / preset / "runs" / path.name
            if not other.is_file():
                rows.append(Row(suite, job, metric, before, None, tol, False, "not re-run"))
                continue
            new = read_json(other)
            after = _score(new)
            if new.get("status") != "ok" or after is None or before is None:
                rows.append(Row(suite, job, metric, before, after, tol, False,
                                f"re-run {new.get('status')}: {new.get('error') or 'no score'}"))
                continue
            ok = abs(after - before) <= tol * max(abs(before), 1e-12)
            rows.append(Row(suite, job, metric, before, after, tol, ok,
                            "" if ok else f"moved {abs(after - before) / max(abs(before), 1e-12):.2%}"))
    return rows


def table(rows: list[Row]) -> str:
    """The comparison as a fixed-width table, then a one-line verdict."""
    lines = [f"{'suite':<12} {'job':<36} {'metric':<12} {'committed':>11} {'re-computed':>12} {'tolerance':>9}  ",
             "-" * 100]
    for r in rows:
        fmt = lambda v: "–" if v is None else f"{v:.6g}"  # noqa: E731
        mark = "✓" if r.ok else "–" if r.ok is None else "✗ " + r.why
        lines.append(f"{r.suite:<12} {r.job:<36} {r.metric:<12} {fmt(r.committed):>11} {fmt(r.fresh):>12} "
                     f"{r.tolerance:>9.1e}  {mark}")
    bad = [r for r in rows if r.ok is False]
    skipped = sorted({(r.suite, r.why) for r in rows if r.ok is None})
    checked = [r for r in rows if r.ok is not None]
    lines.append("")
    lines.append(f"{len(checked) - len(bad)} of {len(checked)} committed results reproduced within tolerance"
                 + (f"; inspect: {', '.join(f'{r.suite}/{r.job}' for r in bad)}" if bad else ""))
    lines += [f"{suite}: not checked, {why}" for suite, why in skipped]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", required=True, help="the results folder the re-run wrote")
    parser.add_argument("--committed", default="results")
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--suites", nargs="+")
    args = parser.parse_args(argv)
    rows = compare(Path(args.committed), Path(args.fresh), args.preset, args.suites)
    if not rows:
        print(f"no committed {args.preset} results under {args.committed}", file=sys.stderr)
        return 2
    print(table(rows))
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
