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

FACADE_DEFAULTS: dict[str, Any] = {
    "refine.min_steps": 300,  # at least 300 optimiser steps: epochs are raised on a small set (fixed, not studied)
    "refine.patience": 10,  # early stopping after 10 epochs without improvement, never before the 300 steps
    "refine.select_on": "metric-then-loss",  # both check splits' choice (orca-mtl-check over orca-check)
    "embedder.target_seq_len": 32,  # the study's choice on the series (orca-t32-loss over orca-t16-loss)
}
"""Dotted :class:`OrcaConfig` key -> the facade's default, for the keys where it differs from ``OrcaConfig()``:
the settings the study chose: ``orca-t32-loss``'s schedule and token count, and the epoch-selection rule both
suites' check splits chose (``orca-mtl-check`` over ``orca-check``; ``tests/test_smalldata_suite.py`` checks them
against the committed study)."""


def facade_config() -> OrcaConfig:
    """The config ``CrossModalClassifier()`` describes: ``OrcaConfig()`` with :data:`FACADE_DEFAULTS` on top."""
    return OrcaConfig().with_overrides(dict(FACADE_DEFAULTS))


def facade_sections() -> dict[str, Any]:
    """:data:`FACADE_DEFAULTS` as nested config sections (``{"refine": {"min_steps": 300}}``)."""
    return unflatten(dict(FACADE_DEFAULTS))


def facade_flat() -> dict[str, Any]:
    """Every dotted key of :func:`facade_config` with its value."""
    return flatten(facade_config().to_dict())
