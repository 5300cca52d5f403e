"""Gradient-boosted trees: XGBoost (classifier and regressor) with its defaults and with a bounded random search
(TabPFN's space); LightGBM and CatBoost with their defaults (optional extras).

XGBoost reads the mirror's ordinal category codes and NaN as they are (no one-hot encoding, no imputation),
as TabPFN's protocol does. On CPU-only machines the ``xgboost-cpu`` distribution provides the same module
without the CUDA libraries.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import ParameterSampler, StratifiedKFold

from orca.exceptions import require
from orca.registry import register

# TabPFN v1's XGBoost space (hyperopt) in scipy distributions; n_estimators is capped by the caller's budget.
SEARCH_SPACE = {
    "learning_rate": stats.loguniform(np.exp(-7), 1.0),
    "max_depth": stats.randint(1, 10),
    "subsample": stats.uniform(0.2, 0.8),
    "colsample_bytree": stats.uniform(0.2, 0.8),
    "colsample_bylevel": stats.uniform(0.2, 0.8),
    "min_child_weight": stats.loguniform(np.exp(-16), np.exp(5)),
    "reg_alpha": stats.loguniform(np.exp(-16), np.exp(2)),
    "reg_lambda": stats.loguniform(np.exp(-16), np.exp(2)),
    "gamma": stats.loguniform(np.exp(-16), np.exp(2)),
}


def _xgb():
    return require("xgboost", "tabular", "The XGBoost baseline (on CPU-only machines: pip install xgboost-cpu)")


@register("baseline", "xgboost")
def xgboost_default(seed: int = 0, n_jobs: int = 2) -> Any:
    """``XGBClassifier`` with the library's defaults (hist trees), seeded."""
    return _xgb().XGBClassifier(random_state=seed, n_jobs=n_jobs, tree_method="hist")


@register("baseline", "xgboost-regressor")
def xgboost_regressor(seed: int = 0, n_jobs: int = 2) -> Any:
    """``XGBRegressor`` with the library's defaults (hist trees, squared error), seeded."""
    return _xgb().XGBRegressor(random_state=seed, n_jobs=n_jobs, tree_method="hist")


@register("baseline", "lightgbm")
def lightgbm_default(seed: int = 0, n_jobs: int = 2) -> Any:
    """``LGBMClassifier`` with the library's defaults, seeded (NaN handled natively)."""
    lgb = require("lightgbm", "tabular", "The LightGBM baseline")
    return lgb.LGBMClassifier(random_state=seed, n_jobs=n_jobs, verbose=-1)


@register("baseline", "catboost")
def catboost_default(seed: int = 0, n_jobs: int = 2) -> Any:
    """``CatBoostClassifier`` with the library's defaults, seeded, silent."""
    cb = require("catboost", "catboost", "The CatBoost baseline")
    return cb.CatBoostClassifier(random_seed=seed, thread_count=n_jobs, verbose=False)


def _cv_score(model: Any, X: np.ndarray, y: np.ndarray, folds: StratifiedKFold, scoring: str,
              deadline: float | None) -> float | None:
    """The mean ``scoring`` over ``folds`` of a fresh copy of ``model`` per fold (as ``cross_val_score``), or
    ``None`` when the clock passes ``deadline`` (``time.perf_counter()``) before a fold starts."""
    scorer, scores = get_scorer(scoring), []
    for train, test in folds.split(X, y):
        if deadline is not None and time.perf_counter() >= deadline:
            return None
        fitted = clone(model).fit(X[train], y[train])
        scores.append(scorer(fitted, X[test], y[test]))
    return float(np.mean(scores))


def fit_xgboost_tuned(X: np.ndarray, y: np.ndarray, seed: int = 0, n_iter: int = 20, cv: int = 5,
                      max_estimators: int = 1000, n_jobs: int = 2, max_seconds: float | None = None
                      ) -> tuple[Any, dict[str, Any]]:
    """Random search of up to ``n_iter`` configurations scored by ``cv``-fold ROC AUC on the training data only;
    the defaults are kept unless beaten. Returns the refitted model and what the search did (its budget included).

    The configurations are scikit-learn's ``ParameterSampler`` draws, scored in order, which is what
    ``RandomizedSearchCV`` does (a test checks the two agree). With ``max_seconds`` the search stops once that many
    seconds have passed since it began (the defaults' cross-validation counts; the final refit comes on top), so
    it can be given the same wall-clock budget as another method: the clock is checked before every fold, a
    configuration whose folds are cut short is dropped, and the first configuration is always scored in full.
    """
    scoring = "roc_auc" if len(np.unique(y)) == 2 else "roc_auc_ovo"
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    start = time.perf_counter()
    default_score = _cv_score(xgboost_default(seed, n_jobs), X, y, folds, scoring, None)
    space = {**SEARCH_SPACE, "n_estimators": stats.randint(100, max_estimators + 1)}
    deadline = None if max_seconds is None else start + max_seconds
    tried, stop = [], "n_iter"  # (mean CV score, configuration) in draw order
    for params in ParameterSampler(space, n_iter=n_iter, random_state=seed):
        score = _cv_score(xgboost_default(seed, n_jobs).set_params(**params), X, y, folds, scoring,
                          deadline if tried else None)  # the first configuration is scored in full
        if score is None:
            stop = "time"
            break
        tried.append((score, params))
    finite = [i for i, (s, _) in enumerate(tried) if not np.isnan(s)]  # a failed configuration scores NaN: last
    best = max(finite, key=lambda i: (tried[i][0], -i)) if finite else 0  # the first of equal scores
    best_score, best_params = tried[best]
    use_search = best_score > default_score
    model = xgboost_default(seed, n_jobs)
    if use_search:
        model.set_params(**best_params)
    model.fit(X, y)
    info = {"budget": {"n_iter": n_iter, "cv_folds": cv, "max_estimators": max_estimators},
            "default_cv_auc": default_score, "best_cv_auc": best_score,
            "kept_defaults": not use_search, "best_params": {k: float(v) for k, v in best_params.items()},
            "search_seconds": time.perf_counter() - start}
    if max_seconds is not None:
        info["budget"]["max_seconds"] = max_seconds
        info.update(configurations=len(tried), stop_reason=stop)
    return model, info
