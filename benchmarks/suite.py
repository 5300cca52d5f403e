"""Suites, experiment configs as data, and jobs.

A suite (``openml`` now; ``pdebench`` and ``nasbench360`` follow) registers under ``orca.available('suite')``
with a folder holding ``default.json`` and ``presets/<name>.json``. A preset or command-line override may only
set keys that ``default.json`` has (``method_params.orca*`` are validated by :class:`orca.OrcaConfig` instead), so
a misspelt key is rejected before any job runs. A job is one (task, method, seed); its resolved config is
hashed, and the runner skips a job whose result file holds the same hash.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orca import OrcaConfig, Task
from orca.config import flatten, unflatten
from orca.exceptions import ConfigError
from orca.io import read_json
from orca.registry import available, get, register

REFINE_ADDED_DEFAULTS = {"momentum": 0.9, "beta2": 0.999, "decay_epochs": None, "warmup_epochs": None}
"""ORCA refine settings added after results were first recorded. At these values they reproduce the earlier
behaviour, so job hashes leave them out and the recorded results stay valid (result bookkeeping: it lives with
the runner, not in the core)."""

PRESETS = ("smoke", "paper")
"""The presets every suite has; a suite may add its own (``presets/<name>.json``), e.g. openml's ``lift``."""


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


@dataclass(frozen=True)
class JobContext:
    """What the runner gives a method besides data, settings and seed: where to checkpoint, and whether to
    continue from a checkpoint an interrupted run left there (``--resume``)."""

    checkpoint_dir: Path | None = None
    resume: bool = False
    checkpoint_every_s: float = 300.0


@dataclass(frozen=True)
class Suite:
    """A benchmark suite: its config folder, how to load a task split, and its methods."""

    name: str
    root: Path
    load_task: Callable[[str, dict, int], TaskData]
    methods: dict[str, Callable[[TaskData, dict, int, JobContext], dict]]
    all_tasks: Callable[[dict], list[str]]
    published: tuple[str, ...] = ()
    hash_neutral: tuple[tuple[str, Any], ...] = ()
    """(dotted key, default) pairs of settings added after results were recorded: at their default (which
    reproduces the earlier behaviour) they are left out of the job hash, so recorded results stay valid."""
    task_groups: dict[str, str] = field(default_factory=dict)
    """Task -> group (e.g. NAS-Bench-360's "2D classification"); the report draws one chart per group."""
    comparable_means: bool = True
    """Whether averages over tasks mean anything (False when tasks are scored on different scales)."""
    reference_methods: tuple[str, ...] = ()
    """The report compares every method against the first of these that has results (mean difference,
    wins/ties/losses), as the paper does against XGBoost on tables."""
    """Benchmark names of its rows in ``benchmarks/data/published_results.csv``."""


def presets_of(suite: Suite) -> list[str]:
    """The suite's presets: the files in ``presets/``, the common ones first."""
    names = sorted(p.stem for p in (suite.root / "presets").glob("*.json"))
    return [p for p in PRESETS if p in names] + [p for p in names if p not in PRESETS]


def register_suite(suite: Suite) -> Suite:
    return register("suite", suite.name)(suite)


def get_suite(name: str) -> Suite:
    import benchmarks.nasbench360  # noqa: F401  (registers the suites)
    import benchmarks.openml  # noqa: F401
    import benchmarks.pdebench  # noqa: F401

    return get("suite", name)


def available_suites() -> list[str]:
    import benchmarks.nasbench360  # noqa: F401
    import benchmarks.openml  # noqa: F401
    import benchmarks.pdebench  # noqa: F401

    return available("suite")


def _merge(base: dict, override: dict, schema: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        path = f"{where}.{key}" if where else key
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {path!r}{hint}; expected one of {sorted(schema)}")
        if _is_orca(path):  # ORCA sections are validated as a whole OrcaConfig
            out[key] = OrcaConfig.from_dict(out.get(key, {})).with_overrides(flatten(value)).to_dict()
        elif _is_task_orca(path):  # a task's partial ORCA overrides: any OrcaConfig key, checked as one
            merged = {**flatten(out.get(key, {})), **flatten(value)}
            OrcaConfig().with_overrides(merged)
            out[key] = unflatten(merged)
        elif isinstance(schema[key], dict) and isinstance(value, dict):
            out[key] = _merge(out.get(key, {}), value, schema[key], path)
        else:
            out[key] = value
    return out


def _drop_defaults(tree: dict, pairs) -> None:
    """Remove each ``section.leaf`` of ``pairs`` (dotted key, default) from ``tree`` where it is at its default."""
    for key, default in pairs:
        section, leaf = key.split(".")
        if tree.get(section, {}).get(leaf, default) == default:
            tree.get(section, {}).pop(leaf, None)


def _is_orca(path: str) -> bool:
    """``method_params.orca`` and its variants (``method_params.orca-paper``, ...) hold OrcaConfig sections."""
    return path.startswith("method_params.orca")


def _is_task_orca(path: str) -> bool:
    """``task_params.<task>.orca``: per-task ORCA overrides (partial OrcaConfig sections)."""
    parts = path.split(".")
    return len(parts) == 3 and parts[0] == "task_params" and parts[2] == "orca"


def resolve_config(suite: Suite, preset: str = "smoke", overrides: dict | None = None) -> dict[str, Any]:
    """``default.json`` + ``presets/<preset>.json`` + overrides, validated; the orca section fully expanded."""
    if preset not in presets_of(suite):
        raise ConfigError(f"unknown preset {preset!r} for suite {suite.name!r}; expected one of {presets_of(suite)}")
    default = read_json(suite.root / "default.json")
    for method, params in default.get("method_params", {}).items():
        if _is_orca(f"method_params.{method}"):
            default["method_params"][method] = OrcaConfig.from_dict(params).to_dict()
    config = _merge(default, read_json(suite.root / "presets" / f"{preset}.json"), default, "")
    config = _merge(config, overrides or {}, default, "")
    known_tasks = suite.all_tasks(config)
    bad = [t for t in config["tasks"] if t not in known_tasks]
    if bad:
        raise ConfigError(f"unknown tasks {bad} for suite {suite.name!r}; expected some of {known_tasks}")
    bad = [m for m in config["methods"] if m not in suite.methods]
    if bad:
        raise ConfigError(f"unknown methods {bad} for suite {suite.name!r}; expected some of {sorted(suite.methods)}")
    config["preset"] = preset
    return config


@dataclass(frozen=True)
class Job:
    suite: str
    task: str
    method: str
    seed: int
    config: dict[str, Any]

    @property
    def resolved(self) -> dict[str, Any]:
        """What determines this job's result: suite, task, method, seed, protocol, data and method settings."""
        cfg = self.config
        resolved = {"suite": self.suite, "task": self.task, "method": self.method, "seed": self.seed,
                    "protocol": cfg.get("protocol", {}), "data": cfg.get("data", {}),
                    "method_params": cfg.get("method_params", {}).get(self.method, {})}
        if "task_params" in cfg:  # suites with per-task settings (pdebench); absent keys keep older hashes
            resolved["task_params"] = cfg["task_params"].get(self.task, {})
        return resolved

    @property
    def hashed(self) -> dict[str, Any]:
        """:attr:`resolved` without the suite's hash-neutral settings that are at their defaults."""
        out = copy.deepcopy(self.resolved)
        if _is_orca(f"method_params.{self.method}"):  # OrcaConfig settings added after results were recorded
            _drop_defaults(out["method_params"], [(f"refine.{k}", v) for k, v in REFINE_ADDED_DEFAULTS.items()])
        _drop_defaults(out, get_suite(self.suite).hash_neutral)
        return out

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.hashed, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.task}--{self.method}--s{self.seed}.json"


def expand_jobs(suite: Suite, config: dict[str, Any]) -> list[Job]:
    """All (task x method x seed) jobs of a resolved config, in a stable order."""
    def applies(task: str, method: str) -> bool:  # a task may name the methods that apply to it
        only = config.get("task_params", {}).get(task, {}).get("methods")
        return only is None or method in only

    return [Job(suite.name, str(t), m, int(s), config) for t in config["tasks"] for m in config["methods"]
            for s in config["seeds"] if applies(str(t), m)]
