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

Two settings guard the choice against the noise of a small validation split (on OpenML's 15 % splits the best of
6 trials gained +0.025 validation ROC AUC over the one-configuration ``orca`` yet lost 0.005 on test, session 36):
``anchor`` makes trial 0 the method's own settings (no value from the space; a drawn configuration equal to them
is not run twice), as tuned XGBoost starts from its defaults; ``select = "beats-anchor"`` keeps the anchor unless
a trial beats it clearly on the same validation rows: a one-sided 95 % lower bound of the trial's gain over the
anchor (a paired bootstrap over the validation rows, resampled within each class, :func:`gain_lower_bound`) above
zero, and among the trials that do, the best one. Each trial records that bound (``val_gain_low``).

With a ``check`` section (``{"fraction": f}``), a stratified share ``f`` of the training part is held out before the
search (:func:`.table_methods.check_split`) and the chosen model scored on it (``metrics.check``): selection rules
can then be compared on rows that none of them selected on, without the test split.

An ensemble of trials: every trial's class probabilities on the validation, check and test rows are kept (in the
checkpoint too), and the search records, beside its choice, the mean of the :data:`ENSEMBLE_SIZES` trials with the
best validation scores as ``search.variants["top-k"]`` (members, and scores on every split; the members are chosen
on validation alone, since the ensemble is a post-hoc rule on the same trials, nothing else about the search
changes). With ``ensemble = k`` that mean is the search's result instead of the best trial; a method that differs
from another only in ``search.ensemble`` can therefore adopt its finished results (:mod:`.adopt`), so that the rule
costs no training of its own.

A refit of the chosen trial: with ``refit = true`` the chosen configuration is trained again from fresh weights on
all the rows the trials fitted on (their training and validation rows) for the chosen trial's epochs under its
schedule (:meth:`orca.CrossModalClassifier.refit`, what ``refine.refit`` does for one configuration), and that
model is the result; its validation score stays the chosen trial's. ``variants = ["refit"]`` records that refit as
``search.variants["refit"]`` beside the chosen model instead (one more fit a job), so that a method differing only
in ``search.refit`` adopts it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from orca import CrossModalClassifier, OrcaConfig
from orca.config import flatten
from orca.exceptions import ConfigError, OrcaError, require
from orca.io import read_json, write_json
from orca.metrics import get_metric
from orca.pipeline import chosen_epochs

from .suite import JobContext, TaskData
from .table_methods import (
    categorical_columns,
    check_record,
    check_scores,
    check_split,
    class_proba,
    facade_record,
    proba_scores,
    table_scores,
)


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


GAIN_LEVEL = 0.95
"""The one-sided confidence of :func:`gain_lower_bound` under ``select = "beats-anchor"``."""

GAIN_RESAMPLES = 1000
"""Bootstrap resamples of :func:`gain_lower_bound`."""


def stratified_draws(y: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, N)`` row indices: bootstrap resamples of the rows ``y`` drawn with replacement within each class,
    so that every resample holds each class as often as ``y`` does (rows grouped by class, in class order)."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    return np.concatenate([g[rng.integers(0, len(g), size=(resamples, len(g)))] for g in groups], axis=1)


def _auc_rows(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """ROC AUC of each row: scores ``pos`` (B, p) of positives against ``neg`` (B, n) of negatives, ties counted one
    half (the Mann-Whitney statistic from mid-ranks, which equals the area under the ROC curve)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg], axis=1), axis=1)  # (B, p + n) mid-ranks
    p, n = pos.shape[1], neg.shape[1]
    return (ranks[:, :p].sum(axis=1) - p * (p + 1) / 2) / (p * n)


def resampled_scores(y: np.ndarray, proba: np.ndarray, draws: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` of ``proba`` on each resample ``draws[b]`` of the rows ``y``: ``(B,)`` scores.

    ROC AUC (orca's ``roc_auc``: the positive class's probability for two columns, otherwise scikit-learn's one-vs-one
    macro average over the classes present, on row-normalised probabilities) is computed for all resamples at once
    from ranks, as :func:`stratified_draws` keeps each class's rows together; other metrics call the metric per
    resample.
    """
    if metric != "roc_auc":
        fn = get_metric(metric)
        return np.array([fn(y[rows], proba[rows]) for rows in draws])
    yd = y[draws]  # (B, N) labels of the resampled rows; the same in every row of draws
    classes = np.unique(y)
    if proba.shape[1] == 2:
        s = proba[draws, 1]  # (B, N)
        return _auc_rows(s[:, yd[0] == 1], s[:, yd[0] == 0])
    prob = proba / proba.sum(axis=1, keepdims=True)
    pairs = []
    for i, a in enumerate(classes):
        for b in classes[i + 1:]:
            ra, rb = draws[:, yd[0] == a], draws[:, yd[0] == b]  # (B, n_a), (B, n_b)
            pairs.append((_auc_rows(prob[ra, a], prob[rb, a]) + _auc_rows(prob[rb, b], prob[ra, b])) / 2)
    return np.mean(pairs, axis=0)


def gain_lower_bound(y: np.ndarray, proba: np.ndarray, anchor: np.ndarray, metric: str, seed: int,
                     level: float = GAIN_LEVEL, resamples: int = GAIN_RESAMPLES) -> float:
    """One-sided ``level`` lower bound of the gain of ``proba`` over ``anchor`` in ``metric`` on the rows ``y``.

    Paired percentile bootstrap: both models' scores are recomputed on the same resampled rows, drawn with
    replacement within each class (:func:`stratified_draws`, so every resample holds every class the rows hold, and
    a ranking metric such as ROC AUC is always defined). The gain is ``metric(proba) - metric(anchor)`` for a
    metric where higher is better, the reverse otherwise.

    Parameters
    ----------
    y : (N,) int array
        Class labels of the rows both models were scored on.
    proba, anchor : (N, k) arrays
        Class probabilities of the candidate and of the anchor on those rows.
    metric : str
        A registered metric name (:func:`orca.metrics.get_metric`).
    seed : int
        Seeds the resampling.

    Returns
    -------
    float
        The ``1 - level`` quantile of the resampled gains; above zero means the candidate is better at ``level``.
    """
    sign = 1.0 if get_metric(metric).higher_is_better else -1.0
    draws = stratified_draws(y, resamples, seed)
    gains = sign * (resampled_scores(y, proba, draws, metric) - resampled_scores(y, anchor, draws, metric))
    return float(np.quantile(gains, 1.0 - level))


def plan_trials(space: dict[str, list], n_trials: int, seed: int, base: OrcaConfig,
                anchor: bool) -> list[dict[str, Any]]:
    """The search's trials in order: with ``anchor``, first ``{}`` (the method's own settings), then ``n_trials - 1``
    draws from ``space`` other than the anchor's own values; otherwise ``n_trials`` draws (:func:`sample_trials`)."""
    if not anchor:
        return sample_trials(space, n_trials, seed)
    flat = flatten(base.to_dict())
    draws = [t for t in sample_trials(space, n_trials, seed) if any(flat.get(k) != v for k, v in t.items())]
    return [{}] + draws[:n_trials - 1]


def _study(prune: dict[str, int], maximize: bool) -> Any:
    """An Optuna study whose median pruner stops trials as :data:`run_orca_search` describes."""
    optuna = require("optuna", "search", "Pruning ORCA's search trials (search.prune)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize" if maximize else "minimize",
                               pruner=optuna.pruners.MedianPruner(n_startup_trials=prune["startup_trials"],
                                                                  n_warmup_steps=prune["warmup_epochs"]))


ENSEMBLE_SIZES = (3,)
"""The ensembles of trials every search records as ``search.variants["top-k"]`` (see the module's notes): the one
size set before any run (session 39), the better half of 6 trials; ``search.ensemble`` may name any size."""


def top_trials(scores: list[float], k: int, higher: bool) -> list[int]:
    """The indices of the ``k`` best ``scores`` (higher or lower better), best first; a NaN score ranks last and
    ties keep the earlier trial."""
    key = [(bool(np.isnan(s)), 0.0 if np.isnan(s) else -s if higher else s, i) for i, s in enumerate(scores)]
    return [i for *_, i in sorted(key)[:k]]


def ensemble_variant(scores: list[float], proba: dict[int, dict[str, np.ndarray]], labels: dict[str, np.ndarray],
                     k: int, higher: bool, n_classes: int) -> dict[str, Any]:
    """The mean class probabilities of the ``k`` trials with the best validation ``scores``, scored on every split
    of ``labels`` (``"val"``, ``"test"`` and, in a check run, ``"check"``: :func:`.table_methods.proba_scores`).

    Parameters
    ----------
    scores : list of float
        Each trial's validation score, the one the search selects on.
    proba : dict
        Trial index -> split -> ``(N_split, n_classes)`` class probabilities.
    labels : dict
        Split -> ``(N_split,)`` labels of the rows ``proba`` holds.
    """
    members = top_trials(scores, k, higher)
    mean = {split: np.mean([proba[i][split] for i in members], axis=0) for split in labels}  # (N_split, k_classes)
    return {"members": members,
            "metrics": {split: proba_scores(y, mean[split], n_classes) for split, y in labels.items()},
            "proba": mean}


REFIT_SELECTION = ("; the chosen configuration then trained again from fresh weights on the training and validation "
                   "rows for its chosen epochs (the validation score is the chosen trial's)")
"""What a search's ``budget.selection`` adds for ``search.refit``."""


def refit_variant(model: CrossModalClassifier, trial: int, record: dict[str, Any], X_fit: np.ndarray,
                  y_fit: np.ndarray, data: TaskData, check: np.ndarray | None, val: dict[str, float]) -> dict[str, Any]:
    """The chosen trial ``model`` (trial number ``trial``, its result ``record``) trained again from fresh weights on
    all the rows it fitted on, ``X_fit``/``y_fit`` (:meth:`orca.CrossModalClassifier.refit`, for its best epoch + 1
    epochs of a schedule over its epoch cap), and scored on the test split and the ``check`` rows; ``val`` is the
    chosen trial's validation score, which the refit keeps (it trains on those rows). ``model`` is refitted in
    place."""
    training = record["training"]
    epochs = chosen_epochs(training)
    start = time.perf_counter()
    model.refit(X_fit, y_fit, epochs=epochs, epochs_cap=training["epochs_cap"])
    k = data.task.output_shape[0]
    metrics = {"val": val, "test": table_scores(data.y_test, class_proba(model, data.X_test, k))}
    if check is not None:
        metrics["check"] = check_scores(model, data, check)
    return {"members": [trial], "epochs": epochs, "rows": len(X_fit), "seconds": time.perf_counter() - start,
            "metrics": metrics}


def ensemble_selection(k: int, metric: str) -> str:
    """What a search's ``budget.selection`` adds for ``search.ensemble = k``."""
    return (f"; the mean class probabilities of the {k} trials with the best validation {metric} (the record's "
            "other fields describe the best of them)")


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
    """Fit ``n_trials`` ORCA configurations, select on validation, score the chosen one (or, with
    ``search.ensemble``, the mean of the best trials) on the test split."""
    params = dict(params)
    search = params.pop("search", {})
    facade = params.pop("facade", {})
    fraction = (params.pop("check", None) or {}).get("fraction")
    space, n_trials = search.get("space", {}), int(search.get("n_trials", 0))
    if n_trials < 1:
        raise ConfigError(f"method_params.<orca-tuned>.search.n_trials must be at least 1, got {n_trials}")
    anchor, select = bool(search.get("anchor", False)), search.get("select", "best")
    if select == "beats-anchor" and not anchor:
        raise ConfigError("search.select='beats-anchor' needs search.anchor=true (a trial to beat)")
    ensemble = search.get("ensemble")
    if ensemble is not None and (select != "best" or not 2 <= ensemble <= n_trials):
        raise ConfigError(f"search.ensemble={ensemble!r} must be an integer from 2 to n_trials ({n_trials}) with "
                          "search.select='best'")
    refit = bool(search.get("refit", False))
    if refit and ensemble is not None:
        raise ConfigError("search.refit and search.ensemble exclude each other (a refit retrains one trial)")
    record_refit = refit or "refit" in search.get("variants", [])
    base = OrcaConfig.from_dict(params)
    metric = data.task.metric
    k_classes = data.task.output_shape[0]
    higher = get_metric(metric).higher_is_better
    prune = search.get("prune")
    maximize = base.refine.select_on != "loss" and higher  # the direction of the score refine selects on
    study = None if prune is None else _study(prune, maximize)
    planned = plan_trials(space, n_trials, seed, base, anchor)
    rows = np.arange(len(data.y_train))  # the training part the search fits on: all of it, or all but a check share
    check = None
    if fraction is not None:
        rows, check = check_split(data.y_train, fraction, seed)
    X_fit, y_fit = data.X_train[rows], data.y_train[rows]
    ckpt = None if ctx.checkpoint_dir is None else Path(ctx.checkpoint_dir)
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    state = restore(ckpt, planned) if ctx.resume else None
    trials, best, best_index, chosen = [], None, None, None
    best_model: Any = None  # the best trial's fitted estimator (or, resumed, its saved file's)
    anchor_val: tuple[np.ndarray, np.ndarray] | None = None  # (labels, probabilities) of the anchor's validation rows
    proba: dict[int, dict[str, np.ndarray]] = {}  # trial -> split -> (N_split, k) class probabilities
    val_rows: np.ndarray | None = None  # the rows of X_fit every trial was selected on
    n_resumed, resumed = 0, 0.0  # trials finished, and seconds trained, by earlier processes
    if state is not None:
        n_resumed, resumed = len(state["trials"]), float(sum(t["seconds"] for t in state["trials"]))
        trials, best_index, chosen = list(state["trials"]), state["chosen"], state["chosen_record"]
        best = float(trials[best_index][f"val_{metric}"])
        best_model = CrossModalClassifier.load(ckpt / best_model_file(best_index))
        if state.get("anchor_val") is not None:
            anchor_val = (np.asarray(state["anchor_val"]["y"]), np.asarray(state["anchor_val"]["proba"]))
        if state.get("val_rows") is not None:  # saved since the ensembles (session 39)
            val_rows = np.asarray(state["val_rows"], dtype=int)
            proba = {int(i): {split: np.asarray(p) for split, p in by.items()} for i, by in state["proba"].items()}
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

        clf.fit(X_fit, y_fit,  # the validation split is carved inside, the same rows every trial
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
        entry = {"trial": k, "settings": choice, f"val_{metric}": score, "seconds": time.perf_counter() - start,
                 "epochs_run": training.get("epochs_run"), "stop_reason": training.get("stop_reason"),
                 "reported": [[int(e), float(v)] for e, v in reported]}
        val_rows = np.asarray(clf.val_index_)
        # every trial's probabilities, for the ensembles; the test labels are not looked at here
        proba[k] = {"val": class_proba(clf, X_fit[val_rows], k_classes),  # (n_val, k)
                    "test": class_proba(clf, data.X_test, k_classes),  # (n_test, k)
                    **({} if check is None else {"check": class_proba(clf, data.X_train[check], k_classes)})}
        if select == "best":
            better = best is None or (score > best if higher else score < best) or np.isnan(best)
        else:  # beats-anchor: trial 0 is the anchor; a later trial must beat it clearly, then the choice so far
            y_val = y_fit[val_rows]  # the rows every trial was selected on
            if k == 0:
                anchor_val, better = (y_val, proba[k]["val"]), True
            else:
                entry["val_gain_low"] = gain_lower_bound(anchor_val[0], proba[k]["val"], anchor_val[1], metric,
                                                         seed + k)
                better = entry["val_gain_low"] > 0 and (score > best if higher else score < best)
        trials.append(entry)
        before = best_index
        if better:
            best, best_model, best_index = score, clf, k
            chosen = {"val": result["metrics"]["val"], "record": facade_record(clf)}
            if ckpt is not None:
                clf.save(ckpt / best_model_file(k))
        if ckpt is not None:  # after the model, so a saved state never names a model not yet written
            write_json(ckpt / SEARCH_STATE, {
                "trials": trials, "chosen": best_index, "chosen_record": chosen, "planned": len(planned),
                **({} if anchor_val is None else {"anchor_val": {"y": anchor_val[0].tolist(),
                                                                 "proba": anchor_val[1].tolist()}}),
                "val_rows": val_rows.tolist(),
                "proba": {str(i): {split: p.tolist() for split, p in by.items()} for i, by in proba.items()}})
            if before is not None and before != best_index:
                (ckpt / best_model_file(before)).unlink(missing_ok=True)
    labels = {"val": y_fit[val_rows], "test": data.y_test,
              **({} if check is None else {"check": data.y_train[check]})}
    complete = len(proba) == len(trials)  # False only for a search resumed from a state saved before the ensembles
    if ensemble is not None and not complete:
        raise OrcaError("this search was interrupted under an older version that kept no trial probabilities, so "
                        "its ensemble cannot be formed; run the job again without --resume")
    scores = [float(t[f"val_{metric}"]) for t in trials]
    variants = {f"top-{n}": ensemble_variant(scores, proba, labels, n, higher, k_classes)
                for n in ENSEMBLE_SIZES if complete and len(trials) >= n}
    test = proba[best_index]["test"] if best_index in proba else class_proba(best_model, data.X_test, k_classes)
    single = {"val": chosen["val"], "test": table_scores(data.y_test, test)}  # the chosen model, scored once
    if check is not None:
        single["check"] = (proba_scores(labels["check"], proba[best_index]["check"], k_classes)
                           if best_index in proba else check_scores(best_model, data, check))
    if record_refit:  # after the chosen model is scored: the refit replaces its weights
        variants["refit"] = refit_variant(best_model, best_index, chosen["record"], X_fit, y_fit, data, check,
                                          single["val"])
    if ensemble is not None:
        mean = ensemble_variant(scores, proba, labels, ensemble, higher, k_classes)
        metrics = mean["metrics"]  # the mean of the best trials, scored once on each split
    else:
        metrics = variants["refit"]["metrics"] if refit else single
    extra: dict[str, Any] = {}
    if check is not None:
        extra["check"] = check_record(fraction, rows, check)
    record = chosen["record"]
    if resumed:  # earlier processes' trials, which the runner adds to this process's wall time
        record = {**record, "training": {**(record.get("training") or {}), "resumed_s": resumed}}
    selection = f"validation {metric} on refine.val_fraction of the training part"
    if select == "beats-anchor":
        selection += (f"; the anchor (trial 0) unless a trial's {GAIN_LEVEL * 100:.0f} % one-sided bootstrap lower "
                      "bound of its gain over the anchor is above zero")
    if ensemble is not None:
        selection += ensemble_selection(ensemble, metric)
    if refit:
        selection += REFIT_SELECTION
    return {"metrics": metrics, **record, **extra,
            "timings_s": {"search": float(sum(t["seconds"] for t in trials)),
                          **({"refit": variants["refit"]["seconds"]} if record_refit else {})},
            "search": {"trials": trials, "chosen": best_index,
                       **({} if ensemble is None else {"ensemble": {"size": ensemble, "members": mean["members"]}}),
                       **({"refit": {k: v for k, v in variants["refit"].items() if k != "metrics"}} if refit else {}),
                       "variants": {name: {k: v for k, v in variant.items() if k != "proba"}
                                    for name, variant in variants.items()},
                       "budget": {"n_trials": len(trials), "space": space, "prune": prune,
                                  "pruned": sum(t["stop_reason"] == "pruned" for t in trials),
                                  "selection": selection,
                                  **({"anchor": True, "select": select} if anchor else {}),
                                  **({"resumed_trials": n_resumed} if n_resumed else {})}}}
