"""The ORCA method of the suites that call the core directly: one function, with per-suite hooks.

Its settings are the method's ORCA section, then the task's own ORCA overrides (``task_params.<task>.orca``),
then the job's seed, as one :class:`orca.OrcaConfig`. It fits through :func:`orca.fit` (checkpointing and
resuming as the runner says) and records what every suite records: timings, parameter counts, both stages'
reports, the resolved config, the body's source and device, the split sizes. A suite supplies:

- ``split(data, seed)``: ``(X, y, X_val, y_val)``, its validation protocol (trajectories kept whole, a
  published validation split); without it :func:`orca.fit` carves ``refine.val_fraction``;
- ``score(data, predict, result)``: the suite's metrics (and any extra record fields) from ``predict``, which
  maps inputs to ``(raw outputs, predictions)`` of the selected model.

The OpenML suite runs ORCA through the scikit-learn facade instead, on purpose: as a user would run it on a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orca import OrcaConfig
from orca.config import flatten
from orca.exceptions import ConfigError

from .config import CARRIED_KEYS
from .suite import JobContext, TaskData

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class OrcaHooks:
    """What a suite changes in :func:`run_orca` (module-level functions, so jobs pickle to worker processes)."""

    score: Callable[[TaskData, Predict, Any, int], dict[str, Any]]
    """(data, predictions, the fit's :class:`orca.pipeline.RunResult`, seed) -> the suite's scores."""
    split: Callable[[TaskData, int], tuple[np.ndarray, ...]] | None = None


def orca_config(params: dict, task_params: dict, seed: int) -> OrcaConfig:
    """The ORCA method's settings with the task's own ORCA settings (``task_params.<task>.orca``) and the seed on
    top. The sections carried beside the config (:data:`.config.CARRIED_KEYS`: the scikit-learn estimators' own
    parameters, a validation search, a check split) need the facade's runners and are refused here."""
    carried = [key for key in CARRIED_KEYS if key in params]
    if carried:
        raise ConfigError(f"the section(s) {carried} apply only to suites that run ORCA through the scikit-learn "
                          "estimators (their runners read them); this suite calls the core directly, so a method "
                          f"here may hold only the config's own sections (got {carried[0]}={params[carried[0]]!r})")
    return OrcaConfig.from_dict(params).with_overrides({**flatten(task_params.get("orca", {})), "seed": seed})


def run_orca(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext(), *,
             hooks: OrcaHooks) -> dict[str, Any]:
    """Fit ORCA on ``data`` with the resolved settings and record the suite's scores beside the common fields."""
    from orca.data import ArrayDataset
    from orca.pipeline import fit
    from orca.refine import predict

    config = orca_config(params, data.params, seed)
    if hooks.split is not None:
        X, y, X_val, y_val = hooks.split(data, seed)
    else:
        X, y, X_val, y_val = data.X_train, data.y_train, None, None
    result = fit(data.task, X, y, config, X_val=X_val, y_val=y_val, checkpoint_dir=ctx.checkpoint_dir,
                 resume=ctx.resume, checkpoint_every_s=ctx.checkpoint_every_s)

    def predictions(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict(result.model, ArrayDataset(x, np.zeros(len(x), dtype=np.float32)))

    record = {**hooks.score(data, predictions, result, seed), **common_record(result, config)}
    record["split"] = {**result.split, "test": len(data.X_test)}  # fit never sees the test split; it is scored here
    return record


def common_record(result: Any, config: OrcaConfig) -> dict[str, Any]:
    """What every ORCA result records besides its scores (``result`` is an :class:`orca.pipeline.RunResult`)."""
    return {"timings_s": result.timings, "parameters": result.parameters, "align": result.align_report.to_dict(),
            "refine": {k: result.refine_info.get(k) for k in ("best_epoch", "steps", "history", "precision")},
            "training": result.refine_info.get("training"),
            "orca_config": config.to_dict(), "body_source": getattr(result.model.body, "source", "given"),
            "device": result.refine_info.get("device"), "split": result.split}
