"""Reading result files: the rows of successful runs, the failed records, and files that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from orca.io import read_json


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
                     "final": rec.get("metrics", {}).get("test_final", {}).get(metric),
                     "yardstick": rec.get("yardstick"),
                     "dirty": bool((rec.get("environment", {}).get("git") or {}).get("dirty"))})
    return pd.DataFrame(rows), failed, unreadable


def _val_curve(rec: dict) -> tuple[str, list[float]]:
    """ORCA's validation score per refine epoch and its name (``("", [])`` for runs that record none)."""
    history = [h for h in (rec.get("refine") or {}).get("history") or [] if isinstance(h, dict)]
    names = [k for k in (history[0] if history else {}) if k.startswith("val_") and k != "val_loss"]
    if not names:
        return "", []
    return names[0].removeprefix("val_"), [float(h[names[0]]) for h in history]
