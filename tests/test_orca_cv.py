"""A cross-validated ensemble of ORCA (``benchmarks/runner/orca_cv.py``): each model fits on the other folds and
keeps its epoch on its own, every training row is scored out of fold exactly once, the test rows get the mean of
the fold models' probabilities, an interrupted job resumes fold by fold to the same result, bad settings fail."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import kill_fit_at, tiny_table_job
from sklearn.metrics import roc_auc_score

from benchmarks.runner.orca_cv import fold_set_training, run_orca_cv
from benchmarks.runner.suite import JobContext
from orca import CrossModalClassifier
from orca.exceptions import ConfigError, DataError

_data = tiny_table_job


def _params(folder, folds: int = 4) -> dict:
    return {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
            "refine": {"epochs": 2, "lr": 3e-3}, "cv": {"folds": folds}}


def test_folds_fit_apart_and_the_test_rows_get_the_mean(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    fits, test_outputs = [], []  # each fold's (fit rows, validation rows); each model's test probabilities
    original_fit, original_proba = CrossModalClassifier.fit, CrossModalClassifier.predict_proba

    def spy_fit(self, X, y, X_val=None, y_val=None, **k):
        fits.append((X.copy(), X_val.copy()))
        return original_fit(self, X, y, X_val=X_val, y_val=y_val, **k)

    def spy_proba(self, X, *a, **k):
        out = original_proba(self, X, *a, **k)
        if len(X) == len(data.X_test) and np.array_equal(X, data.X_test):
            test_outputs.append(out)
        return out

    monkeypatch.setattr(CrossModalClassifier, "fit", spy_fit)
    monkeypatch.setattr(CrossModalClassifier, "predict_proba", spy_proba)
    rec = run_orca_cv(data, _params(folder), seed=0)
    assert len(fits) == 4 and len(test_outputs) == 4
    row = {tuple(r): i for i, r in enumerate(data.X_train)}
    seen = np.zeros(len(data.y_train), int)
    for X_fit, X_val in fits:  # a fold's validation rows are never among its fit rows; together they are all rows
        fit_rows, val_rows = {row[tuple(r)] for r in X_fit}, [row[tuple(r)] for r in X_val]
        assert not fit_rows & set(val_rows) and len(fit_rows) + len(val_rows) == len(data.y_train)
        seen[val_rows] += 1
    assert (seen == 1).all()  # every training row scored out of fold exactly once
    mean = np.mean(test_outputs, axis=0)
    assert rec["metrics"]["test"]["roc_auc"] == pytest.approx(roc_auc_score(data.y_test, mean, multi_class="ovo"))
    assert len(rec["cv"]["records"]) == 4 and rec["training"]["seconds"] > 0
    assert rec["metrics"]["val"]["roc_auc"] > 0.7  # out-of-fold scores of a learnable task


def test_an_interrupted_job_resumes_fold_by_fold(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    params = _params(folder, folds=3)
    whole = run_orca_cv(data, params, seed=0, ctx=JobContext(tmp_path / "whole"))
    original = CrossModalClassifier.fit
    kill_fit_at(monkeypatch, 3)
    ckpt = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_orca_cv(data, params, seed=0, ctx=JobContext(ckpt))
    assert [f["fold"] for f in json.loads((ckpt / "cv-state.json").read_text())["done"]] == [0, 1]
    monkeypatch.setattr(CrossModalClassifier, "fit", original)
    resumed = run_orca_cv(data, params, seed=0, ctx=JobContext(ckpt, resume=True))
    assert resumed["cv"]["resumed_folds"] == 2 and resumed["training"]["resumed_s"] > 0
    for split in ("val", "test"):
        assert resumed["metrics"][split]["roc_auc"] == pytest.approx(whole["metrics"][split]["roc_auc"], abs=1e-6)


def test_bad_settings_fail(tmp_path) -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    for cv, message in (({"folds": 1}, "2 <= k <= 10"), ({"folds": True}, "2 <= k <= 10"),
                        ({"folds": 5, "x": 1}, "2 <= k <= 10")):
        with pytest.raises(ConfigError, match=message):
            resolve_config(get_suite("openml"), "paper", {"method_params": {"orca": {"cv": cv}}})
    with pytest.raises(ConfigError, match="exclude each other"):
        resolve_config(get_suite("openml"), "paper", {"method_params": {"orca-tuned": {"cv": {"folds": 5}}}})
    folder, data = _data(tmp_path, n=100)  # then class 2 keeps 4 training rows: too few for 5 folds
    data.y_train[:] = np.where(np.arange(len(data.y_train)) < 4, 2, data.y_train % 2)
    with pytest.raises(DataError, match="smallest class has 4"):
        run_orca_cv(data, _params(folder, folds=5), seed=0)


def test_fold_set_training_reports_why_a_set_did_not_converge():
    """A set is converged only if every fold stopped on patience; otherwise its reason is the first unconverged
    fold's own (a time budget is not reported as an epoch cap)."""
    def fold(reason, epochs):
        return {"stop_reason": reason, "converged": reason == "patience", "epochs_run": epochs, "samples_seen": 100}

    done = fold_set_training([fold("patience", 4), fold("patience", 6)], 12.0)
    assert done["converged"] and done["stop_reason"] == "patience"
    assert done["epochs_run"] == 6 and done["samples_seen"] == 200 and done["seconds"] == 12.0
    mixed = fold_set_training([fold("patience", 4), fold("budget", 3), fold("cap", 10)], 9.0)
    assert not mixed["converged"] and mixed["stop_reason"] == "budget"
    assert mixed["stop_reasons"] == ["patience", "budget", "cap"]
    assert fold_set_training([fold("cap", 10)], 1.0)["stop_reason"] == "cap"
    with pytest.raises(ValueError, match="at least one fold"):
        fold_set_training([], 0.0)
