"""Adopting results: a method whose settings have become identical to another method's takes that method's
finished jobs as its own, instead of running them again.

The case it serves: the estimators' defaults take a candidate's setting (``orca-default`` becomes what
``orca-mtl`` ran). A re-run of ``orca-default`` is many CPU hours; run as the candidate (a method with its own,
stable job hash) it lands result by result on the main line while the defaults are unchanged, and when the
defaults change every ``orca-default`` job whose settings now equal the candidate's adopts its result.

Nothing is taken on trust: a job adopts a result only where the two jobs' hashed settings (:attr:`.Job.hashed`:
protocol, data, method and task settings, seed, metric version) are equal in everything but the method's name,
and only a finished, successful result of the source's current hash. The adopted file is the source's record
with the method, hash and resolved settings of the adopting job, and ``adopted_from`` naming the source's method,
hash and file; its scores, timings and environment are the run's own. A job that is already done is left alone;
a superseded file of the adopting method is replaced, as a re-run would replace it. Each file is written under
the adopting job's lock (:mod:`.locks`), so a live runner's job is never overwritten.

Two differences are allowed, one at a time, because the source's search records what they change:
``search.ensemble`` (the mean of the ``k`` best trials of an ORCA search, a rule applied after the trials) and
``search.refit`` (the chosen trial retrained on all the search's rows, recorded where the source asks for
``search.variants = ["refit"]``; :mod:`.orca_search`). A job that asks for one where the source does not takes the
source's recorded variant, ``search.variants["top-k"]`` or ``["refit"]``, as its result; a source result without
that variant counts as missing, and the runner runs the job.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orca.config import flatten
from orca.exceptions import OrcaError
from orca.io import read_json, write_json

from .execute import is_done, lock_path, plan_jobs, result_path
from .jobs import Job
from .locks import JobLock
from .orca_search import REFIT_SELECTION, ensemble_selection
from .suite import Suite


@dataclass
class Adopted:
    """What :func:`adopt` did: files written, jobs already done, jobs whose source has no finished result (the
    runner runs them; among them jobs another source preset does not plan), jobs whose source result holds no
    recorded variant to take (``no_variant``, a subset of ``missing``), and jobs whose lock another live runner
    holds."""

    written: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    no_variant: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


def setting_differences(job: Job, source: Job) -> list[str]:
    """The dotted settings in which ``job`` and ``source`` differ, the method's name aside (empty: identical)."""
    mine, theirs = job.hashed, source.hashed  # fresh copies
    mine.pop("method")
    theirs.pop("method")
    a, b = flatten(mine), flatten(theirs)
    return sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))


ENSEMBLE_KEY = "method_params.search.ensemble"
REFIT_KEY = "method_params.search.refit"
"""The settings in which an adopting job may differ from its source, one at a time (see the module's notes)."""


def variant_of(job: Job, source: Job, differences: list[str]) -> str | None:
    """The search variant ``job`` takes from ``source``'s result when the two differ only in ``search.ensemble``
    (``"top-k"``) or only in ``search.refit`` (``"refit"``), which ``job`` sets and ``source`` leaves unset;
    ``None`` otherwise."""
    if differences not in ([ENSEMBLE_KEY], [REFIT_KEY]):
        return None
    mine = job.resolved["method_params"].get("search", {})
    theirs = source.resolved["method_params"].get("search", {})
    if differences == [REFIT_KEY]:
        return "refit" if mine.get("refit") and not theirs.get("refit") else None
    return f"top-{mine['ensemble']}" if mine.get("ensemble") is not None and theirs.get("ensemble") is None else None


def adopt(suite: Suite, source: str, preset: str, tasks: list[str] | None = None, methods: list[str] | None = None,
          seeds: list[int] | None = None, overrides: dict | None = None, results: str | Path = "results",
          source_preset: str | None = None) -> Adopted:
    """Give each planned job of ``methods`` (other than ``source``) the finished result of ``source``'s job on the
    same task and seed. Every planned job's settings are compared before anything is written: one that differs
    from the source's in more than the method's name is refused with the settings that differ.

    With ``source_preset`` (another preset of the suite), the source's jobs are those of that preset, and
    ``methods`` may name ``source`` itself: a preset that shares jobs with another (the same task, method, seed
    and settings; the preset's name is not a setting) takes their results instead of computing them again."""
    if source not in suite.methods:
        raise OrcaError(f"unknown method {source!r} to adopt from; expected one of {sorted(suite.methods)}")
    across = source_preset is not None and source_preset != preset
    wanted = [m for m in (methods or []) if across or m != source]
    if not wanted:
        raise OrcaError("name the methods that adopt (--methods), other than the method adopted from"
                        + ("" if across else " (or adopt from another preset with --from-preset)"))
    config, planned = plan_jobs(suite, preset, tasks, wanted, seeds, overrides)
    if across:
        _, theirs = plan_jobs(suite, source_preset, sorted({j.task for j in planned}), [source],
                              sorted({j.seed for j in planned}), overrides)
        twins = {(j.task, j.seed): j for j in theirs}
    results = Path(results)
    pairs, unplanned = [], []
    for job in planned:
        twin = twins.get((job.task, job.seed)) if across else dataclasses.replace(job, method=source)
        if twin is None:  # the source preset does not run this task and seed
            unplanned.append(job)
            continue
        differences = setting_differences(job, twin)
        variant = variant_of(job, twin, differences)
        if differences and variant is None:
            shown = ", ".join(differences[:6]) + (" ..." if len(differences) > 6 else "")
            where = f" in preset {source_preset}" if across else ""
            raise OrcaError(f"{job.method} cannot adopt {source}'s results{where}: their settings differ in {shown} "
                            f"({job.filename}); only a method whose settings equal {source}'s (or differ only in "
                            "search.ensemble) may adopt them")
        pairs.append((job, twin, variant))
    outcome = Adopted(missing=[j.filename for j in unplanned])
    for job, twin, variant in pairs:
        target, origin = result_path(results, job), result_path(results, twin)
        if is_done(target, job):
            outcome.done.append(job.filename)
            continue
        if not is_done(origin, twin):
            outcome.missing.append(job.filename)
            continue
        if variant is not None and variant not in (read_json(origin).get("search") or {}).get("variants", {}):
            outcome.missing.append(job.filename)
            outcome.no_variant.append(job.filename)
            continue
        lock = JobLock(lock_path(results, job))
        if not lock.acquire():
            outcome.busy.append(job.filename)
            continue
        try:
            if is_done(target, job):  # finished by a runner since the check above
                outcome.done.append(job.filename)
                continue
            write_json(target, adopted_record(read_json(origin), job, origin, variant))
            outcome.written.append(job.filename)
        finally:
            lock.release()
    return outcome


def adopted_record(record: dict[str, Any], job: Job, origin: Path, variant: str | None = None) -> dict[str, Any]:
    """``record`` (the source's result) as ``job``'s: its method, hash, resolved settings and preset, and where it
    came from (the source's preset too, where it is another). With ``variant`` (``"top-k"``), the scores are the
    source search's recorded ensemble of its ``k`` best trials, and ``search.ensemble`` names its members."""
    out = copy.deepcopy(record)
    out["adopted_from"] = {"method": record["method"], "config_hash": record["config_hash"], "file": origin.name}
    if variant is not None:
        taken = record["search"]["variants"][variant]
        out["metrics"] = copy.deepcopy(taken["metrics"])
        if variant == "refit":
            out["search"]["refit"] = {k: v for k, v in taken.items() if k != "metrics"}
            out["search"]["budget"]["selection"] += REFIT_SELECTION
        else:
            size = int(variant.split("-")[1])
            out["search"]["ensemble"] = {"size": size, "members": taken["members"]}
            out["search"]["budget"]["selection"] += ensemble_selection(size, record["metric"])
        out["adopted_from"]["variant"] = variant
    if record.get("preset") != job.config.get("preset"):
        out["adopted_from"]["preset"] = record.get("preset")
    out.update(method=job.method, config_hash=job.config_hash, resolved_config=job.resolved,
               preset=job.config.get("preset"))
    return out
