"""Floors: the trivial predictors every method must beat before its score counts as a result.

* ``prior``: the training class frequencies for every input (classification: scikit-learn's
  ``DummyClassifier(strategy="prior")``; multi-label: each label's training frequency). Its ROC AUC is 0.5 and its
  accuracy the majority class's share.
* ``mean``: the mean training target for every input (``DummyRegressor(strategy="mean")``; for fields, the mean
  training field, point by point).
* ``persistence``: the input itself as the prediction, for maps whose input and target are the same quantity on
  the same grid (a PDE state one time step later).

Each is fitted on the training part only, like any method, and returns a ``predict(X)`` callable in the output
space the suite scores (probabilities, or logits for suites that score raw outputs).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor

from orca.exceptions import ConfigError


def prior(y_train: np.ndarray, n_classes: int, logits: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Class prior ``(N, n_classes)``: probabilities (or their logs, a valid logit for arg-max and AUROC)."""
    y = np.asarray(y_train).astype(int)
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y), 1)), y)
    probs = np.zeros(n_classes)
    probs[dummy.classes_] = dummy.class_prior_
    row = np.log(np.maximum(probs, 1e-12)) if logits else probs
    return lambda X: np.tile(row, (len(X), 1))


def label_frequency(y_train: np.ndarray, logits: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Multi-label prior ``(N, K)``: each label's training frequency (or its logit)."""
    p = np.clip(np.asarray(y_train, dtype=np.float64).mean(axis=0), 1e-6, 1 - 1e-6)
    row = np.log(p / (1 - p)) if logits else p
    return lambda X: np.tile(row, (len(X), 1))


def mean(y_train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The mean training target, point by point, for every input: shape ``(N, *target shape)``."""
    y = np.asarray(y_train, dtype=np.float64)
    dummy = DummyRegressor(strategy="mean").fit(np.zeros((len(y), 1)), y.reshape(len(y), -1))
    field = dummy.constant_.reshape(y.shape[1:]).astype(np.float32)
    return lambda X: np.broadcast_to(field, (len(X), *field.shape)).copy()


def persistence(input_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """The input as the prediction; only where input and target have the same shape."""
    if tuple(input_shape) != tuple(target_shape):
        raise ConfigError(f"persistence needs the input and target on the same grid; got {tuple(input_shape)} and "
                          f"{tuple(target_shape)}")
    return lambda X: np.asarray(X, dtype=np.float32).copy()
