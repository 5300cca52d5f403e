"""Methods every regression suite on tables or series shares: ORCA through ``CrossModalRegressor`` (as a user
calls it), XGBoost's regressor, ridge, 1-NN and the mean-target floor; all scored on the test split in the target's own
units by R², RMSE and MAE. Series ``(N, C, L)`` reach the non-neural methods flattened to ``(N, C * L)`` (the
raw-series baselines of time-series extrinsic regression); a suite's ``TaskData.data`` may name its
``categorical`` column indices."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from orca import CrossModalRegressor
from orca.exceptions import ConfigError
from orca.metrics import get_metric
from orca.registry import get

from .frames import flat_rows
from .suite import JobContext, TaskData
from .table_methods import categorical_columns, facade_estimator, facade_record


def regression_scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Test R², RMSE and MAE of ``pred`` against ``y`` (both ``(N,)``, the target's units)."""
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64).reshape(len(y))
    return {m: get_metric(m)(y, pred) for m in ("r2", "rmse", "mae")}


def run_orca_regressor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """``CrossModalRegressor`` from the method's settings (its ``facade`` section included), fitted on the training
    part (its validation split carved from it) and scored once on the test part."""
    if "check" in params:
        raise ConfigError("a 'check' section (a held-out check split for a defaults study) is implemented for "
                          "classification only; remove it from this regression method's settings")
    reg = facade_estimator(CrossModalRegressor, data, params, seed, ctx)
    reg.fit(data.X_train, data.y_train, resume=ctx.resume)
    return {"metrics": {"test": regression_scores(data.y_test, reg.predict(data.X_test)),
                        "val": reg.result_["metrics"]["val"]},  # its R² and RMSE in the target's units
            **facade_record(reg)}


def run_xgboost_regressor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """XGBoost's regressor with its defaults and ``n_estimators`` trees (category codes and NaN as they are)."""
    from baselines.gbdt import xgboost_regressor

    start = time.perf_counter()
    model = xgboost_regressor(seed)
    if params.get("n_estimators") is not None:
        model.set_params(n_estimators=params["n_estimators"])
    model.fit(flat_rows(data.X_train), data.y_train)
    seconds = time.perf_counter() - start
    return {"metrics": {"test": regression_scores(data.y_test, model.predict(flat_rows(data.X_test)))},
            "timings_s": {"fit": seconds},
            "budget": f"defaults, {params.get('n_estimators', 'default')} trees, no search"}


def run_ridge(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """Ridge regression after imputation, standardisation and one-hot coding of categorical columns."""
    import baselines  # noqa: F401  (registers the baselines)

    X_tr = flat_rows(data.X_train)
    model = get("baseline", "ridge")(seed=seed, alpha=params["alpha"], n_features=X_tr.shape[1],
                                     categorical=categorical_columns(data))
    start = time.perf_counter()
    model.fit(X_tr, data.y_train)
    seconds = time.perf_counter() - start
    return {"metrics": {"test": regression_scores(data.y_test, model.predict(flat_rows(data.X_test)))},
            "timings_s": {"fit": seconds}}


def run_1nn_regressor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """One nearest neighbour's target, Euclidean: on the raw series (the classic time-series yardstick), or on a
    table's columns after imputation, standardisation and one-hot coding."""
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline

    from baselines.linear import table_encoder

    X_tr = flat_rows(data.X_train)
    knn = KNeighborsRegressor(n_neighbors=1)
    model = knn if data.X_train.ndim == 3 else make_pipeline(table_encoder(X_tr.shape[1], categorical_columns(data)), knn)
    start = time.perf_counter()
    model.fit(X_tr, data.y_train)
    seconds = time.perf_counter() - start
    return {"metrics": {"test": regression_scores(data.y_test, model.predict(flat_rows(data.X_test)))},
            "timings_s": {"fit": seconds}, "budget": "none: 1-NN"}


def run_mean_floor(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """The floor: the mean training target for every row (test R² at most about 0)."""
    from baselines.floors import mean

    pred = mean(data.y_train)(data.X_test)
    return {"metrics": {"test": regression_scores(data.y_test, pred)}, "timings_s": {"fit": 0.0},
            "budget": "none: the mean training target"}
