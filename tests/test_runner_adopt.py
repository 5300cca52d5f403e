"""Adopting results (benchmarks.runner.adopt): a method takes another's finished results only where their
settings are identical but for the name, records where they came from, and never overwrites a live job."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orca import Task
from orca.exceptions import OrcaError


def _load_task(name: str, config: dict, seed: int):
    from benchmarks.runner import TaskData

    rng = np.random.default_rng(seed)
    y = np.arange(40) % 2
    X = rng.normal(size=(40, 2)) + 2.0 * y[:, None]
    return TaskData(Task(f"toy-{name}", (2,), "classification", (2,), metric="accuracy"), X[:30], y[:30], X[30:],
                    y[30:], data={"kind": "generated", "source": "toy"})


def _run(data, params: dict, seed: int, ctx=None) -> dict:
    means = np.stack([data.X_train[data.y_train == k].mean(axis=0) for k in (0, 1)]) * params["scale"]
    pred = np.argmin(((data.X_test[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return {"metrics": {"test": {"accuracy": float(np.mean(pred == data.y_test))}}}


@pytest.fixture
def toy(tmp_path):
    from benchmarks.runner import Suite, register_suite
    from benchmarks.runner.suite import _SUITES

    root = tmp_path / "toy"
    (root / "presets").mkdir(parents=True)
    params = {"cand": {"scale": 1.0}, "same": {"scale": 1.0}, "other": {"scale": 2.0}}
    (root / "default.json").write_text(json.dumps({
        "tasks": ["a", "b"], "methods": list(params), "seeds": [0, 1], "metric": "accuracy", "data": {},
        "protocol": {}, "method_params": params, "contrasts": []}))
    (root / "presets" / "smoke.json").write_text("{}")
    (root / "presets" / "wide.json").write_text(json.dumps({"seeds": [0, 1, 2]}))  # shares smoke's jobs, and more
    (root / "presets" / "scaled.json").write_text(json.dumps({"method_params": {"cand": {"scale": 2.0}}}))
    suite = register_suite(Suite(name="toy-adopt", root=root, load_task=_load_task,
                                 methods={m: _run for m in params}, all_tasks=lambda config: ["a", "b"]))
    yield suite, tmp_path / "results"
    _SUITES.pop("toy-adopt", None)


def test_a_method_with_the_same_settings_adopts_finished_results_and_the_runner_counts_them_done(toy) -> None:
    from benchmarks.runner import run
    from benchmarks.runner.adopt import adopt
    from benchmarks.runner.execute import plan_jobs

    suite, results = toy
    run(suite, "smoke", methods=["cand"], results=results)
    runs = results / "toy-adopt" / "smoke" / "runs"
    (runs / "b--cand--s1.json").unlink()  # one source job not finished
    out = adopt(suite, "cand", "smoke", methods=["same"], results=results)
    assert sorted(out.written) == ["a--same--s0.json", "a--same--s1.json", "b--same--s0.json"]
    assert out.missing == ["b--same--s1.json"] and out.done == [] and out.busy == []
    source, adopted = (json.loads((runs / f"a--{m}--s1.json").read_text()) for m in ("cand", "same"))
    _, jobs = plan_jobs(suite, "smoke", methods=["same"])
    job = next(j for j in jobs if (j.task, j.seed) == ("a", 1))
    assert adopted["method"] == "same" and adopted["config_hash"] == job.config_hash != source["config_hash"]
    assert adopted["resolved_config"] == job.resolved
    assert adopted["adopted_from"] == {"method": "cand", "config_hash": source["config_hash"],
                                       "file": "a--cand--s1.json"}
    assert adopted["metrics"] == source["metrics"] and adopted["wall_time_s"] == source["wall_time_s"]
    again = run(suite, "smoke", methods=["same"], results=results)
    assert again.ran == ["b--same--s1.json"]  # the adopted three are done; the missing one runs
    assert adopt(suite, "cand", "smoke", methods=["same"], results=results).done == sorted(
        ["a--same--s0.json", "a--same--s1.json", "b--same--s0.json", "b--same--s1.json"])
    from benchmarks.reports.build import report

    text = report("toy-adopt", results, "smoke").read_text()
    assert "Adopted results" in text and "3 of `same`'s from `cand`" in text


def test_a_method_whose_settings_differ_is_refused_before_anything_is_written(toy) -> None:
    from benchmarks.runner import run
    from benchmarks.runner.adopt import adopt

    suite, results = toy
    run(suite, "smoke", methods=["cand"], results=results)
    with pytest.raises(OrcaError, match=r"other cannot adopt cand's results: their settings differ in "
                                        r"method_params\.scale"):
        adopt(suite, "cand", "smoke", methods=["same", "other"], results=results)
    assert not list((results / "toy-adopt" / "smoke" / "runs").glob("*--same--*"))
    with pytest.raises(OrcaError, match="unknown method 'nope' to adopt from; expected one of"):
        adopt(suite, "nope", "smoke", methods=["same"], results=results)
    with pytest.raises(OrcaError, match="name the methods that adopt"):
        adopt(suite, "cand", "smoke", methods=["cand"], results=results)


def test_a_preset_adopts_the_jobs_it_shares_with_another_and_runs_only_the_rest(toy, capsys) -> None:
    from benchmarks.run import main
    from benchmarks.runner import run
    from benchmarks.runner.adopt import adopt

    suite, results = toy
    run(suite, "smoke", methods=["cand"], results=results)
    out = adopt(suite, "cand", "wide", methods=["cand", "same"], results=results, source_preset="smoke")
    assert sorted(out.written) == sorted(f"{t}--{m}--s{s}.json" for t in "ab" for m in ("cand", "same")
                                         for s in (0, 1))
    assert sorted(out.missing) == sorted(f"{t}--{m}--s2.json" for t in "ab" for m in ("cand", "same"))
    wide, smoke = results / "toy-adopt" / "wide" / "runs", results / "toy-adopt" / "smoke" / "runs"
    taken, source = (json.loads((d / "a--cand--s1.json").read_text()) for d in (wide, smoke))
    assert taken["preset"] == "wide" and source["preset"] == "smoke" and taken["metrics"] == source["metrics"]
    assert taken["adopted_from"] == {"method": "cand", "config_hash": source["config_hash"],
                                     "file": "a--cand--s1.json", "preset": "smoke"}
    assert run(suite, "wide", methods=["cand", "same"], results=results, allow_dirty=True).ran == sorted(out.missing)
    from benchmarks.reports.build import report

    text = report("toy-adopt", results, "wide").read_text()
    assert "4 of `cand`'s from `cand` in preset `smoke`; 4 of `same`'s from `cand` in preset `smoke`." in text
    with pytest.raises(OrcaError, match=r"cand cannot adopt cand's results in preset smoke: their settings differ "
                                        r"in method_params\.scale"):
        adopt(suite, "cand", "scaled", methods=["cand"], results=results, source_preset="smoke")
    assert not (results / "toy-adopt" / "scaled").exists()
    assert main(["toy-adopt", "--preset", "scaled", "--from-preset", "smoke", "--methods", "same",
                 "--results", str(results)]) == 2
    assert "give --adopt METHOD with it" in capsys.readouterr().err


def test_a_job_a_live_runner_holds_is_not_overwritten(toy) -> None:
    from benchmarks.runner import run
    from benchmarks.runner.adopt import adopt
    from benchmarks.runner.execute import lock_path, plan_jobs
    from benchmarks.runner.locks import JobLock

    suite, results = toy
    run(suite, "smoke", methods=["cand"], results=results)
    _, jobs = plan_jobs(suite, "smoke", methods=["same"])
    held = JobLock(lock_path(results, jobs[0]))
    assert held.acquire()
    try:
        # another process's lock: filelock's flock is per open file, so a second JobLock on the path is refused
        out = adopt(suite, "cand", "smoke", methods=["same"], results=results)
    finally:
        held.release()
    assert out.busy == [jobs[0].filename] and len(out.written) == 3
    assert not (results / "toy-adopt" / "smoke" / "runs" / jobs[0].filename).exists()


@pytest.mark.parametrize("suite_name", ["smallseries", "smalltables", "smallregression"])
def test_the_studies_default_is_its_adopted_rerun(suite_name) -> None:
    """``orca-mtl`` (and ``orca-raw-mtl``) ran what ``orca-default`` (``orca-raw``) became when the defaults took
    ``refine.select_on = "metric-then-loss"``: their settings are identical but for the name, and each committed
    ``orca-default`` result whose source is committed is the adopted one (its source named, its own job hash,
    the source's scores)."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.adopt import setting_differences
    from benchmarks.runner.execute import plan_jobs

    runs = Path(__file__).resolve().parents[1] / "results" / suite_name / "study" / "runs"
    pairs = [("orca-default", "orca-mtl")]
    if suite_name == "smallregression":
        pairs.append(("orca-raw", "orca-raw-mtl"))
    checked = 0
    for default, rerun in pairs:
        _, jobs = plan_jobs(get_suite(suite_name), "study", methods=[default, rerun])
        by = {(j.task, j.seed, j.method): j for j in jobs}
        for job in (j for j in jobs if j.method == default):
            source = by[(job.task, job.seed, rerun)]
            assert setting_differences(job, source) == []
            assert job.resolved["method_params"]["refine"]["select_on"] == "metric-then-loss"
            if not (runs / source.filename).is_file():
                continue
            mine, theirs = (json.loads((runs / j.filename).read_text()) for j in (job, source))
            assert mine["adopted_from"]["method"] == rerun and mine["config_hash"] == job.config_hash
            assert mine["adopted_from"]["config_hash"] == theirs["config_hash"] == source.config_hash
            assert mine["metrics"] == theirs["metrics"]
            checked += 1
    if not checked:
        pytest.skip(f"no committed {suite_name} re-run to check")


def test_the_coverage_table_counts_a_method_run_on_request_beside_the_presets_own(toy) -> None:
    """A preset's coverage lists its own methods and any method with results in its folder (run with
    ``--methods``), each against the preset's tasks x seeds, so a run on request shows the seeds it still lacks."""
    from benchmarks.reports.build import report
    from benchmarks.runner import run

    suite, results = toy
    (suite.root / "presets" / "short.json").write_text(json.dumps({"methods": ["cand"]}))
    run(suite, "short", methods=["other"], results=results, allow_dirty=True)  # a test tree may be dirty
    (results / "toy-adopt" / "short" / "runs" / "b--other--s1.json").unlink()
    text = report("toy-adopt", results, "short").read_text()
    assert "| cand | 0 of 4 | seed 0 (2), seed 1 (2) |" in text
    assert "| other | 3 of 4 | seed 1 (1) |" in text


def test_a_contrast_with_another_presets_results_pairs_them_on_task_and_seed(toy) -> None:
    """A contrast with a ``"preset"`` compares a method with the same method's results in another preset (what the
    equal-budget preset does with the paper preset's): rows relabelled ``"<method> (<preset> preset)"``, paired
    on (task, seed), the mean difference over tasks taken from the two presets' files; with no results in the
    other preset the contrast is left out, and a contrast naming its own preset is refused."""
    from benchmarks.reports.build import report
    from benchmarks.runner import run
    from benchmarks.runner.config import resolve_config
    from orca.exceptions import ConfigError

    suite, results = toy
    contrast = {"method": "cand", "against": "cand", "preset": "smoke", "changes": ["scale"]}
    (suite.root / "presets" / "scaled.json").write_text(json.dumps(
        {"method_params": {"cand": {"scale": 2.0}}, "methods": ["cand"], "contrasts": [contrast]}))
    run(suite, "scaled", methods=["cand"], results=results, allow_dirty=True)
    assert "One change at a time" not in report("toy-adopt", results, "scaled").read_text()  # smoke has no runs
    run(suite, "smoke", methods=["cand", "other"], results=results, allow_dirty=True)

    def accuracy(preset: str, task: str, seed: int) -> float:
        path = results / "toy-adopt" / preset / "runs" / f"{task}--cand--s{seed}.json"
        return json.loads(path.read_text())["metrics"]["test"]["accuracy"]

    diff = np.mean([np.mean([accuracy("scaled", t, s) - accuracy("smoke", t, s) for s in (0, 1)]) for t in "ab"])
    row = next(line for line in report("toy-adopt", results, "scaled").read_text().splitlines()
               if line.startswith("| cand | cand (smoke preset) |"))
    assert row.split(" | ")[2:4] == ["`scale`", "2 (4 pairs)"] and diff != 0
    assert row.split(" | ")[4].startswith(f"{diff:+.4f} [")  # smoke's `other` plays no part
    with pytest.raises(ConfigError, match="expected another preset of suite 'toy-adopt'"):
        resolve_config(suite, "smoke", {"contrasts": [contrast]})


def test_a_resumed_jobs_wall_time_adds_what_earlier_processes_trained(tmp_path) -> None:
    """The runner's clock starts with the last process; the seconds the method reports as trained by earlier
    processes (``training.resumed_s``, up to the checkpoint it resumed from) are added to ``wall_time_s``."""
    from types import SimpleNamespace

    from benchmarks.runner.execute import run_job

    def method(data, params, seed, ctx=None):
        return {"metrics": {"test": {"accuracy": 1.0}}, "training": {"seconds": 130.5, "resumed_s": 125.0}}

    def fresh(data, params, seed, ctx=None):
        return {"metrics": {"test": {"accuracy": 1.0}}, "training": {"seconds": 3.0, "resumed_s": 0.0}}

    job = SimpleNamespace(suite="toy", task="a", method="m", seed=0, config_hash="0", resolved={"method_params": {}},
                          config={"preset": "smoke", "metric": "accuracy"}, metric_version=1)
    suite = SimpleNamespace(load_task=_load_task, methods={"m": method})
    record = run_job(suite, job, {})
    assert record["status"] == "ok" and "resumed_s" not in record  # recorded once, under ``training``
    assert 125.0 < record["wall_time_s"] < 125.0 + 60.0
    record = run_job(SimpleNamespace(load_task=_load_task, methods={"m": fresh}), job, {})
    assert record["wall_time_s"] < 60.0
