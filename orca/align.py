"""Stage 2, align: train the embedder alone so that embedded target data match source-modality features.

Only embedder parameters are in the optimiser and only they can change; body and predictor stay bit-identical
(``tests/test_align.py``). The objective is built once from a fixed, seeded subset of the source features, so
its source-side constants are computed once per run. The loop takes many mini-batch steps (the reference code
takes one optimiser step per "epoch"), draws class-stratified target batches (every class present with at least
two samples, which OTDD's per-class terms need), logs the distance curve and stops when it stops improving.
Under a multi-process launch each rank embeds a block of the batch and the distance is computed on the gathered
whole batch (:mod:`orca.distributed`), so the objective and its gradient are those of one process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import distributed
from .config import AlignConfig
from .exceptions import DataError, DivergenceError
from .model import CrossModalModel
from .objective_cache import build_objective
from .registry import get


@dataclass
class SourceFeatures:
    """Source ("in-modality") features ``(M, D)`` with integer labels ``(M,)``, computed once per run."""

    features: torch.Tensor
    labels: torch.Tensor
    recipe: str = "custom"
    from_cache: bool = False
    cache_path: str | None = None

    def __post_init__(self) -> None:
        if self.features.ndim != 2 or len(self.features) != len(self.labels):
            raise DataError(f"source features must be (M, D) with M labels; got {tuple(self.features.shape)} "
                            f"and {tuple(self.labels.shape)}")
        if not torch.isfinite(self.features).all():
            raise DataError("source features contain NaN or inf")

    def subset(self, n: int, seed: int) -> SourceFeatures:
        """A fixed, seeded random subset of at most ``n`` rows."""
        if n >= len(self.features):
            return self
        idx = torch.randperm(len(self.features), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        return SourceFeatures(self.features[idx], self.labels[idx], self.recipe, self.from_cache, self.cache_path)


@dataclass
class AlignReport:
    """What stage 2 did: the distance after each step, how long it took, and why it stopped."""

    objective: str
    steps: int = 0
    curve: list[float] = field(default_factory=list)
    seconds: float = 0.0
    setup_seconds: float = 0.0
    stopped_early: bool = False
    source: dict = field(default_factory=dict)
    dropped_classes: list[int] = field(default_factory=list)
    """Stage-2 classes with a single training sample, left out of the alignment (as the paper's code does)."""

    def to_dict(self) -> dict:
        return {"objective": self.objective, "steps": self.steps, "curve": self.curve, "seconds": self.seconds,
                "setup_seconds": self.setup_seconds, "stopped_early": self.stopped_early, "source": self.source,
                "dropped_classes": self.dropped_classes,
                "initial_distance": self.curve[0] if self.curve else None,
                "final_distance": self.curve[-1] if self.curve else None}


def stratified_batches(labels: np.ndarray, batch_size: int, generator: np.random.Generator):
    """Endless batches of indices holding every class with ``max(2, batch_size // K)`` samples (fewer only when
    the class is smaller), sampled without replacement within a batch."""
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    quota = max(2, batch_size // len(classes))
    while True:
        yield np.concatenate([generator.choice(m, size=min(quota, len(m)), replace=False) for m in members])


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

    Raises
    ------
    DataError
        Missing source, width mismatch, NaN features, no class with two samples or more. Classes with a single
        sample are left out of the alignment (the paper's ``min_labelcount = 2``) and listed in the report.
    """
    objective_cls = get("objective", cfg.objective)
    report = AlignReport(cfg.objective)
    if cfg.objective == "none" or cfg.steps == 0:
        return report
    if source is None:
        raise DataError(f"objective {cfg.objective!r} needs source features; none were given")
    width = model.body.d_in
    if source.features.shape[1] != width:
        raise DataError(f"source features have width {source.features.shape[1]}; the embedder emits {width}")
    labels = np.asarray(labels, dtype=np.int64)
    if len(X) != len(labels):
        raise DataError(f"{len(X)} inputs but {len(labels)} stage-2 labels")
    classes, counts = np.unique(labels, return_counts=True)
    report.dropped_classes = [int(c) for c in classes[counts < 2]]
    if report.dropped_classes:  # the paper's min_labelcount = 2: a single sample has no class distribution
        keep = np.isin(labels, classes[counts >= 2])
        if not keep.any():
            raise DataError(f"stage 2 needs a class with at least 2 training samples; all {len(classes)} classes "
                            "have one")
        X, labels = X[keep], labels[keep]

    start = time.perf_counter()
    src = source.subset(cfg.source_samples, seed)
    cache_dir = Path(src.cache_path).parent.parent / "objective" if src.cache_path else None  # beside the source
    objective, cache_status = build_objective(objective_cls, src.features.to(device), src.labels.to(device), cfg,
                                              cache_dir, device)
    if hasattr(objective, "set_class_weights"):  # otdd-paper: each class weighted by its training-set share
        kept, kept_counts = np.unique(labels, return_counts=True)
        objective.set_class_weights(dict(zip(kept.tolist(), (kept_counts / kept_counts.sum()).tolist())))
    report.setup_seconds = time.perf_counter() - start
    report.source = {"recipe": src.recipe, "samples": len(src.features), "classes": int(src.labels.unique().numel()),
                     "from_cache": src.from_cache, "cache_path": src.cache_path, "objective_setup_cache": cache_status}

    model.to(device)
    model.embedder.train()
    optimizer = torch.optim.AdamW(model.embedder.parameters(), lr=cfg.lr, weight_decay=0.0)
    X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y_t = torch.as_tensor(labels)
    batches = stratified_batches(labels, cfg.batch_size, np.random.default_rng(seed))
    best, since_best = float("inf"), 0
    trainable = [p for p in model.embedder.parameters() if p.requires_grad]
    for step in tqdm(range(cfg.steps), desc=f"align[{cfg.objective}]", leave=False,
                     disable=not progress or distributed.rank() != 0):
        idx = next(batches)  # the same indices on every rank (same seed)
        mine = torch.from_numpy(distributed.shard(idx))
        feats = distributed.gather_rows(model.embed_pooled(X_t[mine].to(device)))  # (b, D), all ranks' rows
        loss = objective(feats, y_t[torch.from_numpy(idx)].to(device))
        if not torch.isfinite(loss.detach()):  # the guard: never step on a non-finite distance
            raise DivergenceError(f"align diverged: the {cfg.objective} distance is {float(loss)} at step {step} "
                                  f"(align.lr={cfg.lr:g}); lower align.lr, or set align.objective=none to skip "
                                  "stage 2")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        distributed.all_reduce_grads(trainable)  # sum of per-block gradients = the whole-batch gradient
        optimizer.step()
        value = float(loss.detach())
        report.curve.append(value)
        report.steps = step + 1
        if not np.isfinite(best) or value < best - 1e-4 * abs(best):  # relative improvement of 0.01 %
            best, since_best = value, 0
        else:
            since_best += 1
        if cfg.patience is not None and since_best >= cfg.patience:
            report.stopped_early = True
            break
    model.zero_grad(set_to_none=True)  # no alignment gradient may leak into the first refine step
    report.seconds = time.perf_counter() - start
    return report
