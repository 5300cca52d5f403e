"""The scikit-learn facade's defaults: where ``CrossModalClassifier()`` and ``CrossModalRegressor()`` differ from
:class:`orca.config.OrcaConfig`'s.

``OrcaConfig()``'s defaults are what every benchmark suite's configuration starts from, so they stay as the
recorded results were made. A user who calls ``CrossModalClassifier().fit(X, y)`` on a small dataset needs a
schedule that scales with the data (issue 21); those settings live here, chosen by the small-data study
(``python -m benchmarks.run smallseries --preset study``, ``smalltables``; docs/smalldata.md) on validation scores
only. The benchmark runner's ``orca-default`` method of those suites starts from them too, so a change here
changes that method's job hash and its results are re-run.
"""

from __future__ import annotations

from typing import Any

from .config import OrcaConfig, flatten, unflatten

FACADE_DEFAULTS: dict[str, Any] = {}
"""Dotted :class:`OrcaConfig` key -> the facade's default, for the keys where it differs from ``OrcaConfig()``."""


def facade_config() -> OrcaConfig:
    """The config ``CrossModalClassifier()`` describes: ``OrcaConfig()`` with :data:`FACADE_DEFAULTS` on top."""
    return OrcaConfig().with_overrides(dict(FACADE_DEFAULTS))


def facade_sections() -> dict[str, Any]:
    """:data:`FACADE_DEFAULTS` as nested config sections (``{"refine": {"min_steps": 300}}``)."""
    return unflatten(dict(FACADE_DEFAULTS))


def facade_flat() -> dict[str, Any]:
    """Every dotted key of :func:`facade_config` with its value."""
    return flatten(facade_config().to_dict())
