"""The pdebench suite end to end on tiny generated data: tasks, splits shared by every method, provenance, bad
input, and the CI regression check against the recorded smoke values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

from benchmarks.catalogue import get_suite
from benchmarks.run import run  # noqa: E402
from benchmarks.runner import expand_jobs, resolve_config  # noqa: E402
from orca.exceptions import ConfigError, DataError  # noqa: E402
from orca.io import read_json  # noqa: E402

TINY = {"data": {"n_samples": 30, "nx_1d": 32, "nx_2d": 16},
        "protocol": {"resolution_1d": 32, "resolution_2d": 16},
        "method_params": {"fno": {"epochs_1d": 3, "epochs_2d": 2, "step_size": 2, "batch_size": 8},
                          "unet": {"epochs_1d": 2, "epochs_2d": 2, "step_size": 2, "batch_size": 8},
                          "orca": {"align": {"steps": 2}, "refine": {"epochs": 1}}}}


@pytest.fixture
def pde_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ORCA_PDEBENCH_ROOT", str(tmp_path / "pde"))
    return tmp_path / "pde"


def test_tasks_splits_and_provenance(pde_root) -> None:
    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", TINY)
    data = suite.load_task("advection", config, 0)
    assert data.X_train.shape == (27, 1, 32) and data.X_test.shape == (3, 1, 32)  # first 10 % are test
    assert data.task.output == "dense" and data.task.output_shape == (1, 32)
    assert data.data["kind"] == "generated" and data.data["source"] == "generated offline"
    assert data.data["published_task"] == "Advection"
    generated = list((pde_root / "generated").glob("advection__orca-gen-v*_n30_nx32_seed0.h5"))
    assert len(generated) == 1
    again = suite.load_task("advection", config, 1)  # cached file reused; the split does not depend on the seed
    assert np.array_equal(again.X_test, data.X_test) and len(list((pde_root / "generated").glob("*.h5"))) == 1
    darcy = suite.load_task("darcy", config, 0)
    assert darcy.X_train.shape[1:] == (1, 16, 16) and set(np.unique(darcy.X_train)) <= {np.float32(0.1), 1.0}
    ds = suite.load_task("diffusion-sorption", config, 0)
    assert ds.X_test.shape == (3, 1, 32) and np.allclose(ds.X_test, ds.X_test[:, :, :1])  # constant start


def test_runner_writes_comparable_results_and_skips(pde_root, tmp_path) -> None:
    paths = run("pdebench", "smoke", tasks=["reaction-diffusion", "darcy"], methods=["fno", "unet"],
                overrides=TINY, results=tmp_path / "results")
    records = [json.loads(p.read_text()) for p in paths]
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    for r in records:
        test = r["metrics"]["test"]
        assert {"relative_l2", "nrmse", "rmse", "crmse", "brmse", "frmse_low", "max_error"} <= set(test)
        assert r["split"] == ({"train": 24, "val": 3, "test": 3}) and r["data"]["kind"] == "generated"
        assert np.isfinite(test["relative_l2"]) and len(r["example"]["prediction"]) > 0
    again = run("pdebench", "smoke", tasks=["reaction-diffusion", "darcy"], methods=["fno", "unet"],
                overrides=TINY, results=tmp_path / "results")
    assert [json.loads(p.read_text())["config_hash"] for p in again] == [r["config_hash"] for r in records]
    from benchmarks import report

    text = report.report("pdebench", tmp_path / "results", "smoke").read_text()
    assert "Side by side with the published numbers" in text and "| generated |" in text
    assert (tmp_path / "results" / "pdebench" / "smoke" / "plots" / "example-darcy.png").is_file()


@pytest.mark.slow
def test_orca_runs_on_a_tiny_1d_task(pde_root, tmp_path) -> None:
    paths = run("pdebench", "smoke", tasks=["advection", "reaction-diffusion-rollout"], methods=["orca"],
                overrides=TINY, results=tmp_path / "results")
    rec, rolled = (json.loads(p.read_text()) for p in paths)
    assert rec["status"] == "ok", rec["error"]
    assert rec["split"] == {"train": 24, "val": 3, "test": 3} and np.isfinite(rec["metrics"]["test"]["relative_l2"])
    assert rec["orca_config"]["embedder"]["target_seq_len"] == 64  # the smoke preset's per-task override
    assert rolled["status"] == "ok", rolled["error"]
    assert rolled["orca_config"]["refine"]["epochs"] == 5  # the roll-out task's own setting
    assert len(rolled["rollout"]["relative_l2_per_step"]) == 5 and np.isfinite(rolled["metrics"]["test"]["relative_l2"])


def test_bad_input_is_refused_clearly(pde_root, tmp_path) -> None:
    suite = get_suite("pdebench")
    with pytest.raises(ConfigError, match="data.source 'ftp'"):
        suite.load_task("advection", resolve_config(suite, "smoke", {"data": {"source": "ftp"}}), 0)
    old = resolve_config(suite, "smoke", {"data": {"source": "local", "version": "2023"}})
    with pytest.raises(DataError, match="is missing; download it"):
        suite.load_task("burgers", old, 0)
    # the pre-fix files PDEBench replaced on 2023-10-10 (advection) and 2024-02-12 (Burgers), with the MD5s its
    # older download_metadata.csv published; the other families are the same file in both versions
    from benchmarks.suites.pdebench import real_path

    assert real_path(old, "advection")[1]["id"] == 133110
    assert real_path(old, "advection")[1]["md5"] == "99d57a5a8d660ba2cb824f41e09c6543"
    assert real_path(old, "burgers")[1] == {"id": 133142, "md5": "69c1890c49fc7ba36aac7107c41d5f41",
                                            "url": real_path(old, "burgers")[1]["url"], "path": "1D/Burgers/Train"}
    assert real_path(old, "darcy")[1] == real_path(resolve_config(suite, "smoke", {}), "darcy")[1]
    with pytest.raises(DataError, match="is missing; download it"):
        suite.load_task("advection", resolve_config(suite, "smoke", {"data": {"source": "local"}}), 0)
    with pytest.raises(DataError, match="does not divide"):
        suite.load_task("advection", resolve_config(suite, "smoke", {**TINY, "protocol": {"resolution_1d": 12}}), 0)
    with pytest.raises(ConfigError, match="unknown config key"):
        resolve_config(suite, "smoke", {"task_params": {"darcy": {"orca": {"refine": {"epochz": 1}}}}})


def test_a_corrupt_local_file_is_never_used(pde_root) -> None:
    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", {"data": {"source": "local"}})
    from benchmarks.suites.pdebench import real_path

    path, _ = real_path(config, "darcy")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"truncated")
    with pytest.raises(DataError, match="md5 .* does not match"):
        suite.load_task("darcy", config, 0)


REGRESSION = Path(__file__).parent.parent / "benchmarks" / "suites" / "pdebench" / "regression.json"


@pytest.mark.slow
def test_pdebench_does_not_regress(pde_root, tmp_path) -> None:
    """CI check: FNO and ORCA on two smoke tasks must stay within +25 % nRMSE of the recorded values."""
    recorded = read_json(REGRESSION)
    tasks = sorted(recorded["relative_l2"])
    methods = sorted({m for v in recorded["relative_l2"].values() for m in v})
    paths = run("pdebench", recorded["preset"], tasks=tasks, methods=methods, seeds=[recorded["seed"]],
                results=tmp_path / "results")
    worse = []
    for path in paths:
        rec = json.loads(path.read_text())
        assert rec["status"] == "ok", rec["error"]
        want = recorded["relative_l2"][rec["task"]][rec["method"]]
        got = rec["metrics"]["test"]["relative_l2"]
        if got > want * (1 + recorded["tolerance"]):
            worse.append(f"{rec['method']} on {rec['task']}: {got:.4f} > recorded {want:.4f} x 1.25")
    assert not worse, "; ".join(worse)


def test_two_dimensional_time_dependent_tasks(pde_root) -> None:
    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", {**TINY, "task_params": {"shallow-water": {"n_samples": 20},
                                                                     "reaction-diffusion-2d": {"n_samples": 20}}})
    swe = suite.load_task("shallow-water", config, 0)
    assert swe.X_train.shape == (18, 1, 16, 16) and swe.X_test.shape == (2, 1, 16, 16)  # last 10 % of seeds
    assert set(np.unique(swe.X_train)) == {np.float32(1.0), np.float32(2.0)}  # the dam: h = 2 inside, 1 outside
    rd = suite.load_task("reaction-diffusion-2d", config, 0)
    assert rd.X_train.shape == (18, 2, 16, 16) and rd.task.output_shape == (2, 16, 16)
    assert rd.data["published_task"] == "Diffusion-Reaction 2D" and rd.data["kind"] == "generated"


def test_rollout_task_pairs_splits_and_scores(pde_root, tmp_path) -> None:
    """A roll-out task: consecutive-frame pairs for training, val split by trajectory, K-step roll-out on test."""
    from benchmarks.suites.pdebench import _val_split, rollout, score

    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", TINY)
    data = suite.load_task("reaction-diffusion-rollout", config, 0)
    k = data.data["rollout_steps"]
    assert k == 5 and data.data["rollout_times"] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert data.X_train.shape == (27 * k, 1, 32) and data.y_train.shape == (27 * k, 1, 32)
    assert data.extra["rollout_targets"].shape == (3, k, 1, 32)
    # pair j of trajectory i: frame j -> frame j + 1, and frame j + 1 is the next pair's input
    assert np.array_equal(data.y_train[0], data.X_train[1]) and not np.array_equal(data.X_train[0], data.X_train[1])
    single = suite.load_task("reaction-diffusion", config, 0)
    assert np.array_equal(data.X_test, single.X_test)  # the same first frames of the same test samples
    X, y, X_val, y_val = _val_split(data, 0.1, 0)
    assert len(X) + len(X_val) == len(data.X_train) and len(X_val) % k == 0
    held = {tuple(r.ravel()) for r in X_val}
    assert not held & {tuple(r.ravel()) for r in X}  # no trajectory on both sides

    truth = data.extra["rollout_targets"]
    calls = []

    def oracle(x: np.ndarray) -> np.ndarray:  # steps along the true trajectories
        calls.append(len(calls))
        return truth[:, len(calls) - 1]

    states = rollout(oracle, data.X_test, k)
    assert states.shape == (3, k, 1, 32) and len(calls) == k and np.array_equal(states, truth)
    scores, final = score(data, lambda x: x)  # persistence: predict "nothing changes"
    persistence = [np.mean(np.linalg.norm((truth[:, j] - data.X_test).reshape(3, -1), axis=1)
                           / np.linalg.norm(truth[:, j].reshape(3, -1), axis=1)) for j in range(k)]
    assert scores["rollout"]["relative_l2_per_step"] == pytest.approx(persistence, rel=1e-6)
    assert scores["test"]["relative_l2"] == pytest.approx(np.mean(persistence), rel=1e-6)
    assert scores["test_final"]["relative_l2"] == pytest.approx(persistence[-1], rel=1e-6)
    assert np.array_equal(final, data.X_test)


def test_rollout_runs_end_to_end_with_report(pde_root, tmp_path) -> None:
    paths = run("pdebench", "smoke", tasks=["reaction-diffusion-rollout"], methods=["fno"], overrides=TINY,
                results=tmp_path / "results")
    rec = json.loads(paths[0].read_text())
    assert rec["status"] == "ok", rec["error"]
    assert len(rec["rollout"]["relative_l2_per_step"]) == 5 and rec["split"]["val"] % 5 == 0
    assert rec["metrics"]["test"]["relative_l2"] == pytest.approx(np.mean(rec["rollout"]["relative_l2_per_step"]))
    from benchmarks import report

    text = report.report("pdebench", tmp_path / "results", "smoke").read_text()
    assert "## Autoregressive roll-outs" in text
    assert (tmp_path / "results" / "pdebench" / "smoke" / "plots" / "rollout-reaction-diffusion-rollout.png").is_file()


def test_per_family_baseline_settings(pde_root, tmp_path) -> None:
    """PDEBench's diffusion-sorption FNO (16 modes, width 64) and a clear error for an unknown key."""
    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", TINY)
    assert config["task_params"]["diffusion-sorption"]["fno"] == {"modes_1d": 16, "width": 64}
    data = suite.load_task("diffusion-sorption", config, 0)
    bad = type(data)(**{**data.__dict__, "params": {**data.params, "fno": {"modez": 3}}})
    with pytest.raises(ConfigError, match=r"unknown keys \['modez'\]"):
        suite.methods["fno"](bad, config["method_params"]["fno"], 0, None)



def test_cfd_fields_are_standardised_per_channel_for_training_and_scored_in_physical_units(pde_root,
                                                                                          tmp_path) -> None:
    from benchmarks.suites.pdebench.standardize import training_split

    tiny = {**TINY, "task_params": {"cfd-1d": {"n_samples": 30}}}
    config = resolve_config(get_suite("pdebench"), "smoke", tiny)
    data = get_suite("pdebench").load_task("cfd-1d", config, 0)
    assert data.params["standardize"] == "channel"
    (X, y, X_val, y_val), scaler = training_split(data, 0)
    assert np.allclose(X.mean(axis=(0, 2)), 0, atol=1e-4) and np.allclose(X.std(axis=(0, 2)), 1, atol=1e-3)
    assert np.allclose(y.mean(axis=(0, 2)), 0, atol=1e-4) and np.allclose(y.std(axis=(0, 2)), 1, atol=1e-3)
    (_, _, raw_val, _), _ = training_split(
        type(data)(**{**data.__dict__, "params": {**data.params, "standardize": "none"}}), 0)
    assert np.allclose(X_val, (raw_val - scaler.x_mean) / scaler.x_std, atol=1e-5)  # the training part's statistics
    # zero in standardised units is each channel's mean in physical ones (density ~1-10, pressure ~10-100, v ~0)
    means = scaler.wrap(lambda x: np.zeros((len(x), *data.y_train.shape[1:]), np.float32))(data.X_test)
    assert np.allclose(means, scaler.y_mean) and scaler.y_mean[0, 1, 0] > 5 * abs(scaler.y_mean[0, 2, 0])
    with pytest.raises(ConfigError, match="expected one of"):
        training_split(type(data)(**{**data.__dict__, "params": {**data.params, "standardize": "global"}}), 0)

    (path,) = run("pdebench", "smoke", tasks=["cfd-1d"], methods=["fno"], overrides=tiny,
                  results=tmp_path / "results")
    rec = json.loads(path.read_text())
    assert rec["status"] == "ok", rec["error"]
    pred, target = np.array(rec["example"]["prediction"]), np.array(rec["example"]["target"])  # density
    assert abs(pred.mean() - target.mean()) < 0.5 * target.mean()  # physical units, not standardised ones


def test_the_dihedral_variant_and_persistence_apply_where_their_symmetry_holds() -> None:
    """``orca-skip-sym`` trains with the square's symmetries, which only the 2D tasks have: its jobs are the 2D
    tasks' (a 1D task would refuse ``refine.augment='dihedral'`` after its data loaded); persistence skips Darcy
    (input and target are different quantities); everything else runs everywhere."""
    suite = get_suite("pdebench")
    config = resolve_config(suite, "equal-budget", {"methods": ["orca-skip-sym", "orca-skip", "persistence"]})
    planned = {(j.task, j.method) for j in expand_jobs(suite, config)}
    two_d = {t for t in config["tasks"] if config["task_params"][t]["dims"] == 2}
    assert two_d == {"darcy", "shallow-water", "reaction-diffusion-2d"}
    assert {t for t, m in planned if m == "orca-skip-sym"} == two_d
    assert {t for t, m in planned if m == "orca-skip"} == set(config["tasks"])
    assert {t for t, m in planned if m == "persistence"} == set(config["tasks"]) - {"darcy"}
    from benchmarks.suites.pdebench import SQUARE_SYMMETRIC  # the list the rule reads is the methods' own setting

    dihedral = {m for m, p in config["method_params"].items() if p.get("refine", {}).get("augment") == "dihedral"}
    assert dihedral == set(SQUARE_SYMMETRIC)


def test_the_converged_preset_stops_every_neural_method_on_patience_alone() -> None:
    """Issue 18's re-run rule: the converged preset is the paper preset's tasks, data, splits and seeds with one
    patience (30 epochs) for every neural method, no time budget, caps set out of the way (500 epochs for FNO and
    U-Net, 60 for ORCA; no per-task cut) and one training loss, the task's declared one. FNO and U-Net halve their
    rate on a plateau of 10 epochs, so that their patience spans two halvings (a fixed step longer than the
    patience could stop them before their next halving); the paper preset keeps PDEBench's fixed steps."""
    suite = get_suite("pdebench")
    conv, paper = resolve_config(suite, "converged"), resolve_config(suite, "paper")
    for key in ("tasks", "seeds", "data", "protocol"):
        assert conv[key] == paper[key], key
    assert set(conv["methods"]) == set(paper["methods"])
    for method, params in conv["method_params"].items():
        if method.startswith("orca"):
            refine = params["refine"]
            assert (refine["patience"], refine["epochs"], refine["max_seconds"]) == (30, 60, None), method
        elif method in ("fno", "unet"):
            assert params["patience"] == 30 and params["max_seconds"] is None and params["loss"] == "task"
            assert (params["schedule"], params["lr_patience"]) == ("plateau", 9)
            assert params["patience"] == 3 * (params["lr_patience"] + 1)
            assert paper["method_params"][method]["schedule"] == "step"
    for task in conv["tasks"]:  # per-task settings (the roll-out's shorter schedules elsewhere) do not cut them
        own = conv["task_params"][task]
        assert own.get("orca", {}).get("refine", {}).get("epochs", 60) == 60, task
        for method in ("fno", "unet"):
            merged = {**conv["method_params"][method], **own.get(method, {})}
            assert (merged["epochs_1d"], merged["epochs_2d"], merged["schedule"]) == (500, 500, "plateau"), (task,
                                                                                                           method)
            assert merged["patience"] == 30 and merged["max_seconds"] is None, (task, method)
