"""Stage 2, align: train the embedder alone so that embedded target data match source-modality features.

Only embedder parameters are in the optimiser and only they can change; body and predictor stay bit-identical
(``tests/test_align.py``). The loop takes many mini-batch steps (not one per "epoch" as the reference code does),
logs the distance curve and stops early when it stops improving.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import AlignConfig
from .exceptions import DataError
from .model import CrossModalModel
from .registry import get


@dataclass
class SourceFeatures:
    """Source ("in-modality") features ``(M, D)`` with integer labels ``(M,)``, computed once per run."""

    features: torch.Tensor
    labels: torch.Tensor
    recipe: str = "custom"

    def __post_init__(self) -> None:
        if self.features.ndim != 2 or len(self.features) != len(self.labels):
            raise DataError(f"source features must be (M, D) with M labels; got {tuple(self.features.shape)} "
                            f"and {tuple(self.labels.shape)}")
        if not torch.isfinite(self.features).all():
            raise DataError("source features contain NaN or inf")


@dataclass
class AlignReport:
    """What stage 2 did: the distance after each step, how long it took, and why it stopped."""

    objective: str
    steps: int = 0
    curve: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return {"objective": self.objective, "steps": self.steps, "curve": self.curve, "seconds": self.seconds,
                "stopped_early": self.stopped_early,
                "final_distance": self.curve[-1] if self.curve else None}


def align(model: CrossModalModel, X: np.ndarray, labels: np.ndarray, source: SourceFeatures | None,
          cfg: AlignConfig, seed: int = 0, device: str | torch.device = "cpu", progress: bool = False) -> AlignReport:
    """Train ``model.embedder`` to minimise ``cfg.objective`` between embedded targets and ``source``.

    Parameters
    ----------
    model : CrossModalModel
    X : ndarray
        Training inputs of the task's input shape ``(N, ...)``.
    labels : ndarray of int, shape (N,)
        Stage 2 labels (classes, or k-means pseudo-labels from :func:`orca.tasks.stage2_labels`).
    source : SourceFeatures or None
        Needed unless the objective is ``none``; its width must equal the embedder's.
    cfg : AlignConfig
    """
    objective = get("objective", cfg.objective)
    report = AlignReport(cfg.objective)
    if cfg.objective == "none" or cfg.steps == 0:
        return report
    if source is None:
        raise DataError(f"objective {cfg.objective!r} needs source features; none were given")
    width = model.body.d_in
    if source.features.shape[1] != width:
        raise DataError(f"source features have width {source.features.shape[1]}; the embedder emits {width}")
    if len(X) != len(labels):
        raise DataError(f"{len(X)} inputs but {len(labels)} stage-2 labels")
    if not np.isfinite(np.nan_to_num(np.asarray(X, dtype=np.float32), nan=0.0)).all():
        raise DataError("align inputs contain inf values")

    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    params = list(model.embedder.parameters())
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    model.to(device)
    model.embedder.train()
    X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y_t = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    src_x, src_y = source.features.to(device), source.labels.to(device)
    best, since_best = float("inf"), 0
    for step in tqdm(range(cfg.steps), desc=f"align[{cfg.objective}]", disable=not progress, leave=False):
        idx = torch.randperm(len(X_t), generator=gen)[: cfg.batch_size]
        sidx = torch.randperm(len(src_x), generator=gen)[: cfg.source_samples]
        feats = model.embed_pooled(X_t[idx].to(device))  # (b, D)
        loss = objective(feats, y_t[idx].to(device), src_x[sidx.to(src_x.device)], src_y[sidx.to(src_x.device)])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        report.curve.append(value)
        report.steps = step + 1
        if value < best - 1e-6 * max(abs(best), 1.0):
            best, since_best = value, 0
        else:
            since_best += 1
        if cfg.patience is not None and since_best >= cfg.patience:
            report.stopped_early = True
            break
    report.seconds = time.perf_counter() - start
    return report
