"""Settings added after results and checkpoints were first recorded, in one list.

Each entry names a dotted :class:`~orca.config.OrcaConfig` key and the value that reproduces the behaviour from
before the setting existed. At that value a setting is left out of the fingerprints that decide whether
recorded work is still valid:

- the **job hash** of a benchmark result (``benchmarks.runner.jobs``): every entry;
- the **checkpoint fingerprint** of an interrupted refine (``orca.refine``): the entries added after checkpoints
  carried a fingerprint (``checkpoints=True``); the older ones were already part of every fingerprint and stay
  in it, so those checkpoints still resume.

A new setting whose default changes nothing goes here, and recorded results and checkpoints stay valid; one
whose default changes what is computed must not (every fingerprint then changes, as it should).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable, Literal


@dataclass(frozen=True)
class Added:
    """One setting added later: its dotted key, the value that reproduces the earlier behaviour, and whether
    checkpoint fingerprints leave it out at that value (``False`` for settings older than the fingerprint)."""

    key: str
    default: Any
    checkpoints: bool = True


ADDED: tuple[Added, ...] = (
    Added("refine.momentum", 0.9, checkpoints=False),
    Added("refine.beta2", 0.999, checkpoints=False),
    Added("refine.decay_epochs", None, checkpoints=False),
    Added("refine.warmup_epochs", None, checkpoints=False),
    Added("refine.mixed_precision", "no"),
    Added("refine.max_seconds", None),
    Added("refine.min_steps", None),
    Added("refine.select_on", "metric"),
    Added("refine.augment", "none"),
    Added("refine.ema_decay", None),
    Added("refine.refit", False),
    Added("predictor.smooth", 0),
    Added("predictor.skip_modes", 0),
    Added("predictor.linear_skip", False),
)


def drop_added(tree: dict[str, Any], scope: Literal["results", "checkpoints"]) -> dict[str, Any]:
    """A copy of a config tree (sections as nested dicts) without the :data:`ADDED` settings at their defaults.

    Parameters
    ----------
    tree : dict
        A config or part of one, keyed by section (``{"refine": {...}, "predictor": {...}}``); sections it lacks
        are skipped, and an absent key counts as at its default.
    scope : {"results", "checkpoints"}
        Which fingerprint the copy is for: ``"results"`` drops every entry, ``"checkpoints"`` only those with
        ``checkpoints=True``.

    Returns
    -------
    dict
        The copy; ``tree`` itself is not changed.
    """
    if scope not in ("results", "checkpoints"):
        raise ValueError(f"scope={scope!r}; expected one of ['results', 'checkpoints']")
    out = copy.deepcopy(tree)
    drop_at_defaults(out, [(e.key, e.default) for e in ADDED if scope == "results" or e.checkpoints])
    return out


def drop_at_defaults(tree: dict[str, Any], pairs: Iterable[tuple[str, Any]]) -> None:
    """Remove, in place, each dotted key of ``pairs`` (dotted key, default) from ``tree`` where it is at its
    default (an absent key counts as at its default; a missing section leaves nothing to remove)."""
    for key, default in pairs:
        *path, leaf = key.split(".")
        parent: Any = tree
        for part in path:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and parent.get(leaf, default) == default:
            parent.pop(leaf, None)
