"""PDEBench suite: the paper's single-step tasks (initial state -> state at the final training time; Darcy:
coefficient -> solution) on PDEBench's own files when they are available, or on files our generators write in
the same layouts (tagged "generated offline" and labelled so in every table).

Data (``data`` in the config):

- ``source``: ``generated`` (default; our solvers, cached under ``root``), ``download`` (the DaRUS file, resumable,
  MD5-verified; the real paths of ``files.json``) or ``local`` (the DaRUS file already under ``root``, verified).
- ``version``: ``current`` (today's files) or ``2023`` (the pre-fix advection file the paper most probably used).
- ``root``: the data folder (default ``$ORCA_PDEBENCH_ROOT`` or ``<orca cache>/pdebench``).
- ``n_samples``, ``nx_1d``, ``nx_2d``, ``generator_seed``: what the generators write.

Tasks: single-step (the paper's) by default. A task with ``rollout_steps: K`` is PDEBench's autoregressive
evaluation instead: K + 1 frames evenly spaced from ``input_time`` to ``target_time``; every method learns the
one-step map between consecutive frames (teacher forcing, one input frame), and on test it starts from the first
frame and feeds its own predictions back K times. Its test scores average each step's metrics over the K steps
(PDEBench's time averaging); the final step's are kept as ``test_final`` and the per-step nRMSE as ``rollout``.

Splits (``protocol``): PDEBench's (the first 10 % of samples are test for single files, the last 10 % of seeds
for group files), plus a validation split carved from the training part with the job's seed; every method gets
exactly the same three parts. ``resolution_1d``/``resolution_2d`` sub-sample the file's grid (they must divide it).

Methods: ``orca`` (MiniLM for 1D, DINOv2-S offline for 2D; the task's ``orca`` overrides) and its one-change
variants (``orca-smooth``, ``orca-bf16``, ``orca-skip``; ``orca-skip-sym``, 2D tasks only), ``fno`` and ``unet``
(our own, PDEBench's configurations), ``spectral-linear`` (the closed-form affine operator on the low Fourier modes
that ``orca-skip`` starts from). Scores: PDEBench's field metrics on the test frames (:mod:`.metrics`), ranked by
``nrmse`` (PDEBench's nRMSE, per channel); ``relative_l2`` (the ORCA code's nRMSE,
all channels at once) is kept beside it and is what ORCA's validation selects on.
"""

from __future__ import annotations

import functools

from ...runner.orca_method import run_orca
from ...runner.suite import Suite, register_suite
from .data import ROOT, _val_split, all_tasks, load_task, real_path  # noqa: F401  (tests)
from .methods import ORCA_HOOKS, run_floor, run_operator, run_spectral_linear
from .metrics import METRIC_VERSION
from .scoring import rollout, score  # noqa: F401  (tests)

SQUARE_SYMMETRIC = ("orca-skip-sym",)
"""Methods that train with ``refine.augment = "dihedral"``: they apply to the 2D tasks only, whose generated
problems (no-flux diffusion-reaction, Darcy with a constant forcing and zero walls, the radial dam break) have the
symmetries of the square."""


def method_applies(method: str, params: dict) -> bool:
    """Every method applies to every task except persistence on Darcy flow, whose input (the coefficient field) and
    target (the solution) are different quantities, and the dihedral-augmented variants off the 2D tasks.
    Module-level so that jobs pickle to worker processes."""
    if method in SQUARE_SYMMETRIC:
        return params.get("dims") == 2
    return method != "persistence" or params.get("family") != "darcy"


SUITE = register_suite(Suite(
    name="pdebench", root=ROOT, load_task=load_task,
    methods={"orca": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-smooth": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-bf16": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-skip": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-skip-sym": functools.partial(run_orca, hooks=ORCA_HOOKS), "spectral-linear": run_spectral_linear,
             "fno": functools.partial(run_operator, kind="fno"),
             "unet": functools.partial(run_operator, kind="unet"), "floor": functools.partial(run_floor, kind="mean"),
             "persistence": functools.partial(run_floor, kind="persistence")},
    all_tasks=all_tasks, published=("pdebench",), reference_methods=("fno",), also_against=("unet",),
    metric_version=METRIC_VERSION,
    floors=("floor", "persistence"), hash_neutral=(("method_params.loss", "mse"), ("data.url", ""), ("data.path", "")),
    method_applies=method_applies,
))
