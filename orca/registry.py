"""One registry for every named component: tasks, bodies, embedders, predictors, objectives, losses, metrics
and baselines (benchmark suites have their own registry in the runner).

A component registers itself where it is defined::

    @register("objective", "mmd")
    def mmd(...): ...

and is looked up by name with :func:`get`, which fails with the list of valid names (never a silent default).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from .exceptions import UnknownNameError

T = TypeVar("T")

KINDS = ("task", "body", "embedder", "predictor", "objective", "loss", "metric", "baseline")
_REGISTRY: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}


def _check_kind(kind: str) -> dict[str, Any]:
    if kind not in _REGISTRY:
        raise UnknownNameError(f"unknown registry kind {kind!r}; expected one of {list(KINDS)}")
    return _REGISTRY[kind]


def register(kind: str, name: str) -> Callable[[T], T]:
    """Return a decorator that registers an object under ``(kind, name)``.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    name : str
        Lower-case name, unique within ``kind``.

    Raises
    ------
    KeyError
        If ``name`` is already registered for ``kind``.
    """
    table = _check_kind(kind)
    if not name or name != name.strip():
        raise ValueError(f"invalid {kind} name {name!r}")

    def decorator(obj: T) -> T:
        if name in table and table[name] is not obj:
            raise KeyError(f"{kind} {name!r} is already registered")
        table[name] = obj
        return obj

    return decorator


def add(kind: str, name: str, obj: Any) -> Any:
    """Register ``obj`` directly (for instances such as tasks)."""
    return register(kind, name)(obj)


def available(kind: str) -> list[str]:
    """Sorted names registered for ``kind``."""
    return sorted(_check_kind(kind))


def get(kind: str, name: str) -> Any:
    """Look up ``name`` in the ``kind`` table.

    Raises
    ------
    UnknownNameError
        With the valid names and a close match, if any.
    """
    table = _check_kind(kind)
    if name in table:
        return table[name]
    close = difflib.get_close_matches(str(name), list(table), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownNameError(f"unknown {kind} {name!r}{hint}; expected one of {sorted(table)}")
