"""PDEBench data: the data folder, generated families (built once, cached), the real files (download or local,
checked against PDEBench's MD5s), task splits with PDEBench's protocol and the validation split carved from
the training part (trajectories kept whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from orca import Task
from orca.data import split_train_val
from orca.exceptions import ConfigError, DataError
from orca.io import read_json

from ...runner.suite import TaskData
from ...runner.suite import data_root as suite_data_root
from . import layouts
from .generators import GENERATOR_VERSION, GENERATORS

ROOT = Path(__file__).parent


SOURCES = ("generated", "download", "local")


VERSIONS = ("current", "2023")


def data_root(config: dict) -> Path:
    return suite_data_root(config, "ORCA_PDEBENCH_ROOT", "pdebench")


def generated_path(config: dict, family: str, dims: int, n_samples: int | None = None) -> Path:
    data = config["data"]
    nx = data["nx_1d"] if dims == 1 else data["nx_2d"]
    n = n_samples or data["n_samples"]
    name = f"{family}__orca-gen-v{GENERATOR_VERSION}_n{n}_nx{nx}_seed{data['generator_seed']}.h5"
    return data_root(config) / "generated" / name


def ensure_generated(config: dict, family: str, dims: int, n_samples: int | None = None,
                     progress: bool = True) -> Path:
    """The generated file for ``family`` at the config's size (``n_samples`` overrides the config's count, for
    the costly families), written atomically if it is not cached yet. One process generates it: parallel jobs
    of the same task wait on a lock beside the file (``filelock``) and then read what the first one wrote, rather
    than each solving the same PDEs (the 1D compressible Navier–Stokes family takes minutes)."""
    from filelock import FileLock

    path = generated_path(config, family, dims, n_samples)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.is_file():  # another job generated it while this one waited
            return path
        data = config["data"]
        nx = data["nx_1d"] if dims == 1 else data["nx_2d"]
        gen = GENERATORS[family](n_samples or data["n_samples"], nx, data["generator_seed"], progress=progress)
        return layouts.write(path, gen, {"orca_source": "generated offline", "generator": f"orca-pdebench {family}",
                                         "generator_version": GENERATOR_VERSION,
                                         "generator_seed": data["generator_seed"],
                                         "n_requested": n_samples or data["n_samples"]})


def real_path(config: dict, family: str) -> tuple[Path, dict]:
    """Where the DaRUS file of ``family`` lives under the data root, and its table entry for the version."""
    table = read_json(ROOT / "files.json")
    version = config["data"]["version"]
    if version not in VERSIONS:
        raise ConfigError(f"data.version {version!r}; expected one of {list(VERSIONS)}")
    entry = table["files"].get(family)
    if entry is None:
        raise DataError(f"no PDEBench file is listed for {family!r}; listed: {sorted(table['files'])}")
    if entry[version] is None:
        raise DataError(f"the {version} version of {entry['file']} is not published any more (see files.json); "
                        "use data.version=current")
    return data_root(config) / entry["path"] / entry["file"], {**entry[version], "url": table["url"],
                                                               "path": entry["path"]}


def locate(config: dict, family: str, dims: int, n_samples: int | None = None) -> tuple[Path, dict[str, Any]]:
    """The file to read and its provenance, by ``data.source``."""
    from orca.download import Source, fetch

    source = config["data"]["source"]
    if source not in SOURCES:
        raise ConfigError(f"data.source {source!r}; expected one of {list(SOURCES)}")
    if source == "generated":
        path = ensure_generated(config, family, dims, n_samples)
        info = layouts.inspect(path)
        return path, {"source": "generated offline", "kind": "generated", "generator_version": GENERATOR_VERSION,
                      "file": path.name, "dropped_non_finite": int(info.attrs.get("dropped_non_finite", 0))}
    path, entry = real_path(config, family)
    data = config["data"]
    where = []
    if source == "download":  # a local copy, a mirror of PDEBench's layout, then DaRUS itself
        if data.get("path"):
            where.append(Source("path", str(Path(data["path"]).expanduser() / path.name), "data.path"))
        if data.get("url"):
            where.append(Source("url", f"{data['url'].rstrip('/')}/{entry['path']}/{path.name}", "data.url"))
        where.append(Source("url", entry["url"].format(id=entry["id"]), "DaRUS"))
    elif not path.is_file():
        raise DataError(f"{path} is missing; download it with data.source=download or from "
                        f"{entry['url'].format(id=entry['id'])} (MD5 {entry['md5']}) into {path.parent}")
    # verified by the published MD5; the one file without one must open as HDF5 before its digest is recorded
    got = fetch(where, path, md5=entry["md5"])
    return path, {"source": "download", "kind": "real", "version": data["version"], "file": path.name,
                  "darus_id": entry["id"], "md5": entry["md5"],
                  "served_by": "already in place" if got.source is None else f"{got.source.label}: {got.source.where}"}


def all_tasks(config: dict) -> list[str]:
    return list(config["task_params"])


def rollout_frames(info: layouts.FileInfo, tp: dict) -> list[int]:
    """Frame indices of a roll-out task: ``rollout_steps + 1`` evenly spaced times from input to target time."""
    steps = int(tp["rollout_steps"])
    if steps < 1:
        raise ConfigError(f"rollout_steps must be at least 1, got {steps}")
    times = np.linspace(tp["input_time"], tp["target_time"], steps + 1)
    frames = [layouts.frame_index(info, float(t), None) for t in times]
    if len(set(frames)) != len(frames):
        raise ConfigError(f"rollout_steps={steps} asks for frames closer than the file's time step "
                          f"({info.t[1] - info.t[0]:g}); use fewer steps")
    return frames


def load_task(name: str, config: dict, seed: int) -> TaskData:
    tp = config["task_params"][name]
    family, dims = tp["family"], int(tp["dims"])
    if family not in GENERATORS:
        raise ConfigError(f"task {name!r}: family {family!r}; expected one of {sorted(GENERATORS)}")
    path, provenance = locate(config, family, dims, tp.get("n_samples"))
    info = layouts.inspect(path)
    protocol = config["protocol"]
    resolution = protocol["resolution_1d"] if dims == 1 else protocol["resolution_2d"]
    train_idx, test_idx = layouts.pdebench_split(info, protocol["test_fraction"])
    groups, extra, frames = None, {}, None
    if tp.get("rollout_steps"):
        frames = rollout_frames(info, tp)
        train = layouts.read_frames(path, train_idx, frames, resolution)  # (n, K+1, C, *space)
        test = layouts.read_frames(path, test_idx, frames, resolution)
        k = len(frames) - 1
        # consecutive frames become one-step pairs: (n, K, C, *space) -> (n*K, C, *space), trajectory-major
        X_tr = train[:, :-1].reshape(-1, *train.shape[2:])
        y_tr = train[:, 1:].reshape(-1, *train.shape[2:])
        groups = np.repeat(np.arange(len(train)), k)
        X_te, y_te = test[:, 0], test[:, -1]
        extra = {"rollout_targets": test[:, 1:]}  # (n_test, K, C, *space)
    else:
        read = dict(input_time=tp["input_time"], target_time=tp["target_time"], resolution=resolution)
        X_tr, y_tr = layouts.read_pairs(path, train_idx, **read)
        X_te, y_te = layouts.read_pairs(path, test_idx, **read)
    task = Task(f"pdebench-{name}", X_tr.shape[1:], "dense", y_tr.shape[1:], loss=tp["loss"], metric="relative_l2",
                stage2_labels="kmeans")
    meta = {**provenance, "name": tp["name"], "published_task": tp["published"], "samples": info.n_samples,
            "resolution": resolution, "rows": {"train": len(X_tr), "test": len(X_te)},
            "input_time": tp["input_time"], "target_time": tp["target_time"]}
    if frames is not None:
        meta.update(rollout_steps=len(frames) - 1, rollout_times=[float(info.t[i]) for i in frames])
    return TaskData(task, X_tr, y_tr, X_te, y_te, data=meta, params={**tp, "val_fraction": protocol["val_fraction"]},
                    groups=groups, extra=extra)


def _val_split(data: TaskData, fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Training and validation parts of the training rows; rows of one trajectory stay on one side."""
    if data.groups is None:
        tr, va = split_train_val(len(data.X_train), fraction, seed)
    else:
        units = np.unique(data.groups)
        tr_u, va_u = split_train_val(len(units), fraction, seed)
        held = np.isin(data.groups, units[va_u])
        tr, va = np.flatnonzero(~held), np.flatnonzero(held)
    return data.X_train[tr], data.y_train[tr], data.X_train[va], data.y_train[va]
