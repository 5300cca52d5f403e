"""``build -> align -> refine -> evaluate`` on arrays: the functional core the facade, CLI and harnesses call."""

from __future__ import annotations

import copy
import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import distributed
from .align import AlignReport, SourceFeatures, align
from .augment import check_augment
from .bodies import Body
from .config import OrcaConfig
from .data import ArrayDataset, TargetScaler, split_train_val
from .exceptions import ConfigError
from .model import CrossModalModel, build
from .provenance import environment, peak_memory_mb
from .refine import evaluate, refine
from .source import source_features
from .tasks import Task, check_classes_present, check_inputs, check_targets, stage2_labels
from .validate import check_runnable


@dataclass
class RunResult:
    """A fitted model and everything measured on the way to it."""

    model: CrossModalModel
    metrics: dict[str, dict[str, float]]
    align_report: AlignReport
    refine_info: dict[str, Any]
    timings: dict[str, float]
    parameters: dict[str, int]
    split: dict[str, int] = field(default_factory=dict)
    target_scaler: TargetScaler | None = None
    val_index: np.ndarray | None = None
    """The rows of the training arrays carved for validation, in order; ``None`` when a validation set was given."""

    def to_dict(self, config: OrcaConfig, task: Task, extra: dict | None = None) -> dict[str, Any]:
        """JSON-ready record of the run with its provenance."""
        return {
            "task": task.to_dict(),
            "config": config.to_dict(),
            "metrics": self.metrics,
            "align": self.align_report.to_dict(),
            "refine": self.refine_info,
            "timings_s": self.timings,
            "parameters": self.parameters,
            "split": self.split,
            "target_scaler": self.target_scaler.state() if self.target_scaler is not None else None,
            "peak_memory_mb": peak_memory_mb(),
            "body_source": getattr(self.model.body, "source", "given"),
            "environment": environment(),
            **(extra or {}),
        }


def allow_nan(task: Task) -> bool:
    """NaN means "missing" for tabular inputs (both encodings handle it); elsewhere it is an error."""
    return task.input_kind == "tabular"


def fit(task: Task, X: np.ndarray, y: np.ndarray, config: OrcaConfig, *, X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None, X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
        body: Body | None = None, source: SourceFeatures | None = None, checkpoint_dir: str | Path | None = None,
        resume: bool = False, progress: bool = True, extra_metrics: tuple[str, ...] = (),
        standardize_target: bool = False, checkpoint_every_s: float = 0.0,
        on_stage: Callable[[str, CrossModalModel], None] | None = None,
        log_dir: str | Path | None = None, on_epoch: Callable[[int, float], bool] | None = None) -> RunResult:
    """Run ORCA's three stages on arrays and evaluate the selected model once on the test split.

    When no validation set is given, ``config.refine.val_fraction`` of the training data is held out
    (stratified for classification) for model selection; the test split never influences training.
    ``standardize_target`` (regression and dense tasks) trains on targets standardised with training
    statistics and reports metrics in the original units. ``on_stage(name, model)``, when given, is called after
    each stage (``"built"``, ``"aligned"``, ``"refined"``) to measure the model between them (e.g. a distance
    before and after alignment); it must not train it. ``log_dir``, when given, receives refine's per-epoch log
    as it trains (``refine_log.csv``; TensorBoard scalars when installed). ``on_epoch(epoch, validation score)``,
    when given, may stop refine after an epoch by returning True (:func:`orca.refine.refine`).

    With ``config.refine.refit`` the selected run is followed by a refit (:attr:`orca.config.RefineConfig.refit`):
    stages 1-3 again from fresh weights on the training and validation rows together, for the selected run's
    epochs (its best epoch, counted from one), under ``checkpoint_dir/refit`` and ``log_dir/refit``. The refit
    model is returned and scored on the test split; ``metrics["val"]`` is still the selected run's validation
    score, and ``refine_info["refit"]`` records the refit (epochs, rows, alignment, training). ``on_stage`` and
    ``on_epoch`` see the selection run only.
    """
    check_runnable(config, body_given=body is not None)  # device and body, before any work on the data
    check_augment(config.refine.augment, task)  # before alignment is spent on a run refine would refuse
    timings: dict[str, float] = {}
    X = check_inputs(task, X, allow_nan=allow_nan(task))
    y = check_targets(task, y, len(X))
    check_classes_present(task, y)
    pristine = copy.deepcopy(body) if config.refine.refit and body is not None else None  # the refit starts fresh
    val_index = None
    if X_val is None:
        strat = y if task.output == "classification" else None
        tr, val_index = split_train_val(len(X), config.refine.val_fraction, config.seed, strat)
        X, X_val, y, y_val = X[tr], X[val_index], y[tr], y[val_index]
    else:
        X_val = check_inputs(task, X_val, allow_nan=allow_nan(task))
        y_val = check_targets(task, y_val, len(X_val))

    scaler = None
    if standardize_target and task.output in ("regression", "dense"):
        scaler = TargetScaler.fit(y)
        y, y_val = scaler.transform(y), scaler.transform(y_val)

    def say(message: str) -> None:  # one line per stage, above any progress bar, from one process only
        if progress and distributed.rank() == 0:
            tqdm.write(f"orca: {message}", file=sys.stderr)

    t = time.perf_counter()
    model = build(task, config, body)
    timings["build"] = time.perf_counter() - t
    counts = model.parameter_counts()
    say(f"1/3 built {task.name} on {config.body.name} ({counts['total'] / 1e6:.1f} M parameters) in "
        f"{timings['build']:.1f} s; train {len(X)}, validation {len(X_val)}")
    if on_stage is not None:
        on_stage("built", model)

    t = time.perf_counter()
    distributed.init_from_env(config.device)  # under `accelerate launch`: join the group before stage 2
    device = distributed.local_device(config.device)
    if config.align.objective != "none" and config.align.steps > 0:
        labels = stage2_labels(task, y, config.seed)
        if source is None:
            source = source_features(model.body, config.align.source, config.align.source_samples, config.seed)
        report = align(model, X, labels, source, config.align, config.seed, device, progress)
    else:
        report = AlignReport(config.align.objective)  # no stage 2 (objective none or zero steps)
    timings["align"] = time.perf_counter() - t
    if report.curve:
        say(f"2/3 aligned ({report.objective}, {report.steps} steps): distance {report.curve[0]:.4g} -> "
            f"{report.curve[-1]:.4g} in {timings['align']:.1f} s (set-up {report.setup_seconds:.1f} s, cache "
            f"{report.source.get('objective_setup_cache', 'off')})")
    else:
        say("2/3 alignment skipped (align.objective=none or align.steps=0)")
    if on_stage is not None:
        on_stage("aligned", model)

    t = time.perf_counter()
    warm_start_skip(model, X, y)
    info = refine(model, ArrayDataset(X, y), ArrayDataset(X_val, y_val), config.refine, seed=config.seed,
                  device=config.device, checkpoint_dir=checkpoint_dir, resume=resume, progress=progress,
                  config_extra=_config_extra(config), checkpoint_every_s=checkpoint_every_s, log_dir=log_dir,
                  on_epoch=on_epoch)
    timings["refine"] = time.perf_counter() - t
    if info["best_epoch"] is not None:
        say(f"3/3 refined: {info['steps']} steps in {timings['refine']:.1f} s; best validation {task.metric} "
            f"{info['best_val']:.4g} at epoch {info['best_epoch'] + 1} of {len(info['history'])}")
    if on_stage is not None:
        on_stage("refined", model)

    t = time.perf_counter()
    metrics = {"val": evaluate(model, ArrayDataset(X_val, y_val), config.refine.eval_batch_size,
                               extra_metrics=extra_metrics, target_scaler=scaler)}
    timings["evaluate"] = time.perf_counter() - t
    if config.refine.refit:
        t = time.perf_counter()
        epochs = chosen_epochs(info["training"])
        model, info["refit"] = _refit(task, np.concatenate([X, X_val]), np.concatenate([y, y_val]), config, epochs,
                                      info["training"]["epochs_cap"], pristine, source, checkpoint_dir, resume,
                                      progress, log_dir, checkpoint_every_s)
        timings["refit"] = time.perf_counter() - t
        say(f"refit on {len(X) + len(X_val)} rows (training and validation) for {epochs} epochs in "
            f"{timings['refit']:.1f} s")
    t = time.perf_counter()
    if X_test is not None:
        X_test = check_inputs(task, X_test, allow_nan=allow_nan(task))
        y_test = check_targets(task, y_test, len(X_test))
        if scaler is not None:
            y_test = scaler.transform(y_test)
        metrics["test"] = evaluate(model, ArrayDataset(X_test, y_test), config.refine.eval_batch_size,
                                   extra_metrics=extra_metrics, target_scaler=scaler)
    timings["evaluate"] += time.perf_counter() - t
    split = {"train": len(X), "val": len(X_val), "test": 0 if X_test is None else len(X_test)}
    return RunResult(model, metrics, report, info, timings, model.parameter_counts(), split, scaler, val_index)


def warm_start_skip(model: CrossModalModel, X: np.ndarray, y: np.ndarray) -> None:
    """Before stage 3: set an input skip, if the model has one, to its linear fit of the training inputs to the
    (scaled) training targets: a spectral skip (``predictor.skip_modes``) to the ridge least-squares map, a table
    skip (``predictor.linear_skip``) to the L2 logistic or ridge model; nothing otherwise. A resumed refine then
    loads its checkpoint's weights over it."""
    skip = getattr(model.predictor, "skip", None)
    if skip is not None:
        skip.warm_start(X, y)


def _config_extra(config: OrcaConfig) -> dict[str, Any]:
    """The config sections beside ``refine`` that a refine checkpoint's fingerprint includes."""
    return {"body": config.body.__dict__, "embedder": config.embedder.__dict__,
            "predictor": config.predictor.__dict__, "align": config.align.__dict__, "seed": config.seed}


def chosen_epochs(training: dict[str, Any]) -> int:
    """The epochs a refit trains after a selection run with the training record ``training``: its best epoch + 1,
    or all the epochs it ran where it selected none."""
    best = training.get("best_epoch")
    return best + 1 if best is not None else training["epochs_run"]


def refit(task: Task, X: np.ndarray, y: np.ndarray, config: OrcaConfig, epochs: int, epochs_cap: int, *,
          body: Body | None = None, source: SourceFeatures | None = None, target_scaler: TargetScaler | None = None,
          checkpoint_dir: str | Path | None = None, resume: bool = False, progress: bool = True,
          log_dir: str | Path | None = None, checkpoint_every_s: float = 0.0) -> tuple[CrossModalModel, dict[str, Any]]:
    """The refit of :func:`fit` alone, for a caller that decides on it after the selection run (a search refits
    only the trial it chose).

    ``X``, ``y``, ``config``, ``body`` and ``source`` are what :func:`fit` was given (no ``X_val``: the rows are
    joined in the order fit's refit joins its training and validation split), ``epochs`` and ``epochs_cap`` the
    selection run's best epoch + 1 and its epoch cap (``refine_info["training"]``), and ``target_scaler`` the
    run's :class:`~orca.data.TargetScaler` where it standardised targets. Then the model and record are those
    ``fit`` with ``config.refine.refit`` returns (:attr:`orca.config.RefineConfig.refit`); the checkpoint and log
    go under ``checkpoint_dir/refit`` and ``log_dir/refit``.
    """
    check_runnable(config, body_given=body is not None)
    X = check_inputs(task, X, allow_nan=allow_nan(task))
    y = check_targets(task, y, len(X))
    if epochs < 1 or epochs_cap < epochs:
        raise ConfigError(f"a refit trains 1 to epochs_cap epochs; got epochs={epochs}, epochs_cap={epochs_cap}")
    tr, va = split_train_val(len(X), config.refine.val_fraction, config.seed,
                             y if task.output == "classification" else None)
    rows = np.concatenate([tr, va])  # fit's training rows, then its validation rows
    y = y if target_scaler is None else target_scaler.transform(y)
    return _refit(task, X[rows], y[rows], config, epochs, epochs_cap, body, source, checkpoint_dir, resume, progress,
                  log_dir, checkpoint_every_s)


def _refit(task: Task, X: np.ndarray, y: np.ndarray, config: OrcaConfig, epochs: int, epochs_cap: int,
           body: Body | None, source: SourceFeatures | None, checkpoint_dir: str | Path | None, resume: bool,
           progress: bool, log_dir: str | Path | None,
           checkpoint_every_s: float) -> tuple[CrossModalModel, dict[str, Any]]:
    """Stages 1-3 from fresh weights on all of ``(X, y)`` (training and validation rows, targets already scaled)
    for ``epochs`` epochs of a schedule planned over ``epochs_cap`` (the selection run's), without a validation
    split; the model and the refit's record (:attr:`orca.config.RefineConfig.refit`)."""
    model = build(task, config, body)
    device = distributed.local_device(config.device)
    if config.align.objective != "none" and config.align.steps > 0:
        if source is None:  # a refit on its own (:func:`refit`): the features fit would have made
            source = source_features(model.body, config.align.source, config.align.source_samples, config.seed)
        report = align(model, X, stage2_labels(task, y, config.seed), source, config.align, config.seed, device,
                       progress)
    else:
        report = AlignReport(config.align.objective)
    ckpt = Path(checkpoint_dir) / "refit" if checkpoint_dir is not None else None
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    # the selection run's epoch cap, so that the schedule is the same epoch by epoch (min_steps would plan it over
    # fewer epochs on the larger set); a fixed number of epochs: nothing to stop early on
    cfg = dataclasses.replace(config.refine, epochs=epochs_cap, min_steps=None, patience=None)
    warm_start_skip(model, X, y)
    info = refine(model, ArrayDataset(X, y), None, cfg, seed=config.seed, device=config.device, checkpoint_dir=ckpt,
                  resume=resume and ckpt is not None and (ckpt / "last.pt").is_file(), progress=progress,
                  config_extra=_config_extra(config), checkpoint_every_s=checkpoint_every_s,
                  log_dir=None if log_dir is None else Path(log_dir) / "refit", refit_epochs=epochs)
    record = {"epochs": epochs, "rows": len(X), "steps": info["steps"], "seconds": info["seconds"],
              "data_sha256": info["data_sha256"], "training": info["training"],
              "align": {"objective": report.objective, "steps": report.steps,
                        "final_distance": report.curve[-1] if report.curve else None}}
    return model, record
