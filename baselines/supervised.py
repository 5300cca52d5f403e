"""One training loop for the supervised baselines (CNNs, FNO, U-Net): Adam with weight decay, step decay of
the learning rate, mini-batches drawn with a seeded generator, and the checkpoint with the best validation
score kept (validation from training data only; the test split is never seen here)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from orca.exceptions import ConfigError
from orca.registry import get

LOSSES = ("mse", "relative_l2", "cross_entropy", "bce")
"""The losses these baselines train on: the core's registered losses of those names (one table, shared with
ORCA's refine stage)."""


def loss_function(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in LOSSES:
        raise ConfigError(f"loss {name!r}; expected one of {list(LOSSES)}")
    return get("loss", name)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train_supervised` (defaults: PDEBench's baseline recipe, except the epoch count)."""

    epochs: int = 500
    batch_size: int = 50
    lr: float = 1e-3
    weight_decay: float = 1e-4
    step_size: int = 100
    gamma: float = 0.5
    loss: str = "mse"

    def __post_init__(self) -> None:
        loss_function(self.loss)
        if self.epochs < 1 or self.batch_size < 1 or self.step_size < 1:
            raise ConfigError("epochs, batch_size and step_size must be positive")


@torch.no_grad()
def predict_batches(model: nn.Module, X: np.ndarray, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """The model's raw outputs over ``X`` in evaluation mode, batch by batch, as a NumPy array."""
    model.eval()
    out = [model(torch.as_tensor(X[i:i + batch_size], device=device)).cpu().numpy()
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out)


def train_supervised(model: nn.Module, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                     config: TrainConfig, val_error: Callable[[np.ndarray, np.ndarray], float], seed: int = 0,
                     device: str = "cpu", progress: bool = True) -> dict[str, Any]:
    """Train ``model`` in place; keep the state with the lowest ``val_error(y_val, raw outputs)``.

    Returns the history (train loss and validation error per epoch), the best epoch and error, and the seconds.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=config.step_size, gamma=config.gamma)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long if config.loss == "cross_entropy" else torch.float32)
    loss_fn = loss_function(config.loss)
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    best, best_state, best_epoch, history = float("inf"), None, -1, []
    start = time.perf_counter()
    for epoch in tqdm(range(config.epochs), desc=type(model).__name__, leave=False, disable=not progress):
        model.train()
        order = torch.randperm(len(Xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            if len(idx) < 2 and has_bn:
                continue  # BatchNorm cannot train on a single example
            loss = loss_fn(model(Xt[idx].to(device)), yt[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        val = float(val_error(y_val, predict_batches(model, X_val, device=device)))
        history.append({"epoch": epoch, "train_loss": total / len(Xt), "val_error": val})
        if val < best:
            best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"history": history, "best_epoch": best_epoch, "best_val_error": best,
            "seconds": time.perf_counter() - start, "config": asdict(config)}
