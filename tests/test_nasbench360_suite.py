"""The nasbench360 suite: real-format tasks from fixture files (verified, split, scored), bad input, and the
offline tasks' definitions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.run import run
from benchmarks.suite import expand_jobs, get_suite, resolve_config
from orca.exceptions import ConfigError, DataError

TINY = {"method_params": {"cnn": {"widths": [8, 16], "blocks": 1, "kernel": 3, "epochs": 2, "batch_size": 8,
                                  "step_size": 1},
                          "orca": {"align": {"steps": 2}, "refine": {"epochs": 1}, "device": "cpu"}}}


@pytest.fixture
def nb_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ORCA_NB360_ROOT", str(tmp_path / "nb"))
    return tmp_path / "nb"


def _satellite(root: Path, n_train: int = 60, n_test: int = 20) -> None:
    rng = np.random.default_rng(0)
    (root / "satellite").mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        y = 1 + np.arange(n) % 24
        X = rng.normal(size=(n, 46)) + 0.1 * y[:, None]
        np.save(root / "satellite" / f"satellite_{name}.npy", {"data": X, "label": y}, allow_pickle=True)


def test_jobs_follow_each_tasks_methods() -> None:
    suite = get_suite("nasbench360")
    jobs = expand_jobs(suite, resolve_config(suite, "smoke"))
    assert ("darcy-regen", "fno") in {(j.task, j.method) for j in jobs}
    assert ("fashion-proxy", "fno") not in {(j.task, j.method) for j in jobs}  # FNO is for Darcy only
    config = resolve_config(suite, "smoke")
    assert {config["task_params"][t]["kind"] for t in config["tasks"]} == {"regenerated", "proxy"}


def test_a_real_format_task_runs_is_verified_and_scored(nb_root, tmp_path) -> None:
    _satellite(nb_root)
    paths = run("nasbench360", "smoke", tasks=["satellite"], methods=["cnn"], overrides=TINY,
                results=tmp_path / "results")
    rec = json.loads(paths[0].read_text())
    assert rec["status"] == "ok", rec["error"]
    assert rec["split"] == {"train": 40, "val": 20, "test": 20}  # the last len(test) training rows validate
    test = rec["metrics"]["test"]
    assert 0 <= test["error"] <= 100 and test["error"] == test["error_paper"]
    assert rec["data"]["kind"] == "real" and (nb_root / "satellite" / "satellite_train.npy.sha256").is_file()
    # a file that changed after its SHA-256 was recorded is refused, never used
    _satellite(nb_root, n_train=61)
    with pytest.raises(DataError, match="does not match"):
        get_suite("nasbench360").load_task("satellite", resolve_config(get_suite("nasbench360"), "smoke"), 0)


def test_missing_and_mismatched_files_are_refused(nb_root) -> None:
    suite = get_suite("nasbench360")
    config = resolve_config(suite, "smoke")
    with pytest.raises(DataError, match=r"ninapro_train.npy was not found in .*data.source=download"):
        suite.load_task("ninapro", config, 0)
    (nb_root / "ninapro").mkdir(parents=True)
    for name in ("train", "val", "test"):  # right names, wrong contents: the published MD5s do not match
        np.save(nb_root / "ninapro" / f"ninapro_{name}.npy", np.zeros((2, 52, 16), np.float32))
        np.save(nb_root / "ninapro" / f"label_{name}.npy", np.zeros(2, np.int64))
    with pytest.raises(DataError, match="md5 .* does not match"):
        suite.load_task("ninapro", config, 0)
    with pytest.raises(ConfigError, match="data.source 'ftp'"):
        suite.load_task("ninapro", resolve_config(suite, "smoke", {"data": {"source": "ftp"}}), 0)


def test_darcy_task_normalises_pointwise_and_scores_decoded_fields(nb_root, monkeypatch) -> None:
    """The Darcy task's encoding (pointwise unit Gaussian + two grid channels) and decoding before the metric."""
    from scipy.io import savemat

    from benchmarks.nasbench360 import task_errors

    rng = np.random.default_rng(0)
    (nb_root / "darcy").mkdir(parents=True)
    for k, n in ((1, 1000), (2, 100)):
        coeff = rng.choice([3.0, 12.0], size=(n, 11, 11))
        savemat(nb_root / "darcy" / f"piececonst_r421_N1024_smooth{k}.mat",
                {"coeff": coeff, "sol": coeff * 0.01 + rng.random((n, 11, 11))})
    suite = get_suite("nasbench360")
    data = suite.load_task("darcy", resolve_config(suite, "smoke"), 0)
    assert data.X_train.shape == (600, 3, 3, 3) and data.extra["X_val"].shape[1] == 3  # smoke: 600 rows
    assert np.allclose(data.X_train[:, 0].mean(axis=0), 0, atol=1e-4)
    assert np.allclose(data.X_train[0, 1, 0], [1 / 6, 3 / 6, 5 / 6])  # x grid channel
    decoded_truth = data.y_test * data.extra["y_std"] + data.extra["y_mean"]
    perfect = task_errors(data, data.y_test, data.y_test, "test")["error"]
    off = task_errors(data, data.y_test + 0.1 / data.extra["y_std"], data.y_test, "test")["error"]
    assert perfect == 0.0
    expect = np.mean(0.1 * 3 / np.linalg.norm(decoded_truth.reshape(100, -1), axis=1))
    assert off == pytest.approx(expect, rel=1e-4)
