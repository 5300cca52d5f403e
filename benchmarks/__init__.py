"""Benchmark harnesses over the orca core, in layers (nothing imports a layer above it):

    orca/ (core) -> baselines/ -> benchmarks/runner/ -> benchmarks/suites/<name>/ -> benchmarks/catalogue.py
                                                                                  -> benchmarks/reports/

``python -m benchmarks.run`` and ``python -m benchmarks.report`` are the entry points; ``perf/`` holds the
speed and memory scripts. The core's smoke run and the alignment ablation are the ``packaged`` suite's presets.
"""
