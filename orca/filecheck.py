"""Does a downloaded file open as what its name says? The check a file must pass before its digest is trusted on
first use (files without a published checksum), so that an HTML page served in place of data, or a transfer cut
short, is refused rather than pinned.

The checks read headers and directory structures, not whole payloads where a format allows it (a zip's central
directory sits at its end, so a truncated zip fails to open; a tar is walked member by member; gzip is read to its
end, where its CRC and length are checked).
"""

from __future__ import annotations

import gzip
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from .exceptions import DataError

HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<!--")


def looks_like_html(path: str | os.PathLike) -> bool:
    """Whether the file starts like an HTML page (sign-in, quota or virus-scan pages served instead of data)."""
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    return any(head.startswith(m) for m in HTML_MARKERS)


def _npy(path: Path) -> None:
    import numpy as np

    arr = np.load(path, mmap_mode="r", allow_pickle=False)  # a short file cannot be mapped to its header's shape
    _ = arr.shape


def _npz(path: Path) -> None:
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        for name in z.files:  # reads each member's header and data (CRC-checked)
            _ = z[name].shape


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        z.namelist()


def _tar(path: Path) -> None:
    with tarfile.open(path) as t:
        for _ in t:  # walks every header; a cut archive ends in a read error
            pass


def _gzip(path: Path) -> None:
    with gzip.open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def _hdf5(path: Path) -> None:
    import h5py

    with h5py.File(path, "r") as f:
        list(f.keys())


def _mat(path: Path) -> None:
    import scipy.io

    try:
        scipy.io.whosmat(path)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        _hdf5(path)


CHECKS: dict[str, Callable[[Path], None]] = {
    ".npy": _npy, ".npz": _npz, ".zip": _zip, ".tar": _tar, ".tgz": _tar, ".tar.gz": _tar, ".gz": _gzip,
    ".h5": _hdf5, ".hdf5": _hdf5, ".mat": _mat,
}


def kind_of(name: str) -> str | None:
    """The check's key for a file name (the longest known suffix), or ``None``."""
    lower = name.lower()
    matches = [s for s in CHECKS if lower.endswith(s)]
    return max(matches, key=len) if matches else None


def check_opens(path: str | os.PathLike, name: str | None = None,
                extra: dict[str, Callable[[Path], None]] | None = None) -> None:
    """Raise :class:`DataError` unless ``path`` opens as the format its name (``name``, default the path's)
    says. ``extra`` adds or replaces checks by suffix (a suite's own formats, such as a pickle read by a
    restricted unpickler)."""
    path = Path(path)
    name = name or path.name
    if looks_like_html(path):
        raise DataError(f"{name}: the server sent an HTML page, not data (a sign-in, quota or virus-scan page); "
                        "the file is not used")
    checks = {**CHECKS, **(extra or {})}
    lower = name.lower()
    suffix = max((s for s in checks if lower.endswith(s)), key=len, default=None)
    if suffix is None:
        raise DataError(f"{name}: no format check is known for this file type (known: {sorted(checks)}), so it "
                        "cannot be trusted on first use; give its checksum instead")
    try:
        checks[suffix](path)
    except DataError:
        raise
    except Exception as exc:  # any reader failure means the file is not what it claims to be
        raise DataError(f"{name}: does not open as a {suffix} file ({type(exc).__name__}: {exc}); it is truncated "
                        "or not the expected file, and is not used") from exc
