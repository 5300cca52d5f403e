"""Committed results against freshly re-computed ones: the table ``./reproduce.sh`` prints.

For every committed result of a preset (``results/<suite>/<preset>/runs/*.json``), the fresh run's file of the
same name is read from another results folder and the two test scores of the suite's ranking metric are
compared within the suite's tolerance (``tolerances.json``: relative, from the measured run-to-run spread).
A job that was not re-run, failed, or moved by more than the tolerance is a ✗, named so it can be inspected.

Training is reproducible to the last digits on one kind of processor, not across kinds: PyTorch picks its CPU
kernels by the instruction set (AVX2, AVX512, ...), their sums round differently, and a few epochs on a small
smoke task can amplify that into another kept epoch. A job may therefore also have **references made on other
processor kinds**: the same job's result re-computed from a clean commit on that kind, committed under
``results/<suite>/<preset>/references/<kind>/`` (``--save-references`` writes them). A fresh result is compared
with the committed one and with the reference made on its own processor kind (same job hash), and passes within
the tolerance of either; the table says which. A move on a kind without a reference is a ✗ that names both kinds.

    python -m benchmarks.reports.compare --fresh reproduced [--committed results] [--preset smoke]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from orca.io import atomic_write, read_json

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
    against: str = "committed"
    """What the fresh score was checked against: ``committed``, or ``<kind> reference``."""


def processor_kind(record: dict) -> str:
    """The kind of processor a result was computed on: ``CUDA (<device>)``, the CPU's PyTorch capability
    (``AVX2``, ``AVX512``, ...), or ``unrecorded`` for results older than that record."""
    env = record.get("environment") or {}
    if env.get("cuda"):
        return f"CUDA ({env['cuda']})"
    return str(env.get("cpu_capability") or "unrecorded")


def _move(value: float, reference: float) -> float:
    """The relative distance of ``value`` from ``reference``."""
    return abs(value - reference) / max(abs(reference), 1e-12)


def _reference(runs: Path, name: str, kind: str, config_hash: str | None) -> dict | None:
    """The committed reference result of job ``name`` made on processor ``kind``, if one exists for the same job
    hash (a reference of superseded settings is ignored)."""
    path = runs.parent / "references" / kind / name
    if not path.is_file():
        return None
    ref = read_json(path)
    ok = ref.get("status") == "ok" and ref.get("config_hash") == config_hash and processor_kind(ref) == kind
    return ref if ok else None


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
            if _move(after, before) <= tol:
                rows.append(Row(suite, job, metric, before, after, tol, True))
                continue
            here, there = processor_kind(new), processor_kind(old)
            ref = _reference(runs, path.name, here, old.get("config_hash"))
            at_ref = None if ref is None else _score(ref)
            if at_ref is not None and _move(after, at_ref) <= tol:
                rows.append(Row(suite, job, metric, before, after, tol, True, against=f"{here} reference"))
                continue
            moved = f"moved {_move(after, before):.2%}"
            if at_ref is not None:
                moved += f", and {_move(after, at_ref):.2%} from the {here} reference"
            elif here != there:
                moved += f" (committed on {there}, re-computed on {here}; no {here} reference)"
            rows.append(Row(suite, job, metric, before, after, tol, False, moved))
    return rows


def save_references(rows: list[Row], fresh: Path, committed: Path, preset: str = "smoke") -> list[Path]:
    """Commit the fresh results of the jobs that moved (``rows`` from :func:`compare`) as references of the
    processor kind they were computed on, where that kind differs from the committed result's and the fresh run
    came from a clean commit. Returns the files written; a job that moved on the committed result's own kind, or
    from a dirty tree, is left alone (that is a change to inspect, not a processor difference)."""
    written = []
    for r in rows:
        if r.ok is not False or r.fresh is None:
            continue
        name = f"{r.job}.json"
        new = read_json(Path(fresh) / r.suite / preset / "runs" / name)
        old = read_json(Path(committed) / r.suite / preset / "runs" / name)
        kind = processor_kind(new)
        clean = (new.get("environment") or {}).get("git", {}).get("dirty") is False
        if kind in (processor_kind(old), "unrecorded") or not clean or new.get("config_hash") != old.get("config_hash"):
            continue
        dest = Path(committed) / r.suite / preset / "references" / kind / name
        atomic_write(dest, lambda tmp, src=Path(fresh) / r.suite / preset / "runs" / name: shutil.copyfile(src, tmp))
        written.append(dest)
    return written


def table(rows: list[Row]) -> str:
    """The comparison as a fixed-width table, then a one-line verdict."""
    lines = [f"{'suite':<12} {'job':<36} {'metric':<12} {'committed':>11} {'re-computed':>12} {'tolerance':>9}  ",
             "-" * 100]
    for r in rows:
        fmt = lambda v: "–" if v is None else f"{v:.6g}"  # noqa: E731
        mark = ("✓" + ("" if r.against == "committed" else f" ({r.against})") if r.ok
                else "–" if r.ok is None else "✗ " + r.why)
        lines.append(f"{r.suite:<12} {r.job:<36} {r.metric:<12} {fmt(r.committed):>11} {fmt(r.fresh):>12} "
                     f"{r.tolerance:>9.1e}  {mark}")
    bad = [r for r in rows if r.ok is False]
    skipped = sorted({(r.suite, r.why) for r in rows if r.ok is None})
    checked = [r for r in rows if r.ok is not None]
    lines.append("")
    by_ref = [r for r in checked if r.ok and r.against != "committed"]
    lines.append(f"{len(checked) - len(bad)} of {len(checked)} committed results reproduced within tolerance"
                 + (f" ({len(by_ref)} of them against the reference made on this processor kind)" if by_ref else "")
                 + (f"; inspect: {', '.join(f'{r.suite}/{r.job}' for r in bad)}" if bad else ""))
    lines += [f"{suite}: not checked, {why}" for suite, why in skipped]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", required=True, help="the results folder the re-run wrote")
    parser.add_argument("--committed", default="results")
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--suites", nargs="+")
    parser.add_argument("--save-references", action="store_true",
                        help="commit the fresh results of jobs that moved as references of this processor kind "
                             "(only from a clean commit, on a kind other than the committed result's)")
    args = parser.parse_args(argv)
    rows = compare(Path(args.committed), Path(args.fresh), args.preset, args.suites)
    if not rows:
        print(f"no committed {args.preset} results under {args.committed}", file=sys.stderr)
        return 2
    print(table(rows))
    if args.save_references:
        for path in save_references(rows, Path(args.fresh), Path(args.committed), args.preset):
            print(f"reference written: {path}")
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
