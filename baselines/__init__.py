"""Baselines registered under ``orca.available('baseline')``, behind the same fit/predict interface."""

from . import gbdt, linear, tabpfn  # noqa: F401  (registers the baselines)
