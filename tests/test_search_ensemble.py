"""An ensemble of a search's trials: the members are the trials with the best validation scores, their class
probabilities are averaged on every split, the test labels play no part, the recorded variant equals the search run
with ``search.ensemble``, an interrupted search resumes to the same ensemble, bad settings are refused, and a method
that differs from another only in ``search.ensemble`` adopts its recorded variant instead of training again."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import kill_fit_at, tiny_table_job

from benchmarks.runner.orca_search import run_orca_search, top_trials
from benchmarks.runner.suite import JobContext, TaskData
from orca import CrossModalClassifier, Task
from orca.exceptions import ConfigError, OrcaError
from orca.metrics import get_metric


def test_the_members_are_the_best_validation_scores_nan_last() -> None:
    assert top_trials([0.7, 0.9, float("nan"), 0.8], 3, higher=True) == [1, 3, 0]
    assert top_trials([0.7, 0.9, float("nan"), 0.8], 4, higher=True)[-1] == 2  # NaN ranks last
    assert top_trials([0.3, 0.1, 0.2], 2, higher=False) == [1, 2]  # a loss: lower is better
    assert top_trials([0.5, 0.8, 0.8], 2, higher=True) == [1, 2]  # a tie keeps the earlier trial first


_data = tiny_table_job


def _params(folder, **search) -> dict:
    return {"body": {"name": str(folder)}, "device": "cpu", "align": {"objective": "none"},
            "refine": {"epochs": 2, "val_fraction": 0.3},
            "search": {"n_trials": 4, "space": {"refine.lr": [1e-2, 3e-3, 1e-3, 1e-5]}, **search}}


def test_the_ensemble_averages_the_best_trials_probabilities(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    outputs = []  # every trial's test-row probabilities, in trial order
    original = CrossModalClassifier.predict_proba

    def spy(self, X, *a, **k):
        out = original(self, X, *a, **k)
        if len(X) == len(data.X_test):
            outputs.append(out)
        return out

    monkeypatch.setattr(CrossModalClassifier, "predict_proba", spy)
    rec = run_orca_search(data, _params(folder, ensemble=2), seed=0)
    trials = rec["search"]["trials"]
    scores = [t["val_roc_auc"] for t in trials]
    members = rec["search"]["ensemble"]["members"]
    assert len(outputs) == 4 and rec["search"]["ensemble"]["size"] == 2
    assert members == sorted(range(4), key=lambda i: -scores[i])[:2]
    mean = (outputs[members[0]] + outputs[members[1]]) / 2  # (40, 3)
    assert rec["metrics"]["test"]["roc_auc"] == pytest.approx(get_metric("roc_auc")(data.y_test, mean), abs=1e-12)
    single = get_metric("roc_auc")(data.y_test, outputs[rec["search"]["chosen"]])
    assert rec["metrics"]["test"]["roc_auc"] != pytest.approx(single, abs=1e-9)  # not the best trial alone
    assert "mean class probabilities of the 2 trials" in rec["search"]["budget"]["selection"]
    assert set(rec["metrics"]) == {"val", "test"} and rec["metrics"]["val"]["loss"] > 0
    assert rec["search"]["chosen"] == members[0]  # the record's other fields describe the best member


def test_the_recorded_variant_is_the_search_run_with_the_ensemble(tmp_path) -> None:
    folder, data = _data(tmp_path)
    plain = run_orca_search(data, _params(folder), seed=0)
    variant = plain["search"]["variants"]["top-3"]
    assert "ensemble" not in plain["search"] and plain["metrics"]["val"]["roc_auc"] == max(
        t["val_roc_auc"] for t in plain["search"]["trials"])  # the plain search keeps its best trial
    direct = run_orca_search(data, _params(folder, ensemble=3), seed=0)
    assert direct["search"]["ensemble"]["members"] == variant["members"]
    for split in ("val", "test"):
        for name, value in variant["metrics"][split].items():
            assert direct["metrics"][split][name] == pytest.approx(value, abs=1e-9)
    two = run_orca_search(data, {**_params(folder), "check": {"fraction": 0.2}}, seed=0)
    assert set(two["search"]["variants"]["top-3"]["metrics"]) == {"val", "test", "check"}
    fewer = run_orca_search(data, {**_params(folder), "search": {**_params(folder)["search"], "n_trials": 2}}, seed=0)
    assert fewer["search"]["variants"] == {}  # two trials hold no ensemble of three


def test_an_interrupted_ensemble_search_resumes_to_the_same_ensemble(tmp_path, monkeypatch) -> None:
    folder, data = _data(tmp_path)
    params = _params(folder, ensemble=3)
    whole = run_orca_search(data, params, seed=0, ctx=JobContext(tmp_path / "whole"))
    original = CrossModalClassifier.fit
    kill_fit_at(monkeypatch, 3)
    ckpt = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_orca_search(data, params, seed=0, ctx=JobContext(ckpt))
    state = json.loads((ckpt / "search.json").read_text())
    assert sorted(state["proba"]) == ["0", "1"] and len(state["proba"]["0"]["test"]) == 40
    monkeypatch.setattr(CrossModalClassifier, "fit", original)
    resumed = run_orca_search(data, params, seed=0, ctx=JobContext(ckpt, resume=True))
    assert resumed["search"]["budget"]["resumed_trials"] == 2
    assert resumed["search"]["ensemble"] == whole["search"]["ensemble"]
    assert resumed["metrics"]["test"]["roc_auc"] == pytest.approx(whole["metrics"]["test"]["roc_auc"], abs=1e-6)
    del state["proba"], state["val_rows"]  # a state saved before the ensembles: its trials' outputs are gone
    (ckpt / "search.json").write_text(json.dumps(state))
    with pytest.raises(OrcaError, match="without --resume"):
        run_orca_search(data, params, seed=0, ctx=JobContext(ckpt, resume=True))


@pytest.mark.parametrize("ensemble, extra, message", [
    (1, {}, "integer from 2 to search.n_trials"), (7, {}, r"search.n_trials \(6\)"), (True, {}, "got True"),
    (2, {"anchor": True, "select": "beats-anchor"}, "select='best'")])
def test_bad_ensemble_settings_fail_when_the_config_is_resolved(ensemble, extra, message) -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    with pytest.raises(ConfigError, match=message):
        resolve_config(get_suite("openml"), "paper",
                       {"method_params": {"orca-tuned": {"search": {"ensemble": ensemble, **extra}}}})


def test_a_method_that_differs_only_in_the_ensemble_adopts_the_recorded_variant(tmp_path) -> None:
    from benchmarks.runner import Suite, register_suite, run
    from benchmarks.runner.adopt import adopt
    from benchmarks.runner.suite import _SUITES

    def load(name: str, config: dict, seed: int) -> TaskData:
        return TaskData(Task(f"toy-{name}", (1,), "classification", (2,), metric="accuracy"), np.zeros((4, 1)),
                        np.array([0, 1, 0, 1]), np.zeros((2, 1)), np.array([0, 1]), data={"kind": "generated"})

    def search(data: TaskData, params: dict, seed: int, ctx=None) -> dict:  # a search's record, as orca_search's
        variants = {} if params["bare"] else {"top-3": {"members": [2, 0, 1], "metrics": {
            "val": {"accuracy": 0.9}, "test": {"accuracy": 0.75 + seed / 100}}}, "refit": {
            "members": [2], "epochs": 4, "rows": 4, "seconds": 1.0, "metrics": {
                "val": {"accuracy": 0.95}, "test": {"accuracy": 0.6}}}}
        return {"metrics": {"val": {"accuracy": 0.95}, "test": {"accuracy": 0.5}},
                "search": {"trials": [], "chosen": 2, "variants": variants, "budget": {"selection": "validation"}}}

    root = tmp_path / "toy"
    (root / "presets").mkdir(parents=True)
    params = {"tuned": {"bare": False, "search": {"n_trials": 6}},
              "tuned-top3": {"bare": False, "search": {"n_trials": 6, "ensemble": 3}},
              "tuned-top3-wide": {"bare": False, "search": {"n_trials": 8, "ensemble": 3}},
              "tuned-refit": {"bare": False, "search": {"n_trials": 6, "refit": True}},
              "bare": {"bare": True, "search": {"n_trials": 6}},
              "bare-top3": {"bare": True, "search": {"n_trials": 6, "ensemble": 3}}}
    (root / "default.json").write_text(json.dumps({
        "tasks": ["a"], "methods": list(params), "seeds": [0, 1], "metric": "accuracy", "data": {}, "protocol": {},
        "method_params": params, "contrasts": []}))
    (root / "presets" / "smoke.json").write_text("{}")
    suite = register_suite(Suite(name="toy-ensemble", root=root, load_task=load,
                                 methods={m: search for m in params}, all_tasks=lambda config: ["a"]))
    try:
        results = tmp_path / "results"
        run(suite, "smoke", methods=["tuned", "bare"], results=results)
        out = adopt(suite, "tuned", "smoke", methods=["tuned-top3"], results=results)
        assert sorted(out.written) == ["a--tuned-top3--s0.json", "a--tuned-top3--s1.json"]
        rec = json.loads((results / "toy-ensemble" / "smoke" / "runs" / "a--tuned-top3--s1.json").read_text())
        assert rec["metrics"] == {"val": {"accuracy": 0.9}, "test": {"accuracy": 0.76}}  # the variant's scores
        assert rec["search"]["ensemble"] == {"size": 3, "members": [2, 0, 1]}
        assert rec["adopted_from"]["variant"] == "top-3" and rec["method"] == "tuned-top3"
        assert "mean class probabilities of the 3 trials" in rec["search"]["budget"]["selection"]
        refit = adopt(suite, "tuned", "smoke", methods=["tuned-refit"], results=results)
        assert len(refit.written) == 2
        rec = json.loads((results / "toy-ensemble" / "smoke" / "runs" / "a--tuned-refit--s0.json").read_text())
        assert rec["metrics"]["test"] == {"accuracy": 0.6} and rec["adopted_from"]["variant"] == "refit"
        assert rec["search"]["refit"] == {"members": [2], "epochs": 4, "rows": 4, "seconds": 1.0}
        assert "trained again from fresh weights" in rec["search"]["budget"]["selection"]
        from benchmarks.reports.build import report

        text = report("toy-ensemble", results, "smoke").read_text()
        assert "2 of `tuned-top3`'s from `tuned`'s recorded `top-3` ensemble" in text
        missing = adopt(suite, "bare", "smoke", methods=["bare-top3"], results=results)
        assert missing.written == [] and sorted(missing.missing) == ["a--bare-top3--s0.json", "a--bare-top3--s1.json"]
        assert missing.no_variant == missing.missing  # finished, but without the variant
        with pytest.raises(OrcaError, match=r"differ in method_params\.search\.ensemble, method_params\.search\.n_trials"):
            adopt(suite, "tuned", "smoke", methods=["tuned-top3-wide"], results=results)  # more than the rule differs
        with pytest.raises(OrcaError, match="differ in"):  # the ensemble cannot be undone: the reverse is refused
            adopt(suite, "tuned-top3", "smoke", methods=["tuned"], results=results)
    finally:
        _SUITES.pop("toy-ensemble", None)


def test_a_search_refits_its_chosen_trial_on_all_its_rows(tmp_path, monkeypatch) -> None:
    """``variants = ["refit"]`` records the chosen trial retrained from fresh weights on the training and validation
    rows for its chosen epochs; ``refit = true`` makes that model the result, on the same trials; a check share is
    scored by it too; the refit and the ensemble exclude each other."""
    folder, data = _data(tmp_path)
    refits = []
    original = CrossModalClassifier.refit

    def spy(self, X, y, *a, **k):
        refits.append((len(X), k.get("epochs"), k.get("epochs_cap")))
        return original(self, X, y, *a, **k)

    monkeypatch.setattr(CrossModalClassifier, "refit", spy)
    params = {**_params(folder, variants=["refit"]), "check": {"fraction": 0.2}}
    recorded = run_orca_search(data, params, seed=0)
    chosen = recorded["search"]["chosen"]
    variant = recorded["search"]["variants"]["refit"]
    assert refits == [(88, variant["epochs"], 2)] and variant["rows"] == 88  # 80 % of 110 rows: the trials' rows
    assert variant["members"] == [chosen] and variant["epochs"] == recorded["refine"]["best_epoch"] + 1
    assert variant["metrics"]["val"] == recorded["metrics"]["val"]  # the chosen trial's validation score
    assert set(variant["metrics"]) == {"val", "test", "check"}
    assert variant["metrics"]["test"] != recorded["metrics"]["test"]  # another model than the chosen one
    assert "refit" in recorded["timings_s"] and "refit" not in recorded["search"]
    direct = run_orca_search(data, {**params, "search": {**params["search"], "refit": True}}, seed=0)
    assert direct["search"]["refit"]["epochs"] == variant["epochs"]
    for split in ("test", "check"):
        for name, value in variant["metrics"][split].items():
            assert direct["metrics"][split][name] == pytest.approx(value, abs=1e-6)
    assert "trained again from fresh weights" in direct["search"]["budget"]["selection"]
    with pytest.raises(ConfigError, match="exclude each other"):
        run_orca_search(data, _params(folder, refit=True, ensemble=2), seed=0)


@pytest.mark.parametrize("search, message", [({"refit": "yes"}, "refit must be true or false"),
                                             ({"refit": True, "ensemble": 2}, "not true with search.ensemble"),
                                             ({"variants": ["top-3"]}, r"expected a list of \['refit'\]")])
def test_bad_refit_settings_fail_when_the_config_is_resolved(search, message) -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    with pytest.raises(ConfigError, match=message):
        resolve_config(get_suite("openml"), "paper", {"method_params": {"orca-tuned": {"search": search}}})
