"""Adding to orca takes at most two files each: a suite (its module and its config folder), a method (a function
and its settings in the suite's ``default.json``), a body (one registration). Each toy here lives in this file
plus, for the suite and the method, a config written to a temporary folder, and runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import config_schedule, tiny_hf_model

from orca import CrossModalClassifier, Task
from orca.bodies import BodySpec
from orca.registry import _REGISTRY, register


# ---- a toy suite: this module's functions + one config folder ------------------------------------------------
def _load_task(name: str, config: dict, seed: int):
    from benchmarks.runner import TaskData

    rng = np.random.default_rng(seed)
    shift = config["data"]["shift"]
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 3)) + shift * y[:, None]
    task = Task(f"toy-{name}", (3,), "classification", (2,), metric="accuracy")
    return TaskData(task, X[:40], y[:40], X[40:], y[40:], data={"kind": "generated", "source": "toy"})


def _run_nearest_mean(data, params: dict, seed: int, ctx=None) -> dict:
    """A toy method: classify by the nearer class mean (scaled by ``params['scale']``)."""
    means = np.stack([data.X_train[data.y_train == k].mean(axis=0) for k in (0, 1)]) * params["scale"]
    pred = np.argmin(((data.X_test[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return {"metrics": {"test": {"accuracy": float(np.mean(pred == data.y_test))}}}


def _run_prior(data, params: dict, seed: int, ctx=None) -> dict:
    """The second toy method, added later: the majority class of the training data."""
    major = np.bincount(data.y_train).argmax()
    return {"metrics": {"test": {"accuracy": float(np.mean(data.y_test == major))}}}


def _toy_suite(root: Path, methods: dict):
    from benchmarks.runner import Suite

    return Suite(name="toy", root=root, load_task=_load_task, methods=methods,
                 all_tasks=lambda config: ["easy", "hard"])


def _write_config(root: Path, method_params: dict) -> None:
    (root / "presets").mkdir(parents=True, exist_ok=True)
    (root / "default.json").write_text(json.dumps({
        "tasks": ["easy", "hard"], "methods": list(method_params), "seeds": [0], "metric": "accuracy",
        "data": {"shift": 3.0}, "protocol": {}, "method_params": method_params}))
    (root / "presets" / "smoke.json").write_text(json.dumps({"seeds": [0, 1]}))


def test_a_toy_suite_and_a_toy_method_run_through_the_runner_and_the_report(tmp_path) -> None:
    from benchmarks.reports.build import report
    from benchmarks.runner import register_suite, run
    from benchmarks.runner.suite import _SUITES

    root = tmp_path / "toy"
    _write_config(root, {"nearest-mean": {"scale": 1.0}})
    suite = register_suite(_toy_suite(root, {"nearest-mean": _run_nearest_mean}))
    try:
        out = run(suite, "smoke", results=tmp_path / "results")
        assert len(out) == 4 and out.failed == [] and len(out.ran) == 4  # 2 tasks x 1 method x 2 seeds
        # a method is added in two places: its function here, its settings in the suite's default.json
        _write_config(root, {"nearest-mean": {"scale": 1.0}, "prior": {}})
        suite_2 = _toy_suite(root, {"nearest-mean": _run_nearest_mean, "prior": _run_prior})
        _SUITES["toy"] = suite_2
        again = run(suite_2, "smoke", results=tmp_path / "results")
        assert sorted(again.ran) == ["easy--prior--s0.json", "easy--prior--s1.json", "hard--prior--s0.json",
                                     "hard--prior--s1.json"]  # the first method's results stay done
        records = [json.loads(p.read_text()) for p in again]
        by = {(r["task"], r["method"], r["seed"]): r["metrics"]["test"]["accuracy"] for r in records}
        assert by[("easy", "nearest-mean", 0)] > 0.9 and by[("easy", "prior", 0)] == pytest.approx(0.5)
        text = report("toy", tmp_path / "results", "smoke").read_text()
        assert "nearest-mean" in text and "prior" in text
    finally:
        _SUITES.pop("toy", None)


# ---- a toy body: one registration ----------------------------------------------------------------------------
def test_a_toy_body_is_one_registration(tmp_path) -> None:
    folder = tmp_path / "toy-body"
    tiny_hf_model("bert").save_pretrained(folder)
    register("body", "toy-bert")(BodySpec("toy-bert", "text", "a tiny random BERT", locate=lambda: folder))
    try:
        from orca.bodies import offline_bodies

        assert "toy-bert" in offline_bodies()
        X = np.random.default_rng(0).normal(size=(40, 3))
        clf = CrossModalClassifier("toy-bert", refine__epochs=1, device="cpu", align__objective="none",
                                   **{**config_schedule(), "embedder__target_seq_len": 8}).fit(X, np.arange(40) % 2)
        assert clf.config_.body.name == "toy-bert" and clf.predict(X).shape == (40,)
    finally:
        _REGISTRY["body"].pop("toy-bert", None)


def test_a_non_smoke_preset_refuses_a_dirty_tree_unless_allowed(tmp_path, monkeypatch) -> None:
    from benchmarks.reports.build import report
    from benchmarks.runner import execute, register_suite
    from benchmarks.runner.suite import _SUITES
    from orca.exceptions import OrcaError

    root = tmp_path / "toy"
    _write_config(root, {"nearest-mean": {"scale": 1.0}})
    (root / "presets" / "paper.json").write_text(json.dumps({"seeds": [0]}))
    monkeypatch.setattr(execute, "git_commit", lambda: {"commit": "abc", "dirty": True})
    suite = register_suite(_toy_suite(root, {"nearest-mean": _run_nearest_mean}))
    try:
        with pytest.raises(OrcaError, match="uncommitted changes.*--allow-dirty"):
            execute.run(suite, "paper", results=tmp_path / "results")
        assert not (tmp_path / "results").exists()
        assert execute.run(suite, "smoke", results=tmp_path / "results").failed == []  # smoke runs anyway
        out = execute.run(suite, "paper", results=tmp_path / "results", allow_dirty=True)
        records = [json.loads(p.read_text()) for p in out]
        assert all(r["allow_dirty"] and r["environment"]["git"]["dirty"] for r in records)
        text = report("toy", tmp_path / "results", "paper").read_text()
        assert "2 of 2 results were computed from a working tree with uncommitted changes" in text
    finally:
        _SUITES.pop("toy", None)


def test_only_changes_outside_results_make_the_tree_dirty(tmp_path) -> None:
    """A runner that has written result files still runs from committed code; a changed source file does not."""
    import subprocess

    from orca.provenance import git_commit

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "r.json").write_text("{}\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "results" / "r.json").write_text('{"status": "ok"}\n')
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path)["dirty"] is True
