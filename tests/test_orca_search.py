"""ORCA tuned on validation data only: trials drawn from the space without repeats, each scored on the same
validation rows, the best one kept, the test split scored once by the chosen model; bad search settings refused
when the config is resolved."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import kill_fit_at, tiny_hf_model

from benchmarks.runner.orca_search import run_orca_search, sample_trials
from benchmarks.runner.suite import TaskData
from orca import CrossModalClassifier, Task
from orca.exceptions import ConfigError


def test_trials_are_distinct_and_seeded() -> None:
    space = {"refine.lr": [1e-4, 3e-4], "refine.batch_size": [16, 32], "align.objective": ["mmd", "none"]}
    trials = sample_trials(space, 6, seed=0)
    assert len(trials) == 6 and len({tuple(t.items()) for t in trials}) == 6
    assert trials == sample_trials(space, 6, seed=0) and trials != sample_trials(space, 6, seed=1)
    assert len(sample_trials({"refine.lr": [1e-4, 3e-4]}, 6, seed=0)) == 2  # no more trials than the space holds
    with pytest.raises(ConfigError, match="non-empty lists"):
        sample_trials({"refine.lr": []}, 2, seed=0)


def test_search_selects_on_validation_and_scores_the_test_split_once(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "tiny-bert"
    tiny_hf_model("bert").save_pretrained(folder)
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = rng.normal(size=(120, 6)) + y[:, None]
    data = TaskData(Task("t", (6,), "classification", (2,), metric="roc_auc"), X[:80], y[:80], X[80:], y[80:],
                    data={"categorical": []})
    calls = []
    original = CrossModalClassifier.predict_proba

    def spy(self, X_, *a, **k):
        calls.append(len(X_))
        return original(self, X_, *a, **k)

    monkeypatch.setattr(CrossModalClassifier, "predict_proba", spy)
    params = {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
              "refine": {"epochs": 2, "val_fraction": 0.25},
              "search": {"n_trials": 3, "space": {"refine.lr": [1e-3, 1e-5], "refine.batch_size": [8, 16]}}}
    rec = run_orca_search(data, params, seed=0)
    trials = rec["search"]["trials"]
    scores = [t["val_roc_auc"] for t in trials]
    assert len(trials) == 3 and rec["search"]["chosen"] == int(np.argmax(scores))
    assert rec["metrics"]["val"]["roc_auc"] == max(scores)  # the kept model is the best trial's
    assert calls.count(40) == 3  # each trial predicted the 40 test rows once (for the recorded ensemble) ...
    assert 0.0 <= rec["metrics"]["test"]["roc_auc"] <= 1.0 and rec["search"]["budget"]["n_trials"] == 3
    flipped = TaskData(data.task, data.X_train, data.y_train, data.X_test, 1 - data.y_test, data=data.data)
    other = run_orca_search(flipped, params, seed=0)  # ... but no choice looks at their labels
    assert other["search"]["chosen"] == rec["search"]["chosen"] and other["metrics"]["val"] == rec["metrics"]["val"]
    assert other["search"]["variants"]["top-3"]["members"] == rec["search"]["variants"]["top-3"]["members"]
    assert other["metrics"]["test"]["roc_auc"] == pytest.approx(1 - rec["metrics"]["test"]["roc_auc"])


def test_bad_search_settings_fail_when_the_config_is_resolved() -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    suite = get_suite("openml")
    with pytest.raises(ConfigError, match="refine.lr"):
        resolve_config(suite, "smoke", {"method_params": {"orca-tuned": {"search": {"space": {"refine.lr": [-1.0]}}}}})
    with pytest.raises(ConfigError, match="expected one of"):
        resolve_config(suite, "smoke", {"method_params": {"orca-tuned": {"search": {"trials": 3}}}})


def _separable(tmp_path) -> tuple:
    """A tiny random BERT saved to a folder, and a task whose two classes a learning trial separates easily."""
    import torch

    torch.manual_seed(0)  # the tiny body's random weights, whatever ran before in this process
    folder = tmp_path / "tiny-bert"
    tiny_hf_model("bert").save_pretrained(folder)
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = rng.normal(size=(120, 6)) + 2 * y[:, None]
    return folder, TaskData(Task("t", (6,), "classification", (2,), metric="roc_auc"), X[:80], y[:80], X[80:],
                            y[80:], data={"categorical": []})


def test_a_median_pruner_stops_a_trial_below_the_finished_ones(tmp_path) -> None:
    folder, data = _separable(tmp_path)
    space = {"refine.lr": [3e-3, 1e-9]}  # a trial that learns, and one that cannot move
    seed = next(s for s in range(20) if sample_trials(space, 2, s)[0]["refine.lr"] == 3e-3)  # the learner first
    params = {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
              "refine": {"epochs": 4, "val_fraction": 0.25},
              "search": {"n_trials": 2, "space": space, "prune": {"startup_trials": 1, "warmup_epochs": 0}}}
    rec = run_orca_search(data, params, seed=seed)
    first, second = rec["search"]["trials"]
    assert first["stop_reason"] == "cap" and first["epochs_run"] == 4
    assert second["stop_reason"] == "pruned" and second["epochs_run"] < 4
    scores = [first["val_roc_auc"], second["val_roc_auc"]]
    assert rec["search"]["chosen"] == int(np.argmax(scores))  # a pruned trial still competes with its best epoch
    assert rec["search"]["budget"]["pruned"] == 1
    without = run_orca_search(data, {**params, "search": {"n_trials": 2, "space": space}}, seed=seed)
    assert [t["epochs_run"] for t in without["search"]["trials"]] == [4, 4]  # no pruner: every trial runs out
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    with pytest.raises(ConfigError, match="search.prune"):
        resolve_config(get_suite("openml"), "smoke",
                       {"method_params": {"orca-tuned": {"search": {"prune": {"startup_trials": 2}}}}})


def test_an_interrupted_search_resumes_after_its_finished_trials(tmp_path, monkeypatch) -> None:
    """Killed during its third trial, a search continued with resume trains only that trial again, gives the
    pruner the finished trials back (the third trial is pruned as in an uninterrupted run, which a fresh study
    would not do before its first trial finished) and ends with the uninterrupted run's choice and test score."""
    import json

    from benchmarks.runner.execute import has_checkpoint
    from benchmarks.runner.suite import JobContext

    folder, data = _separable(tmp_path)
    space = {"refine.lr": [3e-3, 1e-9, 2e-9]}  # one trial that learns, two that cannot move
    seed = next(s for s in range(50) if sample_trials(space, 3, s)[0]["refine.lr"] == 3e-3)
    params = {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
              "refine": {"epochs": 4, "val_fraction": 0.25},
              "search": {"n_trials": 3, "space": space, "prune": {"startup_trials": 1, "warmup_epochs": 0}}}
    whole = run_orca_search(data, params, seed=seed, ctx=JobContext(tmp_path / "whole"))

    original, calls = CrossModalClassifier.fit, []
    kill_fit_at(monkeypatch, 3)
    ckpt = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_orca_search(data, params, seed=seed, ctx=JobContext(ckpt))
    assert has_checkpoint(ckpt) and len(json.loads((ckpt / "search.json").read_text())["trials"]) == 2

    def counted(self, *a, **k):
        calls.append(1)
        return original(self, *a, **k)

    calls.clear()
    monkeypatch.setattr(CrossModalClassifier, "fit", counted)
    resumed = run_orca_search(data, params, seed=seed, ctx=JobContext(ckpt, resume=True))
    assert len(calls) == 1  # only the interrupted trial ran again
    keys = ("settings", "val_roc_auc", "epochs_run", "stop_reason", "reported")
    assert [{k: t[k] for k in keys} for t in json.loads(json.dumps(resumed["search"]["trials"]))] == \
        [{k: t[k] for k in keys} for t in json.loads(json.dumps(whole["search"]["trials"]))]
    assert [t["stop_reason"] for t in resumed["search"]["trials"]] == ["cap", "pruned", "pruned"]
    assert resumed["search"]["chosen"] == whole["search"]["chosen"] == 0
    assert resumed["metrics"]["test"]["roc_auc"] == pytest.approx(whole["metrics"]["test"]["roc_auc"], abs=1e-6)
    assert resumed["search"]["budget"]["resumed_trials"] == 2 and resumed["training"]["resumed_s"] > 0
    fresh = run_orca_search(data, params, seed=seed, ctx=JobContext(ckpt))  # without resume: every trial again
    assert len(calls) == 4 and "resumed_trials" not in fresh["search"]["budget"]


def test_the_tuned_method_keeps_epochs_on_the_suites_metric(tmp_path) -> None:
    """With ``facade.metric`` the score each trial keeps its epoch on, stops on and reports to the pruner is the
    task's ROC AUC: the best reported value is the trial's validation ROC AUC. Without it the classifier's default,
    accuracy, is reported, and its best is not the ROC AUC the trials are compared on. orca-tuned sets it, so its
    trials do not keep an early model whose accuracy sits at an imbalanced table's majority rate (session 35)."""
    folder, _ = _separable(tmp_path)
    rng = np.random.default_rng(1)
    y = np.arange(120) % 2
    X = rng.normal(size=(120, 6)) + 0.5 * y[:, None]  # overlapping classes: accuracy and ROC AUC differ
    data = TaskData(Task("t", (6,), "classification", (2,), metric="roc_auc"), X[:80], y[:80], X[80:], y[80:],
                    data={"categorical": []})
    params = {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
              "refine": {"epochs": 3, "val_fraction": 0.25},
              "search": {"n_trials": 2, "space": {"refine.lr": [3e-3, 1e-3]},
                         "prune": {"startup_trials": 1, "warmup_epochs": 0}}}
    best = {}
    for metric in (None, "roc_auc"):
        rec = run_orca_search(data, {**params, "facade": {"metric": metric}}, seed=0)
        best[metric] = [(max(v for _, v in t["reported"]), t["val_roc_auc"]) for t in rec["search"]["trials"]]
    assert all(r == pytest.approx(auc) for r, auc in best["roc_auc"])
    assert any(r != pytest.approx(auc) for r, auc in best[None])  # accuracy was what the default reported
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config
    from benchmarks.runner.jobs import expand_jobs

    suite = get_suite("openml")
    jobs = [j for j in expand_jobs(suite, resolve_config(suite, "paper")) if j.method == "orca-tuned"]
    assert jobs and {j.config["method_params"]["orca-tuned"]["facade"]["metric"] for j in jobs} == {"roc_auc"}
    assert {j.hashed["method_params"]["facade"]["metric"] for j in jobs} == {"roc_auc"}  # in the hash
