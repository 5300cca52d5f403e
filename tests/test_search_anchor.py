"""A search that keeps its anchor (the method's own settings) unless a trial beats it clearly on the same
validation rows: the resampled ROC AUC equals scikit-learn's on every resample, the paired bootstrap's lower bound
separates a clear gain from noise, the anchor runs first and is not drawn again, the choice follows the rule, an
interrupted search resumes with the anchor's validation scores, and a check share scores the chosen model on rows
no trial saw."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import kill_fit_at, tiny_hf_model

from benchmarks.runner.orca_search import (
    gain_lower_bound,
    plan_trials,
    resampled_scores,
    run_orca_search,
    sample_trials,
    stratified_draws,
)
from benchmarks.runner.suite import JobContext, TaskData
from orca import CrossModalClassifier, OrcaConfig, Task
from orca.exceptions import ConfigError
from orca.metrics import get_metric


@pytest.mark.parametrize("k, present", [(2, [0, 1]), (4, [0, 1, 2, 3]), (4, [0, 2, 3])])
def test_resampled_roc_auc_is_scikit_learns_on_every_resample(k: int, present: list[int]) -> None:
    rng = np.random.default_rng(k)
    y = np.array(present * 15)
    proba = np.round(rng.dirichlet(np.ones(k), len(y)), 1) + 1e-3  # coarse: many tied scores
    draws = stratified_draws(y, 20, seed=3)
    assert draws.shape == (20, len(y))
    assert all(np.array_equal(np.sort(y[d]), np.sort(y)) for d in draws)  # each class as often in every resample
    fast = resampled_scores(y, proba, draws, "roc_auc")
    reference = [get_metric("roc_auc")(y[d], proba[d]) for d in draws]  # scikit-learn, resample by resample
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)
    assert len(set(np.round(fast, 9))) > 1  # the resamples differ
    acc = resampled_scores(y, proba, draws, "accuracy")  # other metrics: called per resample
    np.testing.assert_allclose(acc, [get_metric("accuracy")(y[d], proba[d]) for d in draws])


def test_the_lower_bound_separates_a_clear_gain_from_noise() -> None:
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    anchor = np.stack([1 - (p := rng.uniform(size=60)), p], axis=1)  # ranks at random: AUC about 0.5
    good = np.stack([1 - (q := 0.6 * y + 0.4 * rng.uniform(size=60)), q], axis=1)  # ranks almost every pair right
    assert gain_lower_bound(y, good, anchor, "roc_auc", seed=0) > 0.2
    assert gain_lower_bound(y, anchor, good, "roc_auc", seed=0) < -0.4
    assert gain_lower_bound(y, anchor, anchor, "roc_auc", seed=0) == 0.0  # no gain: not above zero
    nudged = anchor.copy()
    nudged[np.flatnonzero(y == 1)[0], 1] = 1.0  # one positive moved to the top: a small gain, within the noise
    assert get_metric("roc_auc")(y, nudged) > get_metric("roc_auc")(y, anchor)
    assert gain_lower_bound(y, nudged, anchor, "roc_auc", seed=0) <= 0
    # a metric where lower is better counts a lower loss as the gain
    assert gain_lower_bound(y, good, anchor, "log_loss", seed=0, resamples=200) > 0


def test_the_anchor_runs_first_and_is_not_drawn_again() -> None:
    space = {"refine.lr": [1e-4, 3e-4, 1e-3], "refine.batch_size": [16, 32]}
    base = OrcaConfig().with_overrides({"refine.lr": 1e-4, "refine.batch_size": 32})
    for seed in range(10):
        plan = plan_trials(space, 4, seed, base, anchor=True)
        assert plan[0] == {} and len(plan) == 4
        assert {"refine.batch_size": 32, "refine.lr": 1e-4} not in plan[1:]  # the anchor's own values
    assert plan_trials(space, 4, 0, base, anchor=False) == sample_trials(space, 4, 0)


def _data(tmp_path) -> tuple:
    import torch

    torch.manual_seed(0)
    folder = tmp_path / "tiny-bert"
    tiny_hf_model("bert").save_pretrained(folder)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR of two signs: no linear read-out of the input ranks it
    return folder, TaskData(Task("t", (6,), "classification", (2,), metric="roc_auc"), X[:160], y[:160], X[160:],
                            y[160:], data={"categorical": []})


def _params(folder, space: dict, n_trials: int, epochs: int = 8) -> dict:
    return {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
            "refine": {"epochs": epochs, "val_fraction": 0.3, "lr": 1e-9},  # the anchor cannot move from its start
            "search": {"n_trials": n_trials, "space": space, "anchor": True, "select": "beats-anchor"}}


def test_the_anchor_is_kept_unless_a_trial_beats_it_clearly(tmp_path) -> None:
    folder, data = _data(tmp_path)
    rec = run_orca_search(data, _params(folder, {"refine.lr": [1e-2, 2e-9]}, 3), seed=0)
    trials = rec["search"]["trials"]
    assert [t["settings"] for t in trials][0] == {} and len(trials) == 3
    assert "val_gain_low" not in trials[0] and all("val_gain_low" in t for t in trials[1:])
    eligible = [t["trial"] for t in trials[1:] if t["val_gain_low"] > 0]
    learner = next(t for t in trials if t["settings"].get("refine.lr") == 1e-2)
    assert learner["trial"] in eligible  # the learning trial beats the frozen anchor clearly
    assert rec["search"]["chosen"] == max(eligible, key=lambda i: trials[i]["val_roc_auc"])
    assert rec["metrics"]["val"]["roc_auc"] == trials[rec["search"]["chosen"]]["val_roc_auc"]
    assert rec["search"]["budget"]["select"] == "beats-anchor" and "bootstrap" in rec["search"]["budget"]["selection"]
    # the same trials where no drawn trial can move either: the anchor stays, though a trial may score higher
    still = run_orca_search(data, _params(folder, {"refine.lr": [2e-9]}, 2), seed=0)
    assert all(t["val_gain_low"] <= 0 for t in still["search"]["trials"][1:])
    assert still["search"]["chosen"] == 0


def test_a_resumed_anchored_search_ends_as_an_uninterrupted_one(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    params = _params(folder, {"refine.lr": [1e-2, 2e-9]}, 3, epochs=2)
    whole = run_orca_search(data, params, seed=0, ctx=JobContext(tmp_path / "whole"))
    original = CrossModalClassifier.fit
    kill_fit_at(monkeypatch, 2)
    ckpt = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_orca_search(data, params, seed=0, ctx=JobContext(ckpt))
    state = json.loads((ckpt / "search.json").read_text())
    assert len(state["trials"]) == 1 and len(state["anchor_val"]["y"]) == 48  # the anchor's 30 % of 160 rows
    monkeypatch.setattr(CrossModalClassifier, "fit", original)
    resumed = run_orca_search(data, params, seed=0, ctx=JobContext(ckpt, resume=True))
    assert [t["val_gain_low"] for t in resumed["search"]["trials"][1:]] == \
        pytest.approx([t["val_gain_low"] for t in whole["search"]["trials"][1:]], abs=1e-6)
    assert resumed["search"]["chosen"] == whole["search"]["chosen"]


def test_a_check_share_scores_the_chosen_model_on_rows_no_trial_saw(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    seen = []
    original = CrossModalClassifier.fit

    def spy(self, X, y, *a, **k):
        seen.append(len(X))
        return original(self, X, y, *a, **k)

    monkeypatch.setattr(CrossModalClassifier, "fit", spy)
    params = {**_params(folder, {"refine.lr": [1e-2]}, 2, epochs=2), "check": {"fraction": 0.25}}
    rec = run_orca_search(data, params, seed=0)
    assert seen == [120, 120]  # every trial fits on the 75 % that is not held out
    assert rec["check"] == {"fraction": 0.25, "rows": {"fit": 120, "check": 40}}
    assert set(rec["metrics"]) == {"val", "test", "check"} and rec["metrics"]["check"]["loss"] > 0


def test_bad_anchor_settings_fail_when_the_config_is_resolved() -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    suite = get_suite("openml")
    with pytest.raises(ConfigError, match="expected one of"):
        resolve_config(suite, "smoke", {"method_params": {"orca-tuned": {"search": {"select": "luckiest"}}}})
    with pytest.raises(ConfigError, match="anchor"):
        resolve_config(suite, "smoke", {"method_params": {"orca-tuned": {"search": {"select": "beats-anchor"}}}})
    with pytest.raises(ConfigError, match="true or false"):
        resolve_config(suite, "smoke", {"method_params": {"orca-tuned": {"search": {"anchor": "yes"}}}})


def test_the_facade_names_the_rows_it_selected_on(tmp_path) -> None:
    """``val_index_``: scoring the fitted model on those rows of ``X`` gives the validation score it recorded."""
    folder, data = _data(tmp_path)
    clf = CrossModalClassifier.from_config(OrcaConfig.from_dict(
        {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
         "refine": {"epochs": 2, "val_fraction": 0.3, "lr": 1e-2}}), metric="roc_auc")
    clf.fit(data.X_train, data.y_train)
    rows = clf.val_index_
    assert len(rows) == 48 and len(set(rows.tolist())) == 48
    auc = get_metric("roc_auc")(data.y_train[rows], clf.predict_proba(data.X_train[rows]))
    assert auc == pytest.approx(clf.result_["metrics"]["val"]["roc_auc"], abs=1e-6)
    others = np.setdiff1d(np.arange(len(data.y_train)), rows)[:48]  # any other 48 rows score differently
    assert get_metric("roc_auc")(data.y_train[others], clf.predict_proba(data.X_train[others])) != pytest.approx(
        auc, abs=1e-6)
    clf.fit(data.X_train, data.y_train, X_val=data.X_test, y_val=data.y_test)
    assert clf.val_index_ is None  # a given validation set: no rows of X were carved
