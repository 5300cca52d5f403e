"""NAS-Bench-360 methods: ORCA (the runner's generic method with this suite's split and scoring hooks) and the
supervised references (Wide-ResNet, 1D ResNet, FNO) on the same splits."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from orca.exceptions import ConfigError
from orca.registry import get

from ...runner.orca_method import OrcaHooks
from ...runner.suite import JobContext, TaskData, with_task_overrides
from .scoring import scores, task_errors


def _orca_split(data: TaskData, seed: int) -> tuple[np.ndarray, ...]:
    """NAS-Bench-360's own validation split."""
    return data.X_train, data.y_train, data.extra["X_val"], data.extra["y_val"]


def _orca_score(data: TaskData, predictions, result, seed: int) -> dict[str, Any]:
    return {"metrics": scores(data, lambda x: predictions(x)[0])}


ORCA_HOOKS = OrcaHooks(score=_orca_score, split=_orca_split)


def _val_error(data: TaskData, y: np.ndarray, raw: np.ndarray) -> float:
    return task_errors(data, raw, y, "val")["error"]


def run_supervised(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext(),
                   kind: str = "cnn") -> dict[str, Any]:
    """The CNN reference (Wide-ResNet for images, 1D ResNet for sequences) or FNO (dense 2D tasks); selected on
    the validation split by the task's own error; on the job's device, checkpointed and resumed like ORCA."""
    import torch

    import baselines  # noqa: F401  (registers the baselines)
    from baselines.supervised import TrainConfig, predict_batches, train_supervised
    from orca.distributed import local_device

    params = with_task_overrides(data, kind, params)
    torch.manual_seed(seed)
    task = data.task
    c_in, dims = data.X_train.shape[1], data.X_train.ndim - 2
    n_out = task.output_shape[0]
    if kind == "fno":
        if task.output != "dense" or dims != 2:
            raise ConfigError(f"fno runs on dense 2D tasks; {task.name} is {task.output} with {dims} spatial axes")
        model = get("baseline", "fno")(c_in, n_out, 2, modes=params["modes"], width=params["width"])
    elif dims == 2:
        model = get("baseline", "wide-resnet")(c_in, n_out, params["depth"], params["widen"], dense=task.output == "dense")
    elif dims == 1 and task.output != "dense":
        model = get("baseline", "resnet1d")(c_in, n_out, tuple(params["widths"]), params["blocks"], params["kernel"])
    else:
        raise ConfigError(f"no CNN reference for {task.name} ({task.output}, {dims} spatial axes)")
    loss = {"classification": "cross_entropy", "multilabel": "bce"}.get(task.output, data.params["loss"])
    loss = "bce" if data.params["metric"] == "cosmic_auroc" else loss
    cfg = TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                      weight_decay=params["weight_decay"], step_size=params["step_size"], gamma=params["gamma"],
                      loss=loss, patience=params.get("patience"), max_seconds=params.get("max_seconds"))
    X_val, y_val = data.extra["X_val"], data.extra["y_val"]
    device = local_device("auto")
    info = train_supervised(model, data.X_train, data.y_train, X_val, y_val, cfg,
                            functools.partial(_val_error, data), seed=seed, device=device, **ctx.checkpointing())
    return {"metrics": scores(data, functools.partial(predict_batches, model, device=device)),
            "timings_s": {"train": info["seconds"]}, "device": info["device"],
            "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "refine": {"best_epoch": info["best_epoch"], "curve": [h["val_error"] for h in info["history"]]},
            "training": {**info["training"], "loss": loss},
            "split": {"train": len(data.X_train), "val": len(X_val), "test": len(data.X_test)},
            "budget": f"{params['epochs']} epochs, no search (stated budget)"}


def run_spectral_linear(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The closed-form affine operator on the lowest ``modes`` Fourier modes (``baselines.spectral_linear``; dense
    tasks on the input's grid only), fitted on the training split and scored like the others: the linear
    reference for ORCA's spectral input skip (``orca-skip``)."""
    import time

    import baselines  # noqa: F401  (registers the baselines)
    from baselines.supervised import predict_batches as predict

    task = data.task
    if task.output != "dense" or data.X_train.shape[2:] != data.y_train.shape[2:]:
        raise ConfigError(f"spectral-linear maps a field onto a field on the same grid; {task.name} is {task.output} "
                          f"{tuple(task.input_shape)} -> {tuple(task.output_shape)}")
    t = time.perf_counter()
    model = get("baseline", "spectral-linear")(data.X_train, data.y_train, modes=params["modes"],
                                               ridge=params["ridge"])
    seconds = time.perf_counter() - t
    return {"metrics": scores(data, functools.partial(predict, model)), "timings_s": {"fit": seconds},
            "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "split": {"train": len(data.X_train), "val": len(data.extra["X_val"]), "test": len(data.X_test)},
            "budget": f"none: closed-form ridge least squares on {params['modes']} Fourier modes per axis"}


def run_floor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The floor, scored like the methods: the training class prior (classification), each label's training
    frequency (multi-label) or the mean training target field (dense tasks, in the space the model predicts)."""
    from baselines.floors import label_frequency, mean, prior

    task = data.task
    if task.output == "classification":
        predict = prior(data.y_train, task.output_shape[0], logits=True)
    elif task.output == "multilabel":
        predict = label_frequency(data.y_train, logits=True)
    else:
        predict = mean(data.y_train)
    return {"metrics": scores(data, predict), "timings_s": {"fit": 0.0},
            "budget": "none: the training prior / mean target"}
