"""NAS-Bench-360 scoring: each task's error as NAS-Bench-360 defines it and the paper's variant, on the
validation and test splits; PSICOV maps predicted whole by tiling crops."""

from __future__ import annotations

import numpy as np

from orca.exceptions import ConfigError

from ...runner.suite import TaskData
from . import metrics
from .data import PSICOV_PAD, _pad_map


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
