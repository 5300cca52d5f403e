"""ORCA tuned on validation data only, on the same footing as the tuned XGBoost baseline (issue 20).

A random search (scikit-learn's ``ParameterSampler``, seeded by the job) draws ``n_trials`` configurations from
``space`` (dotted ``OrcaConfig`` keys -> lists of values) on top of the method's settings. Every trial fits the
facade on the training part with the same validation split carved from it (``refine.val_fraction``, the job's seed),
so trials are compared on the same rows; the trial with the best validation score is kept and only its model is
scored on the test split, once. Every trial is recorded (settings, validation score, epochs, wall time, the
per-epoch scores its pruner saw), with the budget stated beside XGBoost's: ``n_trials`` configurations, each with
its own early-stopped training.

With ``prune`` (``{"startup_trials": n, "warmup_epochs": e}``), Optuna's median pruner watches, epoch by epoch, the
validation score each trial's epochs are selected on (the facade's ``metric``: set it to the task's metric, as
``orca-tuned`` does with ``roc_auc``, or epochs are kept on the classifier's default, accuracy; trials are compared
on the task's metric either way): once ``n`` trials have finished, a later trial whose best score so far is worse
than the finished trials' median at the same epoch (from epoch ``e`` on) stops there (stop reason ``"pruned"``). A
pruned trial keeps its best epoch and still competes in the selection; it only costs less.

Under the runner (``ctx.checkpoint_dir``) the search is checkpointed trial by trial: after each trial its record and
the validation scores the pruner saw go to ``search.json``, and the best model so far to a safetensors file (read
back without executing code). An interrupted job continued with ``--resume`` skips the finished trials, gives the
pruner their scores again and carries on with the next trial, so it ends as an uninterrupted search would; only the
trial that was running when it stopped is trained again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from orca import CrossModalClassifier, OrcaConfig
from orca.exceptions import ConfigError, require
from orca.io import read_json, write_json
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


SEARCH_STATE = "search.json"
"""The checkpoint file of an interrupted search: its finished trials and its chosen trial's record."""


def best_model_file(trial: int) -> str:
    """The file name of an interrupted search's best model when trial ``trial`` is the best so far (the state
    names it, so a model written just before an interruption is never taken for an earlier trial's)."""
    return f"best-trial-{trial}.safetensors"


def restore(checkpoint_dir: Path | None, planned: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The saved state of an interrupted search in ``checkpoint_dir``: its finished trials (each with the
    ``reported`` validation scores its pruner saw), the chosen trial's index and record; ``None`` when there is
    none, or when its trials' settings are not the first of ``planned`` (then the search starts afresh)."""
    if checkpoint_dir is None or not (Path(checkpoint_dir) / SEARCH_STATE).is_file():
        return None
    state = read_json(Path(checkpoint_dir) / SEARCH_STATE)
    done = [t["settings"] for t in state["trials"]]
    if done != planned[:len(done)] or not (Path(checkpoint_dir) / best_model_file(state["chosen"])).is_file():
        return None
    return state


def _retell(study: Any, trials: list[dict[str, Any]], maximize: bool) -> None:
    """Give a fresh study the finished trials of an interrupted search, as its pruner saw them."""
    from optuna.trial import TrialState, create_trial

    for t in trials:
        steps = {int(epoch): float(value) for epoch, value in t["reported"]}
        if t["stop_reason"] == "pruned" or not steps:
            study.add_trial(create_trial(state=TrialState.PRUNED, intermediate_values=steps))
        else:
            study.add_trial(create_trial(state=TrialState.COMPLETE, intermediate_values=steps,
                                         value=(max if maximize else min)(steps.values())))


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
    planned = sample_trials(space, n_trials, seed)
    ckpt = None if ctx.checkpoint_dir is None else Path(ctx.checkpoint_dir)
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    state = restore(ckpt, planned) if ctx.resume else None
    trials, best, best_index, chosen = [], None, None, None
    best_model: Any = None  # the best trial's fitted estimator (or, resumed, its saved file's)
    n_resumed, resumed = 0, 0.0  # trials finished, and seconds trained, by earlier processes
    if state is not None:
        n_resumed, resumed = len(state["trials"]), float(sum(t["seconds"] for t in state["trials"]))
        trials, best_index, chosen = list(state["trials"]), state["chosen"], state["chosen_record"]
        best = float(trials[best_index][f"val_{metric}"])
        best_model = CrossModalClassifier.load(ckpt / best_model_file(best_index))
        if study is not None:
            _retell(study, trials, maximize)
    for k, choice in enumerate(planned):
        if k < len(trials):
            continue  # finished before the interruption
        config = base.with_overrides({**choice, "seed": seed})
        clf = CrossModalClassifier.from_config(config, categorical_features=categorical_columns(data), **facade)
        start = time.perf_counter()
        trial, reported = (None if study is None else study.ask()), []

        def on_epoch(epoch: int, value: float) -> bool:  # the pruner sees every epoch's validation score
            reported.append((epoch, value))
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
                study.tell(trial, (max if maximize else min)(v for _, v in reported))
        trials.append({"trial": k, "settings": choice, f"val_{metric}": score, "seconds": time.perf_counter() - start,
                       "epochs_run": training.get("epochs_run"), "stop_reason": training.get("stop_reason"),
                       "reported": [[int(e), float(v)] for e, v in reported]})
        before = best_index
        if best is None or (score > best if higher else score < best) or np.isnan(best):
            best, best_model, best_index = score, clf, k
            chosen = {"val": result["metrics"]["val"], "record": facade_record(clf)}
            if ckpt is not None:
                clf.save(ckpt / best_model_file(k))
        if ckpt is not None:  # after the model, so a saved state never names a model not yet written
            write_json(ckpt / SEARCH_STATE, {"trials": trials, "chosen": best_index, "chosen_record": chosen,
                                             "planned": len(planned)})
            if before is not None and before != best_index:
                (ckpt / best_model_file(before)).unlink(missing_ok=True)
    test = table_scores(data.y_test, class_proba(best_model, data.X_test, data.task.output_shape[0]))  # scored once
    record = chosen["record"]
    if resumed:  # earlier processes' trials, which the runner adds to this process's wall time
        record = {**record, "training": {**(record.get("training") or {}), "resumed_s": resumed}}
    return {"metrics": {"val": chosen["val"], "test": test}, **record,
            "timings_s": {"search": float(sum(t["seconds"] for t in trials))},
            "search": {"trials": trials, "chosen": best_index,
                       "budget": {"n_trials": len(trials), "space": space, "prune": prune,
                                  "pruned": sum(t["stop_reason"] == "pruned" for t in trials),
                                  "selection": f"validation {metric} on refine.val_fraction of the training part",
                                  **({"resumed_trials": n_resumed} if n_resumed else {})}}}
