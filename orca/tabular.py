"""Tabular preprocessing fitted on training data only: standardised numeric columns, integer-coded categories.

Missing values stay NaN (the tokenizer embedder has a learned missing token per column; the paper encoding
reads them as the mean). Categories unseen in training become missing at transform time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataError


class TabularPreprocessor:
    """Fit on a training table (DataFrame or 2D array), then transform any table with the same columns.

    Parameters
    ----------
    categorical : list of int or str, optional
        Categorical columns by position or name. ``None``: the non-numeric columns of a DataFrame (none for
        an array).
    """

    def __init__(self, categorical: list[int] | list[str] | None = None) -> None:
        self.categorical = categorical

    def fit(self, X: Any) -> TabularPreprocessor:
        df = self._frame(X)
        if len(df) == 0:
            raise DataError("cannot fit on an empty table")
        self.columns_ = [str(c) for c in df.columns]
        if self.categorical is None:
            cat = [i for i, c in enumerate(df.columns) if not pd.api.types.is_numeric_dtype(df[c])]
        else:
            cat = [self._position(c) for c in self.categorical]
        self.categorical_ = sorted(set(cat))
        self.numeric_ = [i for i in range(df.shape[1]) if i not in self.categorical_]
        self.categories_: list[list[Any]] = []
        for i in self.categorical_:
            values = df.iloc[:, i].dropna().unique().tolist()
            if not values:
                raise DataError(f"categorical column {self.columns_[i]!r} has only missing values in training data; "
                                "drop it")
            self.categories_.append(sorted(values, key=str))
        num = df.iloc[:, self.numeric_].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        all_missing = [self.columns_[self.numeric_[j]] for j in np.flatnonzero(np.isnan(num).all(axis=0))]
        if all_missing:
            raise DataError(f"numeric columns {all_missing} have only missing values in training data; drop them")
        if np.isinf(num).any():
            raise DataError("numeric columns contain inf values; only finite values or NaN (missing) are allowed")
        self.mean_ = np.nanmean(num, axis=0) if num.size else np.zeros(0)
        std = np.nanstd(num, axis=0) if num.size else np.zeros(0)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    @property
    def cardinalities(self) -> list[int]:
        return [len(c) for c in self.categories_]

    def transform(self, X: Any) -> np.ndarray:
        """``(N, F)`` float32: standardised numerics (NaN = missing) and category codes (NaN = missing/unseen)."""
        df = self._frame(X)
        if df.shape[1] != len(self.columns_):
            raise DataError(f"table has {df.shape[1]} columns; the preprocessor was fitted on {len(self.columns_)}")
        out = np.full(df.shape, np.nan, dtype=np.float64)
        num = df.iloc[:, self.numeric_].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        if np.isinf(num).any():
            raise DataError("numeric columns contain inf values; only finite values or NaN (missing) are allowed")
        out[:, self.numeric_] = (num - self.mean_) / self.std_
        for j, i in enumerate(self.categorical_):
            lookup = {v: k for k, v in enumerate(self.categories_[j])}
            out[:, i] = [lookup.get(v, np.nan) for v in df.iloc[:, i].tolist()]
        return out.astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)

    def state(self) -> dict[str, Any]:
        return {"categorical": self.categorical, "columns": self.columns_, "categorical_idx": self.categorical_,
                "categories": self.categories_, "mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularPreprocessor:
        pre = cls(state["categorical"])
        pre.columns_ = state["columns"]
        pre.categorical_ = state["categorical_idx"]
        pre.numeric_ = [i for i in range(len(pre.columns_)) if i not in pre.categorical_]
        pre.categories_ = state["categories"]
        pre.mean_, pre.std_ = np.asarray(state["mean"]), np.asarray(state["std"])
        return pre

    # ---- helpers --------------------------------------------------------------------------------------------
    def _frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(f"a table must be 2D (N, F); got shape {arr.shape}")
        return pd.DataFrame(arr)

    def _position(self, col: int | str) -> int:
        if isinstance(col, (int, np.integer)):
            if not 0 <= col < len(self.columns_):
                raise DataError(f"categorical column index {col} out of range for {len(self.columns_)} columns")
            return int(col)
        if str(col) not in self.columns_:
            raise DataError(f"categorical column {col!r} not found; columns are {self.columns_}")
        return self.columns_.index(str(col))
