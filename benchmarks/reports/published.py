"""Published numbers (``benchmarks/data/published_results.csv``, copied with their evidence tags from the
reference material): shown beside ours, never ranked against them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published_results.csv"


def published_rows(benchmarks: tuple[str, ...]) -> list[dict[str, Any]]:
    with open(PUBLISHED, newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["benchmark"] in benchmarks]
