"""PDEBench scoring: PDEBench's field metrics of a one-step map on the test frames, roll-outs (metrics averaged
over the steps, the final step's, the error per step), and a test sample for the report's field plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...runner.suite import TaskData
from .metrics import field_metrics


def rollout(step: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, steps: int) -> np.ndarray:
    """Feed ``step``'s predictions back ``steps`` times from ``x0`` (N, C, *space); returns (N, steps, C, *space)."""
    states, x = [], x0
    for _ in range(steps):
        x = np.asarray(step(x), dtype=np.float32)
        if not np.isfinite(x).all():  # a diverged roll-out is scored as it is; later steps stay NaN
            x = np.where(np.isfinite(x), x, np.nan).astype(np.float32)
        states.append(x)
    return np.stack(states, axis=1)


def score(data: TaskData, step: Callable[[np.ndarray], np.ndarray]) -> tuple[dict[str, Any], np.ndarray]:
    """Test metrics of a trained one-step map ``step`` and its final-time prediction (N, C, *space).

    Single-step tasks: the metrics of ``step(X_test)``. Roll-out tasks: each step's metrics averaged over the
    steps (PDEBench averages every metric, the max error included, over time), the final step's as ``test_final``,
    and the nRMSE and relative l2 after each step."""
    if "rollout_targets" not in data.extra:
        pred = np.asarray(step(data.X_test))
        return {"test": field_metrics(data.y_test, pred)}, pred
    truth = data.extra["rollout_targets"]  # (N, K, C, *space)
    pred = rollout(step, data.X_test, truth.shape[1])
    per_step = [field_metrics(truth[:, k], pred[:, k]) for k in range(truth.shape[1])]
    averaged = {name: float(np.mean([m[name] for m in per_step])) for name in per_step[0]}  # PDEBench's time mean
    return {"test": averaged, "test_final": per_step[-1],
            "rollout": {"nrmse_per_step": [m["nrmse"] for m in per_step],
                        "relative_l2_per_step": [m["relative_l2"] for m in per_step],
                        "times": data.data.get("rollout_times")}}, pred[:, -1]


def _example(data: TaskData, pred: np.ndarray) -> dict[str, list]:
    """The first test sample's input, target and prediction (channel 0), for the report's field plot."""
    step = max(1, data.X_test[0, 0].size // 4096)  # keep result files small
    flat = (slice(None, None, step),) * (data.X_test.ndim - 2)
    return {"input": data.X_test[0, 0][flat].tolist(), "target": data.y_test[0, 0][flat].tolist(),
            "prediction": pred[0, 0][flat].tolist()}
