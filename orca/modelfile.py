"""Model files that load without running code: weights as safetensors, everything else as JSON in its header.

A fitted estimator is one ``.safetensors`` file. Its tensors are the model's weights; its header's metadata holds
one JSON document (config, task, preprocessing state with feature names and dtypes, classes, target scaling, a
hash of the training data, package versions). Reading it parses JSON and copies tensors; unlike a pickle
(``torch.save``), nothing in the file can name code to run.

Files written by orca 0.1 (``model.pt``, a torch pickle) are refused with the command that converts them:
:func:`convert_legacy` reads them with ``torch.load(weights_only=True)`` and an allow-list of NumPy's array
types, so even the conversion runs no code from the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .exceptions import OrcaError
from .io import _json_default, atomic_write

FORMAT = "orca-model"
VERSION = 1
_LEGACY_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save's zip container, or a bare pickle


class ModelFileError(OrcaError, ValueError):
    """A file that is not an orca model file, or one written in the old, unsafe format."""


def _legacy_message(path: Path) -> str:
    new = path.with_suffix(".safetensors")
    return (f"{path} is a model file of orca 0.1 (a torch pickle, which can run code when loaded); orca no longer "
            f"reads it. Convert it once with: orca convert-model {path} {new} (the conversion reads only tensors "
            "and plain data, never code)")


def write(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``model``'s weights and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    from safetensors.torch import save_model

    try:
        header = {"format": FORMAT, "version": str(VERSION), "orca": json.dumps(meta, default=_json_default)}
    except TypeError as exc:
        raise ModelFileError(f"the model's metadata cannot be written as JSON: {exc}") from exc
    return atomic_write(path, lambda tmp: save_model(model, tmp, metadata=header))


def read_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of an orca model file (weights are not read).

    Raises
    ------
    ModelFileError
        For a missing file, an orca 0.1 pickle (with how to convert it) or anything else.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        with open(path, "rb") as raw:
            if raw.read(4).startswith(_LEGACY_MAGIC):  # only once it is not a safetensors file
                raise ModelFileError(_legacy_message(path)) from exc
        raise ModelFileError(f"{path} is not an orca model file (a safetensors file written by "
                             f"estimator.save): {exc}") from exc
    if header.get("format") != FORMAT or "orca" not in header:
        raise ModelFileError(f"{path} is a safetensors file but not an orca model file (no {FORMAT!r} metadata)")
    if int(header.get("version", 0)) > VERSION:
        raise ModelFileError(f"{path} has model-file version {header['version']}; this orca reads up to "
                             f"{VERSION} (upgrade orca)")
    return json.loads(header["orca"])


def load_weights(path: str | Path, model: nn.Module) -> None:
    """Copy the file's tensors into ``model`` (every key must match)."""
    from safetensors.torch import load_model

    try:
        load_model(model, str(path), strict=True, device="cpu")
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: the weights do not fit the model its metadata describes: {exc}") from exc


def _legacy_safe_globals() -> list:
    """What NumPy arrays in an orca 0.1 file are rebuilt from: reconstruction functions, array and dtype types."""
    core = getattr(np, "_core", None) or np.core
    types = [np.ndarray, np.dtype, core.multiarray._reconstruct, core.multiarray.scalar]
    types += [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    return types


def convert_legacy(old: str | Path, new: str | Path, body=None) -> Path:
    """Rewrite an orca 0.1 ``model.pt`` as a model file; nothing in the old file is executed.

    The old file is read with ``torch.load(weights_only=True)``, whose unpickler admits tensors and plain
    containers only, plus NumPy's array reconstruction (for the stored class labels). ``body``: a loaded
    :class:`orca.bodies.Body` for a model fitted on a body that cannot be loaded by name.
    """
    old = Path(old)
    try:
        with torch.serialization.safe_globals(_legacy_safe_globals()):
            state = torch.load(old, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any refusal means: not a plain orca 0.1 file
        raise ModelFileError(f"{old} cannot be converted: it is not an orca 0.1 model file holding only tensors "
                             f"and plain data ({type(exc).__name__}: {exc})") from exc
    needed = {"class", "config", "task", "model", "input_kind"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise ModelFileError(f"{old} is not an orca 0.1 model file (expected keys {sorted(needed)})")
    from .estimators import estimator_class

    est = estimator_class(state["class"]).from_legacy_state(state, body)
    return est.save(new)
