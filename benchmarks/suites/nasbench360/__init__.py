"""NAS-Bench-360 suite: the ten tasks with NAS-Bench-360's splits and metrics (the paper's variants alongside),
Darcy Flow regenerated offline with the FNO recipe, and clearly labelled proxy tasks from packaged real data.

Data (``data`` in the config):

- ``source``: ``local`` (the task's files already under ``<root>/<task>``, checked against files.json's MD5 or
  the SHA-256 recorded on first use) or ``download`` (S3 first, then the shared-drive id; resumable, verified).
  Regenerated and proxy tasks ignore it: they are built offline (:mod:`.offline`).
- ``root``: the data folder (default ``$ORCA_NB360_ROOT`` or ``<orca cache>/nasbench360``).

Every task is declared in ``default.json`` (``task_params``): its reader, input and output, the NAS-Bench-360
metric, the paper's variant, its ``kind`` (real, regenerated or proxy) and the per-task ORCA settings that mirror
the paper's configs (``method.md`` §3.3, scaled by the presets). Validation is NAS-Bench-360's own split, never the
test set (the reference code selected on test). Methods: ``orca``; ``cnn`` (a Wide-ResNet for images, a 1D
ResNet for sequences, with a small stated budget); ``fno`` (Darcy).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from orca import OrcaConfig, Task
from orca.bodies import cache_root
from orca.config import flatten
from orca.exceptions import ConfigError, DataError
from orca.io import read_json

from ...runner.suite import JobContext, Suite, TaskData, env_unless_set, register_suite, with_task_overrides
from . import formats, metrics, offline

ROOT = Path(__file__).parent
SOURCES = ("local", "download")


def data_root(config: dict) -> Path:
    root = env_unless_set(config["data"]["root"], "", "ORCA_NB360_ROOT", "data.root") or str(cache_root() / "nasbench360")
    return Path(root).expanduser()


def fetch(config: dict, reader: str) -> tuple[Path, dict[str, Any]]:
    """The folder holding ``reader``'s files, downloaded (and unpacked) first with ``data.source=download``;
    every file is verified (MD5 when published, else the SHA-256 recorded on first use)."""
    from orca.download import download, file_digest, verify

    source = config["data"]["source"]
    if source not in SOURCES:
        raise ConfigError(f"data.source {source!r}; expected one of {list(SOURCES)}")
    table = read_json(ROOT / "files.json")
    folder = data_root(config) / reader
    checked = []
    for entry in table["tasks"][reader]:
        path = folder / entry["file"]
        if source == "download" and not path.is_file():
            urls = [entry.get("url") or table["s3"].format(path=entry["path"])]
            if entry.get("drive"):
                urls.append(table["drive"].format(id=entry["drive"]))
            errors = []
            for url in urls:
                try:
                    download(url, path, md5=entry["md5"])
                    break
                except (OSError, DataError) as exc:  # try the next location; all failures are reported
                    errors.append(f"{url}: {exc}")
            else:
                raise DataError(f"could not download {entry['file']}: " + "; ".join(errors))
        if not path.is_file():
            raise formats.MissingFile(f"{entry['file']} was not found in {folder}; get it with data.source=download "
                                      f"or from {entry.get('url') or table['s3'].format(path=entry['path'])}")
        if entry["md5"]:
            verify(path, md5=entry["md5"])
        else:
            record = path.with_name(path.name + ".sha256")
            if record.is_file():
                verify(path, sha256=record.read_text().split()[0])
            else:
                record.write_text(f"{file_digest(path)}  {path.name}\n")
        if entry.get("unpack"):
            offline.unpack_once(path, folder, entry["unpack"])
        checked.append(entry["file"])
    return folder, {"source": source, "kind": "real", "files": checked}


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


PSICOV_PAD, PSICOV_CLIP = 5, 16.0


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


def _pad_map(a: np.ndarray, size: int, value: float = 0.0) -> np.ndarray:
    """(C, L, L) padded by 5 on each side, then at the end up to at least ``size``."""
    a = np.pad(a, ((0, 0), (PSICOV_PAD, PSICOV_PAD), (PSICOV_PAD, PSICOV_PAD)), constant_values=value)
    extra = max(0, size - a.shape[1])
    return np.pad(a, ((0, 0), (0, extra), (0, extra)), constant_values=value)


def psicov_predict_maps(predict, features: np.ndarray, crop: int) -> list[np.ndarray]:
    """Whole-protein distance maps from a model of ``crop`` x ``crop`` windows: the padded canvas is covered by
    windows (the last ones flush with the edge), overlaps averaged, then cut back to the protein's L x L."""
    maps = []
    for x in features:
        L = x.shape[1]
        canvas = _pad_map(x, crop)
        n = canvas.shape[1]
        starts = sorted({*range(0, n - crop + 1, crop), n - crop})
        windows = [(i, j) for i in starts for j in starts]
        tiles = np.stack([canvas[:, i:i + crop, j:j + crop] for i, j in windows]).astype(np.float32)
        out = np.asarray(predict(tiles))[:, 0]  # (tiles, 1, c, c) -> (tiles, c, c)
        total, count = np.zeros((n, n)), np.zeros((n, n))
        for (i, j), tile in zip(windows, out):
            total[i:i + crop, j:j + crop] += tile
            count[i:i + crop, j:j + crop] += 1
        maps.append((total / count)[PSICOV_PAD:PSICOV_PAD + L, PSICOV_PAD:PSICOV_PAD + L])
    return maps


def _pointwise(fit: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    mean, std = fit.mean(axis=0), fit.std(axis=0) + 1e-5
    return [((a - mean) / std).astype(np.float32) for a in arrays]


def _grid(a: np.ndarray) -> np.ndarray:
    """Two channels of cell-centre coordinates in [0, 1] for (N, C, H, W) inputs: (N, 2, H, W)."""
    h, w = a.shape[-2:]
    gy, gx = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    return np.broadcast_to(np.stack([gx, gy]).astype(np.float32), (len(a), 2, h, w)).copy()


def scores(data: TaskData, predict) -> dict[str, dict[str, float]]:
    """NAS-Bench-360's error (``error``) and the paper's variant (``error_paper``) on validation and test, from
    ``predict`` (inputs -> raw outputs); Darcy outputs are decoded first, PSICOV maps are predicted whole."""
    out = {"val": task_errors(data, predict(data.extra["X_val"]), data.extra["y_val"], "val")}
    if data.params["metric"] == "mae8":
        maps = psicov_predict_maps(predict, data.extra["test_features"], int(data.params["crop"]))
        value = metrics.psicov_mae8(maps, list(data.extra["test_maps"]))
        out["test"] = {"error": value, "error_paper": value}
    else:
        out["test"] = task_errors(data, predict(data.X_test), data.y_test, "test")
    return out


def task_errors(data: TaskData, raw: np.ndarray, y: np.ndarray, part: str) -> dict[str, float]:
    metric = data.params["metric"]
    extra = {k.removeprefix(f"{part}_"): v for k, v in data.extra.items() if k.startswith(f"{part}_")}
    if metric == "error_pct":
        value = metrics.error_percent(y, raw)
        return {"error": value, "error_paper": value}
    if metric == "ecg_f1":
        return {"error": metrics.ecg_error(y, raw, extra["record"], "record"),
                "error_paper": metrics.ecg_error(y, raw, extra["record"], "window")}
    if metric == "relative_l2":
        if "y_mean" in data.extra:
            raw = raw * data.extra["y_std"] + data.extra["y_mean"]
            y = y * data.extra["y_std"] + data.extra["y_mean"]
        value = metrics.relative_l2(y, raw)
        return {"error": value, "error_paper": value}
    if metric == "cosmic_auroc":
        ignore = extra["ignore"]
        return {"error": metrics.cosmic_error(y, raw, ignore, "nb360"),
                "error_paper": metrics.cosmic_error(y, raw, ignore, "paper"),
                "error_scores": metrics.cosmic_error(y, raw, ignore, "score")}
    if metric == "map":
        value = metrics.fsd50k_error(y, raw, extra["clip"])
        return {"error": value, "error_paper": value}
    if metric == "mean_auroc":
        value = metrics.deepsea_error(y, raw)
        return {"error": value, "error_paper": value}
    if metric == "mae8":  # validation on crops: mean absolute error over the crop's close pairs (< 8 Å)
        close = y <= 8.0
        return {"error": float(np.abs(raw - y)[close].mean()) if close.any() else float(np.abs(raw - y).mean())}
    raise ConfigError(f"metric {metric!r}; expected one of ['error_pct', 'ecg_f1', 'relative_l2', "
                      "'cosmic_auroc', 'map', 'mean_auroc', 'mae8']")


def orca_config(params: dict, task_params: dict, seed: int) -> OrcaConfig:
    """The ORCA method's settings with the task's own ORCA settings (``task_params.<task>.orca``) on top."""
    return OrcaConfig.from_dict(params).with_overrides({**flatten(task_params.get("orca", {})), "seed": seed})


def run_orca(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    from orca.data import ArrayDataset
    from orca.pipeline import fit
    from orca.refine import predict

    config = orca_config(params, data.params, seed)
    X_val, y_val = data.extra["X_val"], data.extra["y_val"]
    result = fit(data.task, data.X_train, data.y_train, config, X_val=X_val, y_val=y_val,
                 checkpoint_dir=ctx.checkpoint_dir, resume=ctx.resume, checkpoint_every_s=ctx.checkpoint_every_s)

    def raw(x: np.ndarray) -> np.ndarray:
        return predict(result.model, ArrayDataset(x, np.zeros(len(x), dtype=np.float32)))[0]

    return {"metrics": scores(data, raw), "timings_s": result.timings,
            "parameters": result.parameters, "align": result.align_report.to_dict(),
            "refine": {k: result.refine_info.get(k) for k in ("best_epoch", "steps", "history")},
            "orca_config": config.to_dict(), "body_source": getattr(result.model.body, "source", "given"),
            "device": result.refine_info.get("device"), "split": result.split}


def run_supervised(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext(),
                   kind: str = "cnn") -> dict[str, Any]:
    """The CNN reference (Wide-ResNet for images, 1D ResNet for sequences) or FNO (dense 2D tasks); selected on
    the validation split by the task's own error, trained from scratch when a run is resumed."""
    import torch

    from baselines.cnn import resnet1d, wide_resnet
    from baselines.fno import FNO
    from baselines.supervised import TrainConfig, predict_batches, train_supervised

    params = with_task_overrides(data, kind, params)
    torch.manual_seed(seed)
    task = data.task
    c_in, dims = data.X_train.shape[1], data.X_train.ndim - 2
    n_out = task.output_shape[0]
    if kind == "fno":
        if task.output != "dense" or dims != 2:
            raise ConfigError(f"fno runs on dense 2D tasks; {task.name} is {task.output} with {dims} spatial axes")
        model = FNO(c_in, n_out, 2, modes=params["modes"], width=params["width"])
    elif dims == 2:
        model = wide_resnet(c_in, n_out, params["depth"], params["widen"], dense=task.output == "dense")
    elif dims == 1 and task.output != "dense":
        model = resnet1d(c_in, n_out, tuple(params["widths"]), params["blocks"], params["kernel"])
    else:
        raise ConfigError(f"no CNN reference for {task.name} ({task.output}, {dims} spatial axes)")
    loss = {"classification": "cross_entropy", "multilabel": "bce"}.get(task.output, data.params["loss"])
    loss = "bce" if data.params["metric"] == "cosmic_auroc" else loss
    cfg = TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                      weight_decay=params["weight_decay"], step_size=params["step_size"], gamma=params["gamma"],
                      loss=loss)
    X_val, y_val = data.extra["X_val"], data.extra["y_val"]
    info = train_supervised(model, data.X_train, data.y_train, X_val, y_val, cfg,
                            lambda y, raw: task_errors(data, raw, y, "val")["error"], seed=seed)
    return {"metrics": scores(data, lambda x: predict_batches(model, x)), "timings_s": {"train": info["seconds"]},
            "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "refine": {"best_epoch": info["best_epoch"], "curve": [h["val_error"] for h in info["history"]]},
            "split": {"train": len(data.X_train), "val": len(X_val), "test": len(data.X_test)},
            "budget": f"{params['epochs']} epochs, no search (stated budget)"}


GROUPS = {
    **dict.fromkeys(("cifar100", "spherical", "ninapro", "fsd50k", "fashion-proxy"), "2D classification"),
    **dict.fromkeys(("darcy", "darcy-regen", "psicov", "cosmic"), "2D dense prediction"),
    **dict.fromkeys(("ecg", "satellite", "deepsea", "splice-proxy", "ecg-proxy"), "1D sequences"),
}
"""The task groups of the NAS-Bench-360 paper's table, with each proxy beside the tasks whose format it takes."""

SUITE = register_suite(Suite(
    name="nasbench360", root=ROOT, load_task=load_task,
    methods={"orca": run_orca, "cnn": functools.partial(run_supervised, kind="cnn"),
             "fno": functools.partial(run_supervised, kind="fno")},
    all_tasks=all_tasks, published=("nasbench360",), reference_methods=("cnn",), comparable_means=False,
    task_groups=GROUPS,
))
