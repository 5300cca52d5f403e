"""A task is a small frozen dataclass: what goes in, what comes out, how it is trained and scored.

It replaces the reference code's per-dataset if/elif chains. The rank of ``input_shape`` picks the input kind
(``(F,)`` tabular, ``(C, L)`` sequence, ``(C, H, W)`` image), as the rank of the sample shape picks the body
in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .exceptions import ConfigError, DataError
from .metrics import get_metric
from .registry import get

OUTPUT_KINDS = ("classification", "multilabel", "regression", "dense")
_DEFAULT_LOSS = {"classification": "cross_entropy", "multilabel": "bce", "regression": "mse", "dense": "mse"}
DEFAULT_METRIC = {"classification": "accuracy", "multilabel": "map", "regression": "rmse", "dense": "relative_l2"}
INPUT_KINDS = {1: "tabular", 2: "sequence", 3: "image"}


@dataclass(frozen=True)
class Task:
    """Declarative description of one supervised task.

    Parameters
    ----------
    name : str
        Identifier used in results and registries.
    input_shape : tuple of int
        Shape of one example without the batch axis: ``(F,)`` tabular, ``(C, L)`` sequence, ``(C, H, W)`` image.
    output : str
        ``classification`` (one label of K), ``multilabel`` (K independent binary labels), ``regression``
        (a vector of T values) or ``dense`` (a field of the input's spatial size).
    output_shape : tuple of int
        ``(K,)`` for classification/multilabel, ``(T,)`` for regression, ``(C_out, L)`` or ``(C_out, H, W)``
        for dense outputs.
    loss, metric : str or None
        Registered names; ``None`` picks the default of the output kind (``cross_entropy``/``accuracy``,
        ``bce``/``map``, ``mse``/``rmse``, ``mse``/``relative_l2``).
    stage2_labels : str or None
        How stage 2 labels the targets: ``labels`` (the class labels) or ``kmeans`` (k-means pseudo-labels on
        the flattened targets, the paper's choice for regression, dense and multi-label tasks). ``None``:
        ``labels`` for classification, ``kmeans`` otherwise.
    n_pseudo_labels : int
        k of the k-means pseudo-labels (the paper uses 10).
    categorical : tuple of int
        Tabular only: indices of categorical columns, which hold integer codes ``0..cardinality-1`` (NaN: missing).
    cardinalities : tuple of int
        Number of categories of each categorical column, in the order of ``categorical``.
    """

    name: str
    input_shape: tuple[int, ...]
    output: str
    output_shape: tuple[int, ...]
    loss: str | None = None
    metric: str | None = None
    stage2_labels: str | None = None
    n_pseudo_labels: int = 10
    categorical: tuple[int, ...] = field(default=())
    cardinalities: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        object.__setattr__(self, "output_shape", tuple(int(s) for s in self.output_shape))
        object.__setattr__(self, "categorical", tuple(int(c) for c in self.categorical))
        object.__setattr__(self, "cardinalities", tuple(int(c) for c in self.cardinalities))
        if len(self.input_shape) not in INPUT_KINDS or min(self.input_shape) < 1:
            raise ConfigError(
                f"task {self.name!r}: input_shape {self.input_shape} must be (F,), (C, L) or (C, H, W) "
                "with positive sizes"
            )
        if self.output not in OUTPUT_KINDS:
            raise ConfigError(f"task {self.name!r}: output {self.output!r}; expected one of {list(OUTPUT_KINDS)}")
        if self.output == "dense":
            if len(self.output_shape) != len(self.input_shape) or len(self.input_shape) == 1:
                raise ConfigError(
                    f"task {self.name!r}: a dense output needs (C_out, L) or (C_out, H, W) matching the input "
                    f"rank; got input {self.input_shape}, output {self.output_shape}"
                )
        elif len(self.output_shape) != 1:
            raise ConfigError(f"task {self.name!r}: {self.output} output_shape must be (K,), got {self.output_shape}")
        if self.output == "classification" and self.output_shape[0] < 2:
            raise ConfigError(f"task {self.name!r}: classification needs at least 2 classes")
        if self.loss is None:
            object.__setattr__(self, "loss", _DEFAULT_LOSS[self.output])
        if self.metric is None:
            object.__setattr__(self, "metric", DEFAULT_METRIC[self.output])
        get("loss", self.loss)
        get_metric(self.metric)
        if self.stage2_labels is None:
            object.__setattr__(self, "stage2_labels", "labels" if self.output == "classification" else "kmeans")
        if self.stage2_labels not in ("labels", "kmeans"):
            raise ConfigError(f"task {self.name!r}: stage2_labels {self.stage2_labels!r}; expected 'labels' or 'kmeans'")
        if self.stage2_labels == "labels" and self.output != "classification":
            raise ConfigError(f"task {self.name!r}: stage2_labels='labels' needs a classification task; use 'kmeans'")
        if len(self.categorical) != len(self.cardinalities):
            raise ConfigError(f"task {self.name!r}: categorical and cardinalities must have the same length")
        if self.categorical and self.input_kind != "tabular":
            raise ConfigError(f"task {self.name!r}: categorical columns only exist for tabular (F,) inputs")
        bad = [c for c in self.categorical if not 0 <= c < self.input_shape[0]]
        if bad:
            raise ConfigError(f"task {self.name!r}: categorical indices {bad} out of range for {self.input_shape[0]} features")
        if any(c < 1 for c in self.cardinalities):
            raise ConfigError(f"task {self.name!r}: every categorical column needs cardinality >= 1")

    # ---- derived ------------------------------------------------------------------------------------------
    @property
    def input_kind(self) -> str:
        return INPUT_KINDS[len(self.input_shape)]

    @property
    def higher_is_better(self) -> bool:
        return get_metric(self.metric).higher_is_better

    @property
    def numeric(self) -> tuple[int, ...]:
        cat = set(self.categorical)
        return tuple(i for i in range(self.input_shape[0]) if i not in cat) if self.input_kind == "tabular" else ()

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict) -> Task:
        return cls(**data)


# ---- data checks ---------------------------------------------------------------------------------------------
def check_inputs(task: Task, X: np.ndarray, *, allow_nan: bool = False) -> np.ndarray:
    """Return ``X`` as float32 after checking its shape against the task and that it is finite.

    Raises
    ------
    DataError
        On a wrong rank or shape, or NaN/inf values where they are not allowed.
    """
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataError(f"X must be numeric; got dtype {X.dtype}")
    expected = (len(task.input_shape) + 1)
    if X.ndim != expected:
        raise DataError(
            f"X has rank {X.ndim} (shape {X.shape}); task {task.name!r} expects rank {expected}: "
            f"(N, {', '.join(map(str, task.input_shape))})"
        )
    if tuple(X.shape[1:]) != task.input_shape:
        raise DataError(f"X has example shape {tuple(X.shape[1:])}; task {task.name!r} expects {task.input_shape}")
    X = X.astype(np.float32, copy=False)
    if np.isinf(X).any():
        raise DataError("X contains inf values; only finite values are allowed")
    if not allow_nan and np.isnan(X).any():
        raise DataError(
            "X contains NaN values; they are allowed only for tabular inputs in 'tokenizer' mode, where they "
            "are read as missing values"
        )
    return X


def check_targets(task: Task, y: np.ndarray, n: int) -> np.ndarray:
    """Return targets in training form (int64 class indices, float32 otherwise) after checking them."""
    y = np.asarray(y)
    if len(y) != n:
        raise DataError(f"X has {n} examples but y has {len(y)}; they must match")
    if task.output == "classification":
        if y.ndim != 1:
            raise DataError(f"classification targets must be 1D class indices, got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"classification targets must be integer class indices, got dtype {y.dtype}")
        k = task.output_shape[0]
        if y.min(initial=0) < 0 or y.max(initial=0) >= k:
            raise DataError(f"class indices must lie in [0, {k}); got range [{y.min()}, {y.max()}]")
        return y.astype(np.int64)
    shape = task.output_shape
    if task.output == "regression" and y.ndim == 1 and shape == (1,):
        y = y[:, None]
    if tuple(y.shape[1:]) != shape:
        raise DataError(f"y has example shape {tuple(y.shape[1:])}; task {task.name!r} expects {shape}")
    y = y.astype(np.float32)
    if not np.isfinite(y).all():
        raise DataError("y contains NaN or inf values; targets must be finite")
    if task.output == "multilabel" and not np.isin(y, (0.0, 1.0)).all():
        raise DataError("multilabel targets must be 0 or 1")
    return y


def check_classes_present(task: Task, y: np.ndarray) -> None:
    """Every declared class must have at least one training example (an empty class cannot be learnt)."""
    if task.output != "classification":
        return
    counts = np.bincount(y, minlength=task.output_shape[0])
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        raise DataError(f"classes {empty} have no training examples; task {task.name!r} declares "
                        f"{task.output_shape[0]} classes, and every class needs at least one example")


def predict_output(task: Task, output: torch.Tensor) -> torch.Tensor:
    """Map raw model outputs to predictions: probabilities for (multi-label) classification, values otherwise."""
    if task.output == "classification":
        return output.softmax(dim=-1)
    if task.output == "multilabel":
        return output.sigmoid()
    return output


def stage2_labels(task: Task, y: np.ndarray, seed: int = 0, max_dim: int = 256) -> np.ndarray:
    """Integer labels for stage 2: class labels, or k-means pseudo-labels on the flattened targets.

    Targets wider than ``max_dim`` are first reduced by a seeded Gaussian random projection, so memory stays
    bounded by ``N x max_dim`` whatever the output size.
    """
    if task.stage2_labels == "labels":
        return np.asarray(y, dtype=np.int64)
    from sklearn.cluster import KMeans

    flat = np.asarray(y, dtype=np.float32).reshape(len(y), -1)  # (N, prod(output_shape))
    if flat.shape[1] > max_dim:
        rng = np.random.default_rng(seed)
        proj = rng.standard_normal((flat.shape[1], max_dim)).astype(np.float32) / np.sqrt(max_dim)
        flat = flat @ proj  # (N, max_dim)
    k = min(task.n_pseudo_labels, len(np.unique(flat, axis=0)))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(flat)
    return merge_singletons(km.labels_.astype(np.int64), km.cluster_centers_)


def merge_singletons(labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Fold pseudo-label clusters with a single member into the nearest other cluster (stage 2 needs two
    examples per class), then renumber the clusters 0..k-1. Real class labels are never merged."""
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) < 2 or counts.min() >= 2:
            break
        lonely = ids[counts.argmin()]
        others = ids[ids != lonely]
        nearest = others[np.argmin(np.linalg.norm(centres[others] - centres[lonely], axis=1))]
        labels[labels == lonely] = nearest
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)
