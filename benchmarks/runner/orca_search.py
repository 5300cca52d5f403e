"""ORCA tuned on validation data only, on the same footing as the tuned XGBoost baseline (issue 20).

A random search (scikit-learn's ``ParameterSampler``, seeded by the job) draws ``n_trials`` configurations from
``space`` (dotted ``OrcaConfig`` keys -> lists of values) on top of the method's settings. Every trial fits the
facade on the training part with the same validation split carved from it (``refine.val_fraction``, the job's
seed), so trials are compared on the same rows; the trial with the best validation score is kept and only its
model is scored on the test split, once. Every trial is recorded (settings, validation score, epochs, wall time),
with the budget stated beside XGBoost's: ``n_trials`` configurations, each with its own early-stopped training.

With ``prune`` (``{"startup_trials": n, "warmup_epochs": e}``), Optuna's median pruner watches each trial's
validation score epoch by epoch: once ``n`` trials have finished, a later trial whose best score so far is worse
than the finished trials' median at the same epoch (from epoch ``e`` on) stops there (stop reason ``"pruned"``).
A pruned trial keeps its best epoch and still competes in the selection; it only costs less.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from orca import CrossModalClassifier, OrcaConfig
from orca.exceptions import ConfigError, require
from orca.metrics import get_metric

from .suite import JobContext, TaskData
from .table_methods import categorical_columns, class_proba, facade_record, table_scores


def sample_trials(space: dict[str, list], n_trials: int, seed: int) -> list[dict[str, Any]]:
    """``n_trials`` distinct configurations drawn from ``space`` (all of them when the space is smaller)."""
    from sklearn.model_selection import ParameterSampler

    if not space:
        raise ConfigError("method_params.<orca-tuned>.search.space is empty; give dotted OrcaConfig keys with lists of "
                          "values")
    bad = [k for k, v in space.items() if not isinstance(v, list) or not v]
    if bad:
        raise ConfigError(f"search space entries {bad} must be non-empty lists of values")
    size = int(np.prod([len(v) for v in space.values()]))
    return [dict(sorted(d.items())) for d in ParameterSampler(space, n_iter=min(n_trials, size), random_state=seed)]


def _study(prune: dict[str, int], maximize: bool) -> Any:
    """An Optuna study whose median pruner stops trials as :data:`run_orca_search` describes."""
    optuna = require("optuna", "search", "Pruning ORCA's search trials (search.prune)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize" if maximize else "minimize",
                               pruner=optuna.pruners.MedianPruner(n_startup_trials=prune["startup_trials"],
                                                                  n_warmup_steps=prune["warmup_epochs"]))


def run_orca_search(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    """Fit ``n_trials`` ORCA configurations, select on validation, score the chosen one on the test split."""
    params = dict(params)
    search = params.pop("search", {})
    facade = params.pop("facade", {})
    if params.pop("check", None) is not None:
        raise ConfigError("a 'check' section does not apply to a searched method: its trials are already chosen on "
                          "validation data; remove it")
    space, n_trials = search.get("space", {}), int(search.get("n_trials", 0))
    if n_trials < 1:
        raise ConfigError(f"method_params.<orca-tuned>.search.n_trials must be at least 1, got {n_trials}")
    base = OrcaConfig.from_dict(params)
    metric = data.task.metric
    higher = get_metric(metric).higher_is_better
    prune = search.get("prune")
    maximize = base.refine.select_on != "loss" and higher  # the direction of the score refine selects on
    study = None if prune is None else _study(prune, maximize)
    trials, best, best_clf, best_index = [], None, None, None
    for k, choice in enumerate(sample_trials(space, n_trials, seed)):
        config = base.with_overrides({**choice, "seed": seed})
        clf = CrossModalClassifier.from_config(config, categorical_features=categorical_columns(data), **facade)
        start = time.perf_counter()
        trial, reported = (None if study is None else study.ask()), []

        def on_epoch(epoch: int, value: float) -> bool:  # the pruner sees every epoch's validation score
            reported.append(value)
            trial.report(value, epoch)
            return bool(trial.should_prune())

        clf.fit(data.X_train, data.y_train,  # the validation split is carved inside, the same rows every trial
                on_epoch=None if trial is None else on_epoch)
        result = clf.result_
        score = float(result["metrics"]["val"][metric])
        training = result["refine"].get("training") or {}
        if trial is not None:  # finished trials set the median that later ones are held to
            from optuna.trial import TrialState

            if training.get("stop_reason") == "pruned" or not reported:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                study.tell(trial, (max if maximize else min)(reported))
        trials.append({"trial": k, "settings": choice, f"val_{metric}": score, "seconds": time.perf_counter() - start,
                       "epochs_run": training.get("epochs_run"), "stop_reason": training.get("stop_reason")})
        if best is None or (score > best if higher else score < best) or np.isnan(best):
            best, best_clf, best_index = score, clf, k
    chosen = best_clf.result_
    test = table_scores(data.y_test, class_proba(best_clf, data.X_test, data.task.output_shape[0]))  # scored once
    return {"metrics": {"val": chosen["metrics"]["val"], "test": test}, **facade_record(best_clf),
            "timings_s": {"search": float(sum(t["seconds"] for t in trials))},
            "search": {"trials": trials, "chosen": best_index,
                       "budget": {"n_trials": len(trials), "space": space, "prune": prune,
                                  "pruned": sum(t["stop_reason"] == "pruned" for t in trials),
                                  "selection": f"validation {metric} on refine.val_fraction of the training part"}}}
