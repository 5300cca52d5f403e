"""Reading result files: the rows of successful runs, the failed records, and files that cannot be read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from orca.io import read_json

from .searches import search_record


def load_results(folder: Path, metric_version: Callable[[str, dict], int] = lambda task, params: 1,
                 expected_hashes: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Rows of successful runs, the failed records, and files that cannot be used: unreadable ones, results
    scored by another version of the suite's metrics than ``metric_version(task, task_params)``, and results
    whose settings are no longer the preset's (their ``config_hash`` differs from ``expected_hashes[file name]``,
    e.g. ``orca-default`` after the estimators' defaults changed). Superseded numbers are left out; ``--resume``
    re-runs them. Files of jobs the preset no longer plans are kept."""
    rows, failed, unreadable = [], [], []
    for path in sorted(folder.glob("*.json")):
        try:
            rec = read_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            unreadable.append(path.name)
            continue
        current = metric_version(rec.get("task", ""), (rec.get("resolved_config") or {}).get("task_params", {}))
        if rec.get("metric_version", 1) != current:
            unreadable.append(f"{path.name} (scored by metric version {rec.get('metric_version', 1)}; the suite's "
                              f"is {current}: superseded, left out)")
            continue
        want = (expected_hashes or {}).get(path.name)
        if want is not None and rec.get("config_hash") != want:
            unreadable.append(f"{path.name} (made under other settings, hash {rec.get('config_hash')}; the preset's "
                              f"are now {want}: superseded, left out)")
            continue
        if rec.get("status") != "ok":
            failed.append(rec)
            continue
        metric = rec["metric"]
        test = rec.get("metrics", {}).get("test", {})
        val = rec.get("metrics", {}).get("val") or {}
        check = rec.get("metrics", {}).get("check") or {}
        rows.append({"task": rec["task"], "method": rec["method"], "seed": rec["seed"], "metric": metric,
                     "value": test.get(metric, float("nan")), "val": val.get(metric, float("nan")),
                     "val_loss": val.get("loss", float("nan")), "check": check.get(metric, float("nan")),
                     "check_loss": check.get("loss", float("nan")), "data_kind": rec.get("data", {}).get("kind", "real"),
                     "task_name": rec.get("data", {}).get("name", rec["task"]), "file": path.name,
                     "align_curve": (rec.get("align") or {}).get("curve") or [],
                     "val_curve": _val_curve(rec),
                     "published_task": rec.get("data", {}).get("published_task"),
                     "example": rec.get("example"),
                     "rollout": _rollout(rec, metric),
                     "final": rec.get("metrics", {}).get("test_final", {}).get(metric),
                     "yardstick": rec.get("yardstick"),
                     "wall_s": float(rec.get("wall_time_s") or float("nan")),
                     "threads": (rec.get("environment") or {}).get("torch_threads"),
                     "cpu": (rec.get("environment") or {}).get("cpu_capability"),
                     "cpu_model": (rec.get("environment") or {}).get("cpu_model"),
                     **_precision(rec),
                     **_training(rec), **_traits(rec.get("data") or {}),
                     "profile": ({k: float(test[k]) for k in PROFILE if test.get(k) is not None}
                                 if "brmse" in test else {}),  # fields only (a table's RMSE is no profile)
                     "search": search_record(rec),
                     "adopted_from": (rec.get("adopted_from") or {}).get("method"),
                     "adopted_preset": (rec.get("adopted_from") or {}).get("preset"),  # None: this preset
                     "adopted_variant": (rec.get("adopted_from") or {}).get("variant"),  # "top-k": an ensemble
                     "dirty": bool((rec.get("environment", {}).get("git") or {}).get("dirty"))})
    return pd.DataFrame(rows), failed, unreadable


def _precision(rec: dict) -> dict:
    """The refine precision an ORCA result asked for (``refine.mixed_precision``: no, bf16 or auto) and the one
    it ran in (recorded since ``auto`` existed; before, always the one asked for); ``None`` for other methods."""
    refine = ((rec.get("resolved_config") or {}).get("method_params") or {}).get("refine")
    if not isinstance(refine, dict):  # not an ORCA method
        return {"precision_asked": None, "precision": None}
    asked = refine.get("mixed_precision") or "no"
    ran = (rec.get("refine") or {}).get("precision") or (asked if asked != "auto" else None)
    return {"precision_asked": asked, "precision": ran}


def _training(rec: dict) -> dict:
    """How a neural run's training ended (:mod:`orca.stopping`): epochs run, best epoch, stop reason, whether it
    converged (stopped on patience) and samples seen; all ``None`` for methods that do not train by epochs.

    Files written before the record existed are read from their refine curve: no preset set a patience then,
    so every such run ended on its epoch cap and is recorded as not converged."""
    t = rec.get("training")
    if t:
        return {"epochs_run": t.get("epochs_run"), "best_epoch": t.get("best_epoch"),
                "stop_reason": t.get("stop_reason"), "converged": t.get("converged"),
                "samples_seen": t.get("samples_seen"), "loss": t.get("loss")}
    refine = rec.get("refine") or {}
    if refine.get("best_epoch") is None:
        return {"epochs_run": None, "best_epoch": None, "stop_reason": None, "converged": None, "samples_seen": None,
                "loss": None}
    curve = refine.get("curve") or refine.get("history")
    return {"epochs_run": len(curve) if curve else None, "best_epoch": refine["best_epoch"],
            "stop_reason": "cap", "converged": False, "samples_seen": None, "loss": None}


PROFILE = ("rmse", "brmse", "frmse_low", "frmse_mid", "frmse_high")
"""The error-profile metrics a field result may record beside its ranking metric (PDEBench's RMSE, boundary RMSE
and Fourier-band RMSEs; :func:`.tables.error_profile_table`)."""

TRAITS = ("train_rows", "features", "categorical_share", "classes", "length")
"""A table task's traits as its results record them (:func:`_traits`); ``NaN`` where a result does not."""


def _traits(data: dict) -> dict:
    """A task's traits from a result's ``data`` record: training rows, columns (``features``, else the number of
    column names), the share of categorical columns, classes and a series' length; ``NaN`` for what a result does
    not record (OpenML results written before ``features`` and ``classes`` were recorded have only the rows)."""
    rows = (data.get("rows") or {}).get("train")
    features = data.get("features") or (len(data["columns"]) if isinstance(data.get("columns"), list) else None)
    categorical = data.get("categorical")
    share = len(categorical) / features if features and categorical is not None else float("nan")
    return {"train_rows": float(rows) if rows is not None else float("nan"),
            "features": float(features) if features else float("nan"), "categorical_share": share,
            "classes": float(data["classes"]) if data.get("classes") else float("nan"),
            "length": float(data["length"]) if data.get("length") else float("nan")}


def _rollout(rec: dict, metric: str) -> list[float] | None:
    """The ranking metric after each roll-out step (files written before metric version 2 kept only the
    relative l2)."""
    steps = rec.get("rollout") or {}
    return steps.get(f"{metric}_per_step", steps.get("relative_l2_per_step"))


def _val_curve(rec: dict) -> tuple[str, list[float]]:
    """ORCA's validation score per refine epoch and its name (``("", [])`` for runs that record none)."""
    history = [h for h in (rec.get("refine") or {}).get("history") or [] if isinstance(h, dict)]
    names = [k for k in (history[0] if history else {}) if k.startswith("val_") and k != "val_loss"]
    if not names:
        return "", []
    return names[0].removeprefix("val_"), [float(h[names[0]]) for h in history]

