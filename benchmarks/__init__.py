"""Benchmark harnesses (smoke run now; OpenML-CC18, PDEBench and NAS-Bench-360 suites follow) and perf scripts."""
