"""The tuned XGBoost baseline's search: scikit-learn's random search, and its wall-clock budget."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("xgboost")

from scipy import stats  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold  # noqa: E402

from baselines.gbdt import SEARCH_SPACE, fit_xgboost_tuned, xgboost_default  # noqa: E402


def _data():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:160], y[:160]


def test_the_search_is_randomizedsearchcv_without_a_budget() -> None:
    X, y = _data()
    _, info = fit_xgboost_tuned(X, y, seed=3, n_iter=4, cv=3, max_estimators=120, n_jobs=1)
    space = {**SEARCH_SPACE, "n_estimators": stats.randint(100, 121)}
    reference = RandomizedSearchCV(xgboost_default(3, 1), space, n_iter=4, scoring="roc_auc",
                                   cv=StratifiedKFold(3, shuffle=True, random_state=3), random_state=3,
                                   refit=False).fit(X, y)
    assert info["best_cv_auc"] == pytest.approx(reference.best_score_, abs=1e-12)
    assert info["best_params"] == pytest.approx({k: float(v) for k, v in reference.best_params_.items()})
    assert "stop_reason" not in info and "max_seconds" not in info["budget"]


def test_a_time_budget_stops_the_search_after_at_least_one_configuration() -> None:
    X, y = _data()
    _, info = fit_xgboost_tuned(X, y, seed=0, n_iter=50, cv=3, max_estimators=120, n_jobs=1, max_seconds=0.0)
    assert info["configurations"] == 1 and info["stop_reason"] == "time" and info["budget"]["max_seconds"] == 0.0
    _, info = fit_xgboost_tuned(X, y, seed=0, n_iter=2, cv=3, max_estimators=120, n_jobs=1, max_seconds=1e6)
    assert info["configurations"] == 2 and info["stop_reason"] == "n_iter"
    assert np.isfinite(info["best_cv_auc"])
