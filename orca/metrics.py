"""Task metrics: pure functions of the whole evaluation set, never averaged over chunks.

Every metric takes ``(y_true, y_pred)`` as NumPy arrays and returns a float. ``y_pred`` is what the task's
``predict_output`` produces: class probabilities ``(N, K)`` for classification, label probabilities ``(N, K)``
for multi-label, and values of the target's shape for regression and dense outputs. Each metric is registered
with its direction (``higher_is_better``) so reports can rank without a lookup table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from .registry import get, register


@dataclass(frozen=True)
class Metric:
    """A named metric and its direction."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.fn(np.asarray(y_true), np.asarray(y_pred)))


def _metric(name: str, higher_is_better: bool):
    def decorator(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[[np.ndarray, np.ndarray], float]:
        register("metric", name)(Metric(name, fn, higher_is_better))
        return fn

    return decorator


def get_metric(name: str) -> Metric:
    return get("metric", name)


# ---- classification (y_pred: probabilities (N, K)) ---------------------------------------------------------
@_metric("accuracy", True)
def accuracy(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    return float(np.mean(np.argmax(y_prob, axis=1) == y_true))


@_metric("error", False)
def error(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """0-1 error (NAS-Bench-360 reports it in percent; this is a fraction)."""
    return 1.0 - accuracy(y_true, y_prob)


@_metric("f1_macro", True)
def f1_macro(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    return float(skm.f1_score(y_true, np.argmax(y_prob, axis=1), average="macro"))


@_metric("roc_auc", True)
def roc_auc(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Binary ROC AUC on the positive-class probability; multi-class: one-vs-one macro (TabPFN's protocol)."""
    if y_prob.shape[1] == 2:
        return float(skm.roc_auc_score(y_true, y_prob[:, 1]))
    prob = y_prob / y_prob.sum(axis=1, keepdims=True)
    return float(skm.roc_auc_score(y_true, prob, multi_class="ovo", labels=np.arange(y_prob.shape[1])))


@_metric("log_loss", False)
def log_loss(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    return float(skm.log_loss(y_true, y_prob, labels=np.arange(y_prob.shape[1])))


# ---- multi-label (y_true: {0,1} (N, K); y_pred: probabilities (N, K)) ---------------------------------------
@_metric("map", True)
def mean_average_precision(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Macro mean average precision over labels that have at least one positive (FSD50K-style mAP)."""
    keep = y_true.sum(axis=0) > 0
    return float(skm.average_precision_score(y_true[:, keep], y_prob[:, keep], average="macro"))


@_metric("mean_auroc", True)
def mean_auroc(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Macro ROC AUC over labels with both classes present (DeepSEA)."""
    keep = (y_true.sum(axis=0) > 0) & (y_true.sum(axis=0) < len(y_true))
    return float(skm.roc_auc_score(y_true[:, keep], y_prob[:, keep], average="macro"))


# ---- regression and dense outputs (same shape) --------------------------------------------------------------
def _flat(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} differs from y_pred shape {y_pred.shape}")
    n = y_true.shape[0]
    return y_true.reshape(n, -1).astype(np.float64), y_pred.reshape(n, -1).astype(np.float64)


@_metric("mse", False)
def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _flat(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


@_metric("rmse", False)
def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(mse(y_true, y_pred)))


@_metric("mae", False)
def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _flat(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


@_metric("r2", True)
def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _flat(y_true, y_pred)
    return float(skm.r2_score(t, p))


@_metric("relative_l2", False)
def relative_l2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over samples of ||y_pred - y_true||_2 / ||y_true||_2 in float64 (the training loss's kernel,
    :func:`orca.losses.relative_l2_per_sample`)."""
    import torch

    from .losses import relative_l2_per_sample

    t, p = _flat(y_true, y_pred)
    return float(relative_l2_per_sample(torch.from_numpy(p), torch.from_numpy(t)).mean())


@_metric("nrmse", False)
def nrmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """PDEBench's nRMSE: ||y_pred - y_true||_2 / ||y_true||_2 per sample *and channel* (axis 1 of
    ``(N, C, *space)``), averaged over both; equal to :func:`relative_l2` when there is one channel. Arrays of
    fewer than three axes are one channel."""
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} differs from y_pred shape {y_pred.shape}")
    n = y_true.shape[0]
    c = y_true.shape[1] if y_true.ndim >= 3 else 1
    t = y_true.reshape(n, c, -1).astype(np.float64)  # (N, C, points)
    e = y_pred.reshape(n, c, -1).astype(np.float64) - t
    return float(np.mean(np.sqrt((e**2).sum(axis=2)) / np.sqrt((t**2).sum(axis=2))))
