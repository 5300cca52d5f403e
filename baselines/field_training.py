"""Training loop for the field-to-field baselines (FNO, U-Net) in PDEBench's recipe: Adam (lr 1e-3, weight
decay 1e-4), StepLR (halve every ``step_size`` epochs), MSE loss; the checkpoint with the lowest validation
relative l2 (validation carved from the training data) is kept, the test split is scored once."""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from orca.exceptions import ConfigError


@dataclass(frozen=True)
class FieldTrainConfig:
    """Settings of :func:`train_field_model` (defaults: PDEBench's, except the epoch count)."""

    epochs: int = 500
    batch_size: int = 50
    lr: float = 1e-3
    weight_decay: float = 1e-4
    step_size: int = 100
    gamma: float = 0.5
    loss: str = "mse"

    def __post_init__(self) -> None:
        if self.loss not in ("mse", "relative_l2"):
            raise ConfigError(f"loss {self.loss!r}; expected one of ['mse', 'relative_l2']")
        if self.epochs < 1 or self.batch_size < 1 or self.step_size < 1:
            raise ConfigError("epochs, batch_size and step_size must be positive")


def relative_l2(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ||pred - target|| / ||target|| over all non-batch axes, averaged (PDEBench's nRMSE)."""
    diff = (pred - target).flatten(1).norm(dim=1)
    return (diff / target.flatten(1).norm(dim=1).clamp_min(1e-12)).mean()


@torch.no_grad()
def predict_fields(model: nn.Module, X: np.ndarray, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    model.eval()
    out = [model(torch.as_tensor(X[i:i + batch_size], device=device)).cpu().numpy()
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out)


def train_field_model(model: nn.Module, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                      config: FieldTrainConfig, seed: int = 0, device: str = "cpu",
                      progress: bool = True) -> dict[str, Any]:
    """Train ``model`` in place on float32 fields (N, C, *space); load the best validation state at the end.

    Returns the history (train loss and validation relative l2 per epoch), the best epoch and the seconds."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=config.step_size, gamma=config.gamma)
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    loss_fn = nn.functional.mse_loss if config.loss == "mse" else relative_l2
    best, best_state, best_epoch, history = float("inf"), None, -1, []
    start = time.perf_counter()
    for epoch in tqdm(range(config.epochs), desc=type(model).__name__, leave=False, disable=not progress):
        model.train()
        order = torch.randperm(len(Xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            if len(idx) < 2 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
                continue  # BatchNorm cannot train on a single example
            loss = loss_fn(model(Xt[idx].to(device)), yt[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        pred = predict_fields(model, X_val, device=device)
        val = float(relative_l2(torch.as_tensor(pred), torch.as_tensor(y_val)))
        history.append({"epoch": epoch, "train_loss": total / len(Xt), "val_relative_l2": val})
        if val < best:
            best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"history": history, "best_epoch": best_epoch, "best_val_relative_l2": best,
            "seconds": time.perf_counter() - start, "config": asdict(config)}
