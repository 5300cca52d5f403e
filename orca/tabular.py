"""Tabular preprocessing fitted on training data only: standardised numeric columns, integer-coded categories.

Missing values stay NaN (the tokenizer embedder has a learned missing token per column; the paper encoding
reads them as the mean). Categories unseen in training become missing at transform time.

A table fitted as a DataFrame is matched by column name at transform time, in any order; a missing, extra or
renamed column is refused by name, and a numeric column whose values are no longer numbers (text where numbers
were) is refused rather than read as missing. A table fitted as an array is matched by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataError


def _all_numbers(column: pd.Series) -> bool:
    """Whether every non-missing value of ``column`` reads as a number."""
    return bool(pd.to_numeric(column, errors="coerce").notna().sum() == column.notna().sum())


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
        self.named_ = isinstance(X, pd.DataFrame)
        self.columns_ = [str(c) for c in df.columns]
        if self.named_ and len(set(self.columns_)) != len(self.columns_):
            dup = sorted({c for c in self.columns_ if self.columns_.count(c) > 1})
            raise DataError(f"the table has duplicate column names {dup}; columns are matched by name, so each "
                            "name must be unique")
        if self.categorical is None:  # an object array's columns whose values are all numbers are numeric
            cat = [i for i, c in enumerate(df.columns) if not pd.api.types.is_numeric_dtype(df[c])
                   and (self.named_ or not _all_numbers(df.iloc[:, i]))]
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
        num = self._numeric_values(df)
        all_missing = [self.columns_[self.numeric_[j]] for j in np.flatnonzero(np.isnan(num).all(axis=0))]
        if all_missing:
            raise DataError(f"numeric columns {all_missing} have only missing values in training data; drop them")
        if np.isinf(num).any():
            raise DataError("numeric columns contain inf values; only finite values or NaN (missing) are allowed")
        self.dtypes_ = [str(df.dtypes.iloc[i]) for i in range(df.shape[1])]
        self.mean_ = np.nanmean(num, axis=0) if num.size else np.zeros(0)
        std = np.nanstd(num, axis=0) if num.size else np.zeros(0)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    @property
    def cardinalities(self) -> list[int]:
        return [len(c) for c in self.categories_]

    def transform(self, X: Any) -> np.ndarray:
        """``(N, F)`` float32: standardised numerics (NaN = missing) and category codes (NaN = missing/unseen)."""
        df = self._aligned(X)
        out = np.full(df.shape, np.nan, dtype=np.float64)
        num = self._numeric_values(df)
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
        """JSON-ready state: column names, whether they are matched by name, dtypes, categories, scaling."""
        return {"categorical": self.categorical, "columns": self.columns_, "named": self.named_,
                "dtypes": self.dtypes_, "categorical_idx": self.categorical_, "categories": self.categories_,
                "mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularPreprocessor:
        pre = cls(state["categorical"])
        pre.columns_ = state["columns"]
        pre.named_ = state.get("named", False)
        pre.dtypes_ = state.get("dtypes")
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

    def _aligned(self, X: Any) -> pd.DataFrame:
        """``X`` with the fitted columns in the fitted order: by name for a DataFrame fitted on names, else by
        position; missing, extra or renamed columns are refused, naming them."""
        df = self._frame(X)
        n = len(self.columns_)
        if self.named_ and isinstance(X, pd.DataFrame):
            given = [str(c) for c in df.columns]
            missing = [c for c in self.columns_ if c not in given]
            extra = [c for c in given if c not in self.columns_]
            if missing or extra:
                parts = ([f"missing columns {missing}"] if missing else []) + ([f"unexpected columns {extra}"]
                                                                               if extra else [])
                renamed = " (renamed?)" if missing and extra else ""
                raise DataError(f"the table's columns do not match those of fit{renamed}: {'; '.join(parts)}; "
                                f"fitted on {self.columns_} (matched by name, in any order)")
            if len(set(given)) != len(given):
                raise DataError(f"the table has duplicate column names; fitted on {self.columns_}")
            df = df.copy()
            df.columns = given
            return df[self.columns_]
        if df.shape[1] != n:
            raise DataError(f"X has {df.shape[1]} features, but the model is expecting {n} features as input")
        return df

    def _numeric_values(self, df: pd.DataFrame) -> np.ndarray:
        """The numeric columns as float64; text where training had numbers is an error, not "missing"."""
        part = df.iloc[:, self.numeric_]
        num = part.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        lost = np.isnan(num) & ~part.isna().to_numpy(dtype=bool)
        if lost.any():
            j = int(np.flatnonzero(lost.any(axis=0))[0])
            example = part.iloc[int(np.flatnonzero(lost[:, j])[0]), j]
            cols = [self.columns_[self.numeric_[k]] for k in np.flatnonzero(lost.any(axis=0))]
            raise DataError(f"numeric columns {cols} hold values that are not numbers (e.g. {example!r} in "
                            f"{cols[0]!r}, {int(lost.sum())} cells in all); they were numeric in training. Fix the "
                            "values, or leave the cells empty for missing")
        return num

    def _position(self, col: int | str) -> int:
        if isinstance(col, (int, np.integer)):
            if not 0 <= col < len(self.columns_):
                raise DataError(f"categorical column index {col} out of range for {len(self.columns_)} columns")
            return int(col)
        if str(col) not in self.columns_:
            raise DataError(f"categorical column {col!r} not found; columns are {self.columns_}")
        return self.columns_.index(str(col))
