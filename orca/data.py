"""In-memory datasets and the train/validation split carved from training data."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

from .exceptions import DataError


class ArrayDataset(Dataset):
    """``(x, y)`` pairs from two aligned arrays (converted to tensors once)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        if len(X) != len(y):
            raise DataError(f"X has {len(X)} examples but y has {len(y)}")
        self.X = torch.as_tensor(np.ascontiguousarray(X))
        self.y = torch.as_tensor(np.ascontiguousarray(y))

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X[i], self.y[i]


def dataset_sha256(*datasets: Dataset) -> str:
    """SHA-256 of the examples of ``datasets`` in order (arrays' bytes, shapes and dtypes): what a checkpoint was
    trained on, so that a resume on other data is refused."""
    digest = hashlib.sha256()
    for ds in datasets:
        pairs = [(ds.X, ds.y)] if isinstance(ds, ArrayDataset) else (ds[i] for i in range(len(ds)))
        for parts in pairs:
            for t in parts:
                arr = np.ascontiguousarray(torch.as_tensor(t).numpy())
                digest.update(f"{arr.dtype.str}{arr.shape}".encode())
                digest.update(arr.tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def split_train_val(n: int, val_fraction: float, seed: int, stratify: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/validation split of ``n`` training examples (stratified when possible).

    The validation part is carved from the training data only; the test split is never used for selection.
    """
    if n < 2:
        raise DataError(f"need at least 2 training examples to carve a validation split, got {n}")
    idx = np.arange(n)
    n_val = max(1, int(round(n * val_fraction)))
    if n - n_val < 2:
        raise DataError(f"refine.val_fraction={val_fraction} of {n} training rows leaves {n - n_val} to train on; "
                        "lower it (e.g. 0.1) or pass a validation set (X_val, y_val)")
    strat = stratify
    if strat is not None:
        _, counts = np.unique(strat, return_counts=True)
        if counts.min() < 2 or n_val < len(counts) or n - n_val < len(counts):
            strat = None  # too few examples per class to stratify; fall back to a plain seeded split
    train, val = train_test_split(idx, test_size=n_val, random_state=seed, stratify=strat)
    return np.sort(train), np.sort(val)


class InputScaler:
    """Standardise series and image inputs ``(N, C, ...)`` per channel with training statistics (mean and
    standard deviation over the training examples and positions), as tables are standardised per column.

    A user's raw series can be in any units (case counts in the tens of thousands, absorbances near 3); the
    embedder's first layer and the body's layer norms are tuned to inputs of unit scale."""

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)

    @classmethod
    def fit(cls, X: np.ndarray) -> InputScaler:
        X = np.asarray(X, dtype=np.float64)
        X = np.where(np.isfinite(X), X, np.nan)  # NaN and inf are refused later, with their own message
        axes = (0, *range(2, X.ndim))  # every axis but the channels'
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a channel with no finite value: scale 1
            mean, std = np.nanmean(X, axis=axes), np.nanstd(X, axis=axes)
        return cls(np.nan_to_num(mean), np.where(std > 0, std, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        shape = (1, -1) + (1,) * (X.ndim - 2)  # (C,) -> (1, C, 1, ...): broadcast over examples and positions
        if X.ndim < 2 or X.shape[1] != self.mean.size:
            raise DataError(f"X has example shape {X.shape[1:]}; the input scaler was fitted on "
                            f"{self.mean.size} channel(s)")
        return ((X - self.mean.reshape(shape)) / self.std.reshape(shape)).astype(np.float32)

    def state(self) -> dict[str, list]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> InputScaler:
        return cls(np.asarray(state["mean"]), np.asarray(state["std"]))


class TargetScaler:
    """Standardise regression targets on training data: per column for ``(N, T)``, globally for fields.

    Training and model selection run on standardised targets; reported metrics and predictions are mapped
    back to the original units with :meth:`inverse`.
    """

    def __init__(self, mean: np.ndarray | float, std: np.ndarray | float) -> None:
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    @classmethod
    def fit(cls, y: np.ndarray) -> TargetScaler:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2:  # (N, T): one scale per target column
            mean, std = y.mean(axis=0), y.std(axis=0)
        else:  # fields (N, C, ...): one scale for the whole field
            mean, std = y.mean(), y.std()
        return cls(mean, np.where(std > 0, std, 1.0))

    def transform(self, y: np.ndarray) -> np.ndarray:
        return ((np.asarray(y, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float32) * self.std + self.mean).astype(np.float32)

    def state(self) -> dict[str, list | float]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> TargetScaler:
        return cls(state["mean"], state["std"])
