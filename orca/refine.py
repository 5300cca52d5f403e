"""Stage 3, refine: fine-tune embedder, body and predictor on the task loss.

Written on Hugging Face Accelerate, so the same loop runs single-process on a CPU and data-parallel under
``accelerate launch``. Model selection and early stopping use a validation split carved from the training
data; the test split is evaluated once, on the selected checkpoint, by the caller. Checkpoints are written
atomically after every epoch, and ``resume=True`` continues from the last one (never implicitly).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .added import drop_added
from .augment import augment_dihedral, augment_series, check_augment, epoch_generator
from .config import RefineConfig
from .data import dataset_sha256
from .epoch_log import EpochLog
from .exceptions import ConfigError, DivergenceError
from .io import torch_save
from .metrics import get_metric
from .model import CrossModalModel
from .precision import resolve_precision, warn_if_emulated
from .registry import get
from .stopping import stop_reason, training_record
from .tasks import Task, predict_output
from .validate import check_device


def lr_lambda(step: int, total: int, warmup: int, schedule: str, horizon: int | None = None) -> float:
    """Learning-rate factor at optimiser step ``step``: linear warm-up, then cosine/linear decay or constant.

    The decay reaches zero at step ``horizon`` (default ``total``, the end of training); a horizon beyond the
    end leaves a positive rate at the last step, as the paper's schedule does."""
    # 1) linear warm-up over `warmup` steps
    if step < warmup:
        return (step + 1) / (warmup + 1)
    # 2) decay over the steps up to the horizon
    horizon = total if horizon is None else horizon
    if schedule == "constant" or horizon <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def epochs_for(cfg: RefineConfig, steps_per_epoch: int) -> int:
    """The epoch cap: ``cfg.epochs``, raised to ``ceil(min_steps / steps_per_epoch)`` when ``min_steps`` asks for
    more optimiser steps than ``epochs`` gives on this training set."""
    if cfg.min_steps is None:
        return cfg.epochs
    return max(cfg.epochs, math.ceil(cfg.min_steps / max(1, steps_per_epoch)))


def epochs_rule(cfg: RefineConfig, steps_per_epoch: int) -> str:
    """How :func:`epochs_for` chose, in words, for the run's record."""
    if cfg.min_steps is None:
        return f"epochs = {cfg.epochs} (refine.epochs)"
    return (f"epochs = max({cfg.epochs}, ceil({cfg.min_steps} min steps / {steps_per_epoch} steps per epoch)) = "
            f"{epochs_for(cfg, steps_per_epoch)}")


def _param_groups(model: CrossModalModel, cfg: RefineConfig) -> list[dict[str, Any]]:
    groups = []
    for part, lr in (("body", cfg.lr), ("embedder", cfg.lr * cfg.new_params_lr_mult),
                     ("predictor", cfg.lr * cfg.new_params_lr_mult)):
        params = [(n, p) for n, p in getattr(model, part).named_parameters() if p.requires_grad]
        decay = [p for n, p in params if p.ndim >= 2 and not n.endswith("pos")]
        no_decay = [p for n, p in params if not (p.ndim >= 2 and not n.endswith("pos"))]
        if decay:
            groups.append({"params": decay, "lr": lr, "weight_decay": cfg.weight_decay, "name": f"{part}.decay"})
        if no_decay:
            groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0, "name": f"{part}.no_decay"})
    return groups


def _optimizer(groups: list[dict[str, Any]], cfg: RefineConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, betas=(0.9, cfg.beta2))
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, betas=(0.9, cfg.beta2))
    return torch.optim.SGD(groups, momentum=cfg.momentum)


def make_accelerator(device: str = "auto", grad_accum: int = 1, seed: int = 0):
    """An :class:`accelerate.Accelerator` for ``device`` (``auto``, ``cpu`` or ``cuda``), seeded.

    Mixed precision is not Accelerate's flag: its state is one per process and refuses a second fit with another
    setting (the runner fits many jobs in one process), so refine applies ``torch.autocast`` itself."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, set_seed

    check_device(device)
    # every trainable weight is used in each forward pass (bodies drop their poolers and keep the token table
    # outside the module), so DDP runs without its unused-parameter search
    acc = Accelerator(cpu=device == "cpu", gradient_accumulation_steps=grad_accum,
                      dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
    set_seed(seed)
    return acc


@torch.no_grad()
def predict(model: CrossModalModel, dataset: Dataset, batch_size: int = 64, accelerator=None,
            progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Raw outputs and predictions (probabilities or values) over ``dataset``, in order, as NumPy arrays."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    if accelerator is not None:
        loader = accelerator.prepare_data_loader(loader)
    device = next(model.parameters()).device
    model.eval()
    outputs = []
    for x, _ in tqdm(loader, desc="predict", disable=not progress, leave=False):
        out = model(x.to(device))
        if accelerator is not None:
            out = accelerator.gather_for_metrics(out)
        outputs.append(out.float().cpu())
    raw = torch.cat(outputs) if outputs else torch.empty(0)
    return raw.numpy(), predict_output(model.task, raw).numpy()


def evaluate(model: CrossModalModel, dataset: Dataset, batch_size: int = 64, accelerator=None,
             extra_metrics: tuple[str, ...] = (), target_scaler=None) -> dict[str, float]:
    """Task metric (and ``extra_metrics``) and loss over the whole of ``dataset``.

    With a :class:`orca.data.TargetScaler`, the loss stays in the standardised training space and the metrics
    are computed in the targets' original units.
    """
    task: Task = model.task
    raw, pred = predict(model, dataset, batch_size, accelerator)
    y = dataset.y.numpy() if hasattr(dataset, "y") else np.stack([dataset[i][1].numpy() for i in range(len(dataset))])
    result = {"loss": float(get("loss", task.loss)(torch.from_numpy(raw), torch.from_numpy(y)))}
    if target_scaler is not None:
        y, pred = target_scaler.inverse(y), target_scaler.inverse(pred)
    for name in (task.metric, *extra_metrics):
        try:
            result[name] = get_metric(name)(y, pred)
        except ValueError as exc:  # e.g. ROC AUC on a split with one class: reported, not hidden
            result[name] = float("nan")
            result[f"{name}_error"] = str(exc)
    return result


def _config_hash(cfg: RefineConfig, task: Task, extra: dict | None, data_sha256: str) -> str:
    """What a checkpoint must match to be resumed: every refine setting, the task, the other stages' settings
    and the training and validation data."""
    settings = drop_added({"refine": dict(cfg.__dict__)}, "checkpoints")["refine"]  # settings added later,
    extra = drop_added(extra or {}, "checkpoints")  # at their defaults, leave older fingerprints as they were
    blob = json.dumps({"refine": settings, "task": task.to_dict(), "extra": extra, "data": data_sha256},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """A refine checkpoint, read with ``weights_only=True``: tensors and plain data, never code."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the unpickler's refusal, a truncated file, ...: one clear error
        raise ConfigError(f"checkpoint {path} cannot be read as tensors and plain data ({type(exc).__name__}); "
                          "it is damaged or was not written by orca: delete it (or the runner's --restart) to "
                          "start afresh") from exc
    if not isinstance(saved, dict):
        raise ConfigError(f"checkpoint {path} holds {type(saved).__name__}, not an orca checkpoint")
    return saved


def _diverged(what: str, cfg: RefineConfig, epoch: int, step: int) -> DivergenceError:
    return DivergenceError(
        f"refine diverged: {what} at epoch {epoch}, step {step} (refine.lr={cfg.lr:g}, "
        f"new_params_lr_mult={cfg.new_params_lr_mult:g}, grad_clip={cfg.grad_clip}); lower refine.lr (or "
        "refine.new_params_lr_mult), or set refine.grad_clip; nothing was saved as a finished model")


def _better(value: float, best: float | None, higher: bool, loss: float | None = None,
            best_loss: float | None = None) -> bool:
    """Whether ``value`` improves on ``best``; with ``loss`` and ``best_loss`` (``select_on="metric-then-loss"``)
    an equal value with a lower loss improves too."""
    if value != value:  # NaN never improves
        return False
    if best is None or (value > best if higher else value < best):
        return True
    return loss is not None and value == best and (best_loss is None or loss < best_loss)


def _weight_average(model: CrossModalModel, decay: float | None) -> AveragedModel | None:
    """An exponential moving average of ``model``'s parameters (``refine.ema_decay``), or None when off.

    The decay after ``n`` updates is ``min(decay, (1 + n) / (10 + n))``: a warm-up, so that the average follows
    the weights in the first steps rather than holding the first step's. Buffers are not averaged; the models'
    buffers are constants (index tables), copied with the module.
    """
    if decay is None:
        return None

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor) -> None:
        get_ema_multi_avg_fn(min(decay, (1.0 + float(n)) / (10.0 + float(n))))(averaged, current, n)

    return AveragedModel(model, multi_avg_fn=update, use_buffers=False)


def refine(model: CrossModalModel, train: Dataset, val: Dataset | None, cfg: RefineConfig, *, seed: int = 0,
           device: str = "auto", checkpoint_dir: str | Path | None = None, resume: bool = False,
           checkpoint_every_s: float = 0.0,
           progress: bool = True, config_extra: dict | None = None,
           log_dir: str | Path | None = None,
           on_epoch: Callable[[int, float], bool] | None = None,
           refit_epochs: int | None = None) -> dict[str, Any]:
    """Fine-tune all trainable weights; keep the checkpoint that is best on ``val``.

    Parameters
    ----------
    model : CrossModalModel
    train, val : Dataset
        ``(x, y)`` pairs; ``val`` is carved from training data (see :func:`orca.data.split_train_val`). ``val``
        is ``None`` for a refit (``refit_epochs``).
    cfg : RefineConfig
    checkpoint_dir : path, optional
        Where ``last.pt`` (every epoch) and ``best.pt`` go, each written atomically.
    resume : bool
        Continue from ``checkpoint_dir/last.pt``; an error if there is none or it was made under another config.
    checkpoint_every_s : float
        Write the checkpoints after an epoch only when this many seconds have passed since the last write (0:
        after every epoch). A full checkpoint holds the body and the optimizer state (hundreds of MB for a base
        model), so long runs write it every few minutes and a resume repeats at most that much work.
    config_extra : dict, optional
        More settings that must match on resume (e.g. body and embedder config).
    log_dir : path, optional
        Write each epoch's record as it finishes to ``log_dir/refine_log.csv`` (and TensorBoard scalars under
        ``log_dir/tensorboard`` when ``tensorboard`` is installed): :class:`orca.epoch_log.EpochLog`.
    on_epoch : callable, optional
        Called after each epoch with (epoch, the validation score selection uses: the task's metric, or the loss
        under ``select_on="loss"``); when it returns True training stops there with stop reason ``"pruned"``
        (a search's pruner). Not part of the resume fingerprint; single-process runs.
    refit_epochs : int, optional
        With ``val=None``: train exactly this many epochs and keep the last weights (the average's under
        ``cfg.ema_decay``), stop reason ``"refit"``. The learning-rate schedule is still planned over the epoch
        cap, so a refit on more rows follows a selection run's schedule epoch by epoch and stops where that run's
        best epoch ended (:attr:`orca.config.RefineConfig.refit`). ``cfg.patience`` must then be ``None``.

    Returns
    -------
    dict
        ``history`` (per epoch), ``best_epoch``, ``best_val``, ``steps``, ``seconds`` and ``training`` (how
        training ended: :func:`orca.stopping.training_record`). The model holds the best weights on return (with
        ``cfg.ema_decay``: the best of the weights' moving average, which is what is scored each epoch).
    """
    task: Task = model.task
    if (val is None) == (refit_epochs is None):
        raise ValueError("refine: give either a validation set or refit_epochs (a refit without one), not both or "
                         f"neither (val {'given' if val is not None else 'None'}, refit_epochs={refit_epochs})")
    if refit_epochs is not None and (refit_epochs < 1 or cfg.patience is not None or on_epoch is not None):
        raise ValueError(f"a refit trains a fixed number of epochs: refit_epochs must be >= 1 (got {refit_epochs}) "
                         f"and there is no early stopping to ask for (refine.patience={cfg.patience}, on_epoch "
                         f"{'given' if on_epoch is not None else 'None'})")
    higher = get_metric(task.metric).higher_is_better if cfg.select_on != "loss" else False
    tie_break = cfg.select_on == "metric-then-loss"  # the loss breaks the metric's ties
    check_augment(cfg.augment, task)
    loss_fn = get("loss", task.loss)
    acc = make_accelerator(device, cfg.grad_accum, seed)
    warn_if_emulated(cfg.mixed_precision, acc.device.type)  # bf16 without native support: valid but slow
    precision = resolve_precision(cfg.mixed_precision, acc.device.type)  # "auto": bf16 only where it is native
    log = EpochLog(log_dir) if log_dir is not None and acc.is_main_process else None
    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=cfg.batch_size, shuffle=True, generator=gen, drop_last=False)
    steps_per_epoch = math.ceil(len(train_loader) / cfg.grad_accum)
    epochs = epochs_for(cfg, steps_per_epoch)
    total = epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    if cfg.warmup_epochs is None:
        warmup = int(cfg.warmup_ratio * total)
    else:
        warmup = round(cfg.warmup_epochs * steps_per_epoch)
    horizon = None if cfg.decay_epochs is None else round(cfg.decay_epochs * steps_per_epoch)
    optimizer = _optimizer(_param_groups(model, cfg), cfg)
    clock = {"start": None, "before": 0.0}

    def factor(s: int) -> float:
        """The schedule at step ``s``; under a time budget it runs on whichever is further along, the steps or
        the budget's clock, so that warm-up and decay fit inside the budget whatever the epoch cap."""
        if cfg.max_seconds is not None and clock["start"] is not None:
            elapsed = clock["before"] + time.perf_counter() - clock["start"]
            s = max(s, min(total, int(total * elapsed / cfg.max_seconds)))
        return lr_lambda(s, total, warmup, cfg.schedule, horizon)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    model, optimizer, train_loader, scheduler = acc.prepare(model, optimizer, train_loader, scheduler)
    unwrapped: CrossModalModel = acc.unwrap_model(model)
    average = _weight_average(unwrapped, cfg.ema_decay)
    scored: CrossModalModel = average.module if average is not None else unwrapped  # what is scored and kept

    state = {"epoch": 0, "step": 0, "history": [], "best_val": None, "best_epoch": None, "bad_epochs": 0,
             "elapsed": 0.0, "samples": 0, "stop": None}
    best_weights = None
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    data_sha256 = dataset_sha256(train) if val is None else dataset_sha256(train, val)
    if refit_epochs is not None:
        config_extra = {**(config_extra or {}), "refit_epochs": refit_epochs}
    # under "auto" the precision this machine resolves to is what was computed: a checkpoint written in bf16 is not
    # continued in float32 on a machine of the other kind (nor the reverse)
    hashed = dataclasses.replace(cfg, mixed_precision=precision) if cfg.mixed_precision == "auto" else cfg
    fingerprint = _config_hash(hashed, task, config_extra, data_sha256)
    if resume:
        if ckpt is None or not (ckpt / "last.pt").is_file():
            raise ConfigError(f"resume=True but there is no checkpoint at {ckpt / 'last.pt' if ckpt else '<none>'}")
        saved = _load_checkpoint(ckpt / "last.pt")
        if saved.get("fingerprint") != fingerprint:
            raise ConfigError(f"checkpoint {ckpt / 'last.pt'} was written under another config, task or training "
                              "data (or, under mixed_precision='auto', another resolved precision); refusing to "
                              "resume (start a fresh run, or resume with the same settings and data)")
        unwrapped.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        if average is not None:
            average.load_state_dict(saved["average"])
        state = {"elapsed": 0.0, "samples": 0, "stop": None, **saved["state"]}  # older checkpoints lack these
        if (ckpt / "best.pt").is_file():
            best_weights = _load_checkpoint(ckpt / "best.pt")["model"]

    state["total_steps"] = total  # the plan, kept in the checkpoint so that a dry run can tell how far it got
    unwrapped.zero_grad(set_to_none=True)  # whatever ran before (stage 2) must not add to the first step
    start = last_save = time.perf_counter()
    before = state["elapsed"]  # seconds trained by earlier processes of this run (resumption)
    clock.update(start=start, before=before)

    def budget_spent() -> bool:
        """Whether the time budget is spent; all processes agree (any one's clock ends it for all), so that
        under data parallelism no process stops while the others wait in a collective."""
        if cfg.max_seconds is None:
            return False
        spent = before + time.perf_counter() - start >= cfg.max_seconds
        if acc.num_processes > 1:
            spent = bool(acc.reduce(torch.tensor([float(spent)], device=acc.device), "sum").item() > 0)
        return spent

    def save_last() -> None:
        """``last.pt``: everything a resume needs to go on from the end of this epoch."""
        torch_save(ckpt / "last.pt", {"model": unwrapped.state_dict(), "optimizer": optimizer.state_dict(),
                                      "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
                                      "state": copy.deepcopy(state), "fingerprint": fingerprint,
                                      "average": None if average is None else average.state_dict()})

    best_unsaved = False
    done = state["stop"] is not None or state["step"] >= total or (
        cfg.patience is not None and state["bad_epochs"] >= cfg.patience
        and (cfg.min_steps is None or state["step"] >= cfg.min_steps))
    bar = tqdm(total=total, initial=state["step"], desc="refine", disable=not progress or not acc.is_main_process)
    try:
        while not done and state["epoch"] < (epochs if refit_epochs is None else min(epochs, refit_epochs)):
            epoch = state["epoch"]
            if hasattr(train_loader, "set_epoch"):
                train_loader.set_epoch(epoch)  # shuffling depends on (seed, epoch) only, so resume replays it
            model.train()
            losses = []
            draws = epoch_generator(seed, epoch) if cfg.augment != "none" else None
            for x, y in train_loader:
                if cfg.augment == "series":
                    x = augment_series(x, draws)
                elif cfg.augment == "dihedral":
                    x, y = augment_dihedral(x, y, draws)
                with acc.accumulate(model):
                    with torch.autocast(acc.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                        loss = loss_fn(model(x), y)
                    loss = loss.float()
                    value = float(loss.detach())  # read once, before backward is queued: one wait, not two
                    if not math.isfinite(value):  # the guard: stop before a non-finite step is taken
                        raise _diverged(f"the training loss is {value}", cfg, epoch, state["step"])
                    acc.backward(loss)
                    if acc.sync_gradients and cfg.grad_clip is not None:
                        norm = acc.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                        if norm is not None and not torch.isfinite(torch.as_tensor(norm)):
                            raise _diverged(f"the gradient norm is {float(norm)}", cfg, epoch, state["step"])
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                losses.append(value)
                state["samples"] += len(x) * acc.num_processes
                if acc.sync_gradients:
                    if average is not None:
                        average.update_parameters(unwrapped)
                    state["step"] += 1
                    bar.update(1)
                    bar.set_postfix(loss=f"{losses[-1]:.4g}")
                    if state["step"] >= total or budget_spent():
                        break
            if not all(torch.isfinite(p).all() for p in unwrapped.parameters()):
                raise _diverged("the weights are no longer finite", cfg, epoch, state["step"])
            if val is None:  # a refit: no scores, no selection; it stops after refit_epochs
                state["history"].append({"epoch": epoch, "step": state["step"], "train_loss": float(np.mean(losses)),
                                         "lr": scheduler.get_last_lr()[0],
                                         "seconds": before + time.perf_counter() - start})
                if log is not None:
                    log.write(state["history"][-1])
                state["epoch"] = epoch + 1
                state["elapsed"] = before + time.perf_counter() - start
                state["stop"] = "budget" if budget_spent() else (
                    "refit" if state["epoch"] >= refit_epochs else "cap" if state["step"] >= total else None)
                if ckpt is not None and acc.is_main_process and time.perf_counter() - last_save >= checkpoint_every_s:
                    save_last()
                    last_save = time.perf_counter()
                done = state["stop"] is not None
                continue
            val_metrics = evaluate(scored, val, cfg.eval_batch_size, acc)
            value = float(val_metrics[task.metric if cfg.select_on != "loss" else "loss"])
            loss = float(val_metrics["loss"]) if tie_break else None
            state["history"].append({"epoch": epoch, "step": state["step"], "train_loss": float(np.mean(losses)),
                                     "lr": scheduler.get_last_lr()[0], **{f"val_{k}": v for k, v in val_metrics.items()},
                                     "seconds": before + time.perf_counter() - start})
            if log is not None:
                log.write(state["history"][-1])
            if _better(value, state["best_val"], higher, loss, state.get("best_loss")):
                state.update(best_val=value, best_loss=loss, best_epoch=epoch, bad_epochs=0)
                best_weights = {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}
                best_unsaved = True
            else:
                state["bad_epochs"] += 1
            state["epoch"] = epoch + 1
            state["elapsed"] = before + time.perf_counter() - start
            patient = cfg.min_steps is None or state["step"] >= cfg.min_steps  # min_steps: no early stop before
            state["stop"] = stop_reason(budget_spent=budget_spent(), bad_epochs=state["bad_epochs"],
                                        patience=cfg.patience if patient else None,
                                        cap_reached=state["step"] >= total or state["epoch"] >= epochs)
            if on_epoch is not None and on_epoch(epoch, value) and state["stop"] is None:  # sees every epoch
                state["stop"] = "pruned"
            if ckpt is not None and acc.is_main_process and time.perf_counter() - last_save >= checkpoint_every_s:
                if best_unsaved:  # best.pt first: a last.pt never points past a best state that is not on disk
                    torch_save(ckpt / "best.pt", {"model": best_weights, "epoch": state["best_epoch"],
                                                  "val": state["best_val"]})
                    best_unsaved = False
                save_last()
                last_save = time.perf_counter()
            done = state["stop"] is not None
    finally:  # the log is closed and the bar ended however the loop exits (a divergence raises)
        bar.close()
        if log is not None:
            log.close()
    if best_weights is not None:
        unwrapped.load_state_dict(best_weights)
    elif val is None and average is not None:  # a refit keeps the last weights: the average's, when kept
        unwrapped.load_state_dict(scored.state_dict())
    unwrapped.eval()
    training = training_record(epochs_run=state["epoch"], best_epoch=state["best_epoch"], reason=state["stop"],
                               samples_seen=state["samples"], seconds=before + time.perf_counter() - start,
                               epochs_cap=epochs, patience=cfg.patience, max_seconds=cfg.max_seconds,
                               steps=state["step"], resumed_seconds=before) | {
        "loss": task.loss, "steps_per_epoch": steps_per_epoch, "epochs_rule": epochs_rule(cfg, steps_per_epoch)}
    return {"history": state["history"], "best_epoch": state["best_epoch"], "best_val": state["best_val"],
            "steps": state["step"], "seconds": time.perf_counter() - start, "device": str(acc.device),
            "precision": precision, "data_sha256": data_sha256, "training": training}
