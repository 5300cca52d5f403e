"""The runner explains itself: --list, --dry-run (job states and time estimates) and --print-config, for every
suite."""

from __future__ import annotations

import json

import pytest

from benchmarks.catalogue import available_suites
from benchmarks.run import main

pytest.importorskip("h5py")


@pytest.mark.parametrize("suite", available_suites())
def test_list_dry_run_and_print_config_for_every_suite(suite, capsys, tmp_path) -> None:
    assert main(["--list"]) == 0
    assert suite in capsys.readouterr().out
    assert main([suite, "--list"]) == 0
    out = capsys.readouterr().out
    assert f"suite {suite}" in out and "presets: smoke" in out and "methods:" in out
    assert main([suite, "--dry-run", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "pending" in out and "to run:" in out and not (tmp_path / suite).exists()  # nothing ran
    assert main([suite, "--print-config", "--seeds", "7"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["resolved"]["suite"] == suite and printed["resolved"]["seed"] == 7
    assert len(printed["config_hash"]) == 16


def test_dry_run_states_and_estimates_from_recorded_durations(tmp_path, capsys) -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import JobLock, lock_path
    from benchmarks.runner.execute import plan_jobs

    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection"], ["fno", "orca"], [0, 1])
    runs = tmp_path / "pdebench" / "smoke" / "runs"
    runs.mkdir(parents=True)
    done = jobs[0]  # advection--fno--s0: a finished result of this very config
    (runs / done.filename).write_text(json.dumps({"task": done.task, "method": done.method, "seed": done.seed,
                                                  "status": "ok", "config_hash": done.config_hash,
                                                  "metric_version": done.metric_version, "wall_time_s": 120.0}))

    (tmp_path / "pdebench/smoke/checkpoints" / jobs[2].filename.removesuffix(".json")).mkdir(parents=True)
    (tmp_path / "pdebench/smoke/checkpoints" / jobs[2].filename.removesuffix(".json") / "last.pt").write_bytes(b"x")
    held = JobLock(lock_path(tmp_path, jobs[3]))
    assert held.acquire()
    try:
        assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "orca", "--seeds", "0", "1",
                     "--results", str(tmp_path), "--dry-run"]) == 0
    finally:
        held.release()
    out = capsys.readouterr().out
    states = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.endswith(")") or "–" in line}
    assert states[jobs[0].filename] == "done" and states[jobs[2].filename] == "interrupted"
    assert states[jobs[3].filename] == "running" and states[jobs[1].filename] == "pending"
    assert "120 s (seeds)" in out  # advection--fno--s1 estimated from seed 0's recorded time
    assert "to run: 2, estimated 0.03 h from 1 recorded durations (1 without one)" in out
    # a one-change candidate with no recorded time of its own is estimated from the method it is compared with
    assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "orca-bf16", "--seeds", "1",
                 "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "to run: 2, estimated 0.03 h from 1 recorded durations (1 without one)" in out  # orca has no time
    (runs / jobs[1].filename.replace("fno--s1", "orca--s0")).write_text(json.dumps(
        {"task": "advection", "method": "orca", "seed": 0, "status": "ok", "wall_time_s": 240.0}))
    assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "orca-bf16", "--seeds", "1",
                 "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "240 s (orca, uncorrected: seeds)" in out and "to run: 2, estimated 0.10 h from 2 recorded durations" in out
    assert "(1 from a candidate's base with no measured cost ratio" in out
    # another task: both jobs go on their method's (the candidate's base's) mean over other tasks, which is said
    assert main(["pdebench", "--tasks", "burgers", "--methods", "fno", "orca-bf16", "--seeds", "0",
                 "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "120 s (method)" in out and "240 s (orca, uncorrected: method)" in out
    assert "(2 from the method's mean over other tasks, which can differ several-fold in size)" in out


def test_a_candidate_is_estimated_from_its_base_at_the_measured_cost_ratio() -> None:
    """Once a one-change candidate has run where its base ran, its other tasks are estimated by the base's time
    on them times the median candidate / base ratio, not by the candidate's mean over other tasks."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs
    from benchmarks.runner.explain import cost_ratio, estimate

    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection", "burgers"], ["orca-bf16"], [0, 1])
    by = {(j.task, j.seed): j for j in jobs}
    durations = {("advection", "orca", 0): (100.0, None), ("advection", "orca", 1): (110.0, None),
                 ("burgers", "orca", 0): (40.0, None), ("burgers", "orca", 1): (50.0, None),
                 ("advection", "orca-bf16", 0): (300.0, None), ("advection", "orca-bf16", 1): (330.0, None)}
    assert cost_ratio("orca-bf16", "orca", durations) == (3.0, 2)
    assert cost_ratio("orca", "orca-bf16", durations) == (1 / 3, 2)
    assert cost_ratio("orca-bf16", "fno", durations) is None
    # burgers: the base's own time on that seed x 3, not the candidate's 315 s mean over advection
    assert estimate(by[("burgers", 1)], durations) == (150.0, "orca x 3.00 (2 pairs): own")
    assert estimate(by[("advection", 1)], durations) == (330.0, "own")  # its own time first
    del durations[("advection", "orca", 0)], durations[("advection", "orca", 1)]
    # no pair left: the candidate's own mean over other tasks, as for any method
    assert estimate(by[("burgers", 1)], durations) == (315.0, "method")


def test_a_result_scored_by_an_older_metric_version_is_not_done(tmp_path) -> None:
    """A finished result of the same config, scored before the suite's metrics changed, is re-run by --resume
    and left out of the report."""
    from benchmarks.catalogue import get_suite
    from benchmarks.reports.results import load_results
    from benchmarks.runner import is_done
    from benchmarks.runner.execute import plan_jobs

    suite = get_suite("pdebench")
    _, jobs = plan_jobs(suite, "smoke", ["advection"], ["fno"], [0])
    job = jobs[0]
    assert job.metric_version == suite.metric_version_of("advection", {}) == 2
    record = {"task": job.task, "method": job.method, "seed": job.seed, "status": "ok", "metric": "nrmse",
              "config_hash": job.config_hash, "metrics": {"test": {"nrmse": 0.5}}}
    path = tmp_path / job.filename
    for version, done in ((None, False), (1, False), (2, True)):
        path.write_text(json.dumps(record if version is None else {**record, "metric_version": version}))
        assert is_done(path, job) is done
        rows, _, left_out = load_results(tmp_path, suite.metric_version_of)
        assert len(rows) == (1 if done else 0) and (not left_out) is done
    assert "superseded" not in " ".join(left_out)
    path.write_text(json.dumps({**record, "metric_version": 1}))
    assert "superseded" in load_results(tmp_path, suite.metric_version_of)[2][0]


def test_dry_run_estimates_a_time_budgeted_job_by_its_budget_and_others_from_sibling_presets(tmp_path,
                                                                                              capsys) -> None:
    """With no recorded duration in its own preset, a job with a training budget is estimated by that budget (a
    lower bound, said so), and an unbudgeted one by the same task and method's time in another preset."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs
    from benchmarks.runner.explain import time_budget

    _, jobs = plan_jobs(get_suite("nasbench360"), "equal-budget", ["darcy-regen"], ["fno", "orca", "floor"], [0])
    assert [time_budget(j) for j in jobs] == [600.0, 600.0, None]
    _, paper = plan_jobs(get_suite("nasbench360"), "paper", ["darcy-regen"], ["orca"], [0])
    assert time_budget(paper[0]) is None  # the paper preset trains to an epoch cap
    runs = tmp_path / "nasbench360" / "paper" / "runs"
    runs.mkdir(parents=True)
    (runs / "darcy-regen--floor--s2.json").write_text(json.dumps(
        {"task": "darcy-regen", "method": "floor", "seed": 2, "status": "ok", "wall_time_s": 36.0}))
    assert main(["nasbench360", "--preset", "equal-budget", "--tasks", "darcy-regen", "--methods", "fno", "orca",
                 "floor", "--seeds", "0", "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "600 s (budget)" in out and "36 s (preset paper)" in out
    assert ("to run: 3, estimated 0.34 h from 1 recorded durations and 2 time budgets (lower bounds: set-up, "
            "alignment and scoring come on top)") in out


def test_another_presets_run_is_scaled_to_the_jobs_epoch_cap_from_the_nearest_preset(tmp_path, capsys) -> None:
    """A job with no time in its own preset is estimated from another preset's run of its task and method scaled to
    its own epoch cap (time outside training plus seconds per epoch times the cap), from the preset whose other
    settings differ least; where the cap cannot be told (two settings equal to the run's cap, with different
    values in the job) the run's time is taken as it is, as before. A 2-minute budgeted run is no estimate of a
    60-epoch one."""
    import copy

    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs
    from benchmarks.runner.explain import method_settings

    _, jobs = plan_jobs(get_suite("pdebench"), "converged", ["advection"], ["orca-skip", "fno"], [0])
    orca, fno = jobs
    assert method_settings(orca.resolved)["refine.epochs"] == 60 and method_settings(fno.resolved)["epochs_1d"] == 500

    def write(preset: str, job, wall: float, seconds: float, epochs: int, cap: int, **changes) -> None:
        resolved = copy.deepcopy(job.resolved)
        for dotted, value in changes.items():  # e.g. refine__epochs=10000 sets method_params.refine.epochs
            *path, last = dotted.split("__")
            where = resolved["method_params"]
            for part in path:
                where = where[part]
            where[last] = value
        runs = tmp_path / "pdebench" / preset / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        (runs / job.filename).write_text(json.dumps(
            {"task": job.task, "method": job.method, "seed": job.seed, "status": "ok", "wall_time_s": wall,
             "resolved_config": resolved, "training": {"epochs_run": epochs, "seconds": seconds, "epochs_cap": cap}}))

    # a budgeted run: 9 epochs in 90 s (10 s each) under a cap of 10000, 30 s outside training: 30 + 10 x 60
    write("b-near", orca, 120.0, 90.0, 9, 10000, refine__epochs=10000, refine__max_seconds=120.0)
    # alphabetically first but farther (two settings differ, the near one's budget is one): 20 + 2 x 60
    write("a-far", orca, 30.0, 10.0, 5, 5, refine__epochs=5, refine__batch_size=64, refine__lr=0.001)
    # the cap (20) is both epochs_1d and patience here, which the job sets to 500 and 20: it cannot be told
    write("a-far", fno, 50.0, 40.0, 20, 20, epochs_1d=20, patience=20)
    assert main(["pdebench", "--preset", "converged", "--tasks", "advection", "--methods", "orca-skip", "fno",
                 "--seeds", "0", "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "630 s (preset b-near, scaled to its cap of 60 epochs)" in out
    assert "50 s (preset a-far)" in out  # taken as it is, and not counted as scaled
    assert "(1 from another preset's seconds per epoch times this job's epoch cap: upper bounds" in out
    # with the far preset alone, its run is still scaled: 20 + 2 x 60
    (tmp_path / "pdebench" / "b-near" / "runs" / orca.filename).unlink()
    assert main(["pdebench", "--preset", "converged", "--tasks", "advection", "--methods", "orca-skip",
                 "--seeds", "0", "--results", str(tmp_path), "--dry-run"]) == 0
    assert "140 s (preset a-far, scaled to its cap of 60 epochs)" in capsys.readouterr().out


def test_an_interrupted_job_is_estimated_by_the_rest_of_its_training_at_its_checkpoints_rate(tmp_path,
                                                                                             capsys) -> None:
    """A checkpoint that records its progress (ORCA: steps of the planned total; baselines: epochs of the cap)
    estimates the job's remaining time at the rate it trained, within its time budget, not by other runs'
    durations (which may come from other machines or thread counts); one that does not falls back to them."""
    import torch

    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import checkpoint_path, plan_jobs

    _, jobs = plan_jobs(get_suite("nasbench360"), "equal-budget", ["darcy-regen"], ["fno", "orca"], [0, 1])
    fno0, fno1, orca0, orca1 = sorted(jobs, key=lambda j: (j.method, j.seed))
    runs = tmp_path / "nasbench360" / "equal-budget" / "runs"
    runs.mkdir(parents=True)
    (runs / orca0.filename).write_text(json.dumps({"task": "darcy-regen", "method": "orca", "seed": 0,
                                                   "status": "ok", "wall_time_s": 999.0}))
    for job, saved in ((orca1, {"state": {"step": 250, "total_steps": 1000, "elapsed": 100.0}}),  # refine's layout
                       (fno0, {"epoch": 2, "epochs_cap": 10, "elapsed": 300.0}),  # the baselines' layout
                       (fno1, {"epoch": 3})):  # written before the plan was recorded
        checkpoint_path(tmp_path, job).mkdir(parents=True)
        torch.save(saved, checkpoint_path(tmp_path, job) / "last.pt")
    assert main(["nasbench360", "--preset", "equal-budget", "--tasks", "darcy-regen", "--methods", "fno", "orca",
                 "--seeds", "0", "1", "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # orca s1: 25 % in 100 s, 300 s to go (not seed 0's 999 s); fno s0: 20 % in 300 s, 1200 s at its rate but its
    # 600 s budget leaves 300 s; fno s1: no progress recorded, so its budget as before
    assert "300 s (checkpoint: 25% trained in 100 s)" in out and "300 s (checkpoint: 20% trained in 300 s)" in out
    assert "600 s (budget)" in out
    assert "999 s (own)" in out  # orca s0 (its result lacks a config hash, so it is to run again)
    assert ("to run: 4, estimated 0.61 h from 1 recorded durations and 1 time budgets (lower bounds: set-up, "
            "alignment and scoring come on top) and 2 checkpoints (the rest of their training") in out
    # with --restart the checkpoints are discarded, so the jobs are estimated as fresh ones (orca s1 from seed 0)
    assert main(["nasbench360", "--preset", "equal-budget", "--tasks", "darcy-regen", "--methods", "fno", "orca",
                 "--seeds", "0", "1", "--results", str(tmp_path), "--dry-run", "--restart"]) == 0
    out = capsys.readouterr().out
    assert "checkpoint:" not in out and "999 s (seeds)" in out and out.count("600 s (budget)") == 2


def test_an_interrupted_search_is_marked_and_estimated_by_its_finished_trials(tmp_path, capsys) -> None:
    """A search's checkpoint (finished trials in ``search.json``, no ``last.pt``) marks its job interrupted (the
    state a plain run leaves alone and ``--resume`` continues) and estimates the rest at its trials' rate."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import checkpoint_path, plan_jobs

    _, jobs = plan_jobs(get_suite("openml"), "smoke", ["11"], ["orca-tuned"], [0])
    checkpoint_path(tmp_path, jobs[0]).mkdir(parents=True)
    (checkpoint_path(tmp_path, jobs[0]) / "search.json").write_text(json.dumps(
        {"trials": [{"seconds": 60.0}, {"seconds": 40.0}], "planned": 6, "chosen": 0}))
    assert main(["openml", "--tasks", "11", "--methods", "orca-tuned", "--seeds", "0", "--results", str(tmp_path),
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{jobs[0].filename}  interrupted" in out  # 2 of 6 trials in 100 s: 200 s to go
    assert "200 s (checkpoint: 33% trained in 100 s)" in out


def test_estimates_prefer_durations_measured_on_the_planned_machine_and_mark_the_others(tmp_path,
                                                                                       capsys) -> None:
    """At each level (own result, other seeds) a duration measured with the planned CPU kind and threads per job
    comes first; one measured elsewhere is used only without such, and is marked; the task comes before the
    machine (the method's other tasks on this machine do not outrank this task elsewhere)."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import job_threads, plan_jobs
    from benchmarks.runner.explain import OTHER, estimate, recorded_durations
    from orca.precision import cpu_capability

    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection", "burgers"], ["fno"], [0, 1, 2])
    runs = tmp_path / "pdebench" / "smoke" / "runs"
    runs.mkdir(parents=True)
    here = (cpu_capability(), job_threads(2))
    elsewhere = ("AVX512" if here[0] != "AVX512" else "AVX2", here[1])

    def write(task, seed, seconds, machine):
        (runs / f"{task}--fno--s{seed}.json").write_text(json.dumps(
            {"task": task, "method": "fno", "seed": seed, "status": "ok", "wall_time_s": seconds,
             "environment": {"cpu_capability": machine[0], "torch_threads": machine[1]}}))

    write("advection", 0, 100.0, here)
    write("advection", 1, 900.0, elsewhere)  # the job's own earlier result, but from another machine
    write("burgers", 0, 40.0, here)
    durations = recorded_durations(runs)
    by = {(j.task, j.seed): j for j in jobs}
    assert estimate(by[("advection", 1)], durations, here=here) == (100.0, "seeds")  # this machine first
    assert estimate(by[("advection", 0)], durations, here=here) == (100.0, "own")
    assert estimate(by[("advection", 1)], durations) == (900.0, "own")  # no plan given: as before
    assert estimate(by[("burgers", 1)], durations, here=here) == (40.0, "seeds")
    (runs / "advection--fno--s0.json").unlink()
    durations = recorded_durations(runs)
    # only another machine's time for this task: used (the task outranks the machine) and marked
    assert estimate(by[("advection", 2)], durations, here=here) == (900.0, "seeds" + OTHER)
    write("advection", 1, 900.0, (here[0], here[1] + 7))  # the same CPU kind, other threads: marked too
    assert estimate(by[("advection", 2)], recorded_durations(runs), here=here) == (900.0, "seeds" + OTHER)
    assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "--seeds", "2", "--jobs", "2",
                 "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"900 s (seeds{OTHER})" in out and "(1 measured on another CPU kind or with other threads per job)" in out


def test_estimates_tell_cpu_models_of_one_capability_apart(tmp_path) -> None:
    """Two CPU models with the same PyTorch capability (an AVX2 AMD EPYC ran FNO 1.5x slower per epoch than the
    earlier machines): a duration from the planned model comes first, one from another model is marked, and one
    that records no model (results before 2026-12-06) is not held against the plan."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs, planned_machine
    from benchmarks.runner.explain import OTHER, estimate, recorded_durations
    from orca.provenance import cpu_model

    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection"], ["fno"], [0, 1, 2])
    runs = tmp_path / "runs"
    runs.mkdir()
    here = planned_machine(2)
    assert here[2] == cpu_model() and planned_machine(2, ray="auto", job_cpus=4) == (here[0], 4, None)
    plan = (here[0], here[1], "CPU A")

    def write(seed, seconds, model):
        env = {"cpu_capability": plan[0], "torch_threads": plan[1]} | ({} if model is None else {"cpu_model": model})
        (runs / f"advection--fno--s{seed}.json").write_text(json.dumps(
            {"task": "advection", "method": "fno", "seed": seed, "status": "ok", "wall_time_s": seconds,
             "environment": env}))

    write(0, 150.0, "CPU B")  # the job's own result, on another model of the same capability
    write(1, 100.0, "CPU A")
    by = {j.seed: j for j in jobs}
    durations = recorded_durations(runs)
    assert estimate(by[0], durations, here=plan) == (100.0, "seeds")  # the planned model first
    assert estimate(by[2], durations, here=plan) == (100.0, "seeds")
    assert estimate(by[0], durations, here=plan[:2]) == (150.0, "own")  # a plan without a model: as before
    (runs / "advection--fno--s1.json").unlink()
    assert estimate(by[2], recorded_durations(runs), here=plan) == (150.0, "seeds" + OTHER)
    write(0, 150.0, None)  # an older result that names no model: not marked
    assert estimate(by[2], recorded_durations(runs), here=plan) == (150.0, "seeds")


def test_a_time_limit_starts_only_the_jobs_whose_estimate_fits_the_time_left(tmp_path, capsys) -> None:
    """``--time-limit``: a job starts only when its dry-run estimate fits in the time left when its turn comes; a
    job whose estimate does not fit, or that has none, is not started, and the next run (without a limit) runs it."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.cli import parse_duration
    from benchmarks.runner.execute import plan_jobs

    assert [parse_duration(t) for t in ("5400", "2h30m", "90m", "1h", "45s", "1.5h")] == [
        5400.0, 9000.0, 5400.0, 3600.0, 45.0, 5400.0]
    for bad in ("", "soon", "2d", "m30"):
        with pytest.raises(Exception, match="cannot read"):
            parse_duration(bad)
    _, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection"], ["floor", "persistence"], [0, 1])
    runs = tmp_path / "pdebench" / "smoke" / "runs"
    runs.mkdir(parents=True)
    for job in jobs:  # seed 1's earlier results, under another config (so not done): the floor quick, persistence not
        if job.seed == 1:
            (runs / job.filename).write_text(json.dumps(
                {"task": job.task, "method": job.method, "seed": 1, "status": "ok", "config_hash": "earlier",
                 "wall_time_s": 1.0 if job.method == "floor" else 1e6}))
    args = ["pdebench", "--tasks", "advection", "--methods", "floor", "persistence", "spectral-linear",
            "--seeds", "0", "1", "--results", str(tmp_path)]
    assert main([*args, "--time-limit", "10m"]) == 0
    captured = capsys.readouterr()
    state = {f.name: json.loads(f.read_text()).get("config_hash") for f in runs.glob("*.json")}
    by_name = {j.filename: j for j in plan_jobs(get_suite("pdebench"), "smoke", ["advection"],
                                                ["floor", "persistence", "spectral-linear"], [0, 1])[1]}
    ran = {name for name, h in state.items() if h == by_name[name].config_hash}
    assert ran == {"advection--floor--s0.json", "advection--floor--s1.json"}  # 1 s each: seed 0 from seed 1's
    assert "ran 2 jobs (0 failed), 0 held by another runner, 0 interrupted and left alone, 4 not started within " \
           "the time limit" in captured.out
    assert "4 jobs were not started" in captured.err and "advection--spectral-linear--s0.json" in captured.err
    assert main([*args, "--time-limit", "0"]) == 2 and "positive duration" in capsys.readouterr().err
    assert main(args) == 0  # no limit: the rest run
    assert "ran 4 jobs (0 failed)" in capsys.readouterr().out


def test_a_task_with_no_time_in_its_preset_is_scaled_from_another_preset_by_the_methods_ratio(tmp_path,
                                                                                             capsys) -> None:
    """A job whose preset has its method's times on other tasks only is estimated from its task's time in another
    preset times the method's median ratio (this preset / that one) over the tasks both ran, not by the method's
    mean over other tasks (a 2D task can cost many times a 1D one). A preset whose data settings differ (a smoke
    copy) comes after one that reads the data as the job does, a time-budgeted preset is skipped, and another
    preset's scaling to the job's epoch cap bounds the estimate from above."""
    import copy

    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs

    tasks = ["advection", "burgers", "darcy"]
    _, jobs = plan_jobs(get_suite("pdebench"), "converged", tasks, ["fno"], [0])
    by = {j.task: j for j in jobs}

    def write(preset: str, task: str, wall: float, data: dict | None = None, training: dict | None = None,
              **params) -> None:
        resolved = copy.deepcopy(by[task].resolved)
        resolved["data"].update(data or {})
        resolved["method_params"].update(params)
        runs = tmp_path / "pdebench" / preset / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        (runs / by[task].filename).write_text(json.dumps(
            {"task": task, "method": "fno", "seed": 0, "status": "ok", "wall_time_s": wall,
             "resolved_config": resolved, **({"training": training} if training else {})}))

    write("converged", "advection", 300.0)  # this preset: 3x and 4x the paper preset's times, median 3.5
    write("converged", "burgers", 400.0)
    for task, wall in (("advection", 100.0), ("burgers", 100.0), ("darcy", 1000.0)):
        write("paper", task, wall)
        write("equal-budget", task, 120.0, max_seconds=120.0)  # time-budgeted: no size to go on
        write("b-smoke", task, wall / 100 if task != "burgers" else 2.0, data={"n_samples": 64})  # smaller copy

    def dry(*extra: str) -> str:
        assert main(["pdebench", "--preset", "converged", "--tasks", *tasks, "--methods", "fno", "--seeds", "0",
                     "--results", str(tmp_path), "--dry-run", *extra]) == 0
        return capsys.readouterr().out

    out = dry()
    assert "3500 s (preset paper x the method's 3.50 (2 tasks))" in out  # not 350 s, the method's mean here
    assert ("(1 from the task's time in another preset scaled by the method's median ratio between the presets over "
            "other tasks: of whole times, or of seconds per epoch times its median epochs here)") in out
    # with the paper preset's darcy run gone, the smoke copy is the one left: 10 s x median(300, 200) = 2500 s
    (tmp_path / "pdebench" / "paper" / "runs" / by["darcy"].filename).unlink()
    assert "2500 s (preset b-smoke x the method's 250.00 (2 tasks))" in dry()
    # an epoch-cap scaling of that preset's darcy run below the ratio's figure bounds it: 2 s outside training and
    # 0.5 s an epoch to the job's cap of 500 epochs
    write("b-smoke", "darcy", 10.0, data={"n_samples": 64}, training={"epochs_run": 16, "seconds": 8.0,
                                                                     "epochs_cap": 25}, epochs_1d=25, epochs_2d=25)
    assert "252 s (preset b-smoke, scaled to its cap of 500 epochs)" in dry()
    # no other preset with the task: the method's mean over other tasks, as before
    (tmp_path / "pdebench" / "b-smoke" / "runs" / by["darcy"].filename).unlink()
    assert "350 s (method)" in dry()


def test_where_both_presets_record_training_epochs_are_counted_apart_from_their_cost(tmp_path, capsys) -> None:
    """Presets train tasks for different numbers of epochs (the paper preset's FNO: 200 in 1D, 20 in 2D), so a
    ratio of whole times carries one preset's epoch counts into the other. Where both record their training, the
    estimate is the task's time outside training there plus its seconds per epoch there times the method's median
    per-epoch ratio (here / there) over the tasks both ran times the median epochs the method trained here."""
    import copy

    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs

    tasks = ["advection", "burgers", "darcy"]
    _, jobs = plan_jobs(get_suite("pdebench"), "converged", tasks, ["fno"], [0, 1])
    by = {(j.task, j.seed): j for j in jobs}

    def write(preset: str, task: str, seed: int, seconds: float, epochs: int, outside: float) -> None:
        runs = tmp_path / "pdebench" / preset / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        (runs / by[(task, seed)].filename).write_text(json.dumps(
            {"task": task, "method": "fno", "seed": seed, "status": "ok", "wall_time_s": seconds + outside,
             "resolved_config": copy.deepcopy(by[(task, seed)].resolved),
             "training": {"epochs_run": epochs, "seconds": seconds, "epochs_cap": 200}}))

    # here: 0.5 and 0.6 s an epoch (a faster machine), 300, 200 and 400 epochs run (median 300)
    write("converged", "advection", 0, 150.0, 300, 5.0)
    write("converged", "advection", 1, 100.0, 200, 5.0)
    write("converged", "burgers", 0, 240.0, 400, 5.0)
    # there: 1 s an epoch on both 1D tasks (ratios 0.5 and 0.6, median 0.55); darcy 200 epochs at 10 s, 7 s outside
    write("paper", "advection", 0, 200.0, 200, 3.0)
    write("paper", "burgers", 0, 200.0, 200, 3.0)
    write("paper", "darcy", 0, 2000.0, 200, 7.0)
    assert main(["pdebench", "--preset", "converged", "--tasks", "darcy", "--methods", "fno", "--seeds", "0",
                 "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out  # 7 + 10 x 0.55 x 300 = 1657 s; whole times would give 2007 x 0.92 = 1854 s
    assert "1657 s (preset paper's 10.0 s/epoch x the method's 0.55 (2 tasks) x 300 epochs (its median here))" in out
    assert "(1 from the task's time in another preset scaled by the method's median ratio" in out


def test_the_per_epoch_ratio_between_presets_comes_from_runs_on_the_planned_machine(tmp_path, capsys) -> None:
    """Here, advection ran on the planned machine at 2 s an epoch and Burgers on another at 0.5 s; there, both at
    1 s. The ratio for Darcy is advection's 2.0 (this machine), not the median 1.25 over both; with no run here on
    the planned machine, the median over all of them, marked as measured elsewhere."""
    import copy

    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs
    from benchmarks.runner.explain import OTHER, dry_run

    tasks = ["advection", "burgers", "darcy"]
    _, jobs = plan_jobs(get_suite("pdebench"), "converged", tasks, ["fno"], [0])
    by = {j.task: j for j in jobs}
    planned, other = ("AVX2", 1, "CPU A"), ("AVX512", 1, "CPU B")

    def write(preset: str, task: str, seconds: float, epochs: int, machine: tuple | None) -> None:
        runs = tmp_path / "pdebench" / preset / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        env = {} if machine is None else dict(zip(("cpu_capability", "torch_threads", "cpu_model"), machine))
        (runs / by[task].filename).write_text(json.dumps(
            {"task": task, "method": "fno", "seed": 0, "status": "ok", "wall_time_s": seconds + 5.0,
             "resolved_config": copy.deepcopy(by[task].resolved), "environment": env,
             "training": {"epochs_run": epochs, "seconds": seconds, "epochs_cap": 200}}))

    write("converged", "advection", 400.0, 200, planned)
    write("converged", "burgers", 200.0, 400, other)  # epochs: median of 200 and 400 = 300, from every machine
    for task, seconds in (("advection", 200.0), ("burgers", 200.0), ("darcy", 2000.0)):
        write("paper", task, seconds, 200, None)  # 1, 1 and 10 s an epoch; 5 s outside training

    def estimate_for(here):
        rows, _ = dry_run(tmp_path, [by["darcy"]], here)
        return rows[0]["recorded_s"], rows[0]["basis"]

    label = "preset paper's 10.0 s/epoch x the method's {:.2f} (1 tasks) x 300 epochs (its median here)"
    seconds, basis = estimate_for(planned)
    assert basis == label.format(2.0) and seconds == pytest.approx(5.0 + 10.0 * 2.0 * 300)
    seconds, basis = estimate_for(("AVX2", 1, "CPU C"))  # no run on this machine: both, marked
    assert basis == label.format(1.25).replace("(1 tasks)", "(2 tasks)") + OTHER
    assert seconds == pytest.approx(5.0 + 10.0 * 1.25 * 300)
    assert estimate_for(None)[1] == label.format(1.25).replace("(1 tasks)", "(2 tasks)")  # no plan: as before


def test_the_whole_time_ratio_between_presets_comes_from_runs_on_the_planned_machine(tmp_path) -> None:
    """Without training records the ratio is of whole times, chosen like the per-epoch one: here, advection took
    400 s on the planned machine and Burgers 100 s on another; there, 100 s each and Darcy 1000 s. Darcy is put at
    4000 s (advection's ratio of 4, this machine), not at the median 2.5 over both; with no run here on the
    planned machine, at 2500 s, marked."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner.execute import plan_jobs
    from benchmarks.runner.explain import OTHER, dry_run

    _, jobs = plan_jobs(get_suite("pdebench"), "converged", ["advection", "burgers", "darcy"], ["fno"], [0])
    by = {j.task: j for j in jobs}
    planned, other = ("AVX2", 1, "CPU A"), ("AVX512", 1, "CPU B")

    def write(preset: str, task: str, seconds: float, machine: tuple | None) -> None:
        runs = tmp_path / "pdebench" / preset / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        env = {} if machine is None else dict(zip(("cpu_capability", "torch_threads", "cpu_model"), machine))
        (runs / by[task].filename).write_text(json.dumps(
            {"task": task, "method": "fno", "seed": 0, "status": "ok", "wall_time_s": seconds, "environment": env}))

    write("converged", "advection", 400.0, planned)
    write("converged", "burgers", 100.0, other)
    for task, seconds in (("advection", 100.0), ("burgers", 100.0), ("darcy", 1000.0)):
        write("paper", task, seconds, None)

    def estimate_for(here):
        rows, _ = dry_run(tmp_path, [by["darcy"]], here)
        return rows[0]["recorded_s"], rows[0]["basis"]

    assert estimate_for(planned) == (pytest.approx(4000.0), "preset paper x the method's 4.00 (1 tasks)")
    assert estimate_for(("AVX2", 1, "CPU C")) == (pytest.approx(2500.0),
                                                  "preset paper x the method's 2.50 (2 tasks)" + OTHER)
    assert estimate_for(None) == (pytest.approx(2500.0), "preset paper x the method's 2.50 (2 tasks)")
