"""Training for the field-to-field baselines (FNO, U-Net) in PDEBench's recipe: Adam (lr 1e-3, weight decay
1e-4), StepLR (halve every ``step_size`` epochs; or halve on a validation plateau, ``schedule="plateau"``), MSE loss; the checkpoint with the lowest validation relative l2
(validation carved from the training data) is kept, the test split is scored once. The loop itself is
:func:`baselines.supervised.train_supervised`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from orca.exceptions import ConfigError
from orca.losses import relative_l2

from .supervised import TrainConfig, predict_batches, train_supervised

predict_fields = predict_batches
__all__ = ["FieldTrainConfig", "predict_fields", "relative_l2", "train_field_model"]


@dataclass(frozen=True)
class FieldTrainConfig(TrainConfig):
    """Settings of :func:`train_field_model`: a field loss, ``mse`` (PDEBench's) or ``relative_l2``."""

    def __post_init__(self) -> None:
        if self.loss not in ("mse", "relative_l2"):
            raise ConfigError(f"loss {self.loss!r}; expected one of ['mse', 'relative_l2']")
        super().__post_init__()


def val_relative_l2(y_val: np.ndarray, pred: np.ndarray) -> float:
    return float(relative_l2(torch.as_tensor(pred), torch.as_tensor(y_val)))


def train_field_model(model: nn.Module, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                      config: FieldTrainConfig, seed: int = 0, device: str = "cpu", progress: bool = True,
                      **checkpointing: Any) -> dict[str, Any]:
    """Train ``model`` in place on float32 fields (N, C, *space); load the best validation state at the end.

    ``checkpointing``: ``checkpoint_dir``, ``resume``, ``checkpoint_every_s`` as for
    :func:`~baselines.supervised.train_supervised`. Returns the history (train loss and validation relative l2
    per epoch), the best epoch and the seconds."""
    info = train_supervised(model, X, y, X_val, y_val, config, val_relative_l2, seed, device, progress,
                            **checkpointing)
    info["history"] = [{"epoch": h["epoch"], "train_loss": h["train_loss"], "val_relative_l2": h["val_error"],
                        "lr": h.get("lr")} for h in info["history"]]
    info["best_val_relative_l2"] = info.pop("best_val_error")
    return info
