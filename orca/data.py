"""In-memory datasets and the train/validation split carved from training data."""

from __future__ import annotations

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


def split_train_val(n: int, val_fraction: float, seed: int, stratify: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/validation split of ``n`` training examples (stratified when possible).

    The validation part is carved from the training data only; the test split is never used for selection.
    """
    if n < 2:
        raise DataError(f"need at least 2 training examples to carve a validation split, got {n}")
    idx = np.arange(n)
    n_val = max(1, int(round(n * val_fraction)))
    strat = stratify
    if strat is not None:
        _, counts = np.unique(strat, return_counts=True)
        if counts.min() < 2 or n_val < len(counts):
            strat = None  # too few examples per class to stratify; fall back to a plain seeded split
    train, val = train_test_split(idx, test_size=n_val, random_state=seed, stratify=strat)
    return np.sort(train), np.sort(val)
