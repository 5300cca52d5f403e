"""PDEBench suite: the paper's single-step tasks (initial state -> state at the final training time; Darcy:
coefficient -> solution) on PDEBench's own files when they are available, or on files our generators write in
the same layouts (tagged "generated offline" and labelled so in every table).

Data (``data`` in the config):

- ``source``: ``generated`` (default; our solvers, cached under ``root``), ``download`` (the DaRUS file, resumable,
  MD5-verified; the real paths of ``files.json``) or ``local`` (the DaRUS file already under ``root``, verified).
- ``version``: ``current`` (today's files) or ``2023`` (the pre-fix advection file the paper most probably used).
- ``root``: the data folder (default ``$ORCA_PDEBENCH_ROOT`` or ``<orca cache>/pdebench``).
- ``n_samples``, ``nx_1d``, ``nx_2d``, ``generator_seed``: what the generators write.

Tasks: single-step (the paper's) by default. A task with ``rollout_steps: K`` is PDEBench's autoregressive
evaluation instead: K + 1 frames evenly spaced from ``input_time`` to ``target_time``; every method learns the
one-step map between consecutive frames (teacher forcing, one input frame), and on test it starts from the first
frame and feeds its own predictions back K times. Its test scores average each step's metrics over the K steps
(PDEBench's time averaging); the final step's are kept as ``test_final`` and the per-step nRMSE as ``rollout``.

Splits (``protocol``): PDEBench's (the first 10 % of samples are test for single files, the last 10 % of seeds
for group files), plus a validation split carved from the training part with the job's seed; every method gets
exactly the same three parts. ``resolution_1d``/``resolution_2d`` sub-sample the file's grid (they must divide it).

Methods: ``orca`` (MiniLM for 1D, DINOv2-S offline for 2D; the task's ``orca`` overrides), ``fno`` and ``unet``
(our own, PDEBench's configurations). Scores: PDEBench's field metrics on the test frames
(:mod:`.metrics`), ranked by ``relative_l2`` (ORCA's and PDEBench's nRMSE).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from orca import OrcaConfig, Task
from orca.bodies import cache_root
from orca.config import flatten
from orca.data import split_train_val
from orca.exceptions import ConfigError, DataError
from orca.io import read_json

from ...runner.suite import JobContext, Suite, TaskData, env_unless_set, register_suite, with_task_overrides
from . import layouts
from .generators import GENERATOR_VERSION, GENERATORS
from .metrics import field_metrics

ROOT = Path(__file__).parent
SOURCES = ("generated", "download", "local")
VERSIONS = ("current", "2023")


def data_root(config: dict) -> Path:
    root = env_unless_set(config["data"]["root"], "", "ORCA_PDEBENCH_ROOT", "data.root") or str(cache_root() / "pdebench")
    return Path(root).expanduser()


def generated_path(config: dict, family: str, dims: int, n_samples: int | None = None) -> Path:
    data = config["data"]
    nx = data["nx_1d"] if dims == 1 else data["nx_2d"]
    n = n_samples or data["n_samples"]
    name = f"{family}__orca-gen-v{GENERATOR_VERSION}_n{n}_nx{nx}_seed{data['generator_seed']}.h5"
    return data_root(config) / "generated" / name


def ensure_generated(config: dict, family: str, dims: int, n_samples: int | None = None,
                     progress: bool = True) -> Path:
    """The generated file for ``family`` at the config's size (``n_samples`` overrides the config's count, for
    the costly families), written atomically if it is not cached yet."""
    path = generated_path(config, family, dims, n_samples)
    if path.is_file():
        return path
    data = config["data"]
    nx = data["nx_1d"] if dims == 1 else data["nx_2d"]
    gen = GENERATORS[family](n_samples or data["n_samples"], nx, data["generator_seed"], progress=progress)
    return layouts.write(path, gen, {"orca_source": "generated offline", "generator": f"orca-pdebench {family}",
                                     "generator_version": GENERATOR_VERSION, "generator_seed": data["generator_seed"],
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
    return data_root(config) / entry["path"] / entry["file"], {**entry[version], "url": table["url"]}


def locate(config: dict, family: str, dims: int, n_samples: int | None = None) -> tuple[Path, dict[str, Any]]:
    """The file to read and its provenance, by ``data.source``."""
    from orca.download import download, file_digest, verify

    source = config["data"]["source"]
    if source not in SOURCES:
        raise ConfigError(f"data.source {source!r}; expected one of {list(SOURCES)}")
    if source == "generated":
        path = ensure_generated(config, family, dims, n_samples)
        info = layouts.inspect(path)
        return path, {"source": "generated offline", "kind": "generated", "generator_version": GENERATOR_VERSION,
                      "file": path.name, "dropped_non_finite": int(info.attrs.get("dropped_non_finite", 0))}
    path, entry = real_path(config, family)
    if source == "download":
        download(entry["url"].format(id=entry["id"]), path, md5=entry["md5"])
    elif not path.is_file():
        raise DataError(f"{path} is missing; download it with data.source=download or from "
                        f"{entry['url'].format(id=entry['id'])} (MD5 {entry['md5']}) into {path.parent}")
    else:
        verify(path, md5=entry["md5"])
    record = path.with_name(path.name + ".sha256")
    if entry["md5"] is None:  # no published checksum: record ours on first use and hold the file to it later
        if record.is_file():
            verify(path, sha256=record.read_text().split()[0])
        else:
            record.write_text(f"{file_digest(path)}  {path.name}\n")
    return path, {"source": "download", "kind": "real", "version": config["data"]["version"], "file": path.name,
                  "darus_id": entry["id"], "md5": entry["md5"]}


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


def rollout(step: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, steps: int) -> np.ndarray:
    """Feed ``step``'s predictions back ``steps`` times from ``x0`` (N, C, *space); returns (N, steps, C, *space)."""
    states, x = [], x0
    for _ in range(steps):
        x = np.asarray(step(x), dtype=np.float32)
        if not np.isfinite(x).all():  # a diverged roll-out is scored as it is; later steps stay NaN
            x = np.where(np.isfinite(x), x, np.nan).astype(np.float32)
        states.append(x)
    return np.stack(states, axis=1)


def score(data: TaskData, step: Callable[[np.ndarray], np.ndarray]) -> tuple[dict[str, Any], np.ndarray]:
    """Test metrics of a trained one-step map ``step`` and its final-time prediction (N, C, *space).

    Single-step tasks: the metrics of ``step(X_test)``. Roll-out tasks: each step's metrics averaged over the
    steps (PDEBench), the final step's as ``test_final``, and the nRMSE after each step."""
    if "rollout_targets" not in data.extra:
        pred = np.asarray(step(data.X_test))
        return {"test": field_metrics(data.y_test, pred)}, pred
    truth = data.extra["rollout_targets"]  # (N, K, C, *space)
    pred = rollout(step, data.X_test, truth.shape[1])
    per_step = [field_metrics(truth[:, k], pred[:, k]) for k in range(truth.shape[1])]
    averaged = {name: float(np.mean([m[name] for m in per_step])) for name in per_step[0]}
    averaged["max_error"] = float(max(m["max_error"] for m in per_step))
    return {"test": averaged, "test_final": per_step[-1],
            "rollout": {"relative_l2_per_step": [m["relative_l2"] for m in per_step],
                        "times": data.data.get("rollout_times")}}, pred[:, -1]


def run_orca(data: TaskData, params: dict, seed: int, ctx: JobContext = JobContext()) -> dict[str, Any]:
    from orca.data import ArrayDataset
    from orca.pipeline import fit
    from orca.refine import predict

    config = OrcaConfig.from_dict(params).with_overrides({**flatten(data.params.get("orca", {})), "seed": seed})
    X, y, X_val, y_val = _val_split(data, data.params["val_fraction"], seed)
    result = fit(data.task, X, y, config, X_val=X_val, y_val=y_val, X_test=data.X_test, y_test=data.y_test,
                 checkpoint_dir=ctx.checkpoint_dir, resume=ctx.resume, checkpoint_every_s=ctx.checkpoint_every_s)

    def step(x: np.ndarray) -> np.ndarray:
        return predict(result.model, ArrayDataset(x, np.zeros_like(x)))[1]

    scores, pred = score(data, step)
    return {"metrics": {"val": result.metrics.get("val", {}), "test": scores.pop("test")}, **scores,
            "timings_s": result.timings, "parameters": result.parameters, "align": result.align_report.to_dict(),
            "refine": {k: result.refine_info.get(k) for k in ("best_epoch", "steps", "history")},
            "orca_config": config.to_dict(), "body_source": getattr(result.model.body, "source", "given"),
            "device": result.refine_info.get("device"), "split": result.split,
            "example": _example(data, pred)}


def _example(data: TaskData, pred: np.ndarray) -> dict[str, list]:
    """The first test sample's input, target and prediction (channel 0), for the report's field plot."""
    step = max(1, data.X_test[0, 0].size // 4096)  # keep result files small
    flat = (slice(None, None, step),) * (data.X_test.ndim - 2)
    return {"input": data.X_test[0, 0][flat].tolist(), "target": data.y_test[0, 0][flat].tolist(),
            "prediction": pred[0, 0][flat].tolist()}


def run_operator(data: TaskData, params: dict, seed: int, ctx: JobContext, kind: str) -> dict[str, Any]:
    """FNO or U-Net; they train in minutes and restart from scratch when a run is resumed."""
    import torch

    from baselines.field_training import FieldTrainConfig, predict_fields, train_field_model
    from baselines.fno import FNO
    from baselines.unet import UNet

    params = with_task_overrides(data, kind, params)
    torch.manual_seed(seed)
    dims = data.X_train.ndim - 2
    c_in, c_out = data.X_train.shape[1], data.y_train.shape[1]
    if kind == "fno":
        model = FNO(c_in, c_out, dims, modes=params[f"modes_{dims}d"], width=params["width"])
    else:
        model = UNet(c_in, c_out, dims, init_features=params["init_features"])
    cfg = FieldTrainConfig(epochs=params[f"epochs_{dims}d"], batch_size=params["batch_size"], lr=params["lr"],
                           weight_decay=params["weight_decay"], step_size=params["step_size"], gamma=params["gamma"])
    X, y, X_val, y_val = _val_split(data, data.params["val_fraction"], seed)
    info = train_field_model(model, X, y, X_val, y_val, cfg, seed=seed)
    scores, pred = score(data, functools.partial(predict_fields, model))
    return {"metrics": {"val": {"relative_l2": info["best_val_relative_l2"]}, "test": scores.pop("test")}, **scores,
            "timings_s": {"train": info["seconds"]}, "parameters": {"total": sum(p.numel() for p in model.parameters())},
            "refine": {"best_epoch": info["best_epoch"], "curve": [h["val_relative_l2"] for h in info["history"]]},
            "split": {"train": len(X), "val": len(X_val), "test": len(data.X_test)}, "example": _example(data, pred)}


SUITE = register_suite(Suite(
    name="pdebench", root=ROOT, load_task=load_task,
    methods={"orca": run_orca, "fno": functools.partial(run_operator, kind="fno"),
             "unet": functools.partial(run_operator, kind="unet")},
    all_tasks=all_tasks, published=("pdebench",), reference_methods=("fno",),
))
