"""Packaged suite: real datasets that ship with scikit-learn, offline, no mirror needed.

Presets:

- ``smoke``: ``wdbc`` with ORCA (MiniLM, the paper's ``otdd-exact`` alignment, 4 epochs, through the
  scikit-learn facade as a user would run it) and logistic regression: the core's end-to-end smoke run.
- ``ablation``: ``digits-1d`` (MiniLM) and ``digits-2d`` (offline DINOv2-S) under each stage-2 objective
  (``none``, ``mmd``, ``otdd-gaussian``, ``otdd-exact``, and ``otdd-paper``: the ORCA code's per-class form), with the embedder's distance to the source features
  measured on one common scale (``otdd-exact``) before alignment, after it and after fine-tuning.
"""

from __future__ import annotations

from ...runner.suite import Suite, register_suite
from ...runner.table_methods import run_floor, run_logreg, run_orca
from .data import ROOT, all_tasks, load_task
from .methods import run_orca_yardstick

SUITE = register_suite(Suite(
    name="packaged", root=ROOT, load_task=load_task,
    methods={"orca": run_orca, "logreg": run_logreg, "floor": run_floor, "orca-none": run_orca_yardstick,
             "orca-mmd": run_orca_yardstick, "orca-otdd-gaussian": run_orca_yardstick,
             "orca-otdd-exact": run_orca_yardstick, "orca-otdd-paper": run_orca_yardstick},
    all_tasks=all_tasks, reference_methods=("logreg",), floors=("floor",),
))
