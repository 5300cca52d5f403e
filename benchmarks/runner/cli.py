"""The runner's command line. One runner for every suite: expand (task x method x seed) jobs, skip finished ones, write one result JSON per
job atomically. A failed job is recorded with its error and does not stop the others; the exit status is 1 when
any job failed (or an interrupted job was left alone), with a summary naming them.

Each job runs under its own lock (:mod:`benchmarks.runner.locks`), so runners sharing a results folder never run one
job twice, and never delete or overwrite what another live runner is writing; an interrupted job's checkpoint is
kept until ``--resume`` continues it or ``--restart`` discards it.

    python -m benchmarks.run SUITE [--preset smoke|paper] [--tasks ...] [--methods ...] [--seeds ...]
                              [--set key.sub=value ...] [--force] [--results results] [--jobs N]

``--jobs N`` runs N jobs at a time, each in its own process with its CPU threads capped at
``max(1, cores // N)``; the result files are the same as a serial run's (written by the parent, atomically).

``--time-limit DURATION`` (``2h30m``, ``90m``, seconds) starts a job only when its ``--dry-run`` estimate fits in
the time left when its turn comes, for an allocation of fixed length: the jobs left out (and those with no estimate)
are not started, the next run continues with them, and running jobs are not stopped.

``--adopt METHOD --methods M ...`` runs nothing: each job of the methods ``M`` takes ``METHOD``'s finished
result on the same task and seed where the two jobs' settings are identical but for the method's name
(:mod:`benchmarks.runner.adopt`), recorded in the file's ``adopted_from``. With ``--from-preset P`` the results
come from preset ``P``'s jobs, and ``M`` may name ``METHOD`` itself: a preset takes the jobs it shares with
another (equal settings; a preset's name is not one) instead of computing them again.

``--ray ADDRESS`` runs every job as a Ray task asking for ``--job-cpus`` CPUs and ``--job-gpus`` GPUs
(``ADDRESS`` is a cluster's address, ``auto`` for the cluster this machine belongs to, or ``local`` to start a
private instance on this machine). Workers send their records back and this process writes the result files, so
they are the same as a serial run's. Workers need the data where the suite looks for it and, for ``--resume``
across nodes, a results folder every node sees (checkpoints are written by the node that runs the job).
"""

from __future__ import annotations

import argparse
import re
import sys

from orca.config import parse_override, unflatten
from orca.exceptions import OrcaError

from . import explain
from .adopt import Adopted, adopt
from .config import PRESETS
from .execute import plan_jobs, run
from .suite import lookup_suite, registered_suites


def parse_duration(text: str) -> float:
    """``--time-limit``'s value in seconds: a number of seconds (``5400``) or hours, minutes and seconds with their
    units (``2h30m``, ``90m``, ``1h``, ``45s``)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?", text)
    if not text or match is None:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a duration: expected seconds (5400) or hours, "
                                         "minutes and seconds with their units (2h30m, 90m, 45s)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _parse_sets(items: list[str]) -> dict:
    """``--set a.b=1`` items -> a nested override tree."""
    return unflatten(dict(parse_override(item) for item in items))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a benchmark suite.")
    parser.add_argument("suite", nargs="?", help="the suite (with --list: optional)")
    parser.add_argument("--preset", default="smoke", help=f"{', '.join(PRESETS)} or a suite's own preset")
    parser.add_argument("--tasks", nargs="+")
    parser.add_argument("--methods", nargs="+")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--results", default="results")
    parser.add_argument("--force", action="store_true", help="re-run jobs that already have a result")
    parser.add_argument("--jobs", type=int, default=1, help="jobs run at a time, one process each")
    parser.add_argument("--resume", action="store_true",
                        help="continue interrupted jobs from their last checkpoint (finished jobs are always skipped)")
    parser.add_argument("--restart", action="store_true",
                        help="discard interrupted jobs' checkpoints and start them afresh (without --resume or "
                             "--restart an interrupted job is left alone and its checkpoint kept)")
    parser.add_argument("--checkpoint-every", type=float, default=300.0, metavar="SECONDS",
                        help="write a training job's checkpoint at most this often (0: every epoch; default 300)")
    parser.add_argument("--time-limit", type=parse_duration, metavar="DURATION",
                        help="start a job only when its estimate (as --dry-run gives it) fits in the time left of "
                             "this limit (2h30m, 90m, 5400): for a fixed allocation; the jobs left out are not "
                             "started and the next run continues with them; running jobs are not stopped")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="run jobs as Ray tasks: a cluster address, 'auto', or 'local' (a private instance)")
    parser.add_argument("--job-cpus", type=int, default=1, help="CPUs each Ray task asks for (default 1)")
    parser.add_argument("--job-gpus", type=float, default=0.0, help="GPUs each Ray task asks for (default 0)")
    parser.add_argument("--allow-dirty", action="store_true", help="run a preset other than smoke from a working "
                        "tree with uncommitted changes (recorded in each result and shown in the report)")
    parser.add_argument("--list", action="store_true", help="list the suites (or one suite's presets, tasks and "
                        "methods) and exit")
    parser.add_argument("--dry-run", action="store_true", help="show the jobs this command would run, their state "
                        "and the time left estimated from recorded durations; run nothing")
    parser.add_argument("--adopt", metavar="METHOD", help="run nothing: give each job of --methods the finished "
                        "result of METHOD's job on the same task and seed, where their settings are identical but "
                        "for the method's name (after the estimators' defaults took a candidate's setting)")
    parser.add_argument("--from-preset", metavar="PRESET", help="with --adopt: take the results of METHOD's jobs "
                        "in PRESET (--methods may then name METHOD itself), where their settings equal this "
                        "preset's jobs'")
    parser.add_argument("--print-config", action="store_true", help="print the resolved settings of the "
                        "command's first job (narrow it with --tasks/--methods/--seeds) and exit")
    args = parser.parse_args(argv)
    try:
        if args.list:
            if args.suite is not None and args.suite not in registered_suites():
                raise OrcaError(f"unknown suite {args.suite!r}; available: {sorted(registered_suites())}")
            print(explain.describe(registered_suites(), args.suite))
            return 0
        if args.suite is None:
            raise OrcaError(f"name a suite; available: {sorted(registered_suites())} (or --list)")
        if args.suite not in registered_suites():
            raise OrcaError(f"unknown suite {args.suite!r}; available: {sorted(registered_suites())}")
        if args.dry_run or args.print_config:
            _, jobs = plan_jobs(lookup_suite(args.suite), args.preset, args.tasks, args.methods, args.seeds,
                                _parse_sets(args.set))
            if args.print_config:
                if not jobs:
                    raise OrcaError("the command has no jobs (check --tasks/--methods/--seeds)")
                print(explain.config_text(jobs[0]))
                if len(jobs) > 1:
                    print(f"(the first of {len(jobs)} jobs; narrow with --tasks/--methods/--seeds)", file=sys.stderr)
                return 0
            from .execute import planned_machine

            here = planned_machine(args.jobs, args.ray, args.job_cpus)
            rows, summary = explain.dry_run(args.results, jobs, here, resume=not args.restart)
            print(explain.format_rows(rows))
            print(summary)
            return 0
        if args.from_preset is not None and args.adopt is None:
            raise OrcaError("--from-preset names where --adopt takes results from; give --adopt METHOD with it")
        if args.adopt is not None:
            done = adopt(lookup_suite(args.suite), args.adopt, args.preset, args.tasks, args.methods, args.seeds,
                         _parse_sets(args.set), args.results, args.from_preset)
            source = args.adopt + (f" in preset {args.from_preset}" if args.from_preset else "")
            print(f"{args.suite} ({args.preset}): adopted {len(done.written)} results of {source}; "
                  f"{len(done.done)} already done, {len(done.missing) - len(done.no_variant)} without a finished "
                  f"{args.adopt} result{_no_variant(done)} (the runner runs them), {len(done.busy)} held by a live "
                  "runner")
            return 0
        outcome = run(lookup_suite(args.suite), args.preset, args.tasks, args.methods, args.seeds, _parse_sets(args.set),
                      args.results, args.force, args.jobs, args.resume, args.checkpoint_every, args.ray,
                      args.job_cpus, args.job_gpus, args.restart, args.allow_dirty, args.time_limit)
    except OrcaError as exc:
        print(f"benchmarks.run: error: {exc}", file=sys.stderr)
        return 2
    return 1 if outcome.failed or outcome.interrupted else 0


def _no_variant(done: Adopted) -> str:
    """The part of ``--adopt``'s summary that counts finished source results without the recorded variant."""
    return (f", {len(done.no_variant)} with a finished result recorded before its search kept the variant"
            if done.no_variant else "")


if __name__ == "__main__":
    raise SystemExit(main())
