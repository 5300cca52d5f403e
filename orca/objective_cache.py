"""A disk cache for the stage 2 objectives' source-side set-up.

An objective computes every source-only quantity once when it is built (OTDD: the cost unit, the source label
distances, ``OT(s, s)``, class moments or class self-terms; MMD: the bandwidth and ``E k(s, s')``). That set-up
costs seconds to tens of seconds per fit, the same every time the same source features meet the same objective
settings. :func:`build_objective` stores it after the first build and loads it afterwards.

The key is a SHA-256 of the source features and labels (their bytes), the objective's name, every
:class:`~orca.config.AlignConfig` field the set-up reads, and :data:`CACHE_VERSION`. Files are safetensors
(tensors) with the scalar attributes as JSON in the header: loading executes no code. A file that cannot be read
or does not match is rebuilt. Only sources that are themselves cached (``SourceFeatures.cache_path``) are cached
here; features a user passes in directly are not written to disk.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from .config import AlignConfig
from .io import atomic_write

CACHE_VERSION = 1
"""Bumped when an objective's set-up changes what it computes."""

SETUP_FIELDS = ("epsilon", "sinkhorn_iters", "sinkhorn_tol", "label_samples")
"""The :class:`AlignConfig` fields an objective's set-up depends on."""

_INPUTS = ("source", "source_labels", "cfg", "class_weights")
"""Attributes that are the objective's inputs (or set after the build), not its cached set-up."""


def setup_key(name: str, features: torch.Tensor, labels: torch.Tensor, cfg: AlignConfig) -> str:
    """The cache key of ``name``'s set-up on these source features under ``cfg``."""
    h = hashlib.sha256()
    h.update(json.dumps({"objective": name, "version": CACHE_VERSION, "shape": list(features.shape),
                         "dtype": str(features.dtype), **{f: getattr(cfg, f) for f in SETUP_FIELDS}},
                        sort_keys=True).encode())
    h.update(features.detach().cpu().contiguous().numpy().tobytes())
    h.update(labels.detach().cpu().long().contiguous().numpy().tobytes())
    return h.hexdigest()[:32]


def _save(path: Path, objective: Any) -> None:
    from safetensors.torch import save_file

    tensors, scalars, lists = {}, {}, {}
    for key, value in vars(objective).items():
        if key in _INPUTS:
            continue
        if isinstance(value, torch.Tensor):
            tensors[key] = value.detach().cpu().contiguous()
        elif isinstance(value, list) and all(isinstance(v, torch.Tensor) for v in value):  # per-class tensors
            lists[key] = len(value)
            tensors.update({f"{key}.{i}": v.detach().cpu().contiguous() for i, v in enumerate(value)})
        elif isinstance(value, (int, float, bool, str)) or value is None:
            scalars[key] = value
        else:  # an attribute this cache does not know how to keep: do not cache a partial set-up
            return
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"scalars": json.dumps(scalars),
                                                                      "lists": json.dumps(lists)}))


def _load(path: Path, cls: type, features: torch.Tensor, labels: torch.Tensor, cfg: AlignConfig,
          device: torch.device | str) -> Any | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            scalars, lists = json.loads(meta.get("scalars", "{}")), json.loads(meta.get("lists", "{}"))
            tensors = {k: f.get_tensor(k).to(device) for k in f.keys()}
        for key, n in lists.items():
            tensors[key] = [tensors.pop(f"{key}.{i}") for i in range(n)]
    except Exception:  # noqa: BLE001 - a damaged or foreign file is rebuilt, never trusted
        return None
    objective = cls.__new__(cls)
    objective.source, objective.source_labels, objective.cfg = features, labels.long(), cfg
    if hasattr(cls, "set_class_weights"):
        objective.class_weights = None
    vars(objective).update(scalars)
    vars(objective).update(tensors)
    return objective


def build_objective(cls: type, features: torch.Tensor, labels: torch.Tensor, cfg: AlignConfig,
                    cache_dir: Path | None, device: torch.device | str = "cpu") -> tuple[Any, str]:
    """``cls(features, labels, cfg)``, its set-up loaded from ``cache_dir`` when stored there before.

    Returns
    -------
    objective, status
        ``status`` is ``"hit"`` (loaded), ``"miss"`` (built and stored) or ``"off"`` (no ``cache_dir``).
    """
    if cache_dir is None:
        return cls(features, labels, cfg), "off"
    path = Path(cache_dir) / f"{cls.name}-{setup_key(cls.name, features, labels, cfg)}.safetensors"
    if path.is_file():
        loaded = _load(path, cls, features, labels, cfg, device)
        if loaded is not None:
            return loaded, "hit"
    objective = cls(features, labels, cfg)
    _save(path, objective)
    return objective, "miss"
