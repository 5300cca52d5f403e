"""Executing jobs: claim each under its lock, run it (in this process, in worker processes or as Ray tasks),
write its result file atomically, and say what failed, what another runner holds and what was interrupted.

Result files go to ``results/<suite>/<preset>/runs/<task>--<method>--s<seed>.json``; a job whose file holds
the same config hash and ``status: ok`` is done and skipped. A failed job is recorded with its error and does
not stop the others. Each job runs under its own lock (:mod:`.locks`), so runners sharing a results folder never
run one job twice, and never delete or overwrite what another live runner is writing; an interrupted job's
checkpoint is kept until ``resume`` continues it or ``restart`` discards it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from orca import OrcaConfig
from orca.config import flatten
from orca.exceptions import OrcaError
from orca.io import read_json, write_json
from orca.provenance import environment, git_commit, peak_memory_mb
from orca.validate import check_runnable

from .config import config_sections, resolve_config
from .jobs import Job, expand_jobs
from .locks import JobLock, remove_temporaries
from .orca_search import SEARCH_STATE
from .suite import JobContext, Suite


def result_path(results: Path, job: Job) -> Path:
    """``results/<suite>/<preset>/runs/<task>--<method>--s<seed>.json``: presets never overwrite each other."""
    return results / job.suite / job.config["preset"] / "runs" / job.filename


def is_done(path: Path, job: Job) -> bool:
    """True when ``path`` holds a successful result of exactly this job, scored by the suite's current metric
    version; a corrupt file is reported and redone."""
    if not path.is_file():
        return False
    try:
        previous = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        print(f"warning: {path} cannot be read ({type(exc).__name__}: {exc}); the job runs again", file=sys.stderr)
        return False
    return (previous.get("config_hash") == job.config_hash and previous.get("status") == "ok"
            and previous.get("metric_version", 1) == job.metric_version)


def checkpoint_path(results: Path, job: Job) -> Path:
    """Where a job's training checkpoints live while it runs (removed once its result is written)."""
    return results / job.suite / job.config["preset"] / "checkpoints" / job.filename.removesuffix(".json")


CHECKPOINT_FILES = ("last.pt", SEARCH_STATE)
"""The files whose presence in a job's checkpoint folder marks it interrupted: a training loop's last state
(ORCA's refine, the baselines'), or a search's finished trials (:mod:`benchmarks.runner.orca_search`)."""


def has_checkpoint(folder: Path) -> bool:
    """Whether an interrupted job left a checkpoint to continue from in ``folder``."""
    return any((folder / name).is_file() for name in CHECKPOINT_FILES)


def run_job(suite: Suite, job: Job, cache: dict, ctx: JobContext = JobContext(), code: dict | None = None
            ) -> dict[str, Any]:
    """Run one job of ``suite``; ``code`` is the git state the runner started from (the code in memory), recorded
    instead of the working tree's state when the job ends, which may have moved on."""
    record: dict[str, Any] = {"suite": job.suite, "task": job.task, "method": job.method, "seed": job.seed,
                              "config_hash": job.config_hash, "resolved_config": job.resolved,
                              "preset": job.config.get("preset"), "metric": job.config.get("metric"),
                              "metric_version": job.metric_version}
    start = time.perf_counter()
    try:
        key = (job.task, job.seed)
        if key not in cache:
            cache.clear()  # one task split in memory at a time
            cache[key] = suite.load_task(job.task, job.config, job.seed)
        data = cache[key]
        record["data"] = data.data
        record.update(suite.methods[job.method](data, job.resolved["method_params"], job.seed, ctx))
        record["status"] = "ok"
        record["error"] = None
    except Exception as exc:  # noqa: BLE001 - recorded in the result file; the other jobs go on
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()
    # a resumed job's clock starts with this process: add what earlier processes trained up to the checkpoint
    # it resumed from (what they did after it was lost and is done again here, so it is not counted twice)
    resumed = float((record.get("training") or {}).get("resumed_s") or 0.0)
    record["wall_time_s"] = time.perf_counter() - start + resumed
    record["peak_memory_mb"] = peak_memory_mb()
    record["environment"] = {**environment(), **({"git": code} if code is not None else {})}
    return record


def job_threads(jobs: int) -> int:
    """The CPU threads each job gets when ``jobs`` run at a time: the cores shared out among the worker processes,
    or PyTorch's own setting when jobs run one at a time in the runner's process."""
    import os

    if jobs <= 1:
        import torch

        return torch.get_num_threads()
    return max(1, (os.cpu_count() or 1) // jobs)


def planned_machine(jobs: int, ray: str | None = None, job_cpus: int = 1) -> tuple[str, int, str | None]:
    """The machine jobs are planned on, as the duration estimates compare it (:mod:`.explain`): this CPU's PyTorch
    capability, the threads each job gets (``job_cpus`` under Ray, else :func:`job_threads`) and this CPU's model
    (``None`` under Ray, whose workers may be other machines: then any model matches)."""
    from orca.precision import cpu_capability
    from orca.provenance import cpu_model

    if ray is not None:
        return cpu_capability(), job_cpus, None
    return cpu_capability(), job_threads(jobs), cpu_model()


def visible_gpus() -> tuple[str, ...]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` names them (indices or UUIDs), or their indices
    where it is not set; empty without CUDA."""
    import os

    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return tuple(g.strip() for g in listed.split(",") if g.strip())
    import torch

    return tuple(str(i) for i in range(torch.cuda.device_count())) if torch.cuda.is_available() else ()


def _worker_init(threads: int, gpus: tuple[str, ...] = (), counter: Any = None) -> None:
    """Cap a job process's CPU threads before it does any numerical work and, where there are several ``gpus``,
    give the process one of them in turn (the ``counter``-th worker gets ``gpus[counter % len(gpus)]`` as its
    only visible GPU, before CUDA starts), so that ``--jobs N`` spreads its jobs over a machine's GPUs instead of
    putting all N on the first."""
    import os

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if len(gpus) > 1 and counter is not None:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    import torch

    torch.set_num_threads(threads)


def _run_in_worker(suite: Suite, job: Job, ctx: JobContext, code: dict) -> dict[str, Any]:
    return run_job(suite, job, {}, ctx, code)


def longest_first(todo: list[Job], paths: list[Path]) -> list[Job]:
    """Jobs ordered for a parallel run: those whose earlier result (any config) took longest first, jobs with no
    earlier result before all of them (unknown may be long), so the run does not end waiting on one long job."""

    def seconds(path: Path) -> float:
        try:
            return float(read_json(path).get("wall_time_s", float("inf")))
        except (OSError, ValueError, TypeError, AttributeError):
            return float("inf")

    cost = [seconds(p) for p in paths]
    order = sorted(range(len(todo)), key=lambda i: -cost[i])  # stable: ties keep the planned order
    return [todo[i] for i in order]


def _run_on_ray(suite: Suite, job: Job, ctx: JobContext, code: dict, threads: int) -> dict[str, Any]:
    _worker_init(threads)
    return run_job(suite, job, {}, ctx, code)


def lock_path(results: Path, job: Job) -> Path:
    """The job's lock file (see :mod:`benchmarks.runner.locks`)."""
    return results / job.suite / job.config["preset"] / "locks" / f"{job.filename.removesuffix('.json')}.lock"


class RunResults(list):
    """The result files of every planned job (a list of paths), plus what this run could not do: ``failed`` jobs,
    jobs ``busy`` in another live runner (skipped), and ``interrupted`` jobs whose checkpoint was kept (neither
    ``--resume`` nor ``--restart`` was given)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__(paths)
        self.ran: list[str] = []
        self.failed: list[str] = []
        self.busy: list[str] = []
        self.interrupted: list[str] = []
        self.deferred: list[str] = []
        """Jobs not started because their estimate did not fit the time left under a time limit (or there was none
        to go on)."""
        self.skipped: str | None = None
        """Why the whole suite was skipped (its data cannot be had here), or ``None``."""


def _claims(todo: list[Job], results: Path, force: bool, resume: bool, restart: bool,
            checkpoint_every_s: float, outcome: RunResults, fits: Callable[[Job], bool] | None = None):
    """Yield ``(job, context, lock)`` for each job this runner takes, lazily (a parallel run takes the next job
    only when a worker is free, so runners sharing a folder share the work). A job is taken only with its lock;
    under the lock it is checked again (another runner may have finished it), its stale temporaries are removed,
    and its checkpoint is resumed (``resume``), discarded (``restart``) or kept and the job left alone. ``fits``
    (under a time limit) is asked when the job's turn comes: a job it refuses is not started (``deferred``)."""
    for job in todo:
        if fits is not None and not fits(job):
            outcome.deferred.append(job.filename)
            continue
        lock = JobLock(lock_path(results, job))
        if not lock.acquire():
            outcome.busy.append(job.filename)
            continue
        path = result_path(results, job)
        if not force and is_done(path, job):  # finished by another runner since this one planned
            lock.release()
            continue
        ckpt = checkpoint_path(results, job)
        remove_temporaries(path.parent, job.filename)  # ours now: its writer is gone
        kept = has_checkpoint(ckpt)
        if kept and not (resume or restart):
            lock.release()
            outcome.interrupted.append(job.filename)
            continue
        if restart or not kept:
            shutil.rmtree(ckpt, ignore_errors=True)
        yield job, JobContext(ckpt, resume and kept, checkpoint_every_s), lock


def _execute_ray(suite: Suite, claims, address: str, cpus: int, gpus: float, code: dict):
    """Yield (job, record, lock) as Ray tasks finish; a Ray instance this call started is shut down at the end.
    The locks stay in this process (the driver), which also writes the results."""
    try:
        import ray
    except ImportError as exc:
        raise OrcaError("--ray needs Ray, which is an extra: pip install -e '.[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        root = Path(__file__).resolve().parents[2]
        if address == "local":  # a private instance on loopback, sized to this machine
            ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1",
                     logging_level="WARNING", log_to_driver=False)
        else:  # ship the code (not results, data or environments) to the cluster's workers
            ray.init(address=address, logging_level="WARNING", runtime_env={
                "working_dir": str(root), "excludes": ["results/", ".venv/", ".git/", "*.pt", "*.h5", "*.npz"]})
    try:
        remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=0)(_run_on_ray)
        pending = {remote.remote(suite, job, ctx, code, cpus): (job, lock) for job, ctx, lock in claims}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            job, lock = pending.pop(done[0])
            yield job, ray.get(done[0]), lock
    finally:
        if started:
            ray.shutdown()


def _execute(suite: Suite, claims, jobs: int, cache: dict, code: dict, ray: str | None = None, job_cpus: int = 1,
             job_gpus: float = 0.0):
    """Yield (job, record, lock) as jobs finish: in this process, in ``jobs`` worker processes (each taking the
    next claim when it is free), or as Ray tasks. ``code`` is the git state recorded in every result."""
    if ray is not None:
        yield from _execute_ray(suite, claims, ray, job_cpus, job_gpus, code)
        return
    if jobs <= 1:
        for job, ctx, lock in claims:
            yield job, run_job(suite, job, cache, ctx, code), lock
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    threads, gpus, spawn = job_threads(jobs), visible_gpus(), mp.get_context("spawn")
    if len(gpus) > 1:
        tqdm.write(f"{jobs} jobs at a time on {len(gpus)} GPUs: each worker process sees one of them, in turn")
    with ProcessPoolExecutor(jobs, mp_context=spawn, initializer=_worker_init,
                             initargs=(threads, gpus, spawn.Value("i", 0))) as pool:
        running: dict = {}
        for claim in claims:
            job, ctx, lock = claim
            running[pool.submit(_run_in_worker, suite, job, ctx, code)] = (job, lock)
            while len(running) >= jobs:
                yield from finished(running)
        while running:
            yield from finished(running)


def finished(running: dict) -> Iterator[tuple[Job, dict[str, Any], Any]]:
    """Wait until at least one of ``running``'s futures (future -> (job, lock)) is done; remove the done ones and
    yield (job, record, lock) for each. Results are handed on in the order jobs finish, so a short job's result is
    written as soon as it exists, never held back behind a longer job submitted before it (which an interrupted
    run would lose)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(running, return_when=FIRST_COMPLETED)
    for future in done:
        job, lock = running.pop(future)
        yield job, future.result(), lock


def plan_jobs(suite: Suite, preset: str = "smoke", tasks: list[str] | None = None,
              methods: list[str] | None = None, seeds: list[int] | None = None, overrides: dict | None = None
              ) -> tuple[dict[str, Any], list[Job]]:
    """The resolved config of ``preset`` with the command line's selections and overrides, and its jobs."""
    extra = dict(overrides or {})
    for key, value in (("tasks", tasks), ("methods", methods), ("seeds", seeds)):
        if value:
            extra[key] = value
    config = resolve_config(suite, preset, extra)
    return config, expand_jobs(suite, config)


def run(suite: Suite, preset: str = "smoke", tasks: list[str] | None = None, methods: list[str] | None = None,
        seeds: list[int] | None = None, overrides: dict | None = None, results: str | Path = "results",
        force: bool = False, jobs: int = 1, resume: bool = False, checkpoint_every_s: float = 300.0,
        ray: str | None = None, job_cpus: int = 1, job_gpus: float = 0.0, restart: bool = False,
        allow_dirty: bool = False, time_limit_s: float | None = None) -> RunResults:
    """Run (or skip) every job of the suite's resolved config; return the result files (with what failed, what
    another runner holds and what was interrupted; see :class:`RunResults`).

    ``jobs`` > 1 runs jobs in local worker processes; ``ray`` (an address, ``auto`` or ``local``) runs them as
    Ray tasks of ``job_cpus`` CPUs and ``job_gpus`` GPUs each instead. Each job runs under its lock: runners
    sharing a results folder skip each other's jobs. A job an earlier runner left with a checkpoint continues
    from it with ``resume``, starts afresh with ``restart``, and is otherwise left alone (its checkpoint kept).
    Presets other than ``smoke`` run only from committed code unless ``allow_dirty`` (then recorded in each result
    and shown in the report).

    ``time_limit_s`` (seconds from now, e.g. a cluster allocation's time less a margin): a job is started only when
    its estimate (:func:`benchmarks.runner.explain.dry_run`, from recorded durations; an interrupted job's from its
    checkpoint) fits in the time left when its turn comes; the others are not started (``deferred``) and the
    next run continues with them. A job with no estimate is not started. Jobs already running are not stopped.
    """
    suite_name = suite.name
    config, planned = plan_jobs(suite, preset, tasks, methods, seeds, overrides)
    results = Path(results)
    if jobs < 1:
        raise OrcaError(f"--jobs must be at least 1, got {jobs}")
    if ray is not None and jobs > 1:
        raise OrcaError("--jobs and --ray are alternatives: Ray schedules its tasks itself; give one of them")
    if job_cpus < 1 or job_gpus < 0:
        raise OrcaError(f"--job-cpus must be at least 1 and --job-gpus at least 0; got {job_cpus} and {job_gpus}")
    if resume and restart:
        raise OrcaError("--resume and --restart are alternatives: continue interrupted jobs, or start them afresh")
    if time_limit_s is not None and not time_limit_s > 0:
        raise OrcaError(f"--time-limit must be a positive duration, got {time_limit_s} s")
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    marker = results / suite_name / preset / "SKIPPED"
    reason = suite.unavailable(config) if suite.unavailable is not None else None
    if reason is not None:
        print(f"{suite_name} ({preset}): skipped: {reason}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(reason + "\n", encoding="utf-8")
        outcome = RunResults([])
        outcome.skipped = reason
        return outcome
    marker.unlink(missing_ok=True)
    todo = [j for j in planned if force or not is_done(result_path(results, j), j)]
    check_orca_sections(config, todo, on_ray=ray is not None)  # device and bodies, before any job loads data
    code = git_commit()  # the code in memory for every job of this run (asked once)
    if todo and preset != "smoke" and code.get("dirty") and not allow_dirty:
        raise OrcaError(f"the working tree has uncommitted changes; results of the {preset!r} preset must come from "
                        "committed code: commit first, or pass --allow-dirty (recorded in every result and shown in "
                        "the report)")
    where = f", on Ray at {ray}" if ray is not None else f", {jobs} at a time" if jobs > 1 else ""
    print(f"{suite_name} ({preset}): {len(planned)} jobs, {len(planned) - len(todo)} already done, "
          f"{len(todo)} to run" + (where if todo else ""))
    slow = [] if ray is not None else emulated_bf16(config, todo)
    if slow:
        from orca.precision import cpu_capability

        print(f"note: {', '.join(slow)} train under bfloat16 autocast, which this CPU (PyTorch capability "
              f"{cpu_capability()}) has no native instructions for: expect them to run several times slower than "
              "fp32 (the results stay valid; the fp32 method is 'orca')")
    if (jobs > 1 or ray is not None) and len(todo) > 1:
        todo = longest_first(todo, [result_path(results, j) for j in todo])
    outcome = RunResults([result_path(results, j) for j in planned])
    fits = None if deadline is None else _fits_before(deadline, results, todo, jobs, ray, job_cpus, not restart)
    claims = _claims(todo, results, force, resume, restart, checkpoint_every_s, outcome, fits)
    cache: dict = {}
    bar = tqdm(total=len(todo), desc=f"{suite_name} jobs", disable=not todo)
    for job, record, lock in _execute(suite, claims, jobs, cache, code, ray, job_cpus, job_gpus):
        if allow_dirty:
            record["allow_dirty"] = True
        try:
            write_json(result_path(results, job), record)
            if record["status"] == "ok":
                shutil.rmtree(checkpoint_path(results, job), ignore_errors=True)
        finally:
            lock.release()
        outcome.ran.append(job.filename)
        if record["status"] != "ok":
            outcome.failed.append(job.filename)
            print(f"job {job.filename} failed: {record['error']}", file=sys.stderr)
        bar.update(1)
    bar.close()
    print(f"{suite_name} ({preset}): ran {len(outcome.ran)} jobs ({len(outcome.failed)} failed), "
          f"{len(outcome.busy)} held by another runner, {len(outcome.interrupted)} interrupted and left alone"
          + (f", {len(outcome.deferred)} not started within the time limit" if deadline is not None else ""))
    _summarise(outcome)
    return outcome


def _fits_before(deadline: float, results: Path, todo: list[Job], jobs: int, ray: str | None, job_cpus: int,
                 resume: bool = True) -> Callable[[Job], bool]:
    """Whether a job's estimate fits in the time left before ``deadline`` (``time.monotonic()``), asked when its
    turn comes. Estimates are the dry run's (:func:`benchmarks.runner.explain.dry_run`) for the machine the jobs run
    on (this CPU, the threads each job gets; an interrupted job's from its checkpoint unless it restarts, ``resume``
    false); a job without one does not fit."""
    from .explain import dry_run

    rows, _ = dry_run(results, todo, planned_machine(jobs, ray, job_cpus), resume)
    seconds = {r["job"]: r["recorded_s"] for r in rows}

    def fits(job: Job) -> bool:
        estimate = seconds.get(job.filename)
        return estimate is not None and estimate <= deadline - time.monotonic()

    return fits


def _summarise(outcome: RunResults) -> None:
    """One block on stderr: what failed, what another runner holds, what was interrupted and how to go on."""
    if outcome.failed:
        print(f"{len(outcome.failed)} of {len(outcome.ran)} jobs failed (their result files hold the errors): "
              f"{', '.join(outcome.failed)}", file=sys.stderr)
    if outcome.busy:
        print(f"{len(outcome.busy)} jobs are running in another live runner and were skipped: "
              f"{', '.join(outcome.busy)}", file=sys.stderr)
    if outcome.interrupted:
        print(f"{len(outcome.interrupted)} jobs were interrupted earlier and have a checkpoint, which is kept: "
              f"{', '.join(outcome.interrupted)}; run again with --resume to continue them or --restart to start "
              "them afresh", file=sys.stderr)
    if outcome.deferred:
        print(f"{len(outcome.deferred)} jobs were not started: their estimate (or the lack of one) did not fit the "
              f"time left under --time-limit: {', '.join(outcome.deferred)}; run again to continue with them",
              file=sys.stderr)


def check_orca_sections(config: dict, todo: list[Job], on_ray: bool = False) -> None:
    """The ORCA config of every job to run (its method's section with its task's own overrides) must run here:
    device and body checked before any job loads data. Under Ray the jobs run elsewhere, so only the config's
    own validity counts."""
    if on_ray:
        return
    for _, _, cfg in _orca_configs(config, todo):
        check_runnable(cfg)


def _orca_configs(config: dict, todo: list[Job]) -> list[tuple[str, str, OrcaConfig]]:
    """``(method, task, OrcaConfig)`` of each ORCA (method, task) pair among ``todo``, with the task's overrides."""
    out = []
    for method, task in sorted({(j.method, j.task) for j in todo if j.method.startswith("orca")}):
        base = OrcaConfig.from_dict(config_sections(config["method_params"][method]))
        own = config.get("task_params", {}).get(task, {}).get("orca", {})
        out.append((method, task, base.with_overrides(flatten(own)) if own else base))
    return out


def emulated_bf16(config: dict, todo: list[Job]) -> list[str]:
    """The ORCA methods among ``todo`` that would run bf16 autocast on this machine's CPU without native bf16
    products (:mod:`orca.precision`): valid, but several times slower than their fp32 counterpart."""
    from orca.distributed import local_device
    from orca.precision import bf16_native

    if bf16_native("cpu") is not False:
        return []
    return sorted({m for m, _, cfg in _orca_configs(config, todo)
                   if cfg.refine.mixed_precision == "bf16" and local_device(cfg.device).type == "cpu"})
