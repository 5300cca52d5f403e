"""Tables as read from their formats (an OpenML ARFF frame, an R data frame) -> the float arrays the methods take."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frame_codes(frame: pd.DataFrame) -> tuple[np.ndarray, list[int]]:
    """``(N, F)`` float64 values of ``frame`` and the indices of its categorical columns.

    A categorical (factor) column becomes its codes in the category order its format declares (the ARFF header,
    R's levels), a missing value NaN; any other column is read as numbers, a value that is not one becoming NaN.
    """
    columns, categorical = [], []
    for i, name in enumerate(frame.columns):
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(np.float64)
            columns.append(np.where(codes < 0, np.nan, codes))  # code -1: missing
            categorical.append(i)
        else:
            columns.append(pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64))
    values = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    return values, categorical
