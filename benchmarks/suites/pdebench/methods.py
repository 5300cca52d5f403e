"""PDEBench methods: ORCA (the runner's generic method with this suite's split and scoring hooks), FNO and U-Net
(our own, PDEBench's configurations) on the same splits."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from orca.exceptions import ConfigError
from orca.registry import get

from ...runner.orca_method import OrcaHooks
from ...runner.suite import JobContext, TaskData, with_task_overrides
from .scoring import _example, score
from .standardize import channel_scaler, training_split


def _orca_split(data: TaskData, seed: int) -> tuple[np.ndarray, ...]:
    return training_split(data, seed)[0]


def _orca_score(data: TaskData, predictions, result, seed: int) -> dict[str, Any]:
    def step(x: np.ndarray) -> np.ndarray:
        return predictions(x)[1]

    scaler = channel_scaler(data, seed)  # the statistics the fit trained with
    scores, pred = score(data, step if scaler is None else scaler.wrap(step))
    return {"metrics": {"val": result.metrics.get("val", {}), "test": scores.pop("test")}, **scores,
            "example": _example(data, pred)}


ORCA_HOOKS = OrcaHooks(score=_orca_score, split=_orca_split)


def run_operator(data: TaskData, params: dict, seed: int, ctx: JobContext, kind: str) -> dict[str, Any]:
    """FNO or U-Net, on the job's device (CUDA when it has one), checkpointed and resumed like ORCA."""
    import torch

    import baselines  # noqa: F401  (registers the baselines)
    from baselines.field_training import FieldTrainConfig, predict_fields, train_field_model
    from orca.distributed import local_device

    params = with_task_overrides(data, kind, params)
    torch.manual_seed(seed)
    dims = data.X_train.ndim - 2
    c_in, c_out = data.X_train.shape[1], data.y_train.shape[1]
    if kind == "fno":
        model = get("baseline", "fno")(c_in, c_out, dims, modes=params[f"modes_{dims}d"], width=params["width"])
    else:
        model = get("baseline", "unet")(c_in, c_out, dims, init_features=params["init_features"])
    cfg = FieldTrainConfig(epochs=params[f"epochs_{dims}d"], batch_size=params["batch_size"], lr=params["lr"],
                           weight_decay=params["weight_decay"], step_size=params["step_size"], gamma=params["gamma"],
                           patience=params.get("patience"), max_seconds=params.get("max_seconds"),
                           schedule=params.get("schedule", "step"), lr_patience=params.get("lr_patience", 10),
                           loss=data.params["loss"] if params.get("loss") == "task" else params.get("loss", "mse"))
    (X, y, X_val, y_val), scaler = training_split(data, seed)
    device = local_device("auto")
    info = train_field_model(model, X, y, X_val, y_val, cfg, seed=seed, device=device, **ctx.checkpointing())
    step = functools.partial(predict_fields, model, device=device)
    scores, pred = score(data, step if scaler is None else scaler.wrap(step))
    return {"metrics": {"val": {"relative_l2": info["best_val_relative_l2"]}, "test": scores.pop("test")}, **scores,
            "timings_s": {"train": info["seconds"]}, "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "refine": {"best_epoch": info["best_epoch"], "curve": [h["val_relative_l2"] for h in info["history"]]},
            "training": {**info["training"], "loss": cfg.loss},
            "split": {"train": len(X), "val": len(X_val), "test": len(data.X_test)}, "example": _example(data, pred),
            "device": info["device"]}


def run_spectral_linear(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The ridge least-squares affine operator on the lowest ``modes`` Fourier modes (``baselines.spectral_linear``),
    fitted in closed form on the training part that FNO and U-Net train on, scored like them: the linear
    reference for ORCA's spectral input skip."""
    import time

    import baselines  # noqa: F401  (registers the baselines)
    from baselines.field_training import val_relative_l2
    from baselines.supervised import predict_batches as predict

    (X, y, X_val, y_val), scaler = training_split(data, seed)
    t = time.perf_counter()
    model = get("baseline", "spectral-linear")(X, y, modes=params["modes"], ridge=params["ridge"])
    seconds = time.perf_counter() - t
    step = functools.partial(predict, model)
    scores, pred = score(data, step if scaler is None else scaler.wrap(step))
    return {"metrics": {"val": {"relative_l2": val_relative_l2(y_val, predict(model, X_val))},
                        "test": scores.pop("test")}, **scores, "example": _example(data, pred),
            "timings_s": {"fit": seconds}, "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "split": {"train": len(X), "val": len(X_val), "test": len(data.X_test)},
            "budget": f"none: closed-form ridge least squares on {params['modes']} Fourier modes per axis"}


def run_floor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext(),
              kind: str = "mean") -> dict[str, Any]:
    """The floors: the mean training target field (``mean``) or the input state itself (``persistence``, for
    time evolutions), scored exactly like the methods (roll-outs feed the prediction back as well)."""
    from baselines.floors import mean, persistence

    if kind == "persistence":
        if data.params.get("family") == "darcy":
            raise ConfigError("persistence is no floor for Darcy (the input is the coefficient, not the solution)")
        step = persistence(data.X_train.shape[1:], data.y_train.shape[1:])
    else:
        step = mean(data.y_train)
    scores, pred = score(data, step)
    return {"metrics": {"test": scores.pop("test")}, **scores, "example": _example(data, pred),
            "timings_s": {"fit": 0.0}, "budget": f"none: the {kind} floor"}
