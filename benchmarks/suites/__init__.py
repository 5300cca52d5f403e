"""The benchmark suites, one package each (data, tasks, methods, scoring); each registers itself with the
runner when imported. :mod:`benchmarks.catalogue` imports them all."""
