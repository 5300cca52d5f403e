"""NAS-Bench-360 data: where the files live, fetching them (S3, then the shared drive), reading each task's
splits with NAS-Bench-360's protocol, offline regenerated and proxy tasks, and PSICOV's seeded training crops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from orca import Task
from orca.download import Source
from orca.exceptions import ConfigError
from orca.io import read_json

from ...runner.suite import TaskData
from ...runner.suite import data_root as suite_data_root
from . import formats, offline, safe_pickle

ROOT = Path(__file__).parent


SOURCES = ("local", "download")


def data_root(config: dict) -> Path:
    return suite_data_root(config, "ORCA_NB360_ROOT", "nasbench360")


def sources(table: dict, entry: dict, data: dict) -> list[Source]:
    """Where one file may come from, in the order they are tried: a local copy (``data.path``: a folder holding
    the upstream files), a mirror of the bucket's layout (``data.url``), the file's own URL or NAS-Bench-360's
    S3 bucket, then the Google Drive file the NAS-Bench-360 README points to (when its id is known)."""
    out = []
    if data.get("path"):
        out.append(Source("path", str(Path(data["path"]).expanduser() / entry["file"]), "data.path"))
    if data.get("url"):
        out.append(Source("url", data["url"].rstrip("/") + "/" + (entry["path"] or entry["file"]), "data.url"))
    if entry.get("url"):
        out.append(Source("url", entry["url"], entry.get("host", "upstream")))
    else:
        out.append(Source("url", table["s3"].format(path=entry["path"]), "S3"))
    if entry.get("drive"):
        out.append(Source("drive", table["drive"].format(id=entry["drive"]), "Google Drive"))
    return out


FILE_CHECKS = {".npy": lambda p: safe_pickle.load_npy(p), ".pkl": lambda p: safe_pickle.load_file(p),
               ".gz": lambda p: safe_pickle.load_file(p)}
"""NAS-Bench-360's own formats, opened as the readers open them (pickles through the restricted unpickler), before
a file without a published checksum is trusted."""


def fetch(config: dict, reader: str) -> tuple[Path, dict[str, Any]]:
    """The folder holding ``reader``'s files, downloaded (and unpacked) first with ``data.source=download``.

    Every file is verified: by its published MD5 where there is one, else it must open as its format before its
    SHA-256 and size are recorded, and it is held to that record afterwards (:func:`orca.download.fetch`)."""
    from orca.download import fetch as fetch_file

    source = config["data"]["source"]
    if source not in SOURCES:
        raise ConfigError(f"data.source {source!r}; expected one of {list(SOURCES)}")
    table = read_json(ROOT / "files.json")
    folder = data_root(config) / reader
    checked, served = [], {}
    for entry in table["tasks"][reader]:
        path = folder / entry["file"]
        where = sources(table, entry, config["data"]) if source == "download" else []
        if not where and not path.is_file():
            raise formats.MissingFile(f"{entry['file']} was not found in {folder}; get it with data.source=download "
                                      f"or from {sources(table, entry, {})[0].where}")
        got = fetch_file(where, path, md5=entry["md5"], size=entry.get("size"), checks=FILE_CHECKS)
        served[entry["file"]] = "already in place" if got.source is None else f"{got.source.label}: {got.source.where}"
        if entry.get("unpack"):
            offline.unpack_once(path, folder, entry["unpack"])
        checked.append(entry["file"])
    return folder, {"source": source, "kind": "real", "files": checked, "served_by": served}


READERS = {"cifar100": formats.read_cifar100, "spherical": formats.read_spherical, "ninapro": formats.read_ninapro,
           "fsd50k": formats.read_fsd50k, "darcy": formats.read_darcy, "cosmic": formats.read_cosmic,
           "ecg": formats.read_ecg, "satellite": formats.read_satellite, "deepsea": formats.read_deepsea,
           "psicov": formats.read_psicov}


def all_tasks(config: dict) -> list[str]:
    return list(config["task_params"])


def read_splits(name: str, tp: dict, config: dict) -> tuple[formats.Splits, dict[str, Any]]:
    """A task's three splits and where they came from, by its ``kind``."""
    kind = tp["kind"]
    if kind == "real":
        if tp["reader"] not in READERS:
            raise ConfigError(f"task {name!r}: reader {tp['reader']!r} cannot be trained here yet; expected one of "
                              f"{sorted(READERS)}")
        folder, provenance = fetch(config, tp["reader"])
        return READERS[tp["reader"]](folder), provenance
    if kind in ("regenerated", "proxy"):
        return offline.build(tp["builder"], data_root(config), config["data"], tp)
    raise ConfigError(f"task {name!r}: kind {kind!r}; expected one of ['real', 'regenerated', 'proxy']")


def _limit(split: formats.Split, n: int | None, seed: int) -> formats.Split:
    """At most ``n`` rows (a seeded subset, order kept) for CPU-sized presets; ``None`` keeps all."""
    if n is None or len(split) <= n:
        return split
    keep = np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False))
    return formats.Split(split.X[keep], split.y[keep], {k: v[keep] for k, v in split.extra.items()})


def load_task(name: str, config: dict, seed: int) -> TaskData:
    tp = config["task_params"][name]
    splits, provenance = read_splits(name, tp, config)
    own = {k: v for k, v in tp.get("max_rows", {}).items() if v is not None}  # a task may set its own
    limits = {**config["protocol"]["max_rows"], **own}
    train, val, test = (_limit(s, limits.get(part), 0) for s, part in
                        ((splits.train, "train"), (splits.val, "val"), (splits.test, "test")))
    whole = {}
    if tp.get("crop"):  # PSICOV: maps vary in size; train and select on fixed crops, score whole maps by tiles
        whole = {"test_features": test.X, "test_maps": test.y}
        train, val, test = (psicov_crops(s, int(tp["crop"]), seed=i) for i, s in enumerate((train, val, test)))
    X_tr, y_tr, X_va, X_te = train.X, train.y, val.X, test.X
    y_va, y_te = val.y, test.y
    extra: dict[str, np.ndarray] = {**whole, **{f"test_{k}": v for k, v in test.extra.items()},
                                    **{f"val_{k}": v for k, v in val.extra.items()}}
    if "nx" in tp:
        provenance = {**provenance, "grid": [int(tp["nx"])] * 2}
    if tp.get("normalise") == "pointwise":  # Darcy: unit-Gaussian per grid point (training statistics) + grid
        X_tr, X_va, X_te = (np.concatenate([a, g], axis=1) for a, g in
                            zip(_pointwise(X_tr, X_tr, X_va, X_te), (_grid(X_tr), _grid(X_va), _grid(X_te))))
        mean, std = y_tr.mean(axis=0), y_tr.std(axis=0) + 1e-5
        y_tr, y_va, y_te = ((y - mean) / std for y in (y_tr, y_va, y_te))
        extra.update(y_mean=mean, y_std=std)
    extra.update(X_val=X_va, y_val=y_va)
    output, k = tp["output"], tp.get("classes")
    out_shape = (k,) if output in ("classification", "multilabel") else y_tr.shape[1:]
    task = Task(f"nb360-{name}", X_tr.shape[1:], output, out_shape, loss=tp["loss"], metric=tp["orca_metric"],
                stage2_labels="labels" if output == "classification" else "kmeans")
    data = {**provenance, "name": tp["name"], "published_task": tp["published"], "kind": tp["kind"] if
            tp["kind"] != "real" else provenance["kind"], "notes": splits.notes,
            "rows": {"train": len(X_tr), "val": len(X_va), "test": len(X_te)},
            "rows_available": {"train": len(splits.train), "val": len(splits.val), "test": len(splits.test)},
            "metric_nb360": tp["metric"], "metric_paper": tp.get("metric_paper", tp["metric"])}
    return TaskData(task, X_tr, y_tr, X_te, y_te, data=data, params=tp, extra=extra)


def psicov_crops(split: formats.Split, crop: int, seed: int) -> formats.Split:
    """One seeded ``crop`` x ``crop`` window per protein from its map padded by 5 on each side (zero-padded when
    the protein is smaller), targets clipped at 16 Å as NAS-Bench-360 trains: (N, 57, c, c) and (N, 1, c, c)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for x, y in zip(split.X, split.y):
        x, y = _pad_map(x, crop), _pad_map(y[None], crop, value=PSICOV_CLIP)
        i, j = rng.integers(0, x.shape[1] - crop + 1), rng.integers(0, x.shape[2] - crop + 1)
        xs.append(x[:, i:i + crop, j:j + crop])
        ys.append(np.minimum(y[:, i:i + crop, j:j + crop], PSICOV_CLIP))
    return formats.Split(np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32),
                         {k: v for k, v in split.extra.items()})


PSICOV_PAD, PSICOV_CLIP = 5, 16.0
"""PSICOV maps are padded by 5 cells and distances clipped at 16 Å, as NAS-Bench-360 does."""


def _pad_map(a: np.ndarray, size: int, value: float = 0.0) -> np.ndarray:
    """(C, L, L) padded by 5 on each side, then at the end up to at least ``size``."""
    a = np.pad(a, ((0, 0), (PSICOV_PAD, PSICOV_PAD), (PSICOV_PAD, PSICOV_PAD)), constant_values=value)
    extra = max(0, size - a.shape[1])
    return np.pad(a, ((0, 0), (0, extra), (0, extra)), constant_values=value)


def _pointwise(fit: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    mean, std = fit.mean(axis=0), fit.std(axis=0) + 1e-5
    return [((a - mean) / std).astype(np.float32) for a in arrays]


def _grid(a: np.ndarray) -> np.ndarray:
    """Two channels of cell-centre coordinates in [0, 1] for (N, C, H, W) inputs: (N, 2, H, W)."""
    h, w = a.shape[-2:]
    gy, gx = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    return np.broadcast_to(np.stack([gx, gy]).astype(np.float32), (len(a), 2, h, w)).copy()
