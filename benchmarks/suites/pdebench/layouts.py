"""PDEBench's four HDF5 layouts: one reader for downloaded and generated files, one writer for generated ones.

``benchmarks.md`` §1.2:

- ``tensor``: ``tensor`` (N, T, X), ``x-coordinate``, ``t-coordinate`` (often T + 1 values: truncated to T);
- ``cfd``: ``density``, ``pressure``, ``Vx`` (+ ``Vy``, ``Vz``) each (N, T, X[, Y, Z]), coordinates;
- ``darcy``: ``nu`` (N, H, W) the coefficient (input), ``tensor`` (N, 1, H, W) the solution (target);
- ``groups``: one group per seed (``"0000"``, ...) holding ``data`` (T, X[, Y], C) and ``grid/x``, ``grid/y``,
  ``grid/t``.

Grids and times are read from the file, never assumed. :func:`read_pairs` reads only the two frames a
single-step task needs, at a spatial stride, so multi-GB files are never loaded whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orca.exceptions import DataError, require
from orca.io import atomic_write

from .generators.base import Generated

LAYOUTS = ("tensor", "cfd", "darcy", "groups")
CFD_FIELDS = ("density", "pressure", "Vx", "Vy", "Vz")


def _h5py() -> Any:
    return require("h5py", "pde", "Reading and writing PDEBench files")


@dataclass(frozen=True)
class FileInfo:
    """What a PDEBench file holds."""

    layout: str
    n_samples: int
    spatial: tuple[int, ...]
    channels: int
    t: np.ndarray | None
    attrs: dict[str, Any]


def detect_layout(f: Any) -> str:
    keys = set(f.keys())
    if {"tensor", "nu"} <= keys:
        return "darcy"
    if "tensor" in keys:
        return "tensor"
    if {"density", "pressure", "Vx"} <= keys:
        return "cfd"
    if keys and all(isinstance(f[k], _h5py().Group) and "data" in f[k] for k in keys):
        return "groups"
    raise DataError(f"{f.filename}: unknown PDEBench layout (top-level keys {sorted(keys)[:8]}); expected one of "
                    f"{list(LAYOUTS)}: 'tensor' (+ coordinates), 'density'/'pressure'/'Vx' (CFD), 'nu' + 'tensor' "
                    "(Darcy), or groups holding 'data'")


def _attrs(obj: Any) -> dict[str, Any]:
    out = {}
    for k, v in obj.attrs.items():
        out[k] = v.item() if isinstance(v, np.generic) else (v.decode() if isinstance(v, bytes) else v)
    return out


def inspect(path: str | Path) -> FileInfo:
    """Layout, sample count, spatial shape, channels, times and attributes of a PDEBench file."""
    h5py = _h5py()
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file ({exc}); delete it and download or generate it again") from exc
    with f:
        layout = detect_layout(f)
        attrs = _attrs(f)
        if layout == "tensor":
            n, nt, *space = f["tensor"].shape
            return FileInfo(layout, n, tuple(space), 1, _times(f.get("t-coordinate"), nt), attrs)
        if layout == "cfd":
            fields = [k for k in CFD_FIELDS if k in f]
            n, nt, *space = f["density"].shape
            return FileInfo(layout, n, tuple(space), len(fields), _times(f.get("t-coordinate"), nt), attrs)
        if layout == "darcy":
            n, _, *space = f["tensor"].shape
            return FileInfo(layout, n, tuple(space), 1, None, attrs)
        keys = sorted(f.keys())
        nt, *space, c = f[keys[0]]["data"].shape
        grid = f[keys[0]].get("grid")
        t = np.asarray(grid["t"]) if grid is not None and "t" in grid else None
        return FileInfo(layout, len(keys), tuple(space), c, None if t is None else t[:nt],
                        {**attrs, **_attrs(f[keys[0]])})


def _times(dataset: Any, nt: int) -> np.ndarray | None:
    return None if dataset is None else np.asarray(dataset)[:nt]  # generators write one more time than frames


def frame_index(info: FileInfo, time: float | None, index: int | None) -> int:
    """The frame at physical ``time`` (nearest stored time, which must be within 1e-6 relative), or ``index``."""
    if info.t is None:
        raise DataError(f"a {info.layout} file has no time axis; the task must not ask for a frame")
    if index is not None:
        if not -len(info.t) <= index < len(info.t):
            raise DataError(f"frame {index} is outside the file's {len(info.t)} frames")
        return index % len(info.t)
    k = int(np.argmin(np.abs(info.t - time)))
    if abs(info.t[k] - time) > 1e-6 * max(1.0, abs(time)):
        raise DataError(f"no frame at t = {time}; the file's times run {info.t[0]:g} .. {info.t[-1]:g} "
                        f"in {len(info.t)} frames")
    return k


def stride_for(spatial: tuple[int, ...], resolution: int | None) -> int:
    """Spatial stride taking the file's grid to ``resolution`` points per axis, which must divide it."""
    if resolution is None:
        return 1
    bad = [s for s in spatial if s % resolution]
    if bad or resolution < 1:
        raise DataError(f"resolution {resolution} does not divide the file's grid {spatial}; choose a divisor "
                        f"such as {sorted({spatial[0] // d for d in (1, 2, 4, 8) if spatial[0] % d == 0})}")
    return spatial[0] // resolution


def _sorted_samples(samples: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Increasing sample indices (h5py wants them) and the permutation that restores the caller's order."""
    samples = np.asarray(samples)
    order = np.argsort(samples)
    return samples[order].tolist(), np.argsort(order)


def read_frames(path: str | Path, samples: np.ndarray, frames: list[int],
                resolution: int | None = None) -> np.ndarray:
    """Frames ``frames`` of the given samples of a time-dependent file: (n, len(frames), C, *space), float32.

    Only the asked-for frames are read from disk."""
    h5py = _h5py()
    info = inspect(path)
    if info.layout == "darcy":
        raise DataError("a darcy file has no time axis; read it with read_pairs")
    s = stride_for(info.spatial, resolution)
    sorted_idx, inverse = _sorted_samples(samples)
    space = (slice(None, None, s),) * len(info.spatial)
    with h5py.File(path, "r") as f:
        if info.layout == "tensor":  # tensor (N, T, *space)
            out = np.stack([f["tensor"][(sorted_idx, i, *space)] for i in frames], axis=1)[:, :, None]
        elif info.layout == "cfd":  # one (N, T, *space) dataset per field -> channels
            fields = [k for k in CFD_FIELDS if k in f]
            out = np.stack([np.stack([f[k][(sorted_idx, i, *space)] for k in fields], axis=1) for i in frames],
                           axis=1)
        else:  # each group: data (T, *space, C) -> (T, C, *space)
            keys = sorted(f.keys())
            out = np.stack([np.moveaxis(np.stack([f[keys[k]]["data"][(i, *space)] for i in frames]), -1, 1)
                            for k in sorted_idx])
    return out[inverse].astype(np.float32)


def read_pairs(path: str | Path, samples: np.ndarray, input_time: float | None = None,
               target_time: float | None = None, resolution: int | None = None, input_index: int | None = None,
               target_index: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Input and target fields (n, C, *space) of a single-step task for the given sample indices.

    Time-dependent layouts give the frames at ``input_time`` and ``target_time`` (or the given indices); the
    Darcy layout gives (coefficient, solution)."""
    info = inspect(path)
    if info.layout != "darcy":
        i, j = frame_index(info, input_time, input_index), frame_index(info, target_time, target_index)
        both = read_frames(path, samples, [i, j], resolution)  # (n, 2, C, *space)
        return both[:, 0], both[:, 1]
    h5py = _h5py()
    s = stride_for(info.spatial, resolution)
    sorted_idx, inverse = _sorted_samples(samples)
    space = (slice(None, None, s),) * len(info.spatial)
    with h5py.File(path, "r") as f:
        x = np.asarray(f["nu"][(sorted_idx, *space)])[:, None]
        y = np.asarray(f["tensor"][(sorted_idx, slice(None), *space)])
    return x[inverse].astype(np.float32), y[inverse].astype(np.float32)


def pdebench_split(info: FileInfo, test_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """PDEBench's split: the first 10 % of samples are test for single files, the last 10 % of the sorted seed
    groups for group files. Returns (train indices, test indices)."""
    n = info.n_samples
    n_test = max(1, int(round(test_fraction * n)))
    idx = np.arange(n)
    if info.layout == "groups":
        return idx[: n - n_test], idx[n - n_test:]
    return idx[n_test:], idx[:n_test]


def write(path: str | Path, gen: Generated, tags: dict[str, Any]) -> Path:
    """Write ``gen`` atomically in its layout; ``tags`` (source, generator, version, seed, ...) become file
    attributes so that a generated file is never mistaken for a downloaded one."""
    h5py = _h5py()

    def _write(tmp: str) -> None:
        with h5py.File(tmp, "w") as f:
            for k, v in {**gen.attrs, **tags, "dropped_non_finite": gen.dropped}.items():
                f.attrs[k] = v if isinstance(v, (int, float, str, np.ndarray)) else json.dumps(v)
            if gen.layout == "tensor":
                f.create_dataset("tensor", data=gen.fields)
                f.create_dataset("x-coordinate", data=gen.x)
                f.create_dataset("t-coordinate", data=gen.t)
            elif gen.layout == "cfd":  # fields (N, T, X, C): one dataset per variable, in the file's names
                for c, name in enumerate(gen.attrs["fields"].split(",")):
                    f.create_dataset(name, data=gen.fields[..., c])
                f.create_dataset("x-coordinate", data=gen.x)
                f.create_dataset("t-coordinate", data=gen.t)
            elif gen.layout == "darcy":
                f.create_dataset("tensor", data=gen.fields)
                f.create_dataset("nu", data=gen.coefficient)
                f.create_dataset("x-coordinate", data=gen.x)
                f.create_dataset("y-coordinate", data=gen.y if gen.y is not None else gen.x)
            elif gen.layout == "groups":
                config = json.dumps({**gen.attrs, **tags})
                for k, sample in enumerate(gen.fields):
                    g = f.create_group(f"{k:04d}")
                    g.create_dataset("data", data=sample)
                    g.create_dataset("grid/x", data=gen.x)
                    if gen.y is not None:
                        g.create_dataset("grid/y", data=gen.y)
                    g.create_dataset("grid/t", data=gen.t)
                    g.attrs["config"] = config
            else:
                raise DataError(f"cannot write layout {gen.layout!r}; expected one of {list(LAYOUTS)}")

    return atomic_write(path, _write)
