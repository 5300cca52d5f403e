"""The packaged suite's alignment-ablation method: ORCA with one stage-2 objective, and the embedder's distance to
the source features measured on one common scale before alignment, after it and after fine-tuning.

The yardstick is the ``otdd-exact`` distance between a fixed, stratified batch of the embedded training part (13
rows per class, seeded) and the source subset, so objectives (``none``, ``mmd``, ``otdd-gaussian``,
``otdd-exact``) compare on one scale whatever they minimise. The tables' methods (ORCA through the facade,
logistic regression) come from :mod:`benchmarks.runner.table_methods`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from orca.bodies import load_body
from orca.config import AlignConfig
from orca.data import split_train_val
from orca.pipeline import fit
from orca.registry import get
from orca.source import source_features
from orca.tasks import stage2_labels

from ...runner.orca_method import common_record, orca_config
from ...runner.suite import JobContext, TaskData


@torch.no_grad()
def yardstick(model, X: np.ndarray, labels: np.ndarray, ruler, seed: int) -> float:
    """``ruler`` (an ``otdd-exact`` objective on the source subset) on a fixed stratified batch of embedded ``X``."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), size=min(13, (labels == c).sum()), replace=False)
                          for c in np.unique(labels)])
    model.eval()
    return float(ruler(model.embed_pooled(torch.from_numpy(X[idx])), torch.from_numpy(labels[idx])))


def run_orca_yardstick(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """ORCA on ``data`` (validation carved from training with ``refine.val_fraction``), with the yardstick after
    each stage."""
    config = orca_config(params, data.params, seed)
    tr, va = split_train_val(len(data.X_train), config.refine.val_fraction, seed, data.y_train)
    X, y = data.X_train[tr], data.y_train[tr]
    body = load_body(config.body.name, config.body.dropout, config.body.attention_dropout)
    source = source_features(body, config.align.source, config.align.source_samples, seed)
    src = source.subset(config.align.source_samples, seed)
    ruler = get("objective", "otdd-exact")(src.features, src.labels, AlignConfig(objective="otdd-exact"))
    labels = stage2_labels(data.task, y, seed)
    distances: dict[str, float] = {}

    def measure(stage: str, model) -> None:
        distances[stage] = yardstick(model, X, labels, ruler, seed)

    result = fit(data.task, X, y, config, X_val=data.X_train[va], y_val=data.y_train[va], X_test=data.X_test,
                 y_test=data.y_test, body=body, source=source, extra_metrics=("roc_auc",), on_stage=measure,
                 **ctx.checkpointing())
    return {"metrics": result.metrics, **common_record(result, config),
            "yardstick": {"objective": "otdd-exact", "before": distances["built"], "aligned": distances["aligned"],
                          "after_refine": distances["refined"]}}
