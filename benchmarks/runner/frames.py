"""Tables as read from their formats (an OpenML ARFF frame, an R data frame) -> the float arrays the methods take,
and the packaged data frames (Debian ``r-cran-mlbench``'s R files, ``weka``'s ARFF files) the small-data suites
read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .packages import MLBENCH_DATA, WEKA_EXAMPLES, debian_package


def read_mlbench(name: str, root: Path) -> pd.DataFrame:
    """mlbench's data frame ``name`` (``BostonHousing``, ``Glass``, ...) from the Debian package's ``.rda`` file,
    read with pyreadr (no R); factor columns come back as pandas categoricals in R's level order."""
    import pyreadr

    path = debian_package("r-cran-mlbench", root) / MLBENCH_DATA / f"{name}.rda"
    return next(iter(pyreadr.read_r(str(path)).values()))


def read_weka_arff(file: str, root: Path) -> pd.DataFrame:
    """Weka's example ARFF ``file`` from the Debian ``weka`` package; nominal columns become categoricals in the
    header's order, their bytes decoded."""
    from scipy.io import arff

    data, meta = arff.loadarff(debian_package("weka", root) / WEKA_EXAMPLES / file)
    frame = pd.DataFrame(data)
    for col in meta.names():
        kind, levels = meta[col]
        if kind == "nominal":
            frame[col] = pd.Categorical(frame[col].str.decode("utf-8"), categories=list(levels))
    return frame


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


def flat_rows(X: np.ndarray) -> np.ndarray:
    """Rows for a method that takes tables: series ``(N, C, L)`` flattened to ``(N, C * L)`` (the raw-series
    baselines of time-series classification and extrinsic regression); a table ``(N, F)`` as it is."""
    return X.reshape(len(X), -1)  # (N, C, L) -> (N, C*L); (N, F) unchanged
