"""Experiment configs as data: a suite's ``default.json`` plus ``presets/<name>.json`` plus command-line
overrides, merged and validated before any job runs. A preset or override may only set keys that
``default.json`` has (``method_params.orca*`` sections, and a task's own ``task_params.<task>.orca``, are
validated as an :class:`orca.OrcaConfig` instead), so a misspelt key is rejected with a close match."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from orca import OrcaConfig
from orca.config import flatten, unflatten
from orca.exceptions import ConfigError, UnknownNameError
from orca.io import read_json
from orca.metrics import get_metric

from .suite import Suite

PRESETS = ("smoke", "paper")
"""The presets every suite has; a suite may add its own (``presets/<name>.json``), e.g. openml's ``lift``."""


def presets_of(suite: Suite) -> list[str]:
    """The suite's presets: the files in ``presets/``, the common ones first."""
    names = sorted(p.stem for p in (suite.root / "presets").glob("*.json"))
    return [p for p in PRESETS if p in names] + [p for p in names if p not in PRESETS]


def _merge(base: dict, override: dict, schema: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        path = f"{where}.{key}" if where else key
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {path!r}{hint}; expected one of {sorted(schema)}")
        if is_orca(path):  # ORCA sections are validated as a whole OrcaConfig
            out[key] = orca_section(out.get(key, {}), value, path)
        elif _is_task_orca(path):  # a task's partial ORCA overrides: any OrcaConfig key, checked as one
            merged = {**flatten(out.get(key, {})), **flatten(value)}
            OrcaConfig().with_overrides(merged)
            out[key] = unflatten(merged)
        elif isinstance(schema[key], dict) and isinstance(value, dict):
            out[key] = _merge(out.get(key, {}), value, schema[key], path)
        else:
            out[key] = value
    return out


SEARCH_KEYS = ("space", "n_trials", "prune", "anchor", "select", "ensemble", "refit", "variants")
RECORDED_VARIANTS = ("refit",)
"""Variants a search records on request (``search.variants``); the ensemble of its 3 best trials it always records."""
SELECT_RULES = ("best", "beats-anchor")
"""How a search picks its trial (:func:`benchmarks.runner.orca_search.run_orca_search`)."""
PRUNE_KEYS = ("startup_trials", "warmup_epochs")

FACADE_KEYS = ("standardize_input", "standardize_target", "metric")
"""The scikit-learn estimators' own parameters (not the config's) that an ORCA method run through the facade may
set in its ``facade`` section: the ones that change what the model sees or which epoch it keeps (``metric``: the
validation score refine selects and stops on; booleans for the others)."""

CARRIED_KEYS = ("search", "facade", "check", "cv")
"""Keys an ORCA method's settings carry beside the config's sections (:func:`orca_section`)."""


def config_sections(params: dict) -> dict:
    """An ORCA method's settings without the keys carried beside the config (:data:`CARRIED_KEYS`): what
    :meth:`orca.OrcaConfig.from_dict` reads."""
    return {k: v for k, v in params.items() if k not in CARRIED_KEYS}


def orca_section(base: dict, override: dict, where: str = "method_params.orca") -> dict:
    """An ORCA method's settings: ``base`` with ``override`` on top, validated as a whole ``OrcaConfig``. Three keys
    beside the config's sections are checked and carried along: ``search`` (a validation-selected search: ``space``
    of dotted OrcaConfig keys -> value lists, ``n_trials``, and optionally ``prune``: ``{"startup_trials": n,
    "warmup_epochs": e}`` for a median pruner, ``anchor`` (true: trial 0 runs the method's own settings) and
    ``select`` (:data:`SELECT_RULES`), ``ensemble`` (``k``: the mean of the ``k`` trials with the best validation
    scores is the result, with ``select = "best"``), ``refit`` (true: the chosen trial trained again on all the
    search's rows is the result) and ``variants`` (:data:`RECORDED_VARIANTS` to record beside the result)),
    ``facade`` (the estimator's own parameters, :data:`FACADE_KEYS`: booleans, and ``metric`` a metric name) and
    ``check`` (``{"fraction": f}``: a defaults study's held-out check split, ``0 < f <= 0.5`` of the training part,
    which the fit never sees; see ``table_methods.run_orca``) and ``cv`` (``{"folds": k}``, ``2 <= k <= 10``: a
    cross-validated ensemble of the one configuration, ``orca_cv.run_orca_cv``)."""
    base, override = dict(base), dict(override)
    search = {**base.pop("search", {}), **override.pop("search", {})}
    facade = {**base.pop("facade", {}), **override.pop("facade", {})}
    check = {**base.pop("check", {}), **override.pop("check", {})}
    cv = {**base.pop("cv", {}), **override.pop("cv", {})}
    out = OrcaConfig.from_dict(base).with_overrides(flatten(override)).to_dict()
    if facade:
        unknown = sorted(set(facade) - set(FACADE_KEYS))
        if unknown:
            raise ConfigError(f"unknown keys {unknown} in {where}.facade; expected one of {list(FACADE_KEYS)}")
        bad = sorted(k for k, v in facade.items() if k != "metric" and not isinstance(v, bool))
        if bad:
            raise ConfigError(f"{where}.facade.{bad[0]} must be true or false, got {facade[bad[0]]!r}")
        if facade.get("metric") is not None:
            if not isinstance(facade["metric"], str):
                raise ConfigError(f"{where}.facade.metric must be a metric name or null, got {facade['metric']!r}")
            try:  # a registered name; whether the method's estimator can score it is checked at fit
                get_metric(facade["metric"])
            except UnknownNameError as exc:
                raise ConfigError(f"{where}.facade.metric: {exc}") from None
        out["facade"] = facade
    if check:
        fraction = check.get("fraction")
        if set(check) != {"fraction"} or isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
                or not 0 < fraction <= 0.5:
            raise ConfigError(f"{where}.check must be {{\"fraction\": f}} with 0 < f <= 0.5 (the share of the training "
                              f"part held out to check a selection rule), got {check!r}")
        out["check"] = check
    if cv:
        folds = cv.get("folds")
        if set(cv) != {"folds"} or isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= 10:
            raise ConfigError(f"{where}.cv must be {{\"folds\": k}} with an integer 2 <= k <= 10 (a cross-validated "
                              f"ensemble of k models), got {cv!r}")
        if search:
            raise ConfigError(f"{where}: cv and search exclude each other (a search chooses among configurations, "
                              "a cross-validated ensemble keeps one)")
        out["cv"] = cv
    if search:
        unknown = sorted(set(search) - set(SEARCH_KEYS))
        if unknown:
            raise ConfigError(f"unknown keys {unknown} in {where}.search; expected one of {list(SEARCH_KEYS)}")
        for dotted, values in search.get("space", {}).items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{where}.search.space.{dotted} must be a non-empty list of values")
            for value in values:  # every value must be a valid setting of its key
                OrcaConfig().with_overrides({dotted: value})
        prune = search.get("prune")
        if prune is not None and (not isinstance(prune, dict) or set(prune) != set(PRUNE_KEYS) or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in prune.values())):
            raise ConfigError(f"{where}.search.prune must be null or {{\"startup_trials\": n, \"warmup_epochs\": e}} "
                              f"with integers >= 0, got {prune!r}")
        anchor = search.get("anchor", False)
        if not isinstance(anchor, bool):
            raise ConfigError(f"{where}.search.anchor must be true or false, got {anchor!r}")
        select = search.get("select", "best")
        if select not in SELECT_RULES:
            raise ConfigError(f"{where}.search.select={select!r}; expected one of {list(SELECT_RULES)}")
        if select == "beats-anchor" and not anchor:
            raise ConfigError(f"{where}.search.select='beats-anchor' needs an anchor trial to beat; set "
                              f"{where}.search.anchor to true")
        ensemble = search.get("ensemble")
        if ensemble is not None and (isinstance(ensemble, bool) or not isinstance(ensemble, int)
                                     or not 2 <= ensemble <= int(search.get("n_trials", 0)) or select != "best"):
            raise ConfigError(f"{where}.search.ensemble must be an integer from 2 to search.n_trials "
                              f"({search.get('n_trials')}) with search.select='best' (the mean of that many trials "
                              f"with the best validation scores), got {ensemble!r}")
        if not isinstance(search.get("refit", False), bool) or (search.get("refit") and ensemble is not None):
            raise ConfigError(f"{where}.search.refit must be true or false, and not true with search.ensemble (a "
                              f"refit retrains the one chosen trial), got {search.get('refit')!r}")
        variants = search.get("variants", [])
        if not isinstance(variants, list) or any(v not in RECORDED_VARIANTS for v in variants):
            raise ConfigError(f"{where}.search.variants={variants!r}; expected a list of {list(RECORDED_VARIANTS)}")
        out["search"] = search
    return out


def is_orca(path: str) -> bool:
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
        if is_orca(f"method_params.{method}"):
            base = suite.method_base[method]() if method in suite.method_base else {}
            default["method_params"][method] = orca_section(base, params, f"method_params.{method}")
    config = _merge(default, read_json(suite.root / "presets" / f"{preset}.json"), default, "")
    config = _merge(config, overrides or {}, default, "")
    known_tasks = suite.all_tasks(config)
    bad = [t for t in config["tasks"] if t not in known_tasks]
    if bad:
        raise ConfigError(f"unknown tasks {bad} for suite {suite.name!r}; expected some of {known_tasks}")
    bad = [m for m in config["methods"] if m not in suite.methods]
    if bad:
        raise ConfigError(f"unknown methods {bad} for suite {suite.name!r}; expected some of {sorted(suite.methods)}")
    _check_contrasts(suite, config.get("contrasts") or [], preset)
    _check_closed(suite, config.get("closed") or [])
    _check_replaces(suite, config.get("replaces") or [])
    config["preset"] = preset
    return config


def _check_entries(suite: Suite, entries: list, name: str, method_keys: tuple[str, ...]) -> None:
    """A preset list of decisions (``closed``, ``replaces``): each an object with exactly ``method_keys`` (each naming
    one of the suite's methods) and ``why``, a non-empty reason."""
    keys = [*method_keys, "why"]
    for spec in entries:
        if not isinstance(spec, dict) or set(spec) != set(keys) or not str(spec["why"]).strip():
            raise ConfigError(f"{name} entry {spec!r}; expected an object with exactly the keys {keys} "
                              "and a non-empty reason")
        for key in method_keys:
            if spec[key] not in suite.methods:
                raise ConfigError(f"{name} entry names unknown method {spec[key]!r} ({key}); expected one of "
                                  f"{sorted(suite.methods)}")


def _check_closed(suite: Suite, closed: list) -> None:
    """A preset's ``closed`` list: methods that run no further jobs in it, each ``{"method", "why"}`` (e.g. a
    diagnostic whose pre-set rule stopped it after one split); the report shows the reason instead of the seeds
    still to come. Running such a method is not prevented: the list states a decision, it does not enforce it."""
    _check_entries(suite, closed, "closed", ("method",))


def _check_replaces(suite: Suite, replaces: list) -> None:
    """A preset's ``replaces`` list: each ``{"method", "replaces", "why"}`` says that where ``method`` is listed and
    applies to a task, it takes ``replaces``'s place there (e.g. a candidate adopted on some tasks only by its
    pre-set rule); :func:`benchmarks.runner.jobs.expand_jobs` then plans no ``replaces`` job on that task. Results
    already recorded stay and are reported; run the replaced method there with ``--methods`` alone."""
    _check_entries(suite, replaces, "replaces", ("method", "replaces"))
    for spec in replaces:
        if spec["method"] == spec["replaces"]:
            raise ConfigError(f"replaces entry {spec!r}: a method cannot replace itself")


def changes_cover(changes: list[str], differing: set[str]) -> bool:
    """Whether a contrast's ``changes`` name exactly the dotted settings in ``differing``: each differing key is a
    listed change or lies under one (``search`` covers ``search.space.refine.lr``), and each change covers at least
    one of them (no change is listed that is not made)."""
    def under(key: str, change: str) -> bool:
        return key == change or key.startswith(change + ".")

    return (all(any(under(k, c) for c in changes) for k in differing)
            and all(any(under(k, c) for k in differing) for c in changes))


def _check_contrasts(suite: Suite, contrasts: list, preset: str) -> None:
    """A suite's ``contrasts`` (candidates and the settings they change,
    :func:`benchmarks.reports.analysis.contrast_table`): each ``{"method", "against", "changes"}`` names two of the
    suite's methods and the dotted settings that differ (a section name covers every setting under it,
    :func:`changes_cover`); an optional ``"preset"`` takes ``against``'s results from another preset of the suite
    (e.g. the equal-budget preset's ``orca`` against the paper preset's, which differ in their epochs and time
    budget only)."""
    for spec in contrasts:
        if not isinstance(spec, dict) or not {"method", "against", "changes"} <= set(spec) <= {
                "method", "against", "changes", "preset"}:
            raise ConfigError(f"contrast {spec!r}; expected an object with exactly the keys "
                              "['against', 'changes', 'method'] and optionally 'preset'")
        bad = [m for m in (spec["method"], spec["against"]) if m not in suite.methods]
        if bad:
            raise ConfigError(f"contrast names unknown methods {bad}; expected some of {sorted(suite.methods)}")
        if "preset" in spec and (spec["preset"] == preset or spec["preset"] not in presets_of(suite)):
            others = [p for p in presets_of(suite) if p != preset]
            raise ConfigError(f"contrast {spec['method']!r}: preset {spec['preset']!r}; expected another preset of "
                              f"suite {suite.name!r}, one of {others}")
        if "preset" not in spec and spec["method"] == spec["against"]:
            raise ConfigError(f"contrast {spec['method']!r} is against itself; name another method or a 'preset' "
                              "whose results it is compared with")
        if not isinstance(spec["changes"], list) or not spec["changes"]:
            raise ConfigError(f"contrast {spec['method']!r}: 'changes' must be a non-empty list of dotted settings")


