"""The packaged suite's data: real datasets that ship with scikit-learn, so that they need neither network nor
mirror. ``wdbc`` is the breast-cancer table (the same data as OpenML 1510, one of the paper's OpenML-CC18 sets),
split 80/20 stratified by the job's seed; ``digits-1d``/``digits-2d`` are the 8x8 handwritten digits read as a
(1, 64) sequence or a (1, 8, 8) image, split 75/25 stratified by the seed with the first 800 training rows kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

from orca import Task
from orca.exceptions import ConfigError

from ...runner.suite import TaskData

ROOT = Path(__file__).parent
TASKS = ("wdbc", "digits-1d", "digits-2d")


def all_tasks(config: dict) -> list[str]:
    return list(TASKS)


def load_task(name: str, config: dict, seed: int) -> TaskData:
    """One seeded split of a packaged dataset (data kind: real)."""
    if name == "wdbc":
        X, y = load_breast_cancer(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
        task = Task("wdbc", (30,), "classification", (2,), metric="roc_auc")
        about = {"name": "wdbc (OpenML 1510)", "split": f"80/20 stratified, seed {seed}"}
    elif name in ("digits-1d", "digits-2d"):
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        X = X.reshape(-1, 1, 64) if name == "digits-1d" else X.reshape(-1, 1, 8, 8)  # (N, 1, 64) / (N, 1, 8, 8)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
        X_tr, y_tr = X_tr[:800], y_tr[:800]
        task = Task(name, X.shape[1:], "classification", (10,), metric="accuracy")
        about = {"name": f"digits as {'a (1, 64) sequence' if name == 'digits-1d' else '(1, 8, 8) images'}",
                 "split": f"75/25 stratified, seed {seed}, first 800 training rows"}
    else:
        raise ConfigError(f"unknown task {name!r}; expected one of {list(TASKS)}")
    return TaskData(task, X_tr, y_tr, X_te, y_te, params=config.get("task_params", {}).get(name, {}),
                    data={**about, "kind": "real", "source": "scikit-learn (packaged, offline)",
                          "rows": {"train": len(X_tr), "test": len(X_te)}})
