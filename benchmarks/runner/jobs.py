"""Jobs: one (task, method, seed) of a resolved config, its hash (what a result file must match to count as
done), and the expansion of a config into its jobs."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from orca.added import drop_added, drop_at_defaults

from .config import is_orca
from .suite import Suite

FACADE_ADDED_DEFAULTS = {"standardize_input": True, "standardize_target": True, "metric": None}
"""The estimator parameters of an ORCA method's ``facade`` section (:data:`.config.FACADE_KEYS`), at the values
every facade result recorded before the section existed ran with; hashes leave them out there, and keep them
when a method (or a changed library default) sets another value."""

TRAINING_ADDED_DEFAULTS = {"patience": None, "max_seconds": None, "schedule": "step", "lr_patience": 10}
"""The stopping and schedule settings (:mod:`orca.stopping`, ``baselines.supervised.TrainConfig``) added to the
neural baselines' method settings after results were first recorded; at these values they change nothing, so
hashes leave them out in the same way."""


@dataclass(frozen=True)
class Job:
    """One (task, method, seed) of a resolved ``config``; ``hash_neutral`` is the suite's list of settings left
    out of the hash at their defaults (see :attr:`Suite.hash_neutral`)."""

    suite: str
    task: str
    method: str
    seed: int
    config: dict[str, Any]
    hash_neutral: tuple[tuple[str, Any], ...] = ()
    metric_version: int = 1

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
        if is_orca(f"method_params.{self.method}"):  # OrcaConfig settings added after results were recorded
            out["method_params"] = drop_added(out["method_params"], "results")  # the core's list (orca.added)
            drop_at_defaults(out["method_params"], [(f"facade.{k}", v) for k, v in FACADE_ADDED_DEFAULTS.items()])
            if out["method_params"].get("facade") == {}:
                out["method_params"].pop("facade")
        else:
            drop_at_defaults(out["method_params"], TRAINING_ADDED_DEFAULTS.items())
        drop_at_defaults(out, self.hash_neutral)
        return out

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.hashed, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.task}--{self.method}--s{self.seed}.json"


def expand_jobs(suite: Suite, config: dict[str, Any]) -> list[Job]:
    """All (task x method x seed) jobs of a resolved config, in a stable order: a method runs on a task where the
    suite and the task allow it and no listed method replaces it there (the config's ``replaces``)."""
    def applies(task: str, method: str) -> bool:  # the suite may rule a method out of a task; then a task may
        params = config.get("task_params", {}).get(task, {})  # name the methods that apply to it ("orca" names
        if suite.method_applies is not None and not suite.method_applies(method, params):  # every ORCA
            return False  # variant); floors run wherever the suite allows them
        if method in suite.floors:
            return True
        only = params.get("methods")
        return (only is None or method in only or ("orca" in only and is_orca(f"method_params.{method}"))
                or (suite.also_applies is not None and suite.also_applies(method, params)))

    def replaced(task: str, method: str) -> bool:  # a listed method that applies here takes its place
        return any(r["replaces"] == method and r["method"] in config["methods"] and applies(task, r["method"])
                   for r in config.get("replaces") or [])

    return [Job(suite.name, str(t), m, int(s), config, suite.hash_neutral,
                suite.metric_version_of(str(t), config.get("task_params", {}).get(str(t), {})))
            for t in config["tasks"] for m in config["methods"]
            for s in config["seeds"] if applies(str(t), m) and not replaced(str(t), m)]
