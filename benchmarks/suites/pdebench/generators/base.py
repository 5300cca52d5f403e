"""What a generator returns: the arrays of one PDEBench layout plus the attributes that tag them as generated."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GENERATOR_VERSION = "1"
"""Bumped whenever a generator's numerics change, so that cached files of an older version are not reused."""


@dataclass
class Generated:
    """Arrays in one of PDEBench's layouts (see :mod:`benchmarks.suites.pdebench.layouts`).

    ``layout`` is ``tensor`` (``fields`` (N, T, X)), ``groups`` (``fields`` (N, T, X[, Y], C), one HDF5 group per
    sample) or ``darcy`` (``fields`` the solution (N, 1, H, W), ``coefficient`` (N, H, W)). ``dropped`` counts
    samples removed because the solver produced NaN or inf."""

    layout: str
    fields: np.ndarray
    x: np.ndarray
    t: np.ndarray | None = None
    y: np.ndarray | None = None
    coefficient: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)
    dropped: int = 0


def drop_non_finite(fields: np.ndarray, *others: np.ndarray | None) -> tuple[np.ndarray, list, int]:
    """Remove the samples (axis 0) whose fields hold NaN or inf, as PDEBench does for blown-up CFD runs."""
    good = np.isfinite(fields.reshape(len(fields), -1)).all(axis=1)
    kept = [None if o is None else o[good] for o in others]
    return fields[good], kept, int((~good).sum())
