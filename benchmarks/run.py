"""``python -m benchmarks.run SUITE [...]``: the runner's command line over every suite of the catalogue.

See :mod:`benchmarks.runner.cli` for the options and :mod:`benchmarks.runner.execute` for what a run does.
"""

from __future__ import annotations

from .catalogue import get_suite
from .runner import execute
from .runner.cli import main
from .runner.execute import RunResults

__all__ = ["main", "run"]


def run(suite_name: str, *args, **kwargs) -> RunResults:
    """:func:`benchmarks.runner.execute.run` on the catalogue's suite of that name."""
    return execute.run(get_suite(suite_name), *args, **kwargs)


if __name__ == "__main__":
    raise SystemExit(main())
