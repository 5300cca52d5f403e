"""Methods every table suite shares: ORCA through the scikit-learn facade (as a user runs it on a table:
categorical columns coded, numeric ones standardised on the training part, ``refine.val_fraction`` carved for
selection) and logistic regression; both scored by test ROC AUC and accuracy. A suite's ``TaskData.data`` may name
its ``categorical`` column indices."""

from __future__ import annotations

from typing import Any

import numpy as np

from orca import CrossModalClassifier, CrossModalRegressor, OrcaConfig
from orca.defaults import facade_sections
from orca.estimators import FACADE_PARAMS
from orca.metrics import get_metric
from orca.registry import get

from .config import FACADE_KEYS, config_sections
from .suite import JobContext, TaskData

Estimator = CrossModalClassifier | CrossModalRegressor


def facade_base() -> dict[str, Any]:
    """What ``CrossModalClassifier()`` / ``CrossModalRegressor()`` describe, as an ORCA method's settings: the
    facade's config defaults (:func:`orca.defaults.facade_sections`) and its :data:`.config.FACADE_KEYS` at the
    estimators' defaults; a suite's ``method_base`` for methods that follow the library's defaults."""
    return {**facade_sections(), "facade": {k: FACADE_PARAMS[k] for k in FACADE_KEYS}}


def table_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    return {"roc_auc": get_metric("roc_auc")(y, proba), "accuracy": get_metric("accuracy")(y, proba)}


def class_proba(model: Any, X: Any, k: int) -> np.ndarray:
    """``(N, k)`` class probabilities: ``model.predict_proba(X)``'s columns placed at ``model.classes_`` (labels
    0..k-1), so that a class the training part happened to lack scores 0 instead of shifting the others."""
    proba = np.zeros((len(X), k))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return proba


def categorical_columns(data: TaskData) -> list[int]:
    """The categorical column indices a table task names (``TaskData.data["categorical"]``); none for series."""
    return list(data.data.get("categorical", [])) if data.X_train.ndim == 2 else []


def facade_estimator(cls: type[Estimator], data: TaskData, params: dict, seed: int,
                     ctx: JobContext = JobContext()) -> Estimator:
    """The estimator ``cls`` an ORCA method's settings describe: its config sections with the job's seed, its
    ``facade`` section's parameters (:data:`.config.FACADE_KEYS`), the task's categorical columns, and the
    runner's checkpointing."""
    facade = params.get("facade", {})
    config = OrcaConfig.from_dict(config_sections(params)).with_overrides({"seed": seed})
    est = cls.from_config(config, categorical_features=categorical_columns(data), **facade)
    est.checkpoint_dir = None if ctx.checkpoint_dir is None else str(ctx.checkpoint_dir)
    est.checkpoint_every_s = ctx.checkpoint_every_s
    return est


def facade_record(est: Estimator) -> dict[str, Any]:
    """What every facade-run ORCA result records besides its scores, from a fitted estimator's ``result_``: timings,
    parameter counts, the align report, the kept epoch and steps (and a refit's record), the training record
    (epochs, stop reason), the body's source, the device, the training/validation split sizes, and the facade
    parameters it ran with."""
    r = est.result_
    return {"timings_s": r["timings_s"], "parameters": r["parameters"], "align": r["align"],
            "refine": {"best_epoch": r["refine"]["best_epoch"], "steps": r["refine"]["steps"],
                       "precision": r["refine"].get("precision"),
                       **({"refit": r["refine"]["refit"]} if "refit" in r["refine"] else {})},
            "training": r["refine"].get("training"), "body_source": r["body_source"], "device": r["refine"]["device"],
            "split": r.get("split"), "facade": {k: getattr(est, k) for k in FACADE_KEYS}}


CHECK_SEED_OFFSET = 10_007
"""Added to the job's seed for the check split, so that it is drawn independently of the validation split the
estimator carves from what is left."""


def check_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(fit, check)`` of the training labels ``y``: a seeded share ``fraction`` held out for checking
    (stratified where every class has 2 rows), drawn apart from the estimator's own validation split. A class
    whose every row fell into the check part goes back to the fit, since the test split may hold it."""
    from orca.data import split_train_val

    fit, check = split_train_val(len(y), fraction, seed + CHECK_SEED_OFFSET, y)
    lost = np.isin(y[check], y[fit], invert=True)
    return np.sort(np.concatenate([fit, check[lost]])), check[~lost]


def run_orca(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """``CrossModalClassifier`` from the method's settings, fitted on the training part (its validation split carved
    from it) and scored once on the test part.

    With a ``check`` section (``{"fraction": f}``), a stratified share ``f`` of the training part is held out
    before the fit and the fitted model scored on it (``metrics.check``: ROC AUC, accuracy and the cross-entropy
    as ``loss``): a defaults study can then compare selection rules on data that neither rule selected on, which
    the validation split, where each rule picks its own best epoch, cannot do."""
    clf = facade_estimator(CrossModalClassifier, data, params, seed, ctx)
    fraction = params.get("check", {}).get("fraction")
    if fraction is None:
        clf.fit(data.X_train, data.y_train, X_test=data.X_test, y_test=data.y_test, resume=ctx.resume)
        return {"metrics": clf.result_["metrics"], **facade_record(clf)}
    fit, check = check_split(data.y_train, fraction, seed)
    clf.fit(data.X_train[fit], data.y_train[fit], X_test=data.X_test, y_test=data.y_test, resume=ctx.resume)
    return {"metrics": {**clf.result_["metrics"], "check": check_scores(clf, data, check)}, **facade_record(clf),
            "check": check_record(fraction, fit, check)}


def check_record(fraction: float, fit: np.ndarray, check: np.ndarray) -> dict[str, Any]:
    """What a result records about its check share: the fraction and the rows fitted on and held out."""
    return {"fraction": fraction, "rows": {"fit": len(fit), "check": len(check)}}


def check_scores(model: Any, data: TaskData, check: np.ndarray) -> dict[str, float]:
    """``model``'s scores on the held-out check rows ``check`` of the training part: ROC AUC, accuracy and the
    cross-entropy as ``loss``."""
    k = data.task.output_shape[0]
    return proba_scores(data.y_train[check], class_proba(model, data.X_train[check], k), k)


def proba_scores(y: np.ndarray, proba: np.ndarray, k: int) -> dict[str, float]:
    """ROC AUC, accuracy and the cross-entropy (``loss``) of class probabilities ``proba`` ``(N, k)`` on labels
    ``y`` ``(N,)``; rows are renormalised first (float32 softmax rows sum to 1 only within 1e-7)."""
    from sklearn.metrics import log_loss

    proba = proba / proba.sum(axis=1, keepdims=True)
    return {**table_scores(y, proba), "loss": float(log_loss(y, proba, labels=np.arange(k)))}


def run_logreg(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The L2 logistic regression (one configuration, ``C``) fitted on the training part and scored once on the
    test part. With a ``check`` section (``{"fraction": f}``), the same held-out check share as ``run_orca``'s
    (:func:`check_split`, same seed) is kept out of the fit and scored (``metrics.check``), a reference line for
    the defaults studies that compare ORCA variants on those rows."""
    import time

    import baselines  # noqa: F401  (registers the baselines)

    model = get("baseline", "logreg")(seed=seed, C=params["C"], max_iter=params["max_iter"],
                                      n_features=data.X_train.shape[1], categorical=categorical_columns(data))
    fraction = (params.get("check") or {}).get("fraction")
    fit, check = ((np.arange(len(data.y_train)), None) if fraction is None
                  else check_split(data.y_train, fraction, seed))
    start = time.perf_counter()
    model.fit(data.X_train[fit], data.y_train[fit])
    seconds = time.perf_counter() - start
    proba = class_proba(model, data.X_test, data.task.output_shape[0])
    out: dict[str, Any] = {"metrics": {"test": table_scores(data.y_test, proba)}, "timings_s": {"fit": seconds}}
    if check is not None:
        out["metrics"]["check"] = check_scores(model, data, check)
        out["check"] = check_record(fraction, fit, check)
    return out


def run_gbdt(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """Gradient-boosted trees: XGBoost with its defaults (``n_estimators`` trees when given) or tuned (``tuned``:
    random search of ``n_iter`` configurations, stopped after ``max_seconds`` when given; the budget in the
    record), or LightGBM / CatBoost with their defaults (``library``)."""
    import time

    from baselines.gbdt import fit_xgboost_tuned, xgboost_default

    start = time.perf_counter()
    if params.get("library", "xgboost") != "xgboost":  # lightgbm / catboost: defaults through the registry
        import baselines  # noqa: F401

        model, info = get("baseline", params["library"])(seed).fit(data.X_train, data.y_train), {"budget": "defaults"}
    elif params.get("tuned", False):
        model, info = fit_xgboost_tuned(data.X_train, data.y_train, seed, params["n_iter"], params["cv"],
                                        params["max_estimators"], max_seconds=params.get("max_seconds"))
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
