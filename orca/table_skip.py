"""A linear model of the table beside the body: the pooled head's optional input skip for tables.

``predictor.linear_skip = True`` adds to a table task's pooled head ``W e(x) + b``, where ``e(x)`` is a fixed
encoding of the model's input row: each numeric column's value (missing as 0, the training mean after the
preprocessor's standardisation) and a missing indicator, and each categorical column one-hot over its categories
and a missing one. Before stage 3 :meth:`TableSkip.warm_start` sets ``W`` and ``b`` to the L2-regularised linear
model of the training rows (scikit-learn's logistic regression for classes and labels, ridge for regression
targets), and the head's own linear map starts at zero, so stage 3 starts from exactly that linear model and the
body's part grows from zero beside it.

Why: the OpenML error analysis (docs/openml.md) finds the one-configuration logistic regression ahead of tuned ORCA
by +0.03 to +0.05 ROC AUC on the tables where ORCA trails most (credit-g, dresses-sales, pc3, ilpd, pc1: small,
noisy binary tables), so the body loses what a linear model already has. The skip is the PDE suite's spectral
skip (``orca.spectral``) for tables; whatever ORCA gains over the linear model alone (the ``logreg`` baseline,
fitted the same way) is the body's.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, Ridge
from torch import nn

from .embedders import CategoryRows
from .tasks import Task


class TableSkip(nn.Module):
    """``(B, F)`` table rows -> ``(B, K)``: a linear map of the rows' fixed encoding (:meth:`encode`).

    Parameters
    ----------
    task : Task
        A tabular task (``input_shape == (F,)``); its ``categorical`` columns hold integer codes
        ``0 .. cardinality - 1`` or NaN, the others standardised numbers or NaN.
    C : float
        Inverse L2 strength of the logistic warm start (scikit-learn's ``C``; ``alpha = 1 / C`` for ridge).
    """

    def __init__(self, task: Task, C: float = 1.0) -> None:
        super().__init__()
        if task.input_kind != "tabular" or task.output == "dense":
            raise ValueError(f"a table skip needs a table mapped to classes, labels or values; task {task.name!r} "
                             f"is {task.input_kind} -> {task.output}")
        self.output, self.C = task.output, float(C)
        self.numeric = list(task.numeric)
        self.categorical = list(task.categorical)
        self.cat_rows = CategoryRows(list(task.cardinalities))  # column j's one-hot block: card_j + 1 entries
        self.width = 2 * len(self.numeric) + self.cat_rows.n_rows
        # zeros, not nn.Linear's random draw: building the skip leaves the random stream as without it
        self.weight = nn.Parameter(torch.zeros(task.output_shape[0], self.width))  # (K, E)
        self.bias = nn.Parameter(torch.zeros(task.output_shape[0]))  # (K,)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, F)`` rows -> ``(B, E)``: numeric values (NaN as 0), their missing indicators, then each
        categorical column's one-hot block (NaN as the block's last entry)."""
        parts = []
        if self.numeric:
            v = x[:, self.numeric]  # (B, Fn)
            missing = torch.isnan(v)
            parts += [torch.nan_to_num(v, nan=0.0), missing.to(v.dtype)]  # (B, Fn) each
        if self.categorical:
            hot = x.new_zeros(x.shape[0], self.cat_rows.n_rows)  # (B, sum(card + 1))
            hot.scatter_(1, self.cat_rows(x[:, self.categorical]), 1.0)
            parts.append(hot)
        return torch.cat(parts, dim=1)  # (B, E)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x.float()) @ self.weight.T + self.bias  # (B, E) @ (E, K) -> (B, K)

    @torch.no_grad()
    def warm_start(self, X: np.ndarray, y: np.ndarray) -> None:
        """Set the map to the L2-regularised linear model of the training rows.

        Parameters
        ----------
        X : ndarray, shape (N, F)
        y : ndarray
            Classification: class indices ``(N,)`` (every class present; binary tasks get the logits
            ``(0, z)``, so the softmax is the logistic model's); multilabel: ``(N, K)`` 0/1, one logistic model per
            label (a label with one value in training gets weight 0 and a bias of ±6); regression: ``(N, T)``.
        """
        e = self.encode(torch.as_tensor(np.asarray(X), dtype=torch.float32)).double().numpy()  # (N, E)
        k = self.weight.shape[0]
        w, b = np.zeros((k, self.width)), np.zeros(k)
        if self.output == "classification":
            model = LogisticRegression(C=self.C, max_iter=2000).fit(e, y)
            if len(model.classes_) == 2:
                w[model.classes_[1]], b[model.classes_[1]] = model.coef_[0], model.intercept_[0]
            else:
                w[model.classes_], b[model.classes_] = model.coef_, model.intercept_
        elif self.output == "multilabel":
            for j in range(k):
                labels = np.asarray(y)[:, j]
                if labels.min() == labels.max():
                    b[j] = 6.0 if labels[0] > 0.5 else -6.0
                    continue
                model = LogisticRegression(C=self.C, max_iter=2000).fit(e, labels.astype(int))
                w[j], b[j] = model.coef_[0], model.intercept_[0]
        else:
            model = Ridge(alpha=1.0 / self.C).fit(e, np.asarray(y).reshape(len(e), k))
            w, b = model.coef_.reshape(k, self.width), np.asarray(model.intercept_).reshape(k)
        self.weight.copy_(torch.as_tensor(w, dtype=self.weight.dtype))
        self.bias.copy_(torch.as_tensor(b, dtype=self.bias.dtype))
