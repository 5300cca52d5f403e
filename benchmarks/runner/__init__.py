"""The runner: suites as a type (:mod:`.suite`), experiment configs as data (:mod:`.config`), jobs and their
hashes (:mod:`.jobs`), one lock per job (:mod:`.locks`), execution (:mod:`.execute`) and the command line
(:mod:`.cli`). It knows no concrete suite: :mod:`benchmarks.catalogue` registers them."""

from __future__ import annotations

from .config import PRESETS, presets_of, resolve_config
from .execute import RunResults, checkpoint_path, is_done, lock_path, result_path, run, run_job
from .jobs import Job, expand_jobs
from .locks import JobLock
from .suite import JobContext, Suite, TaskData, lookup_suite, register_suite, registered_suites

__all__ = ["PRESETS", "Job", "JobContext", "JobLock", "RunResults", "Suite", "TaskData", "checkpoint_path",
           "expand_jobs", "is_done", "lock_path", "lookup_suite", "presets_of", "register_suite",
           "registered_suites", "resolve_config", "result_path", "run", "run_job"]
