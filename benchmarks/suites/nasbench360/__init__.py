"""NAS-Bench-360 suite: the ten tasks with NAS-Bench-360's splits and metrics (the paper's variants alongside),
Darcy Flow regenerated offline with the FNO recipe, and clearly labelled proxy tasks from packaged real data.

Data (``data`` in the config):

- ``source``: ``local`` (the task's files already under ``<root>/<task>``, checked against files.json's MD5 or
  the SHA-256 recorded on first use) or ``download`` (S3 first, then the shared-drive id; resumable, verified).
  Regenerated and proxy tasks ignore it: they are built offline (:mod:`.offline`).
- ``root``: the data folder (default ``$ORCA_NB360_ROOT`` or ``<orca cache>/nasbench360``).

Every task is declared in ``default.json`` (``task_params``): its reader, input and output, the NAS-Bench-360
metric, the paper's variant, its ``kind`` (real, regenerated or proxy) and the per-task ORCA settings that mirror
the paper's configs (``method.md`` §3.3, scaled by the presets). Validation is NAS-Bench-360's own split, never the
test set (the reference code selected on test). Methods: ``orca``; ``cnn`` (a Wide-ResNet for images, a 1D
ResNet for sequences, with a small stated budget); ``fno`` (Darcy).
"""

from __future__ import annotations

import functools

from ...runner.orca_method import run_orca
from ...runner.suite import Suite, register_suite
from .data import ROOT, all_tasks, load_task, psicov_crops  # noqa: F401  (load_task: tests)
from .methods import ORCA_HOOKS, run_floor, run_spectral_linear, run_supervised
from .metrics import metric_version
from .scoring import psicov_predict_maps, scores, task_errors  # noqa: F401  (tests)

GROUPS = {
    **dict.fromkeys(("cifar100", "spherical", "ninapro", "fsd50k", "fashion-proxy"), "2D classification"),
    **dict.fromkeys(("darcy", "darcy-regen", "psicov", "cosmic"), "2D dense prediction"),
    **dict.fromkeys(("ecg", "satellite", "deepsea", "splice-proxy", "ecg-proxy"), "1D sequences"),
}
"""The task groups of the NAS-Bench-360 paper's table, with each proxy beside the tasks whose format it takes."""


DARCY_ONLY = ("orca-skip",)
"""Methods for the Darcy tasks alone: ``orca-skip`` (session 41), PDEBench's dense-head design (the seam smoother
and the spectral input skip), whose skip maps the input field to an output on the same grid."""


def is_darcy(params: dict) -> bool:
    """Whether a task is one the NAS-Bench-360 paper calls Darcy Flow (the original files or the regenerated ones),
    from its ``task_params``."""
    return params.get("published") == "Darcy Flow"


def spectral_linear_applies(method: str, params: dict) -> bool:
    """``spectral-linear`` (session 40) runs on the Darcy tasks without being named in their method lists, which
    are part of every job's hash. Module-level so that jobs pickle to worker processes."""
    return method == "spectral-linear" and is_darcy(params)


def method_applies(method: str, params: dict) -> bool:
    """The Darcy-only methods run on the Darcy tasks alone; every other method wherever the task's method list
    allows. Module-level so that jobs pickle to worker processes."""
    return method not in DARCY_ONLY or is_darcy(params)


SUITE = register_suite(Suite(
    name="nasbench360", root=ROOT, load_task=load_task,
    methods={"orca": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-bf16": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "orca-skip": functools.partial(run_orca, hooks=ORCA_HOOKS),
             "cnn": functools.partial(run_supervised, kind="cnn"),
             "fno": functools.partial(run_supervised, kind="fno"), "spectral-linear": run_spectral_linear,
             "floor": run_floor},
    all_tasks=all_tasks, published=("nasbench360",), reference_methods=("cnn",), comparable_means=False,
    task_groups=GROUPS, metric_version=metric_version, floors=("floor",),
    hash_neutral=(("data.url", ""), ("data.path", "")), also_applies=spectral_linear_applies,
    method_applies=method_applies,
))
