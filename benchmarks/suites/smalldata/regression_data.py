"""The small-data study's regression problems (issue 21, ``CrossModalRegressor``), all real and packaged (offline):

- **tables**: scikit-learn's diabetes, Debian ``r-cran-mlbench``'s BostonHousing, Ozone and Servo (read with
  pyreadr, no R) and Debian ``weka``'s cpu.with.vendor (ARFF); factor columns as ordinal codes, missing feature
  values kept, rows without a target left out; split 70/30 by the job's seed with at most 1,000 training rows;
- **series**: the regression problems of the Monash/UEA time-series extrinsic regression archive that ship inside
  pinned wheels, on the archive's own train/test split: Covid3Month and CardanoSentiment (aeon's wheel) and
  Tecator (sktime's wheel), read from their ``.ts`` files without installing either package.

Targets are the raw values (the estimator standardises them for training, as a user's call does).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orca import Task
from orca.exceptions import ConfigError, DataError

from ...runner.frames import frame_codes, read_mlbench, read_weka_arff
from ...runner.packages import AEON_WHEEL, SKTIME_WHEEL, pypi_wheel
from ...runner.suite import TaskData
from .data import data_root

TABLES = {  # name -> (source, file or loader, target column)
    "diabetes": ("sklearn", "diabetes", None), "boston-housing": ("mlbench", "BostonHousing", "medv"),
    "ozone": ("mlbench", "Ozone", "V4"), "servo": ("mlbench", "Servo", "Class"),
    "cpu": ("weka", "cpu.with.vendor.arff", "class"),
}
SERIES = {  # name -> (wheel, member folder)
    "Covid3Month": (AEON_WHEEL, "aeon/datasets/data/Covid3Month"),
    "CardanoSentiment": (AEON_WHEEL, "aeon/datasets/data/CardanoSentiment"),
    "Tecator": (SKTIME_WHEEL, "sktime/datasets/data/Tecator"),
}
"""Chosen before any result: every regression problem with a train/test split found inside a package (the
offline-assets survey), and every small regression table in the Debian packages the classification study reads."""


def all_regression(config: dict) -> list[str]:
    return list(TABLES) + list(SERIES)


def parse_ts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """A ``.ts`` file (the sktime/aeon time-series format) of equal-length series with a numeric target:
    ``(N, C, L)`` float32 series and ``(N,)`` float64 targets.

    Lines starting with ``#`` are comments and ``@`` lines the header; after ``@data`` each line holds the
    channels separated by ``:``, each a comma-separated series (``?`` for a missing value), then the target."""
    header: dict[str, str] = {}
    rows: list[list[str]] = []
    in_data = False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower() == "@data":
                in_data = True
            elif line.startswith("@"):
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip().lower()
            continue
        rows.append(line.split(":"))
    if not in_data or not rows:
        raise DataError("not a .ts file with data: no @data section or no rows after it")
    if header.get("targetlabel") != "true":
        raise DataError(f"the .ts file declares no target (@targetlabel is {header.get('targetlabel')!r}); "
                        "expected a regression problem with @targetlabel true")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise DataError(f"rows hold different numbers of channels: {sorted(w - 1 for w in widths)}")
    series = [[np.array([np.nan if v == "?" else float(v) for v in ch.split(",")]) for ch in r[:-1]] for r in rows]
    lengths = {len(ch) for s in series for ch in s}
    if len(lengths) != 1:
        raise DataError(f"series of unequal length {sorted(lengths)}; only equal-length problems are read")
    X = np.array(series, dtype=np.float32)  # (N, C, L)
    y = np.array([float(r[-1]) for r in rows])
    return X, y


def read_series(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Regression series ``name``: (N, C, L) float32 series and float targets, for the archive's train and test."""
    if name not in SERIES:
        raise ConfigError(f"unknown regression series {name!r}; expected one of {list(SERIES)}")
    pin, folder = SERIES[name]
    wheel = pypi_wheel(**pin, root=root)  # held to its SHA-256
    parts = []
    with zipfile.ZipFile(wheel) as z:
        for split in ("TRAIN", "TEST"):
            parts.extend(parse_ts(z.read(f"{folder}/{name}_{split}.ts").decode("utf-8")))
    if not all(np.isfinite(x).all() for x in parts[0::2]):
        raise DataError(f"{name} holds missing values; it is not one of the study's problems")
    return parts[0], parts[1], parts[2], parts[3]


def _frame(name: str, root: Path) -> pd.DataFrame:
    source, file, _ = TABLES[name]
    if source == "mlbench":
        return read_mlbench(file, root)
    return read_weka_arff(file, root)


def read_table(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, list[int], list[str], int]:
    """Regression table ``name``: X (float64; factor columns as codes, NaN kept), targets, categorical column
    indices, column names, and how many rows were left out for lacking a target."""
    if name not in TABLES:
        raise ConfigError(f"unknown regression table {name!r}; expected one of {list(TABLES)}")
    source, file, target = TABLES[name]
    if source == "sklearn":
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{file}")(scaled=False)
        return bunch.data.astype(np.float64), bunch.target.astype(np.float64), [], list(bunch.feature_names), 0
    frame = _frame(name, root)
    y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=np.float64)
    has = np.isfinite(y)
    features = frame.drop(columns=[target])[has]
    X, categorical = frame_codes(features)  # factors -> codes in their declared level order, NaN kept
    return X, y[has], categorical, [str(c) for c in features.columns], int((~has).sum())


def load_regression(name: str, config: dict, seed: int) -> TaskData:
    """One regression task: a table split by ``seed``, or a series problem on its archive's split."""
    root = data_root(config)
    if name in SERIES:
        X_tr, y_tr, X_te, y_te = read_series(name, root)
        about: dict[str, Any] = {
            "name": name, "kind": "real", "source": f"TSER archive ({SERIES[name][0]['name']} "
                                                   f"{SERIES[name][0]['version']} wheel)",
            "split": "the archive's train/test", "rows": {"train": len(X_tr), "test": len(X_te)},
            "channels": int(X_tr.shape[1]), "length": int(X_tr.shape[-1]), "categorical": []}
    elif name in TABLES:
        from sklearn.model_selection import train_test_split

        X, y, categorical, columns, no_target = read_table(name, root)
        protocol = config["protocol"]
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=protocol["test_fraction"], random_state=seed)
        X_tr, y_tr = X_tr[:protocol["max_train"]], y_tr[:protocol["max_train"]]  # the split is already shuffled
        about = {"name": name, "kind": "real", "categorical": categorical, "columns": columns,
                 "source": {"sklearn": "scikit-learn", "mlbench": "Debian r-cran-mlbench",
                            "weka": "Debian weka"}[TABLES[name][0]],
                 "split": f"{1 - protocol['test_fraction']:.0%}/{protocol['test_fraction']:.0%}, seed {seed}, "
                          f"at most {protocol['max_train']} training rows", "rows_without_target": no_target,
                 "rows": {"train": len(X_tr), "test": len(X_te)}}
    else:
        raise ConfigError(f"unknown regression task {name!r}; expected one of {all_regression(config)}")
    task = Task(f"reg-{name}", X_tr.shape[1:], "regression", (1,), metric=config["metric"])
    return TaskData(task, X_tr, y_tr, X_te, y_te, params=config.get("task_params", {}).get(name, {}), data=about)
