"""The catalogue of suites: the one module that knows the concrete suites. It sits above them (importing it
registers each with the runner); the runner and the suites never import it."""

from __future__ import annotations

from .runner.suite import Suite, lookup_suite, registered_suites
from .suites import nasbench360, openml, packaged, pdebench, smalldata  # noqa: F401  (each registers itself)


def available_suites() -> list[str]:
    """Names of every suite, sorted."""
    return sorted(registered_suites())


def get_suite(name: str) -> Suite:
    """A suite by name; an unknown name fails with the valid ones."""
    return lookup_suite(name)
