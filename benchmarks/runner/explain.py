"""What a runner command would do, without doing it: the suites and what they hold (``--list``), the jobs of a
command with their state and an estimate of the time left (``--dry-run``), one job's resolved settings
(``--print-config``)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orca.config import flatten
from orca.io import read_json

from .config import presets_of, resolve_config
from .execute import checkpoint_path, has_checkpoint, is_done, lock_path, result_path
from .jobs import Job
from .locks import JobLock
from .orca_search import SEARCH_STATE
from .suite import Suite


def describe(suites: dict[str, Suite], name: str | None = None) -> str:
    """Every suite with its presets; for one suite also its tasks (from the default config) and methods."""
    if name is None:
        width = max((len(s) for s in suites), default=0)
        return "\n".join(f"{s.name:{width}s}  presets: {', '.join(presets_of(s))}" for s in suites.values())
    suite = suites[name]
    config = resolve_config(suite, "smoke") if "smoke" in presets_of(suite) else None
    lines = [f"suite {suite.name}", f"  presets: {', '.join(presets_of(suite))}",
             f"  methods: {', '.join(sorted(suite.methods))}"]
    if config is not None:
        try:
            tasks = suite.all_tasks(config)
        except Exception as exc:  # noqa: BLE001 - e.g. a data mirror that is not here: say so, list the rest
            tasks = [f"(cannot list: {exc})"]
        lines.append(f"  tasks: {', '.join(map(str, tasks))}")
    return "\n".join(lines)


def job_state(results: Path, job: Job) -> str:
    """``done``, ``running`` (another live runner holds its lock), ``interrupted`` (a checkpoint is kept),
    ``failed`` (its last result is an error) or ``pending``."""
    path = result_path(results, job)
    if is_done(path, job):
        return "done"
    if lock_path(results, job).is_file():  # no lock file: nobody holds it (and a dry run creates nothing)
        lock = JobLock(lock_path(results, job))
        if not lock.acquire():
            return "running"
        lock.release()
    if has_checkpoint(checkpoint_path(results, job)):
        return "interrupted"
    try:
        if path.is_file() and read_json(path).get("status") == "failed":
            return "failed"
    except (OSError, ValueError):
        pass
    return "pending"


Machine = tuple[str | None, int | None] | tuple[str | None, int | None, str | None]
"""Where a duration was measured: PyTorch's CPU capability, the job's CPU threads and, where known, the CPU's model
(two models of one capability can differ 1.5-fold per epoch; results before 2026-12-06 do not record it)."""

OTHER = " · other CPU or threads"
"""The label's mark on an estimate measured on another CPU kind or with another thread count than planned."""

UNCORRECTED = "uncorrected"
"""Label part of a candidate's estimate taken from its base's time with no measured cost ratio."""

METHOD_MEAN = "method"
"""The label of an estimate taken from the method's mean over other tasks (the farthest recorded level)."""

ACROSS = "x the method's"
"""Label part of an estimate from the job's task and method in another preset times the method's median ratio of
this preset's time to that one's over the tasks both ran (:func:`across_presets`)."""

AT_CAP = "scaled to its cap of"
"""Label part of an estimate from another preset's run, scaled from that run's seconds per epoch to the epoch cap
this job plans: an upper bound where patience may stop the job sooner."""


Durations = dict[tuple[str, str, int], tuple[float, Machine | None]]
"""``(task, method, seed) -> (wall_time_s, machine)``: the recorded durations of a preset's runs."""

Runs = dict[tuple[str, str, int], dict[str, Any]]
"""``(task, method, seed) -> {"wall_time_s", "training", "resolved", "machine"}``: a preset's runs that record their
training."""


def recorded_durations(folder: Path) -> Durations:
    """``(task, method, seed) -> (wall_time_s, machine)`` of every result file in a preset's ``runs/`` folder;
    any part of ``machine`` is ``None`` where the result does not record it (older results lack the capability and
    the CPU's model)."""
    return recorded(folder)[0]


def recorded(folder: Path) -> tuple[Durations, Runs]:
    """Every result file of a preset's ``runs/`` folder, read once: its durations (:func:`recorded_durations`) and
    the runs among them that record the settings they ran under, with how their training went (``training`` with
    epochs and seconds; ``None`` for a run that trains nothing or does not record it): what :func:`scaled_to_cap`
    needs to carry a duration over to a job of another preset with another epoch cap, and :func:`across_presets`
    to tell whether another preset's runs read the same data."""
    durations, runs = {}, {}
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            rec = read_json(path)
            env = rec.get("environment") or {}
            threads = env.get("torch_threads")
            machine = (env.get("cpu_capability"), None if threads is None else int(threads), env.get("cpu_model"))
            key = (str(rec["task"]), rec["method"], int(rec["seed"]))
            durations[key] = (float(rec["wall_time_s"]), machine)
            training = rec.get("training")
            if isinstance(training, dict) and training.get("epochs_run") and training.get("seconds"):
                runs[key] = {"wall_time_s": float(rec["wall_time_s"]), "training": training,
                             "resolved": rec.get("resolved_config") or {}, "machine": machine}
            elif isinstance(rec.get("resolved_config"), dict):  # its settings still tell its data's size
                runs[key] = {"wall_time_s": float(rec["wall_time_s"]), "training": None,
                             "resolved": rec["resolved_config"], "machine": machine}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return durations, runs


def method_settings(resolved: dict[str, Any]) -> dict[str, Any]:
    """A job's method settings as its method sees them, as dotted keys: the method's section, then the task's own
    overrides for it (``task_params.<task>.<method>``; ``task_params.<task>.orca`` for an ORCA method)."""
    params = resolved.get("method_params") or {}
    task = resolved.get("task_params") or {}
    own = task.get("orca") if "refine" in params else task.get(str(resolved.get("method")))
    return {**flatten(params), **flatten(own if isinstance(own, dict) else {})}


def scaled_to_cap(job: Job, run: dict[str, Any]) -> tuple[float, int, int] | None:
    """A recorded run of the job's task and method under another preset's settings, carried over to the epoch
    cap the job plans: the run's time outside training (set-up, alignment, scoring) plus its seconds per epoch times
    that cap; with the cap and the number of the job's other method settings that differ from the run's (the
    estimate's distance). ``None`` where the cap cannot be told: it is the value the job gives the setting(s)
    that gave the run its own cap (those of the run's settings equal to its recorded ``epochs_cap``), and several
    such settings must agree in the job (a run whose cap was raised by a rule, e.g. ``refine.min_steps``, matches
    none). Other settings (sequence length, batch size) may differ, so the estimate is rough; and patience may
    stop the job before its cap, so it is an upper bound."""
    training = run["training"]
    if not training:
        return None
    then = method_settings(run["resolved"])
    keys = [k for k, v in then.items() if type(v) is int and v == training.get("epochs_cap")]
    now = method_settings(job.resolved)
    planned = {now.get(k) for k in keys}
    if len(planned) != 1 or type(cap := next(iter(planned))) is not int or cap < 1:
        return None
    per_epoch = float(training["seconds"]) / float(training["epochs_run"])
    outside = max(run["wall_time_s"] - float(training["seconds"]), 0.0)
    differing = sum(then.get(k) != now.get(k) for k in set(then) | set(now) if k not in keys)
    return outside + per_epoch * cap, cap, differing


def checkpoint_progress(folder: Path) -> tuple[float, float] | None:
    """How far an interrupted job's training got: (fraction of its planned steps or epochs done, seconds trained),
    from the ``last.pt`` in ``folder`` (read memory-mapped, without executing code) or a search's ``search.json``
    (finished trials of those planned), or ``None`` when the checkpoint does not say (written before the plan was
    recorded, unreadable, or nothing trained yet)."""
    import torch

    try:
        if (folder / SEARCH_STATE).is_file():  # a search, checkpointed trial by trial
            search = read_json(folder / SEARCH_STATE)
            fraction = len(search["trials"]) / float(search["planned"])
            seconds = float(sum(t["seconds"] for t in search["trials"]))
            return (min(fraction, 1.0), seconds) if fraction > 0 and seconds > 0 else None
        saved = torch.load(folder / "last.pt", map_location="cpu", weights_only=True, mmap=True)
        state = saved.get("state", saved)  # ORCA's refine keeps its progress under "state", the baselines at the top
        if "total_steps" in state:
            done, planned = state["step"], state["total_steps"]
        else:
            done, planned = state["epoch"], state["epochs_cap"]
        fraction, seconds = float(done) / float(planned), float(state["elapsed"])
    except Exception:  # noqa: BLE001 - any unreadable or older checkpoint: no progress to go on
        return None
    return (min(fraction, 1.0), seconds) if fraction > 0 and seconds > 0 else None


def time_budget(job: Job) -> float | None:
    """The training-time budget of a job's method in seconds (``max_seconds`` of a baseline, ``refine.max_seconds``
    of an ORCA method; the task's own setting first, :func:`method_settings`), or ``None`` when its training is not
    time-bound."""
    settings = method_settings(job.resolved)
    for key in ("max_seconds", "refine.max_seconds"):
        if settings.get(key) is not None:
            return float(settings[key])
    return None


def estimate(job: Job, durations: Durations, elsewhere: dict[str, Durations] | None = None,
             here: Machine | None = None, elsewhere_runs: dict[str, Runs] | None = None, runs: Runs | None = None
             ) -> tuple[float | None, str]:
    """Seconds a job should take, from the nearest recorded duration: its own earlier result (any config), the
    mean over the same task and method's other seeds, or the method's mean over other tasks. A one-change
    candidate (a ``contrasts`` entry of the config) with no time of its own on this task takes the method it is
    compared with's time on it, scaled by the candidate's measured cost ratio: the median of candidate / base over
    the (task, seed) pairs both recorded (label ``base x r (n pairs): ...``; a larger body can cost several times
    its base); with no such pair, the base's time as recorded (label ``base, uncorrected: ...``), and the dry run's
    summary counts those. With no recorded duration, a
    time-budgeted job is estimated by its budget (label ``budget``), a lower bound: set-up, alignment and scoring
    come on top; any other job by the same task and method in another preset of the suite (``elsewhere``: preset ->
    its durations; label ``preset P``), whose settings may differ. Where that preset's runs record their training
    (``elsewhere_runs``: preset -> its :class:`Runs`, from :func:`recorded`) and the job's epoch cap can be told, their time is scaled
    to the job's cap (:func:`scaled_to_cap`; label ``preset P, scaled to its cap of N epochs``; of several such
    presets, the one whose other settings differ least from the job's), and such a preset comes before one whose
    time can only be taken as it is: a run cut by a 2-minute budget, or trained for 5
    epochs, says little about one that trains to a cap of 60.

    ``here`` is the machine the jobs are planned on (CPU capability, threads per job, CPU model): at each level,
    durations measured there come first, and one measured elsewhere is marked :data:`OTHER` in its label (a core
    more or fewer, or another vector unit, can change a job's time several-fold; another model of one capability
    1.5-fold; no factor is guessed). A part that either side does not record matches any."""
    seconds, label = _recorded(job.task, job.method, job.seed, durations, here)
    base = next((c["against"] for c in job.config.get("contrasts") or []
                 if c.get("method") == job.method and "preset" not in c), None)  # a base in this preset's durations
    if base is not None and (seconds is None or label.removesuffix(OTHER) == METHOD_MEAN):
        base_seconds, base_label = _recorded(job.task, base, job.seed, durations, here)
        ratio = cost_ratio(job.method, base, durations)
        if base_seconds is not None and ratio is not None:  # the base's time on this task, at the measured ratio
            seconds, label = base_seconds * ratio[0], f"{base} x {ratio[0]:.2f} ({ratio[1]} pairs): {base_label}"
        elif seconds is None and base_seconds is not None:
            seconds, label = base_seconds, f"{base}, {UNCORRECTED}: {base_label}"
    if (seconds is None or label.removesuffix(OTHER) == METHOD_MEAN) and time_budget(job) is None:
        across = across_presets(job, durations, elsewhere or {}, elsewhere_runs or {}, runs or {}, here)
        if across is not None:  # the task's own size, from another preset, before the method's other tasks
            return across
    if seconds is not None:
        return seconds, label
    if (budget := time_budget(job)) is not None:
        return budget, "budget"
    nearest = None  # another preset's runs scaled to this job's cap: the preset with the fewest other differences
    for preset, runs in (elsewhere_runs or {}).items():
        key = (job.task, job.method, job.seed)  # its own seed's run, else the same task and method's other seeds
        same = [runs[key]] if key in runs else [r for k, r in sorted(runs.items()) if k[:2] == key[:2]]
        scaled = [x for x in (scaled_to_cap(job, r) for r in same) if x is not None]
        if scaled and len({cap for _, cap, _ in scaled}) == 1:
            distance = max(d for _, _, d in scaled)
            if nearest is None or distance < nearest[0]:
                nearest = (distance, sum(x for x, _, _ in scaled) / len(scaled),
                           f"preset {preset}, {AT_CAP} {scaled[0][1]} epochs")
    if nearest is not None:
        return nearest[1], nearest[2]
    for preset, other in (elsewhere or {}).items():  # the same task and method only, not the method's other tasks
        seconds, label = _recorded(job.task, job.method, job.seed, other, here)
        if seconds is not None and label.removesuffix(OTHER) in ("own", "seeds"):
            return seconds, f"preset {preset}" + (OTHER if label.endswith(OTHER) else "")
    return None, "none"


def across_presets(job: Job, durations: Durations, elsewhere: dict[str, Durations], elsewhere_runs: dict[str, Runs],
                   runs: Runs | None = None, here: Machine | None = None) -> tuple[float, str] | None:
    """The job's task and method in another preset (mean over its seeds there), times the method's median ratio of
    its time in this preset to its time in that one over the other tasks both ran: the task's size comes from the
    other preset, the preset's epochs, patience and machine from the method's runs here. Tasks can differ
    several-fold in size (a 2D field against a 1D one), which the method's mean over other tasks does not see.

    Of several presets, the one whose runs of the task and method read the data as the job does (the fewest
    differing ``data`` and ``protocol`` settings, where the files live aside; a small smoke-test copy of a task
    tells little about its full size), then the one sharing the most tasks with this one, then the smaller spread
    of the ratios. A preset whose runs of the method are time-budgeted is skipped: their times say nothing about a
    task's size.

    Where both presets' runs record their training (``runs``: this preset's :class:`Runs`), epochs are counted
    apart from their cost, since presets train tasks for different numbers of epochs (the paper preset: 200 for
    FNO in 1D, fewer in 2D): the task's time outside training there, plus its seconds per epoch there times the
    method's median ratio of seconds per epoch (here / there) over the tasks both ran, times the median of the
    epochs the method's runs here trained (label ``preset P's S s/epoch x the method's r (n tasks) x N epochs
    (its median here)``); the per-epoch ratio is taken over the runs here measured on the planned machine
    (``here``) where any pairs with a task there, since a CPU model can change it 1.5-fold, else over all the runs
    here, marked :data:`OTHER`. Otherwise the ratio of whole times, chosen the same way: over this preset's
    durations on the planned machine where any pairs with a task there, else over all, marked. Where that
    preset's runs also carry over to the job's epoch cap (:func:`scaled_to_cap`, an upper bound), the smaller of
    the two is taken, labelled as it came. ``None`` without such a preset."""
    def means(d: Durations) -> dict[str, float]:  # task -> the method's mean time over its seeds
        return {task: m[0] for task, m in _task_means(d, job.method, lambda value: (value[0],)).items()}

    best = None
    for preset, other in sorted(elsewhere.items()):
        of_method = [r for (_, method, _), r in (elsewhere_runs.get(preset) or {}).items() if method == job.method]
        if any(method_settings(r["resolved"]).get(k) is not None for r in of_method
               for k in ("max_seconds", "refine.max_seconds")):
            continue
        there = means(other)
        ratios, mark = _planned_first(durations, here, lambda value: value[1], lambda pool: [
            ours[t] / there[t] for ours in [means(pool)] for t in sorted(ours)
            if t != job.task and there.get(t, 0.0) > 0])
        if job.task not in there or not ratios:
            continue
        spread = max(ratios) / min(ratios) if min(ratios) > 0 else float("inf")
        ratio = float(statistics.median(ratios))
        same_task = [r["resolved"] for (task, method, _), r in (elsewhere_runs.get(preset) or {}).items()
                     if (task, method) == (job.task, job.method)]
        differing = min((_data_differences(job.resolved, r) for r in same_task), default=len(_data(job.resolved)))
        rank = (differing, -len(ratios), spread)
        if best is None or rank < best[0]:
            label = f"preset {preset} {ACROSS} {ratio:.2f} ({len(ratios)} tasks){mark}"
            best = (rank, there[job.task] * ratio, label, preset)
    if best is None:
        return None
    _, seconds, label, preset = best
    by_epoch = _per_epoch_estimate(job, runs or {}, elsewhere_runs.get(preset) or {}, here)
    if by_epoch is not None:
        seconds, label = by_epoch[0], f"preset {preset}'s {by_epoch[1]}"
    key = (job.task, job.method)
    same = [r for k, r in sorted((elsewhere_runs.get(preset) or {}).items()) if k[:2] == key]
    capped = [x for x in (scaled_to_cap(job, r) for r in same) if x is not None]
    if capped and len({cap for _, cap, _ in capped}) == 1:
        bound = sum(x for x, _, _ in capped) / len(capped)
        if bound < seconds:
            return bound, f"preset {preset}, {AT_CAP} {capped[0][1]} epochs"
    return seconds, label


def _per_epoch_estimate(job: Job, runs: Runs, there: Runs, here: Machine | None = None
                        ) -> tuple[float, str] | None:
    """:func:`across_presets`' estimate by epochs: ``(seconds, label part)``, or ``None`` where this preset's or
    that one's runs of the method do not record their training on the job's task (there) and on a task both ran.
    The per-epoch ratio comes from this preset's runs on the planned machine ``here`` where they pair with a task
    there, else from all its runs (the label then ends in :data:`OTHER`)."""
    def split(run: dict[str, Any]) -> tuple[float, ...] | None:  # (s/epoch, s outside training)
        t = run["training"]
        if not t:
            return None
        return float(t["seconds"]) / float(t["epochs_run"]), max(run["wall_time_s"] - float(t["seconds"]), 0.0)

    theirs = _task_means(there, job.method, split)
    ratios, mark = _planned_first(runs, here, lambda run: run.get("machine"), lambda pool: [
        mine[t][0] / theirs[t][0] for mine in [_task_means(pool, job.method, split)] for t in sorted(mine)
        if t != job.task and theirs.get(t, (0.0,))[0] > 0])
    epochs = [int(run["training"]["epochs_run"]) for (_, method, _), run in runs.items()
              if method == job.method and run["training"]]  # epochs do not depend on the machine: all runs
    if job.task not in theirs or not ratios or not epochs:
        return None
    ratio, typical = float(statistics.median(ratios)), float(statistics.median(epochs))
    per, outside = theirs[job.task]
    return (outside + per * ratio * typical,
            f"{per:.1f} s/epoch {ACROSS} {ratio:.2f} ({len(ratios)} tasks) x {typical:.0f} epochs (its median "
            f"here){mark}")


def _task_means(records: dict[tuple[str, str, int], Any], method: str,
                value: Callable[[Any], tuple[float, ...] | None]) -> dict[str, tuple[float, ...]]:
    """``task -> the mean over its seeds of value(record)``, element by element, for one method's records
    (:data:`Durations` or :data:`Runs`); records whose ``value`` is ``None`` are left out."""
    by_task: dict[str, list[tuple[float, ...]]] = {}
    for (task, of, _), record in records.items():
        if of == method and (v := value(record)) is not None:
            by_task.setdefault(task, []).append(v)
    return {task: tuple(statistics.mean(column) for column in zip(*v)) for task, v in by_task.items()}


def _data(resolved: dict[str, Any]) -> dict[str, Any]:
    """A job's ``data`` and ``protocol`` settings as dotted keys, less where the files live (``path``, ``url``)."""
    flat = flatten({k: resolved.get(k) or {} for k in ("data", "protocol")})
    return {k: v for k, v in flat.items() if k.rsplit(".", 1)[-1] not in ("path", "url")}


def _data_differences(a: dict[str, Any], b: dict[str, Any]) -> int:
    """How many of the ``data`` and ``protocol`` settings (:func:`_data`) two resolved configs set differently."""
    x, y = _data(a), _data(b)
    return sum(x.get(k) != y.get(k) for k in set(x) | set(y))


def cost_ratio(method: str, base: str, durations: Durations) -> tuple[float, int] | None:
    """The median of ``method``'s recorded seconds over ``base``'s on the (task, seed) pairs both recorded, and the
    number of pairs; ``None`` without a pair."""
    ratios = [seconds / durations[(task, base, seed)][0] for (task, m, seed), (seconds, _) in durations.items()
              if m == method and durations.get((task, base, seed), (0.0, None))[0] > 0]
    return (float(statistics.median(ratios)), len(ratios)) if ratios else None


def _same_machine(m: Machine | None, here: Machine | None) -> bool:
    """Whether a duration measured on ``m`` counts as measured on the planned machine ``here``: what is not recorded
    on either side cannot tell against the plan, so is not held against it."""
    return here is None or m is None or all(a is None or b is None or a == b for a, b in zip(m, here))


def _planned_first(records: dict[tuple[str, str, int], Any], here: Machine | None,
                   machine_of: Callable[[Any], Machine | None],
                   ratios_of: Callable[[dict[tuple[str, str, int], Any]], list[float]]) -> tuple[list[float], str]:
    """``ratios_of`` over the records measured on the planned machine ``here`` where that gives any, else over all
    the records, with the label's mark: ``""``, or :data:`OTHER` where the planned machine's gave none (and a
    machine was planned). ``machine_of``: a record's :data:`Machine`."""
    on_here = {k: r for k, r in records.items() if _same_machine(machine_of(r), here)}
    if ratios := ratios_of(on_here):
        return ratios, ""
    return ratios_of(records), ("" if here is None else OTHER)


def _recorded(task: str, method: str, seed: int, durations: Durations, here: Machine | None = None
              ) -> tuple[float | None, str]:
    """The nearest recorded duration: the task before the machine (tasks differ in cost more than machines do),
    the machine before the method's other tasks."""
    levels = {"own": lambda k: k == (task, method, seed), "seeds": lambda k: k[0] == task and k[1] == method,
              METHOD_MEAN: lambda k: k[1] == method}

    for label, on_here in (("own", True), ("seeds", True), ("own", False), ("seeds", False), (METHOD_MEAN, True),
                           (METHOD_MEAN, False)):
        values = [v for k, (v, m) in durations.items() if levels[label](k) and _same_machine(m, here) == on_here]
        if values:
            return sum(values) / len(values), label + ("" if on_here else OTHER)
    return None, "none"


def dry_run(results: str | Path, jobs: list[Job], here: Machine | None = None, resume: bool = True
            ) -> tuple[list[dict[str, Any]], str]:
    """One row per job (state, estimated seconds and where the estimate comes from) and a summary line with the
    time the jobs to run would take (jobs with no recorded duration to go on are counted as unknown). An
    interrupted job whose checkpoint records its progress is estimated by the rest of its training at the rate
    its checkpoint was trained at (on this machine, with that run's threads), not by other runs' durations.
    ``here``: the machine the jobs are planned on (see :func:`estimate`); ``resume`` false: interrupted jobs are
    estimated as if they started afresh (``--restart``)."""
    results = Path(results)
    rows, known_by_folder, runs_of, siblings_of, sibling_runs_of = [], {}, {}, {}, {}
    for j in jobs:
        folder = result_path(results, j).parent
        if folder not in known_by_folder:
            known_by_folder[folder], runs_of[folder] = recorded(folder)
            siblings = sorted(p for p in folder.parent.parent.glob("*/runs") if p != folder)  # the suite's presets
            read = {p.parent.name: recorded(p) for p in siblings}
            siblings_of[folder] = {name: durations for name, (durations, _) in read.items()}
            sibling_runs_of[folder] = {name: runs for name, (_, runs) in read.items()}
        state = job_state(results, j)
        seconds, basis = estimate(j, known_by_folder[folder], siblings_of[folder], here, sibling_runs_of[folder],
                                  runs_of[folder])
        if (state == "interrupted" and resume
                and (progress := checkpoint_progress(checkpoint_path(results, j))) is not None):
            # the rest of its training at the rate it ran on (its checkpoint's own clock), within its budget
            fraction, trained = progress
            seconds = trained * (1.0 - fraction) / fraction
            if (budget := time_budget(j)) is not None:
                seconds = min(seconds, max(budget - trained, 0.0))
            basis = f"checkpoint: {fraction:.0%} trained in {trained:.0f} s"
        rows.append({"job": j.filename, "state": state, "recorded_s": seconds, "basis": basis})
    todo = [r for r in rows if r["state"] in ("pending", "failed", "interrupted")]
    resumed = [r["recorded_s"] for r in todo if r["basis"].startswith("checkpoint")]
    known = [r["recorded_s"] for r in todo if r["recorded_s"] is not None and r["basis"] != "budget"
             and not r["basis"].startswith("checkpoint")]
    budgets = [r["recorded_s"] for r in todo if r["basis"] == "budget"]
    states = {s: sum(r["state"] == s for r in rows) for s in ("done", "running", "interrupted", "failed", "pending")}
    uncorrected = sum(f", {UNCORRECTED}:" in r["basis"] for r in todo)
    others = sum(r["basis"].split(": ")[-1].removesuffix(OTHER) == METHOD_MEAN for r in todo)
    at_cap = sum(AT_CAP in r["basis"] for r in todo)
    summary = (f"{len(rows)} jobs: " + ", ".join(f"{n} {s}" for s, n in states.items() if n) +
               f"; to run: {len(todo)}, estimated {(sum(known) + sum(budgets) + sum(resumed)) / 3600:.2f} h from "
               f"{len(known)} recorded durations"
               + (f" ({elsewhere} measured on another CPU kind or with other threads per job)"
                  if (elsewhere := sum(r["basis"].endswith(OTHER) for r in todo if r["recorded_s"] is not None))
                  else "")
               + (f" and {len(budgets)} time budgets (lower bounds: set-up, alignment and scoring come on top)"
                  if budgets else "")
               + (f" and {len(resumed)} checkpoints (the rest of their training at the rate it ran; set-up and "
                  "alignment, done again, and scoring come on top)" if resumed else "")
               + (f" ({uncorrected} from a candidate's base with no measured cost ratio: a larger model can cost "
                  "several times more)" if uncorrected else "")
               + (f" ({others} from the method's mean over other tasks, which can differ several-fold in size)"
                  if others else "")
               + (f" ({across} from the task's time in another preset scaled by the method's median ratio between "
                  "the presets over other tasks: of whole times, or of seconds per epoch times its median epochs "
                  "here)" if (across := sum(ACROSS in r["basis"] for r in todo)) else "")
               + (f" ({at_cap} from another preset's seconds per epoch times this job's epoch cap: upper bounds where "
                  "patience stops them sooner, rough where other settings differ)" if at_cap else "")
               + (f" ({unknown} without one)" if (unknown := len(todo) - len(known) - len(budgets) - len(resumed))
                  else ""))
    return rows, summary


def format_rows(rows: list[dict[str, Any]]) -> str:
    width = max([len(r["job"]) for r in rows] + [3])
    out = [f"{'job':{width}s}  {'state':11s}  estimate (from)"]
    for r in rows:
        secs = "–" if r["recorded_s"] is None else f"{r['recorded_s']:.0f} s ({r['basis']})"
        out.append(f"{r['job']:{width}s}  {r['state']:11s}  {secs}")
    return "\n".join(out)


def config_text(job: Job) -> str:
    """A job's resolved settings (what its hash covers), as JSON."""
    return json.dumps({"job": job.filename, "config_hash": job.config_hash, "resolved": job.resolved}, indent=2)
