"""Runners sharing a results folder: one lock per job, nothing deleted under a live runner, an interrupted job's
checkpoint kept unless --restart, and a non-zero exit status when a job failed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("h5py")

from benchmarks.catalogue import get_suite
from benchmarks.run import main, run  # noqa: E402
from benchmarks.runner import (  # noqa: E402  # noqa: E402
    JobLock,  # noqa: E402
    checkpoint_path,
    expand_jobs,
    lock_path,
    resolve_config,
)

ROOT = Path(__file__).parent.parent
OVERRIDES = {"data": {"n_samples": 30, "nx_1d": 32}, "protocol": {"resolution_1d": 32},
             "method_params": {"fno": {"epochs_1d": 1}}}
SETS = ["data.n_samples=30", "data.nx_1d=32", "protocol.resolution_1d=32", "method_params.fno.epochs_1d=1"]


def _job(seed: int = 0):
    config = resolve_config(get_suite("pdebench"), "smoke", {**OVERRIDES, "tasks": ["advection"], "methods": ["fno"],
                                                              "seeds": [seed]})
    return expand_jobs(get_suite("pdebench"), config)[0]


def test_a_job_held_by_a_live_runner_is_skipped_and_nothing_of_it_is_deleted(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ORCA_PDEBENCH_ROOT", str(tmp_path / "pde"))
    job = _job()
    ckpt = checkpoint_path(tmp_path, job)
    ckpt.mkdir(parents=True)
    (ckpt / "last.pt").write_bytes(b"hours of work")
    runs = tmp_path / "pdebench" / "smoke" / "runs"
    runs.mkdir(parents=True)
    partial = runs / f".{job.filename}.abc.tmp"
    partial.write_text("{half")  # a write the other runner is in the middle of
    other = JobLock(lock_path(tmp_path, job))
    assert other.acquire()  # another live runner holds the job
    try:
        outcome = run("pdebench", "smoke", tasks=["advection"], methods=["fno"], overrides=OVERRIDES,
                      results=tmp_path, restart=True)
        assert outcome.busy == [job.filename] and outcome.ran == []
        assert (ckpt / "last.pt").read_bytes() == b"hours of work" and partial.exists()
        assert not (runs / job.filename).exists()
    finally:
        other.release()
    # the holder is gone: its temporaries are stale now; its checkpoint is kept without --resume/--restart
    assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "--results", str(tmp_path),
                 *[a for s in SETS for a in ("--set", s)]]) == 1
    assert (ckpt / "last.pt").read_bytes() == b"hours of work" and not partial.exists()
    assert main(["pdebench", "--tasks", "advection", "--methods", "fno", "--results", str(tmp_path), "--restart",
                 *[a for s in SETS for a in ("--set", s)]]) == 0
    assert json.loads((runs / job.filename).read_text())["status"] == "ok" and not ckpt.exists()


def test_exit_status_is_non_zero_when_a_job_fails(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ORCA_PDEBENCH_ROOT", str(tmp_path / "pde"))
    sets = [*SETS, "method_params.fno.lr=-1.0"]  # every FNO job fails inside the optimiser
    code = main(["pdebench", "--tasks", "advection", "--methods", "fno", "--results", str(tmp_path),
                 *[a for s in sets for a in ("--set", s)]])
    assert code == 1
    err = capsys.readouterr().err
    assert "1 of 1 jobs failed" in err and "advection--fno--s0.json" in err


def test_two_runners_on_one_preset_run_every_job_exactly_once(tmp_path) -> None:
    env = {**os.environ, "ORCA_PDEBENCH_ROOT": str(tmp_path / "pde"), "OMP_NUM_THREADS": "1"}
    sets = [a for s in [*SETS, "method_params.orca.align.steps=2", "method_params.orca.refine.epochs=3"]
            for a in ("--set", s)]
    args = ["pdebench", "--tasks", "advection", "--methods", "fno", "orca", "--seeds", "0", "1", "2",
            "--results", str(tmp_path / "results"), "--checkpoint-every", "0", *sets]
    # the data are generated once first, so that both runners reach their job loops together
    subprocess.run([sys.executable, "-m", "benchmarks.run", "pdebench", "--tasks", "advection", "--methods", "fno",
                    "--results", str(tmp_path / "warm"), *sets], cwd=ROOT, env=env, check=True, capture_output=True)
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.run", *args], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    ran = [int(re.search(r"ran (\d+) jobs", out).group(1)) for out, _ in outs]
    assert sum(ran) == 6, outs  # 6 jobs, each run by exactly one of the two runners
    runs = tmp_path / "results" / "pdebench" / "smoke" / "runs"
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    assert len(records) == 6 and {r["status"] for r in records} == {"ok"}
    assert not list((tmp_path / "results" / "pdebench" / "smoke").glob("checkpoints/*"))


def test_a_parallel_run_hands_on_each_result_as_its_job_finishes(monkeypatch) -> None:
    """Three jobs at a time, submitted slow, fast, medium: each result comes out (to be written) as its job
    finishes, so after the fast one the medium one comes out while the slow one, submitted first, still runs; the
    run no longer waits on jobs in the order they were submitted, which lost finished results when a run was
    stopped. Worker processes are stood in for by threads; each job waits until the one before it has come out."""
    import concurrent.futures
    import threading

    from benchmarks.runner import execute

    out = {"fast": threading.Event(), "medium": threading.Event()}

    class Threads(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, workers, mp_context=None, initializer=None, initargs=()):
            super().__init__(workers)

    def fake_job(suite, job, ctx, code):
        waits_for = {"medium": "fast", "slow": "medium"}.get(job)
        if waits_for is not None:
            out[waits_for].wait(5)  # the old code blocked on the slow job here for 5 s before handing on medium
        return {"job": job}

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Threads)
    monkeypatch.setattr(execute, "_run_in_worker", fake_job)
    claims = [(name, None, f"lock-{name}") for name in ("slow", "fast", "medium")]
    order = []
    for job, record, lock in execute._execute(None, claims, 3, {}, {}):
        order.append((job, record["job"], lock))
        if job in out:
            out[job].set()
    assert order == [("fast", "fast", "lock-fast"), ("medium", "medium", "lock-medium"), ("slow", "slow", "lock-slow")]


def test_parallel_workers_take_the_machines_gpus_in_turn(monkeypatch) -> None:
    """With several visible GPUs each worker process gets one of them as its only visible GPU, in turn (here
    GPUs 3 and 5: the first, second and third workers see 3, 5 and 3); with one GPU, or none, a worker's
    visibility is left alone. The GPU list comes from CUDA_VISIBLE_DEVICES where it is set."""
    import multiprocessing as mp

    import torch

    from benchmarks.runner import execute

    threads = torch.get_num_threads()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", " 3, 5 ")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, os.environ.get(var, ""))
    try:
        gpus = execute.visible_gpus()
        assert gpus == ("3", "5")
        counter = mp.get_context("spawn").Value("i", 0)
        seen = []
        for _ in range(3):
            execute._worker_init(1, gpus, counter)
            seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
        assert seen == ["3", "5", "3"] and counter.value == 3
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
        execute._worker_init(1, ("7",), counter)
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "7" and counter.value == 3  # one GPU: nothing to share out
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
        assert execute.visible_gpus() == ()
    finally:
        torch.set_num_threads(threads)
