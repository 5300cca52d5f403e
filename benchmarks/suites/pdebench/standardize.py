"""Per-channel standardisation of a PDE task's fields (task setting ``standardize``), for every trained method.

Where a task's channels live on different scales (1D compressible Navier–Stokes: density 1–10, pressure 10–100,
velocity about 0), an MSE in physical units is the pressure's error alone, and a network fed the raw fields sees
inputs of size 100. With ``standardize = "channel"`` every trained method (ORCA, FNO, U-Net) trains and is
selected on fields standardised per channel with the training part's mean and spread (the ORCA reference code
standardises its CFD data the same way); predictions are mapped back, so the test split is scored in physical
units, as without it. The floors need no scaling (the mean field is the same in either unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from orca.exceptions import ConfigError

from ...runner.suite import TaskData
from .data import _val_split

CHOICES = ("none", "channel")


@dataclass(frozen=True)
class ChannelScaler:
    """Per-channel mean and spread of inputs and targets, each of shape ``(1, C, 1, ...)`` (broadcast over
    samples and space)."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray) -> "ChannelScaler":
        """From training fields ``X`` (N, C_in, *space) and ``y`` (N, C_out, *space); a channel that does not
        vary keeps spread 1 (it is only centred)."""
        def stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            axes = (0, *range(2, a.ndim))  # all but the channel axis
            mean = a.mean(axis=axes, keepdims=True, dtype=np.float64)
            std = a.std(axis=axes, keepdims=True, dtype=np.float64)
            return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)

        (xm, xs), (ym, ys) = stats(X), stats(y)
        return cls(xm, xs, ym, ys)

    def inputs(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.x_mean) / self.x_std).astype(np.float32)

    def targets(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_std).astype(np.float32)

    def physical(self, pred: np.ndarray) -> np.ndarray:
        """Standardised predictions back in physical units."""
        return (np.asarray(pred) * self.y_std + self.y_mean).astype(np.float32)

    def wrap(self, step: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        """A one-step map on physical fields from ``step``, trained on standardised ones (roll-outs feed its
        physical output back in)."""
        return lambda X: self.physical(step(self.inputs(X)))


def training_split(data: TaskData, seed: int) -> tuple[tuple[np.ndarray, ...], ChannelScaler | None]:
    """The training and validation parts of a task's training rows (trajectories kept whole), standardised per
    channel with the training part's statistics when the task sets ``standardize = "channel"``, and the scaler
    (``None`` without)."""
    X, y, X_val, y_val = _val_split(data, data.params["val_fraction"], seed)
    scaler = ChannelScaler.fit(X, y) if _standardized(data) else None
    if scaler is None:
        return (X, y, X_val, y_val), None
    return (scaler.inputs(X), scaler.targets(y), scaler.inputs(X_val), scaler.targets(y_val)), scaler


def channel_scaler(data: TaskData, seed: int) -> ChannelScaler | None:
    """The scaler :func:`training_split` fits for ``(data, seed)`` (the same training part, so the same
    statistics), without standardising the arrays; ``None`` where the task does not standardise."""
    if not _standardized(data):
        return None
    X, y, _, _ = _val_split(data, data.params["val_fraction"], seed)
    return ChannelScaler.fit(X, y)


def _standardized(data: TaskData) -> bool:
    how = data.params.get("standardize", "none")
    if how not in CHOICES:
        raise ConfigError(f"task {data.task.name!r}: standardize={how!r}; expected one of {list(CHOICES)}")
    return how == "channel"
