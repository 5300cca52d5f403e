"""The suite type: what a benchmark suite gives the runner (how to load a task split, its methods, its config
folder), the data a method receives, and the suites' own registry. Concrete suites live in
``benchmarks/suites/<name>/`` and register themselves; :mod:`benchmarks.catalogue` imports them all."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orca import Task
from orca.exceptions import ConfigError, UnknownNameError


@dataclass
class TaskData:
    """One split of one task, with where the data came from."""

    task: Task
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    data: dict[str, Any] = field(default_factory=dict)
    """``source`` (download, local mirror, generated offline, proxy), ``kind`` (real, generated, proxy),
    ``version`` or ``sha256``."""
    params: dict[str, Any] = field(default_factory=dict)
    """The task's own settings from the config's ``task_params`` (per-task method overrides, for instance)."""
    groups: np.ndarray | None = None
    """Per training row, the unit it was cut from (e.g. the trajectory of a PDE pair); rows of one group are
    never split between training and validation."""
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    """Further arrays a suite's methods use (e.g. PDEBench's roll-out targets)."""


def with_task_overrides(data: "TaskData", method: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` updated with the task's own ``task_params.<task>.<method>`` settings (e.g. PDEBench's FNO modes
    per family); a key the method does not have is refused."""
    own = data.params.get(method, {})
    unknown = sorted(set(own) - set(params))
    if unknown:
        raise ConfigError(f"task_params.<task>.{method}: unknown keys {unknown}; expected some of {sorted(params)}")
    return {**params, **own}


_REPORTED_ENV: set[tuple[str, str]] = set()


def env_unless_set(value: str, default: str, var: str, key: str) -> str:
    """``value`` when it was set (differs from ``default``); else ``$var`` when set, reported once; else the
    default. An explicit ``--set key=...`` therefore wins over the environment, which wins over the default."""
    env = os.environ.get(var)
    if value != default or not env:
        if env and (var, value) not in _REPORTED_ENV:
            _REPORTED_ENV.add((var, value))
            print(f"note: {key}={value!r} is set, so ${var}={env!r} is ignored", file=sys.stderr)
        return value
    if (var, env) not in _REPORTED_ENV:
        _REPORTED_ENV.add((var, env))
        print(f"note: {key} comes from ${var}={env!r} (an explicit --set {key}=... wins over it)", file=sys.stderr)
    return env


def data_root(config: dict, var: str, name: str) -> Path:
    """A suite's data folder: ``data.root`` when set, else ``$var`` (reported), else ``<orca cache>/<name>``."""
    from orca.bodies import cache_root

    root = env_unless_set(config["data"]["root"], "", var, "data.root") or str(cache_root() / name)
    return Path(root).expanduser()


@dataclass(frozen=True)
class JobContext:
    """What the runner gives a method besides data, settings and seed: where to checkpoint, and whether to
    continue from a checkpoint an interrupted run left there (``--resume``)."""

    checkpoint_dir: Path | None = None
    resume: bool = False
    checkpoint_every_s: float = 300.0

    def checkpointing(self) -> dict[str, Any]:
        """The keyword arguments every training loop (ORCA's refine, the baselines') takes for checkpoints."""
        return {"checkpoint_dir": self.checkpoint_dir, "resume": self.resume,
                "checkpoint_every_s": self.checkpoint_every_s}


@dataclass(frozen=True)
class Suite:
    """A benchmark suite: its config folder, how to load a task split, and its methods."""

    name: str
    root: Path
    load_task: Callable[[str, dict, int], TaskData]
    methods: dict[str, Callable[[TaskData, dict, int, JobContext], dict]]
    all_tasks: Callable[[dict], list[str]]
    published: tuple[str, ...] = ()
    """Benchmark names of its rows in ``benchmarks/data/published_results.csv``."""
    hash_neutral: tuple[tuple[str, Any], ...] = ()
    """(dotted key, default) pairs of settings added after results were recorded: at their default (which
    reproduces the earlier behaviour) they are left out of the job hash, so recorded results stay valid."""
    task_groups: dict[str, str] = field(default_factory=dict)
    """Task -> group (e.g. NAS-Bench-360's "2D classification"); the report draws one chart per group."""
    comparable_means: bool = True
    """Whether averages over tasks mean anything (False when tasks are scored on different scales)."""
    floors: tuple[str, ...] = ()
    """Methods that are trivial predictors (the class prior, the mean target, persistence): the report shows
    them, marks every method that does not beat the best of them on a task, and never counts such a result as a
    win."""
    method_applies: Callable[[str, dict], bool] | None = None  # module-level (jobs carry the suite to workers)
    """Whether a method can apply to a task at all, given the task's ``task_params`` (e.g. persistence only where
    input and target are the same quantity, a 2D-only variant only on 2D tasks); ``None``: every method to every
    task. Floors apply wherever this allows; other methods also need the task's ``task_params.methods`` list
    (or :attr:`also_applies`)."""
    also_applies: Callable[[str, dict], bool] | None = None  # module-level, like method_applies
    """Whether a method that a task's ``task_params.methods`` list does not name applies to it anyway, given the
    method and the task's ``task_params``: a method added after results were recorded, so that the lists (part of every job's hash)
    stay as they were; ``None``: the lists decide alone."""
    unavailable: Callable[[dict], str | None] | None = None
    """Given the resolved config, the reason the suite's data cannot be had here (e.g. a local mirror that is not
    present), or ``None``. The runner then skips the whole suite with that one line instead of failing each job,
    so a suite that cannot get its data never fails the others (``./reproduce.sh``)."""
    metric_version: int | Callable[[str, dict], int] = 1
    """The version of the suite's scoring code, or a function of (task, the task's ``task_params``) giving it per
    task; bumped when a number it computes changes. Every result records it; a result of another version is not
    done (``--resume`` re-runs it) and the report leaves it out."""

    def metric_version_of(self, task: str, task_params: dict) -> int:
        """The current metric version of ``task`` (see :attr:`metric_version`)."""
        v = self.metric_version
        return int(v(task, task_params) if callable(v) else v)
    reference_methods: tuple[str, ...] = ()
    """The report compares every method against the first of these that has results (mean difference,
    wins/ties/losses), as the paper does against XGBoost on tables."""
    also_against: tuple[str, ...] = ()
    """Other baselines the report compares every method against as well, each in its own table after the
    reference's (the same columns, on the (task, seed) pairs both ran): a claim against each of the paper's
    baselines (PDEBench: U-Net beside FNO) comes with its own interval and p-value."""
    method_base: dict[str, Callable[[], dict]] = field(default_factory=dict)
    """ORCA methods whose settings start from something other than ``OrcaConfig()``'s defaults: method -> a
    function giving the base config sections (the small-data suites' ``orca-default`` starts from the facade's
    defaults, :mod:`orca.defaults`). The settings are expanded into the resolved config, so a change of that base
    changes the method's job hash and its results are re-run."""


_SUITES: dict[str, Suite] = {}


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` to the suites the runner knows (each suite's package calls this when imported)."""
    if suite.name in _SUITES and _SUITES[suite.name] is not suite:
        raise KeyError(f"suite {suite.name!r} is already registered")
    _SUITES[suite.name] = suite
    return suite


def registered_suites() -> dict[str, Suite]:
    """The suites registered so far (import :mod:`benchmarks.catalogue` to register them all)."""
    return dict(_SUITES)


def lookup_suite(name: str) -> Suite:
    """A registered suite by name; an unknown name fails with the valid ones and a close match."""
    if name in _SUITES:
        return _SUITES[name]
    close = difflib.get_close_matches(name, list(_SUITES), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownNameError(f"unknown suite {name!r}{hint}; expected one of {sorted(_SUITES)}")
