"""One training loop for the supervised baselines (CNNs, FNO, U-Net): Adam with weight decay, step decay of
the learning rate (or decay when the validation score stalls), mini-batches drawn with a seeded generator, and the
checkpoint with the best validation score kept (validation from training data only; the test split is never seen
here)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from orca.exceptions import ConfigError
from orca.io import torch_save
from orca.registry import get
from orca.stopping import stop_reason, training_record

LOSSES = ("mse", "relative_l2", "cross_entropy", "bce")
"""The losses these baselines train on: the core's registered losses of those names (one table, shared with
ORCA's refine stage)."""


def loss_function(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in LOSSES:
        raise ConfigError(f"loss {name!r}; expected one of {list(LOSSES)}")
    return get("loss", name)


SCHEDULES = ("step", "plateau")
"""The learning-rate schedules of :class:`TrainConfig`."""

ADDED_DEFAULTS = {"schedule": "step", "lr_patience": 10}
"""Settings added after checkpoints were first written, with the values that reproduce the earlier behaviour:
left out of a checkpoint's fingerprint at these values, so that older checkpoints still resume."""


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
    patience: int | None = None
    """Stop after this many epochs without a validation improvement (:mod:`orca.stopping`); ``None``: never."""
    max_seconds: float | None = None
    """Wall-clock training budget, counted across resumptions (the equal-budget presets)."""
    schedule: str = "step"
    """How the learning rate decays: ``"step"`` (times ``gamma`` every ``step_size`` epochs, PDEBench's recipe) or
    ``"plateau"`` (times ``gamma`` once ``lr_patience`` epochs in a row bring no better validation score, the same
    test as ``patience``'s; ``step_size`` is then unused). Under a step schedule, a ``patience`` shorter than
    ``step_size`` can end training on a plateau that the next decay would have left (docs/pdebench.md, the
    ``converged`` preset); under ``"plateau"`` with ``patience`` a multiple of ``lr_patience + 1``, training
    stops only once that many decays in a row have brought nothing."""
    lr_patience: int = 10
    """Under ``schedule="plateau"``: how many epochs without a better validation score are borne before the
    learning rate decays (it decays after the next one: PyTorch's ``ReduceLROnPlateau`` counting)."""

    def __post_init__(self) -> None:
        loss_function(self.loss)
        if self.epochs < 1 or self.batch_size < 1 or self.step_size < 1:
            raise ConfigError("epochs, batch_size and step_size must be positive")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule {self.schedule!r}; expected one of {list(SCHEDULES)}")
        if self.lr_patience < 0:
            raise ConfigError(f"lr_patience must be a number of epochs >= 0, got {self.lr_patience}")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be a positive number of epochs or None, got {self.patience}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ConfigError(f"max_seconds must be positive or None, got {self.max_seconds}")


def on_device_if_small(t: torch.Tensor, device: str | torch.device, share: float = 0.25) -> torch.Tensor:
    """``t`` moved to an accelerator ``device`` once, where it takes at most ``share`` of the free memory there, so
    that training indexes its mini-batches on the device instead of copying each one from host memory (a
    synchronous copy that stalls the step); otherwise, and on the CPU, ``t`` unchanged. Indexing is exact, so the
    batches are the same either way."""
    device = torch.device(device)
    if device.type != "cuda":
        return t
    free, _ = torch.cuda.mem_get_info(device)
    return t.to(device) if t.numel() * t.element_size() <= share * free else t


@torch.no_grad()
def predict_batches(model: nn.Module, X: np.ndarray, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """The model's raw outputs over ``X`` in evaluation mode, batch by batch, as a NumPy array."""
    model.eval()
    out = [model(torch.as_tensor(X[i:i + batch_size], device=device)).cpu().numpy()
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out)


def _fingerprint(model: nn.Module, config: TrainConfig, seed: int, arrays: tuple[np.ndarray, ...]) -> str:
    """What a checkpoint must match to be resumed: the model's layout, the settings, the seed and the data."""
    settings = {k: v for k, v in asdict(config).items() if k not in ADDED_DEFAULTS or v != ADDED_DEFAULTS[k]}
    digest = hashlib.sha256(json.dumps({"config": settings, "seed": seed, "model": type(model).__name__,
                                        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}},
                                       sort_keys=True).encode())
    for arr in arrays:
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()[:16]


def train_supervised(model: nn.Module, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                     config: TrainConfig, val_error: Callable[[np.ndarray, np.ndarray], float], seed: int = 0,
                     device: str = "cpu", progress: bool = True, checkpoint_dir: str | Path | None = None,
                     resume: bool = False, checkpoint_every_s: float = 0.0) -> dict[str, Any]:
    """Train ``model`` in place; keep the state with the lowest ``val_error(y_val, raw outputs)``.

    With ``checkpoint_dir``, the whole training state (weights, optimiser, schedule, shuffling generator, best
    state, history) is written there after an epoch, at most every ``checkpoint_every_s`` seconds, and
    ``resume=True`` continues from it exactly (read with ``weights_only=True``; a checkpoint of other settings or
    data is refused). Returns the history (train loss and validation error per epoch), the best epoch and
    error, the seconds, the device and ``training``, how training ended (:func:`orca.stopping.training_record`:
    on patience, on the epoch cap or on the time budget).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.schedule == "plateau":  # threshold 0: "better" is strictly lower, the test patience uses
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=config.gamma,
                                                           patience=config.lr_patience, threshold=0.0)
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=config.step_size, gamma=config.gamma)
    Xt = on_device_if_small(torch.as_tensor(X, dtype=torch.float32), device)
    yt = on_device_if_small(torch.as_tensor(y, dtype=torch.long if config.loss == "cross_entropy" else torch.float32),
                            device)
    loss_fn = loss_function(config.loss)
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    best, best_state, best_epoch, history, first = float("inf"), None, -1, [], 0
    bad, samples, before, reason = 0, 0, 0.0, None
    ckpt = Path(checkpoint_dir) / "last.pt" if checkpoint_dir is not None else None
    fingerprint = _fingerprint(model, config, seed, (X, y, X_val, y_val)) if ckpt is not None else ""
    if resume and ckpt is not None and ckpt.is_file():
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
        if saved.get("fingerprint") != fingerprint:
            raise ConfigError(f"checkpoint {ckpt} was written under other settings or data; refusing to resume")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        gen.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        best, best_epoch, history, first = saved["best"], saved["best_epoch"], saved["history"], saved["epoch"]
        best_state = saved["best_state"]
        bad, samples, before, reason = (saved.get("bad_epochs", 0), saved.get("samples", 0), saved.get("elapsed", 0.0),
                                        saved.get("stop"))
    start = last_save = time.perf_counter()

    def budget_spent() -> bool:
        return config.max_seconds is not None and before + time.perf_counter() - start >= config.max_seconds

    epoch = first - 1
    for epoch in tqdm(range(first, config.epochs), desc=type(model).__name__, leave=False, disable=not progress):
        if reason is not None:  # a resumed run that had already stopped
            epoch -= 1
            break
        model.train()
        order = torch.randperm(len(Xt), generator=gen).to(Xt.device)
        total = torch.zeros((), dtype=torch.float64, device=device)  # summed on the device: no sync per step
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            if len(idx) < 2 and has_bn:
                continue  # BatchNorm cannot train on a single example
            loss = loss_fn(model(Xt[idx].to(device)), yt[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach().double() * len(idx)  # the same float64 sum, in the same order, as float(loss)
            samples += len(idx)
            if budget_spent():
                break
        lr = float(opt.param_groups[0]["lr"])  # the rate this epoch trained at
        val = float(val_error(y_val, predict_batches(model, X_val, device=device)))
        if config.schedule == "plateau":
            sched.step(val)
        else:
            sched.step()
        history.append({"epoch": epoch, "train_loss": float(total) / len(Xt), "val_error": val, "lr": lr})
        if val < best:
            best, best_epoch, best_state, bad = val, epoch, {k: v.detach().cpu().clone() for k, v in
                                                             model.state_dict().items()}, 0
        else:
            bad += 1
        reason = stop_reason(budget_spent=budget_spent(), bad_epochs=bad, patience=config.patience,
                             cap_reached=epoch + 1 >= config.epochs)
        if ckpt is not None and (time.perf_counter() - last_save >= checkpoint_every_s or reason is not None):
            torch_save(ckpt, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                              "scheduler": sched.state_dict(), "generator": gen.get_state(),
                              "torch_rng": torch.get_rng_state(), "best": best, "best_epoch": best_epoch,
                              "history": history, "epoch": epoch + 1, "epochs_cap": config.epochs,
                              "best_state": best_state,
                              "fingerprint": fingerprint, "bad_epochs": bad, "samples": samples,
                              "elapsed": before + time.perf_counter() - start, "stop": reason})
            last_save = time.perf_counter()
        if reason is not None:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    training = training_record(epochs_run=len(history), best_epoch=None if best_epoch < 0 else best_epoch,
                               reason=reason, samples_seen=samples, seconds=before + seconds,
                               epochs_cap=config.epochs, patience=config.patience, max_seconds=config.max_seconds,
                               resumed_seconds=before)
    return {"history": history, "best_epoch": best_epoch, "best_val_error": best, "seconds": seconds,
            "config": asdict(config), "device": str(device), "training": training}
