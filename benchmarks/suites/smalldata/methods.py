"""The study's floors and references beside ORCA (which runs through the scikit-learn facade, as a user calls it):

- ``1nn``: one nearest neighbour on the raw series, Euclidean (the classic time-series yardstick);
- ``cnn``: a small 1D ResNet trained by the shared supervised loop, selected on a validation split carved from the
  training part, stopped on patience;
- the tables' ``xgboost`` (XGBoost with its defaults and 300 trees, the reference), ``logreg`` and ``floor`` are the
  runner's table methods.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...runner.frames import flat_rows
from ...runner.suite import JobContext, TaskData
from ...runner.table_methods import table_scores


def _one_hot(pred: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(pred), k))
    out[np.arange(len(pred)), pred] = 1.0
    return out


def run_1nn(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """1-NN with the Euclidean distance on the flattened series; its "probabilities" are the one-hot vote."""
    from sklearn.neighbors import KNeighborsClassifier

    start = time.perf_counter()
    model = KNeighborsClassifier(n_neighbors=1).fit(flat_rows(data.X_train), data.y_train)
    pred = model.predict(flat_rows(data.X_test))
    return {"metrics": {"test": table_scores(data.y_test, _one_hot(pred, data.task.output_shape[0]))},
            "timings_s": {"fit_predict": time.perf_counter() - start}, "budget": "none: 1-NN"}


def run_cnn(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """A 1D ResNet on the series, selected and stopped on a validation split of the training part."""
    import torch

    import baselines  # noqa: F401  (registers the baselines)
    from baselines.supervised import TrainConfig, predict_batches, train_supervised
    from orca.data import split_train_val
    from orca.registry import get

    torch.manual_seed(seed)
    k = data.task.output_shape[0]
    model = get("baseline", "resnet1d")(data.X_train.shape[1], k, tuple(params["widths"]), params["blocks"],
                                        params["kernel"])
    tr, va = split_train_val(len(data.y_train), params["val_fraction"], seed, data.y_train)
    cfg = TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                      weight_decay=params["weight_decay"], step_size=params["step_size"], gamma=params["gamma"],
                      loss="cross_entropy", patience=params["patience"])

    def val_error(y: np.ndarray, raw: np.ndarray) -> float:
        return float(np.mean(raw.argmax(axis=1) != y))

    info = train_supervised(model, data.X_train[tr], data.y_train[tr], data.X_train[va], data.y_train[va], cfg,
                            val_error, seed=seed, progress=False, **ctx.checkpointing())
    logits = torch.as_tensor(predict_batches(model, data.X_test))
    proba = torch.softmax(logits, dim=1).numpy()
    return {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"train": info["seconds"]},
            "parameters": {"total": sum(p.numel() for p in model.parameters())}, "training": info["training"],
            "refine": {"best_epoch": info["best_epoch"], "curve": [h["val_error"] for h in info["history"]]},
            "split": {"train": len(tr), "val": len(va), "test": len(data.y_test)}}
