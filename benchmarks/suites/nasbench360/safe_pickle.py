"""Reading NAS-Bench-360's pickled files without running code from them.

Several task files are pickles (Spherical's ``s2_cifar100.gz``, ECG's ``challenge2017.pkl``, PSICOV's feature
``.pkl`` files, and ``.npy`` files that hold object arrays). A pickle can name any importable callable, so
loading one with :mod:`pickle` runs whatever it names. :class:`RestrictedUnpickler` admits only what arrays and
plain containers need (NumPy's array reconstruction, dtypes and scalars, and Python's builtin containers) and
refuses everything else, naming what was refused.
"""

from __future__ import annotations

import _compat_pickle
import gzip
import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from orca.exceptions import DataError

MAX_ALLOCATION = 1 << 31
"""Largest array or byte buffer (bytes) a pickle may ask for by size alone: 2 GiB. Real task files carry their
data in the stream; a call such as ``bytearray(10**12)`` or ``ndarray((10**9, 10**9))`` is a memory bomb."""


def _bounded_bytearray(*args: object) -> bytearray:
    """``bytearray`` from data in the stream only: a bare size (``bytearray(N)``) is refused."""
    if args and isinstance(args[0], int):
        raise DataError(f"refusing to unpickle bytearray({args[0]}): a buffer made from a size, not from data")
    return bytearray(*args)  # type: ignore[arg-type]


class _BoundedNdarray(np.ndarray):
    """Stands in for ``numpy.ndarray`` in a pickle: ``ndarray(shape)`` beyond :data:`MAX_ALLOCATION` is refused.
    Array reconstruction (``_reconstruct(ndarray, (0,), b'b')`` then ``__setstate__``) gets the real class."""

    def __new__(cls, shape, dtype=float, *args, **kwargs):  # noqa: ANN001, ANN204
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        size = np.dtype(dtype).itemsize * int(np.prod([max(0, int(d)) for d in dims], dtype=object))
        if size > MAX_ALLOCATION:
            raise DataError(f"refusing to unpickle an array of shape {dims} ({size} bytes > {MAX_ALLOCATION})")
        return np.ndarray(shape, dtype, *args, **kwargs)


def _reconstruct(subtype, *args):  # noqa: ANN001, ANN202
    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct(np.ndarray if subtype is _BoundedNdarray else subtype, *args)


_REPLACED = {("numpy", "ndarray"): _BoundedNdarray, ("builtins", "bytearray"): _bounded_bytearray,
             ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
             ("numpy._core.multiarray", "_reconstruct"): _reconstruct}

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
        # Python 2 names (protocol < 3 pickles, e.g. __builtin__.bytearray) are checked under their Python 3 names
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) not in ALLOWED:
            raise DataError(f"refusing to unpickle {module}.{name}: NAS-Bench-360 files hold only arrays and "
                            "plain containers, and anything else could run code")
        return _REPLACED.get((module, name)) or super().find_class(module, name)


def load(fh: BinaryIO, encoding: str = "ASCII") -> Any:
    """Unpickle from an open binary file with :class:`RestrictedUnpickler` (``encoding`` as for :mod:`pickle`:
    ``bytes`` or ``latin1`` read Python 2 pickles)."""
    try:
        return RestrictedUnpickler(fh, encoding=encoding).load()
    except DataError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, OverflowError, RecursionError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot unpickle {getattr(fh, 'name', 'the stream')}: {type(exc).__name__}: {exc}") from exc


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

    NumPy's own loader, with pickles allowed, would run the embedded pickle unchecked; this never does."""
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
