"""``python -m benchmarks.report SUITE [--preset P] [--results results]``: build a suite's report from its result
files (see :mod:`benchmarks.reports.build`)."""

from __future__ import annotations

from .reports.build import main, presets_with_results, report
from .reports.published import published_rows
from .reports.results import _val_curve

__all__ = ["main", "presets_with_results", "published_rows", "report", "_val_curve"]

if __name__ == "__main__":
    raise SystemExit(main())
