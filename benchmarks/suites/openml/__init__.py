"""OpenML-CC18 suite (first cut): TabPFN's 30 datasets from a verified local mirror, ORCA and logistic regression.

Methods: ``orca`` (one token per feature), ``orca-paper`` (the reference code's tabular encoding), ``orca-mpnet``
(``orca`` with the 109 M-parameter MPNet body; preset ``body-size``), ``orca-lr3e-5`` and ``orca-mpnet-lr3e-5``
(both bodies at refine learning rate 3e-5: a diagnostic of the body-size result), ``orca-auc`` (``orca`` keeping
epochs on validation ROC AUC instead of accuracy), ``orca-refit`` (``orca`` trained again on the whole training
part for the epochs its validation split chose; ``orca-check`` and ``orca-refit-check`` score both on a held-out
check share, preset ``refit-check``), ``orca-linear-skip`` (``orca`` with a linear model of the row beside the
body, started at the logistic regression fit; its ``-check`` twin in preset ``refit-check``), ``orca-cv5`` (the
mean of 5 ``orca`` models, each fitted on 4 of 5 folds and selected on the fifth; ``orca-cv5-check`` likewise),
``orca-tuned`` (a validation-selected search),
``orca-tuned-linear-skip`` (the search with the linear skip in every trial), ``orca-tuned-anchored`` (the search
keeping its anchor, ``orca``'s configuration, unless a trial beats it clearly on
validation), ``orca-tuned-top3`` (the mean of the search's 3 best trials, adopted from ``orca-tuned``'s recorded
variant), ``orca-tuned-refit`` (the chosen trial retrained on the whole training part) and their ``-check`` twins
(a held-out check share scores the chosen model; preset ``search-check``), ``logreg`` (``logreg-check``: on the
check share),
``xgboost`` (defaults) and ``xgboost-tuned`` (random search over TabPFN's space with 5-fold CV ROC AUC on the
training part, budget in the config and the result), ``lightgbm`` and ``catboost`` (defaults; optional extras).

Data: the mirror folder (``data.mirror`` in the config, or ``$ORCA_OPENML_MIRROR``) in the format of
``../shared/data/openml-cc18-tabpfn30/``: one npz per dataset plus ``manifest.json`` with sha256 per file,
which is verified before a file is used (a mismatched file is never used). Splits follow TabPFN's sizes: below
2,000 rows 50/50, otherwise at most 1,000 training and 1,000 test rows; stratified, seeded by the split index
(``seed``). TabPFN's exact window protocol, the LIFT list, TabPFN and the other baselines come with the OpenML
harness issue.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from orca import Task
from orca.exceptions import ConfigError, DataError
from orca.io import read_json

from ...runner.frames import frame_codes
from ...runner.orca_cv import run_orca_cv
from ...runner.orca_search import run_orca_search
from ...runner.suite import JobContext, Suite, TaskData, env_unless_set, register_suite
from ...runner.table_methods import class_proba, run_floor, run_gbdt, run_logreg, run_orca, table_scores

ROOT = Path(__file__).parent


def _mirror_path(config: dict) -> Path:
    default = read_json(ROOT / "default.json")["data"]["mirror"]
    folder = env_unless_set(config["data"]["mirror"], default, "ORCA_OPENML_MIRROR", "data.mirror")
    path = Path(folder)
    return path if path.is_absolute() else ROOT.parents[2] / path  # relative to the repository root


def mirror_folder(config: dict) -> Path:
    path = _mirror_path(config)
    if not (path / "manifest.json").is_file():
        raise DataError(f"OpenML mirror {path} has no manifest.json; set data.mirror or $ORCA_OPENML_MIRROR")
    return path


def unavailable(config: dict) -> str | None:
    """Why this config's data cannot be had here: the local mirror it reads is not present."""
    if config["data"]["source"] != "mirror":
        return None
    path = _mirror_path(config)
    if (path / "manifest.json").is_file():
        return None
    return (f"the OpenML mirror {path} is not here (it sits in ../shared beside a development checkout); with the "
            "network, run with --set data.source=openml, or point data.mirror / $ORCA_OPENML_MIRROR at a mirror")


@lru_cache(maxsize=4)
def _manifest(folder: str) -> dict[str, dict]:
    return {str(d["openml_id"]): d for d in read_json(Path(folder) / "manifest.json")["datasets"]}


def all_tasks(config: dict) -> list[str]:
    """The mirror's datasets; online, any OpenML id (one outside the paper's lists gets a warning when run)."""
    if config["data"]["source"] == "openml" or unavailable(config) is not None:  # no mirror here: the lists
        ids = {str(i) for ids in paper_lists().values() for i in ids}
        return sorted(ids | {str(t) for t in config["tasks"] if str(t).isdigit()}, key=int)
    return sorted(_manifest(str(mirror_folder(config))), key=int)


@lru_cache(maxsize=64)
def _load_verified(path: str, sha256: str) -> dict[str, np.ndarray]:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != sha256:
        raise DataError(f"{path} has sha256 {digest[:16]}..., the manifest says {sha256[:16]}...; "
                        "the file is not used (re-copy the mirror)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def check_classes(y: np.ndarray) -> None:
    """Stratified splits need every class at least twice; say which class is too small."""
    classes, counts = np.unique(y, return_counts=True)
    small = classes[counts < 2].tolist()
    if small:
        raise DataError(f"classes {small} have a single example; a stratified train/test split needs at least 2 "
                        "per class (drop or merge them)")


def tabpfn_split(X: np.ndarray, y: np.ndarray, split: int, max_train: int, max_test: int):
    """50/50 below max_train + max_test rows, else max_train / max_test rows; stratified, seeded by ``split``."""
    check_classes(y)
    n = len(y)
    if n < max_train + max_test:
        n_train, n_test = n // 2, n - n // 2
    else:
        n_train, n_test = max_train, max_test
    idx = np.arange(n)
    rest, test = train_test_split(idx, test_size=n_test, random_state=split, stratify=y)
    if len(rest) > n_train:
        rest, _ = train_test_split(rest, train_size=n_train, random_state=split, stratify=y[rest])
    return X[rest], X[test], y[rest], y[test]


@lru_cache(maxsize=1)
def paper_lists() -> dict[str, list[int]]:
    """The paper's two dataset lists (TabPFN's 30, LIFT's 14), kept as data in ``lists.json``."""
    return {name: entry["ids"] for name, entry in read_json(ROOT / "lists.json").items()}


def check_in_lists(dataset_id: int) -> None:
    """Any OpenML id is allowed, but one outside the paper's lists gets a warning saying so."""
    import warnings

    lists = paper_lists()
    if not any(dataset_id in ids for ids in lists.values()):
        warnings.warn(f"OpenML dataset {dataset_id} is not in the paper's benchmark lists "
                      f"(TabPFN's 30: {lists['tabpfn30']}; LIFT's 14: {lists['lift14']}); its results are not "
                      "comparable with the paper's", stacklevel=2)


def lift_split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """LIFT's protocol: one stratified 80/20 dev/test split with ``random_state=0`` (model selection then
    happens on a validation split carved from the dev part only)."""
    from sklearn.model_selection import StratifiedShuffleSplit

    check_classes(y)
    dev, test = next(StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(X, y))
    return X[dev], X[test], y[dev], y[test]


def tabpfn_window_split(X: np.ndarray, y: np.ndarray, split: int, max_train: int, max_test: int,
                        attempts: int = 8):
    """TabPFN v1's protocol (``generate_valid_split`` with ``evaluate``'s sizes, ``benchmarks.md`` §3.2), for
    job seed ``split`` = TabPFN's split number ``split + 1`` (seeds 0-4 are TabPFN's splits 1-5).

    Split number 1 keeps the row order; k >= 2 permutes the rows with ``torch.manual_seed(k); torch.randperm``.
    With ``m = min(n, max_train + max_test)``, the training part holds ``e = max_train`` rows, or ``m // 2`` when
    ``2 * max_train > m``; a contiguous window of ``2 * e`` rows starts at ``random.randint(0, n - 2e)`` (Python's
    ``random.seed(13 + attempt)``), its first ``e`` rows train and the rest test (so an odd n below 2,000 leaves one
    row out: 285 / 285 of 571). A window is kept only if both halves hold every class; after ``attempts``
    failures TabPFN skips the split, and so does this (with an error saying so)."""
    import random

    import torch

    if max_train != max_test:
        raise ConfigError(f"protocol.split=tabpfn-window takes equal halves; got max_train={max_train}, "
                          f"max_test={max_test}")
    check_classes(y)
    number = split + 1
    n = len(y)
    m = min(n, max_train + max_test)
    e = m // 2 if 2 * max_train > m else max_train  # TabPFN's eval_position_real
    window = 2 * e
    if number > 1:  # the same permutation as torch.manual_seed(number); torch.randperm(n), without touching
        order = torch.randperm(n, generator=torch.Generator().manual_seed(number)).numpy()  # the global seed
    else:
        order = np.arange(n)
    classes = np.unique(y)
    for attempt in range(attempts):
        random.seed(13 + attempt)
        start = random.randint(0, n - window) if n - window > 0 else 0
        rows = order[start:start + window]
        train, test = rows[:e], rows[e:]
        if np.array_equal(np.unique(y[rows]), classes) and np.array_equal(np.unique(y[train]), np.unique(y[test])):
            return X[train], X[test], y[train], y[test]
    raise DataError(f"split {split} (TabPFN's split {number}): no window in {attempts} attempts has every class in "
                    "both halves (TabPFN skips such splits); use protocol.split=stratified for this dataset")


SPLITS = ("stratified", "tabpfn-window", "lift")


def check_columns(X: np.ndarray, name: str) -> None:
    """A column with no observed value cannot be used by any method: say which, and what to do."""
    empty = np.flatnonzero(np.isnan(X).all(axis=0)).tolist()
    if empty:
        raise DataError(f"dataset {name}: columns {empty} hold only missing values; drop them from the data "
                        "(no method can use them, and the ORCA preprocessor refuses them)")


def fetch_online(dataset_id: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], dict[str, Any]]:
    """X (ordinal codes for categoricals, NaN kept), integer labels, categorical column indices, provenance,
    through the ``openml`` client and its cache (needs the network the first time)."""
    from orca.exceptions import require

    openml = require("openml", "openml", "Reading OpenML datasets online")
    try:
        ds = openml.datasets.get_dataset(dataset_id, download_data=True)
        X, y, categorical, names = ds.get_data(target=ds.default_target_attribute)  # DataFrame and Series
    except Exception as exc:  # noqa: BLE001 - the client raises many types; the message says what to do
        raise DataError(f"OpenML dataset {dataset_id} could not be fetched ({type(exc).__name__}: {exc}); it needs "
                        "the network once (then the openml cache), or a local mirror (data.source=mirror)") from exc
    X_arr, _ = frame_codes(pd.DataFrame(X))  # categories -> their codes in the ARFF header's order, NaN kept
    y = pd.Series(y)
    keep = y.notna().to_numpy()
    _, y_int = np.unique(y[keep].astype(str).to_numpy(), return_inverse=True)
    return (X_arr[keep], y_int.astype(np.int64), tuple(int(i) for i, c in enumerate(categorical) if c),
            {"source": "openml client (online)", "kind": "real", "name": ds.name, "version": int(ds.version),
             "columns": [str(n) for n in names]})


def load_task(name: str, config: dict, seed: int) -> TaskData:
    check_in_lists(int(name))
    data_cfg, protocol = config["data"], config["protocol"]
    if data_cfg["source"] == "openml":
        X, y, categorical, provenance = fetch_online(int(name))
    elif data_cfg["source"] == "mirror":
        folder = mirror_folder(config)
        entry = _manifest(str(folder)).get(name)
        if entry is None:
            raise DataError(f"dataset {name} is not in the mirror {folder}; use data.source=openml (online)")
        data = _load_verified(str(folder / entry["file"]), entry["sha256"])
        X, y = data["X"].astype(np.float64), data["y"].astype(np.int64)
        categorical = tuple(int(c) for c in data["categorical"])
        provenance = {"source": "local mirror", "kind": "real", "name": entry["name"], "sha256": entry["sha256"]}
    else:
        raise DataError(f"data.source {data_cfg['source']!r}; expected one of ['mirror', 'openml']")
    check_columns(X, provenance["name"])
    split = protocol["split"]
    if split == "stratified":
        X_tr, X_te, y_tr, y_te = tabpfn_split(X, y, seed, protocol["max_train"], protocol["max_test"])
    elif split == "tabpfn-window":
        X_tr, X_te, y_tr, y_te = tabpfn_window_split(X, y, seed, protocol["max_train"], protocol["max_test"])
    elif split == "lift":
        X_tr, X_te, y_tr, y_te = lift_split(X, y)
    else:
        raise DataError(f"protocol.split {split!r}; expected one of {list(SPLITS)}")
    task = Task(f"openml-{name}", (X.shape[1],), "classification", (int(y.max()) + 1,), metric=config["metric"])
    return TaskData(task, X_tr, y_tr, X_te, y_te,
                    data={**provenance, "categorical": list(categorical), "split": split,
                          "rows": {"train": len(y_tr), "test": len(y_te)}, "features": int(X.shape[1]),
                          "classes": int(y.max()) + 1})


def run_tabpfn(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    import time

    from baselines.tabpfn import tabpfn_classifier

    model = tabpfn_classifier(seed, params["weights"] or None, params["n_ensemble"], params["device"])
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    proba = class_proba(model, data.X_test, data.task.output_shape[0])
    return {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"fit_predict": time.perf_counter() - start}}


SUITE = register_suite(Suite(
    name="openml", root=ROOT, load_task=load_task,
    methods={"orca": run_orca, "orca-paper": run_orca, "orca-bf16": run_orca, "orca-mpnet": run_orca,
             "orca-lr3e-5": run_orca, "orca-mpnet-lr3e-5": run_orca, "orca-auc": run_orca, "orca-refit": run_orca,
             "orca-check": run_orca, "orca-refit-check": run_orca, "orca-linear-skip": run_orca,
             "orca-linear-skip-check": run_orca, "orca-cv5": run_orca_cv, "orca-cv5-check": run_orca_cv,
             "orca-tuned": run_orca_search, "orca-tuned-anchored": run_orca_search,
             "orca-tuned-check": run_orca_search, "orca-tuned-anchored-check": run_orca_search,
             "orca-tuned-top3": run_orca_search, "orca-tuned-top3-check": run_orca_search,
             "orca-tuned-refit": run_orca_search, "orca-tuned-refit-check": run_orca_search,
             "orca-tuned-linear-skip": run_orca_search,
             "logreg": run_logreg, "logreg-check": run_logreg,
             "xgboost": run_gbdt, "xgboost-tuned": run_gbdt, "lightgbm": run_gbdt, "catboost": run_gbdt, "tabpfn": run_tabpfn,
             "floor": run_floor},
    all_tasks=all_tasks, published=("openml-cc18-tabpfn30", "openml-lift14"),
    reference_methods=("xgboost-tuned", "xgboost"),
    hash_neutral=(("data.source", "mirror"), ("protocol.split", "stratified")), unavailable=unavailable,
    floors=("floor",),
))
