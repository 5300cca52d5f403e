"""The small-data study (issue 21): does ``CrossModalClassifier()`` with its defaults work on a user's own small
dataset? Three suites on real, packaged data (none of it in the paper's benchmarks):

- ``smallseries``: 13 small UCR problems (tens to a few hundred training series, lengths 24–512), accuracy;
  ORCA with the library's defaults (``orca-default``; ``orca-mtl``: the same, epochs kept on the validation
  metric with ties broken by the loss) and candidate defaults (``orca-t32-loss``,
  ``orca-t16-loss``: at least 300 optimiser steps, early stopping, 32 or 16 tokens, selection on the validation
  metric or loss; their settings and reasons are in ``series/default.json``), against 1-NN on the raw series, a small 1D ResNet and the class-prior floor;
- ``smalltables``: 10 small tables (iris, wine and eight of mlbench's), ROC AUC, 5 seeded splits; ORCA as above
  against XGBoost with 300 trees, logistic regression and the floor;
- ``smallregression``: the same question for ``CrossModalRegressor()``: 5 small regression tables (diabetes,
  mlbench's BostonHousing, Ozone and Servo, weka's cpu) on 3 seeded splits and 3 series problems of the
  extrinsic-regression archive (Covid3Month, CardanoSentiment, Tecator) on their own split, test R²; ORCA with the
  estimator's defaults against XGBoost's regressor with 300 trees (on the flattened series), ridge, 1-NN
  (raw series; standardised columns) and the mean-target floor.

Presets: ``smoke`` (one task each, Coffee, wine and diabetes, without ORCA: the data paths and references, checked by
``./reproduce.sh`` within its ten minutes), ``defaults`` (the same with the estimators' defaults) and
``study`` (every task and seed).
"""

from __future__ import annotations

from ...runner.regression_methods import (
    run_1nn_regressor,
    run_mean_floor,
    run_orca_regressor,
    run_ridge,
    run_xgboost_regressor,
)
from ...runner.suite import Suite, register_suite
from ...runner.table_methods import facade_base, run_floor, run_gbdt, run_logreg, run_orca
from .data import ROOT, all_series, all_tables, load_series, load_table
from .methods import run_1nn, run_cnn
from .regression_data import SERIES as REGRESSION_SERIES
from .regression_data import TABLES as REGRESSION_TABLES
from .regression_data import all_regression, load_regression

SERIES_FACADE_METHODS = ("orca-default", "orca-mtl", "orca-check", "orca-mtl-check", "orca-ln-check",
                         "orca-aug-check", "orca-ema-check", "orca-lr-check")
"""The series study's ORCA methods that start from the estimators' defaults (``facade_base``)."""

SERIES_SUITE = register_suite(Suite(
    name="smallseries", root=ROOT / "series", load_task=load_series,
    methods={**dict.fromkeys(SERIES_FACADE_METHODS, run_orca), "orca-t32-loss": run_orca, "orca-t16-loss": run_orca,
             "1nn": run_1nn, "cnn": run_cnn, "floor": run_floor},
    all_tasks=all_series, reference_methods=("1nn",), floors=("floor",),
    method_base=dict.fromkeys(SERIES_FACADE_METHODS, facade_base),
))

TABLES_SUITE = register_suite(Suite(
    name="smalltables", root=ROOT / "tables", load_task=load_table,
    methods={"orca-default": run_orca, "orca-mtl": run_orca, "orca-check": run_orca, "orca-mtl-check": run_orca,
             "orca-ln-check": run_orca, "orca-t32": run_orca, "orca-t32-loss": run_orca,
             "xgboost": run_gbdt, "logreg": run_logreg,
             "floor": run_floor},
    all_tasks=all_tables, reference_methods=("xgboost",), floors=("floor",),
    method_base={m: facade_base for m in ("orca-default", "orca-mtl", "orca-check", "orca-mtl-check", "orca-ln-check")},
))

REGRESSION_SUITE = register_suite(Suite(
    name="smallregression", root=ROOT / "regression", load_task=load_regression,
    methods={"orca-default": run_orca_regressor, "orca-raw": run_orca_regressor, "orca-mtl": run_orca_regressor,
             "orca-raw-mtl": run_orca_regressor,
             "xgboost": run_xgboost_regressor, "ridge": run_ridge,
             "1nn": run_1nn_regressor, "floor": run_mean_floor},
    all_tasks=all_regression, reference_methods=("xgboost",), floors=("floor",),
    method_base={m: facade_base for m in ("orca-default", "orca-raw", "orca-mtl", "orca-raw-mtl")},
    task_groups={**{t: "tables" for t in REGRESSION_TABLES}, **{t: "series" for t in REGRESSION_SERIES}},
))
