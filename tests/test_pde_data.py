"""PDEBench data layer: the four HDF5 layouts (fixtures written by the tests), splits, resolutions, metrics,
verified and resumable downloads, and the field baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from benchmarks.suites.pdebench import layouts  # noqa: E402
from benchmarks.suites.pdebench.generators.base import Generated  # noqa: E402
from benchmarks.suites.pdebench.metrics import field_metrics  # noqa: E402
from orca.exceptions import DataError  # noqa: E402


def _tensor_file(path: Path, n: int = 20, nt: int = 11, nx: int = 32) -> np.ndarray:
    data = np.arange(n * nt * nx, dtype=np.float32).reshape(n, nt, nx)
    with h5py.File(path, "w") as f:
        f["tensor"] = data
        f["x-coordinate"] = np.linspace(0, 1, nx)
        f["t-coordinate"] = np.arange(nt + 1) / (nt - 1)  # PDEBench writes one time more than frames
        f.attrs["beta"] = 0.4
    return data


def test_tensor_layout_frames_by_time_and_stride(tmp_path) -> None:
    path = tmp_path / "adv.hdf5"
    data = _tensor_file(path)
    info = layouts.inspect(path)
    assert (info.layout, info.n_samples, info.spatial, info.channels, len(info.t)) == ("tensor", 20, (32,), 1, 11)
    x, y = layouts.read_pairs(path, np.array([5, 2, 9]), input_time=0.0, target_time=1.0, resolution=8)
    assert x.shape == y.shape == (3, 1, 8)
    assert np.array_equal(x[:, 0], data[[5, 2, 9], 0, ::4]) and np.array_equal(y[:, 0], data[[5, 2, 9], 10, ::4])
    with pytest.raises(DataError, match="does not divide"):
        layouts.read_pairs(path, np.arange(2), input_time=0.0, target_time=1.0, resolution=12)
    with pytest.raises(DataError, match="no frame at t = 0.55"):
        layouts.read_pairs(path, np.arange(2), input_time=0.0, target_time=0.55)
    train, test = layouts.pdebench_split(info)
    assert test.tolist() == [0, 1] and train.tolist() == list(range(2, 20))  # first 10 % are test


def test_cfd_darcy_and_group_layouts(tmp_path) -> None:
    cfd = tmp_path / "cfd.hdf5"
    with h5py.File(cfd, "w") as f:
        for k, name in enumerate(("density", "pressure", "Vx")):
            f[name] = np.full((4, 5, 16), k, dtype=np.float32) + np.arange(5)[None, :, None]
        f["t-coordinate"] = np.linspace(0, 1, 6)
    x, y = layouts.read_pairs(cfd, np.arange(4), input_index=0, target_index=-1)
    assert x.shape == (4, 3, 16) and np.allclose(x[0, :, 0], [0, 1, 2]) and np.allclose(y[0, :, 0], [4, 5, 6])

    darcy = tmp_path / "darcy.hdf5"
    nu = np.random.default_rng(0).uniform(size=(6, 8, 8)).astype(np.float32)
    layouts.write(darcy, Generated("darcy", 2 * nu[:, None], np.linspace(0, 1, 8), y=np.linspace(0, 1, 8),
                                   coefficient=nu), {"orca_source": "generated offline"})
    info = layouts.inspect(darcy)
    assert info.layout == "darcy" and info.attrs["orca_source"] == "generated offline"
    x, y = layouts.read_pairs(darcy, np.array([3, 1]), resolution=4)
    assert x.shape == y.shape == (2, 1, 4, 4) and np.allclose(y, 2 * x) and np.allclose(x[0, 0], nu[3, ::2, ::2])

    groups = tmp_path / "ds.h5"
    fields = np.random.default_rng(1).normal(size=(10, 3, 16, 1)).astype(np.float32)
    layouts.write(groups, Generated("groups", fields, np.linspace(0, 1, 16), np.array([0.0, 5.0, 10.0])), {})
    info = layouts.inspect(groups)
    assert (info.layout, info.n_samples, info.channels) == ("groups", 10, 1)
    x, y = layouts.read_pairs(groups, np.array([9, 0]), input_time=0.0, target_time=10.0)
    assert np.allclose(x[:, 0], fields[[9, 0], 0, :, 0]) and np.allclose(y[:, 0], fields[[9, 0], 2, :, 0])
    train, test = layouts.pdebench_split(info)
    assert test.tolist() == [9] and len(train) == 9  # last 10 % of the seeds are test


def test_unknown_layout_and_unreadable_file_are_refused(tmp_path) -> None:
    odd = tmp_path / "odd.h5"
    with h5py.File(odd, "w") as f:
        f["something"] = np.zeros(3)
    with pytest.raises(DataError, match="unknown PDEBench layout"):
        layouts.inspect(odd)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an hdf5 file")
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        layouts.inspect(broken)


def test_writes_are_atomic(tmp_path, monkeypatch) -> None:
    path = tmp_path / "x.hdf5"

    class Boom(RuntimeError):
        pass

    bad = Generated("tensor", np.zeros((2, 3, 4), np.float32), np.zeros(4), np.zeros(3))
    monkeypatch.setattr(h5py.File, "create_dataset", lambda *a, **k: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        layouts.write(path, bad, {})
    assert not path.exists() and not list(tmp_path.iterdir())  # no partial file left behind


def test_parallel_jobs_generate_a_family_once(tmp_path, monkeypatch) -> None:
    """Jobs that need the same generated file at once: one solves the PDEs, the others wait and read its file."""
    import threading
    import time

    from benchmarks.suites.pdebench import data as pde_data

    calls = []

    def slow(n, nx, seed, progress=True):
        calls.append(threading.get_ident())
        time.sleep(0.5)
        return Generated("tensor", np.ones((n, 3, nx), np.float32), np.linspace(0, 1, nx), np.arange(3.0))

    monkeypatch.setitem(pde_data.GENERATORS, "advection", slow)
    config = {"data": {"root": str(tmp_path), "nx_1d": 8, "nx_2d": 4, "n_samples": 2, "generator_seed": 0}}
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(pde_data.ensure_generated(config, "advection", 1)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(paths) == 3 and len(set(paths)) == 1 and paths[0].is_file()
    assert layouts.inspect(paths[0]).attrs["generator_seed"] == 0


def test_field_metrics_by_hand() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 2, 32))
    p = y + 0.1 * rng.normal(size=y.shape)
    m = field_metrics(y, p)
    err = p - y
    assert m["rmse"] == pytest.approx(np.mean(np.sqrt(np.mean(err**2, axis=2))))
    assert m["nrmse"] == pytest.approx(np.mean(np.linalg.norm(err, axis=2) / np.linalg.norm(y, axis=2)))
    assert m["relative_l2"] == pytest.approx(np.mean(np.linalg.norm(err.reshape(5, -1), axis=1)
                                                     / np.linalg.norm(y.reshape(5, -1), axis=1)))
    assert m["crmse"] == pytest.approx(np.mean(np.sqrt(np.mean(err.sum(axis=2) ** 2, axis=0)) / 32))
    assert m["brmse"] == pytest.approx(np.mean(np.sqrt((err[..., 0] ** 2 + err[..., -1] ** 2) / 2)))
    assert m["max_error"] == pytest.approx(np.abs(err).max(axis=(0, 2)).mean())  # per channel, then the mean
    # a pure k = 2 error shows up only in the low band
    x = np.arange(64) / 64
    only_low = field_metrics(np.ones((1, 1, 64)), np.ones((1, 1, 64)) + np.sin(2 * np.pi * 2 * x)[None, None])
    assert only_low["frmse_low"] > 0 and only_low["frmse_mid"] < 1e-12 and only_low["frmse_high"] < 1e-12
    assert field_metrics(y, y)["relative_l2"] == 0.0
    m2 = field_metrics(rng.normal(size=(3, 1, 8, 8)), rng.normal(size=(3, 1, 8, 8)))
    # an 8 x 8 grid has PDEBench's bins 0-3 only: the mid and high bands are empty (NaN, as in PDEBench)
    assert set(m2) == set(m) and np.isnan(m2["frmse_high"]) and np.isnan(m2["frmse_mid"])
    assert all(np.isfinite(v) for k, v in m2.items() if k not in ("frmse_mid", "frmse_high"))


def test_field_baselines_shapes_and_training() -> None:
    import torch

    from baselines.field_training import FieldTrainConfig, predict_fields, train_field_model
    from baselines.fno import FNO
    from baselines.unet import UNet

    for dims, shape in ((1, (4, 2, 40)), (2, (3, 1, 20, 28))):
        x = torch.randn(*shape)
        assert FNO(shape[1], 3, dims, modes=6, width=8)(x).shape == (shape[0], 3, *shape[2:])
        assert UNet(shape[1], 3, dims, init_features=4)(x).shape == (shape[0], 3, *shape[2:])
    # learn a smoothing operator on 1D fields: validation error must fall well below the identity's
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 1, 32)).astype(np.float32)
    kernel = np.array([0.25, 0.5, 0.25], np.float32)
    y = np.stack([np.convolve(np.pad(r[0], 1, mode="wrap"), kernel, mode="valid") for r in X])[:, None]
    model = FNO(1, 1, 1, modes=16, width=16)
    info = train_field_model(model, X[:100], y[:100], X[100:], y[100:], FieldTrainConfig(epochs=60, batch_size=20,
                                                                                          step_size=30), progress=False)
    curve = [h["val_relative_l2"] for h in info["history"]]
    assert min(curve) < 0.2 < curve[0] and info["best_val_relative_l2"] == min(curve)
    pred = predict_fields(model, X[100:])
    assert np.mean(np.linalg.norm((pred - y[100:])[:, 0], axis=1) / np.linalg.norm(y[100:, 0], axis=1)) == \
        pytest.approx(min(curve), rel=1e-4)  # the best state is the one loaded
