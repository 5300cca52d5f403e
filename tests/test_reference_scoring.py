"""Every metric and split protocol against the reference code's own outputs on fixed inputs.

The expected values in ``tests/fixtures/reference/*.json`` were computed by running the reference repositories'
code (PDEBench, NAS-Bench-360, the ORCA repository, TabPFN v1, torchaudio) with
``tests/fixtures/reference/generate.py``; each file names the reference function and its commit. Nothing here
calls the reference code, so these tests run anywhere; a change that moves any of our numbers away from the
reference's fails here.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "reference"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _generator():
    """The fixture generator's deterministic inputs (records, audio), rebuilt instead of stored."""
    spec = importlib.util.spec_from_file_location("reference_generate", FIXTURES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- PDEBench ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(4))
def test_pdebench_field_metrics_equal_pdebench_metric_func(case) -> None:
    """1D one channel, 1D two channels, 2D two channels (32 x 32), 2D non-square with physical lengths: every
    metric equals PDEBench's ``metric_func`` (one time step) to 1e-6 relative, and ``relative_l2`` equals the
    ORCA code's ``nmse``; fRMSE high is NaN when the grid has no bin >= 12, as in PDEBench."""
    from benchmarks.suites.pdebench.metrics import field_metrics

    c = _load("pdebench_metrics.json")["cases"][case]
    ours = field_metrics(np.array(c["true"]), np.array(c["pred"]), tuple(c["lengths"]))
    for name, expected in c["expected"].items():
        assert ours[name] == pytest.approx(expected, rel=1e-6, nan_ok=True), name


def test_pdebench_multichannel_nrmse_differs_from_the_all_channel_relative_l2() -> None:
    """On a two-channel field PDEBench's nRMSE (per channel) and ORCA's (all channels at once) are different
    numbers; the suite ranks by PDEBench's, and the core metric ``nrmse`` equals it."""
    from benchmarks.suites.pdebench.metrics import field_metrics
    from orca.metrics import get_metric

    c = _load("pdebench_metrics.json")["cases"][2]
    true, pred = np.array(c["true"]), np.array(c["pred"])
    assert field_metrics(true, pred)["nrmse"] == pytest.approx(c["expected"]["nrmse"], rel=1e-6)
    assert get_metric("nrmse")(true, pred) == pytest.approx(c["expected"]["nrmse"], rel=1e-6)
    pred[:, 1] = true[:, 1] + 0.1 * (pred[:, 1] - true[:, 1])  # channel 1: ten times more accurate ...
    true, pred = true.copy(), pred.copy()
    true[:, 1] *= 10.0  # ... and ten times larger, so it dominates the all-channel norm
    pred[:, 1] *= 10.0
    ours = field_metrics(true, pred)
    per_channel = [field_metrics(true[:, k:k + 1], pred[:, k:k + 1])["nrmse"] for k in range(2)]
    assert ours["nrmse"] == pytest.approx(np.mean(per_channel), rel=1e-9)
    assert ours["relative_l2"] < 0.5 * ours["nrmse"]


def test_pdebench_rollout_averages_max_error_over_steps() -> None:
    """PDEBench averages every metric over time, the max error included (not the largest step's)."""
    from benchmarks.runner.suite import TaskData
    from benchmarks.suites.pdebench.scoring import score
    from orca import Task

    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(4, 1, 16)).astype(np.float32)
    truth = np.stack([x0 * (k + 2) for k in range(3)], axis=1)  # (N, K, C, X)
    step = lambda x: x + 1.0  # noqa: E731 - errors grow step by step
    data = TaskData(Task("t", (1, 16), "dense", (1, 16)), x0, x0, x0, truth[:, -1], extra={"rollout_targets": truth})
    out, _ = score(data, step)
    pred = np.stack([x0 + k + 1 for k in range(3)], axis=1)
    per_step = [np.abs(pred[:, k] - truth[:, k]).max() for k in range(3)]
    assert out["test"]["max_error"] == pytest.approx(np.mean(per_step), rel=1e-6)
    assert len(out["rollout"]["nrmse_per_step"]) == 3


# ---- NAS-Bench-360 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(2))
def test_cosmic_variants_equal_nb360_and_orca(case) -> None:
    """``nb360``: NAS-Bench-360's hard labels (logit > 0.5) over every pixel; ``paper``: ORCA's ``inv_auroc``
    after its ``mask`` transform zeroes ignored pixels in prediction and target."""
    from benchmarks.suites.nasbench360.metrics import cosmic_error

    c = _load("cosmic_auroc.json")["cases"][case]
    mask, logits, ignore = (np.array(c[k], dtype=np.float32) for k in ("mask", "logits", "ignore"))
    for mode in ("nb360", "paper"):
        assert cosmic_error(mask, logits, ignore, mode) == pytest.approx(c["expected"][mode], rel=1e-6), mode
    assert c["expected"]["nb360"] != pytest.approx(cosmic_error(mask, logits * (1 - ignore), ignore, "nb360"))


def _ecg_fixture():
    return _load("ecg.json"), _generator()


def test_ecg_split_and_windows_equal_nb360(tmp_path) -> None:
    """The records split 80/10/10 and cut into windows exactly as ``read_data_physionet_4_with_val`` and
    ``slide_and_cut`` do (record 28, 973 samples, gives no window and leaves the test part)."""
    from benchmarks.suites.nasbench360 import formats

    d, gen = _ecg_fixture()
    records = [gen.ecg_record(i, n) for i, n in enumerate(d["lengths"])]
    (tmp_path / "challenge2017.pkl").write_bytes(pickle.dumps({"data": records, "label": d["labels"]}))
    s = formats.read_ecg(tmp_path)
    labels = np.array(["NAO~".index(v) for v in d["labels"]])
    parts = dict(zip(("train", "val", "test"), formats.record_split(labels)))
    assert len(s.train) == d["train_windows"]
    for name in ("val", "test"):
        got = getattr(s, name)
        position = {rid: i for i, rid in enumerate(parts[name])}  # upstream numbers records within the part
        assert got.y.tolist() == d[name]["labels"]
        assert [position[r] for r in got.extra["record"]] == d[name]["record"]
    all_windows = formats.ecg_windows(records, labels, np.arange(len(records)))
    assert all_windows.y.tolist() == d["windows"]["labels"]
    assert all_windows.extra["record"].tolist() == d["windows"]["record"]


def test_ecg_record_vote_and_window_f1_equal_the_references() -> None:
    from benchmarks.suites.nasbench360.metrics import ecg_error

    d, _ = _ecg_fixture()
    y, records = (np.array(d["windows"][k]) for k in ("labels", "record"))
    scores = np.array(d["scores"])
    assert ecg_error(y, scores, records, "record") == pytest.approx(1 - d["expected"]["record_f1"], rel=1e-6)
    assert ecg_error(y, scores, records, "window") == pytest.approx(1 - d["expected"]["window_f1"], rel=1e-6)
    votes = d["tie"]["votes"]  # 3, 1, 1, 3: Counter.most_common gives 3 (voted first), not the lower class 1
    truth = np.full(len(votes), d["tie"]["expected"])
    assert ecg_error(truth, np.eye(4)[votes], np.zeros(len(votes)), "record") == 0.0


def test_fsd50k_map_equals_orca_calculate_stats() -> None:
    from benchmarks.suites.nasbench360.metrics import fsd50k_error

    d = _load("fsd50k.json")
    clip = np.array(d["clip"])
    labels = np.array(d["labels"])[clip]  # every chunk carries its clip's labels
    assert fsd50k_error(labels, np.array(d["logits"], dtype=np.float32), clip) == pytest.approx(
        d["expected"]["map_error"], rel=1e-6)


def test_fsd50k_log_mel_equals_torchaudio_and_librosa() -> None:
    """NAS-Bench-360's front end (torchaudio ``MelSpectrogram``: HTK mel scale, no filter normalisation; then
    ``librosa.power_to_db``, + 75, minus the mean): the filter bank to 1e-6 relative, the log-mel to 2e-3 dB
    (the reference runs in float32)."""
    from benchmarks.suites.nasbench360.audio import log_mel, mel_filterbank

    d = _load("fsd50k.json")
    assert float(mel_filterbank().astype(np.float64).sum()) == pytest.approx(d["filterbank_sum"], rel=1e-6)
    ours = log_mel(_generator().fsd_audio())
    assert ours.shape == (96, 101)
    assert np.abs(ours - np.array(d["log_mel"])).max() < 2e-3


def test_psicov_mae8_and_deepsea_auroc_equal_nb360() -> None:
    """MAE_8 over proteins of three lengths (each cropped to its own L, as ``calculate_mae`` does when given the
    right lengths) and DeepSEA's mean per-label AUROC, against NAS-Bench-360's functions."""
    from benchmarks.suites.nasbench360.metrics import deepsea_error, psicov_mae8

    d = _load("psicov_deepsea.json")
    maps = d["psicov"]
    assert psicov_mae8([np.array(m) for m in maps["pred"]], [np.array(m) for m in maps["true"]]) == pytest.approx(
        maps["expected_mae8"], rel=1e-9)
    ds = d["deepsea"]
    assert deepsea_error(np.array(ds["labels"]), np.array(ds["logits"])) == pytest.approx(
        1 - ds["expected_mean_auroc"], rel=1e-6)


# ---- TabPFN ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(4))
def test_tabpfn_window_splits_equal_generate_valid_split(case) -> None:
    """Seeds 0-4 are TabPFN's split numbers 1-5, row for row, including odd row counts below 2,000 (571 rows:
    285 / 285, one row left out) and 2,500 rows (1,000 / 1,000 windows)."""
    from benchmarks.suites.openml import tabpfn_window_split

    c = _load("tabpfn_splits.json")["cases"][case]
    y = np.array(c["y"])
    X = np.arange(len(y), dtype=np.float64)[:, None]
    for number, expected in c["splits"].items():
        assert expected is not None
        X_tr, X_te, _, _ = tabpfn_window_split(X, y, int(number) - 1, 1000, 1000)
        assert X_tr[:, 0].astype(int).tolist() == expected["train"], number
        assert X_te[:, 0].astype(int).tolist() == expected["test"], number


@pytest.mark.parametrize("case", range(3))
def test_roc_auc_equals_tabpfn_auc_metric(case) -> None:
    """Binary: the positive class's probability; multi-class: one-vs-one macro, as TabPFN's ``auc_metric``."""
    from orca.metrics import get_metric

    c = _load("tabpfn_auc.json")["cases"][case]
    assert get_metric("roc_auc")(np.array(c["y"]), np.array(c["prob"])) == pytest.approx(c["expected"], rel=1e-9)
