"""Reading NAS-Bench-360's pickled files without running code from them.

Several task files are pickles (Spherical's ``s2_cifar100.gz``, ECG's ``challenge2017.pkl``, PSICOV's feature
``.pkl`` files, and ``.npy`` files that hold object arrays). A pickle can name any importable callable, so
loading one with :mod:`pickle` runs whatever it names. :class:`RestrictedUnpickler` admits only what arrays and
plain containers need (NumPy's array reconstruction, dtypes and scalars, and Python's builtin containers) and
refuses everything else, naming what was refused.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from orca.exceptions import DataError

ALLOWED: frozenset[tuple[str, str]] = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "complex"), ("builtins", "slice"),
    ("collections", "OrderedDict"), ("_codecs", "encode"),
})
"""(module, name) pairs a pickle may refer to: array reconstruction and builtin containers only."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in :data:`ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise DataError(f"refusing to unpickle {module}.{name}: NAS-Bench-360 files hold only arrays and "
                            "plain containers, and anything else could run code")
        return super().find_class(module, name)


def load(fh: BinaryIO, encoding: str = "ASCII") -> Any:
    """Unpickle from an open binary file with :class:`RestrictedUnpickler` (``encoding`` as for :mod:`pickle`:
    ``bytes`` or ``latin1`` read Python 2 pickles)."""
    try:
        return RestrictedUnpickler(fh, encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"cannot unpickle {getattr(fh, 'name', 'the stream')}: {exc}") from exc


def load_file(path: str | Path, encoding: str = "ASCII") -> Any:
    """Unpickle a file (gzip-compressed when it starts with gzip's magic bytes)."""
    path = Path(path)
    with open(path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        return load(fh, encoding)


def load_npy(path: str | Path, encoding: str = "bytes") -> Any:
    """An ``.npy`` file; an object array (a pickle inside the file) is read with the restricted unpickler.

    ``numpy.load(allow_pickle=True)`` would run the embedded pickle unchecked; this never does."""
    path = Path(path)
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(fh)
        except ValueError as exc:
            raise DataError(f"{path} is not an .npy file: {exc}") from exc
        if not dtype.hasobject:
            fh.seek(0)
            return np.load(fh, allow_pickle=False)
        value = load(io.BufferedReader(fh), encoding)  # NumPy pickles the whole object array after the header
    if isinstance(value, np.ndarray) and value.shape != shape:
        raise DataError(f"{path}: the pickled array has shape {value.shape}, the header says {shape}")
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.hasobject:
        return value.item()  # np.save of a dict or list: the object itself
    return value
