"""Methods every table suite shares: ORCA through the scikit-learn facade (as a user runs it on a table:
categorical columns coded, numeric ones standardised on the training part, ``refine.val_fraction`` carved for
selection) and logistic regression; both scored by test ROC AUC and accuracy. A suite's ``TaskData.data`` may name
its ``categorical`` column indices."""

from __future__ import annotations

from typing import Any

import numpy as np

from orca import CrossModalClassifier, OrcaConfig
from orca.metrics import get_metric
from orca.registry import get

from .suite import JobContext, TaskData


def table_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    return {"roc_auc": get_metric("roc_auc")(y, proba), "accuracy": get_metric("accuracy")(y, proba)}


def class_proba(model: Any, X: Any, k: int) -> np.ndarray:
    """``(N, k)`` class probabilities: ``model.predict_proba(X)``'s columns placed at ``model.classes_`` (labels
    0..k-1), so that a class the training part happened to lack scores 0 instead of shifting the others."""
    proba = np.zeros((len(X), k))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return proba


def run_orca(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    config = OrcaConfig.from_dict(params).with_overrides({"seed": seed})
    clf = CrossModalClassifier.from_config(config, categorical_features=data.data.get("categorical", []))
    clf.checkpoint_dir = None if ctx.checkpoint_dir is None else str(ctx.checkpoint_dir)
    clf.checkpoint_every_s = ctx.checkpoint_every_s
    clf.fit(data.X_train, data.y_train, X_test=data.X_test, y_test=data.y_test, resume=ctx.resume)
    r = clf.result_
    return {"metrics": r["metrics"], "timings_s": r["timings_s"], "parameters": r["parameters"],
            "align": r["align"], "refine": {"best_epoch": r["refine"]["best_epoch"], "steps": r["refine"]["steps"]},
            "training": r["refine"].get("training"),
            "body_source": r["body_source"], "device": r["refine"]["device"]}


def run_logreg(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    import time

    import baselines  # noqa: F401  (registers the baselines)

    model = get("baseline", "logreg")(seed=seed, C=params["C"], max_iter=params["max_iter"],
                                      n_features=data.X_train.shape[1], categorical=data.data.get("categorical", []))
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    seconds = time.perf_counter() - start
    proba = class_proba(model, data.X_test, data.task.output_shape[0])
    return {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"fit": seconds}}


def run_gbdt(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """Gradient-boosted trees: XGBoost with its defaults (``n_estimators`` trees when given) or tuned (``tuned``:
    random search, the budget in the record), or LightGBM / CatBoost with their defaults (``library``)."""
    import time

    from baselines.gbdt import fit_xgboost_tuned, xgboost_default

    start = time.perf_counter()
    if params.get("library", "xgboost") != "xgboost":  # lightgbm / catboost: defaults through the registry
        import baselines  # noqa: F401

        model, info = get("baseline", params["library"])(seed).fit(data.X_train, data.y_train), {"budget": "defaults"}
    elif params.get("tuned", False):
        model, info = fit_xgboost_tuned(data.X_train, data.y_train, seed, params["n_iter"], params["cv"],
                                        params["max_estimators"])
    else:
        model = xgboost_default(seed)
        trees = params.get("n_estimators")
        if trees is not None:
            model.set_params(n_estimators=trees)
        model.fit(data.X_train, data.y_train)
        info = {"budget": "defaults" + (f", {trees} trees" if trees is not None else "") + ", no search"}
    seconds = time.perf_counter() - start
    proba = class_proba(model, data.X_test, data.task.output_shape[0])
    return {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"fit": seconds}, "search": info}


def run_floor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The floor: the training class prior for every row (ROC AUC 0.5, accuracy = the majority share)."""
    from baselines.floors import prior

    proba = prior(data.y_train, data.task.output_shape[0])(data.X_test)
    return {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"fit": 0.0},
            "budget": "none: the training class prior"}
