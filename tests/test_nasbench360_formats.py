"""NAS-Bench-360: every loader on a tiny fixture written in the real file's exact format, every metric against
hand-computed values, and the restricted unpickler refusing anything but arrays and containers."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import tarfile
import wave

import numpy as np
import pytest
from sklearn import metrics as skm

from benchmarks.suites.nasbench360 import audio, formats, metrics, safe_pickle
from orca.exceptions import DataError

RNG = np.random.default_rng(0)


# ---- restricted unpickling ---------------------------------------------------------------------------------
class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_restricted_unpickler_admits_arrays_and_containers_only(tmp_path) -> None:
    good = {"a": np.arange(3), "b": [1.5, (2, "x")], b"c": {"d": np.ones((2, 2), np.float32)}}
    (tmp_path / "good.pkl").write_bytes(pickle.dumps(good, protocol=2))
    back = safe_pickle.load_file(tmp_path / "good.pkl")
    assert np.array_equal(back["a"], good["a"]) and back["b"] == [1.5, (2, "x")]
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"x": _Evil()}))
    with pytest.raises(DataError, match="refusing to unpickle builtins.print"):
        safe_pickle.load_file(tmp_path / "evil.pkl")
    objects = np.empty(2, dtype=object)
    objects[:] = [np.arange(2), _Evil()]
    np.save(tmp_path / "evil.npy", objects, allow_pickle=True)
    with pytest.raises(DataError, match="refusing"):
        safe_pickle.load_npy(tmp_path / "evil.npy")
    with gzip.open(tmp_path / "good.gz", "wb") as fh:
        pickle.dump(good, fh)
    assert safe_pickle.load_file(tmp_path / "good.gz")["b"] == [1.5, (2, "x")]


# ---- fixtures in each task's exact format ------------------------------------------------------------------
def test_cifar100(tmp_path) -> None:
    (tmp_path / "cifar-100-python").mkdir()
    for name, n in (("train", 50), ("test", 7)):
        d = {b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8), b"fine_labels": list(range(n)),
             b"coarse_labels": [0] * n}
        (tmp_path / "cifar-100-python" / name).write_bytes(pickle.dumps(d, protocol=2))
    s = formats.read_cifar100(tmp_path)
    assert (len(s.train), len(s.val), len(s.test)) == (40, 10, 7)
    assert s.train.X.shape == (40, 3, 32, 32) and list(s.val.y) == list(range(40, 50))  # the last rows
    raw = pickle.loads((tmp_path / "cifar-100-python" / "test").read_bytes())[b"data"][0]
    expect = (raw.reshape(3, 32, 32)[0, 0, 0] / 255 - 0.5071) / 0.2675
    assert s.test.X[0, 0, 0, 0] == pytest.approx(expect, rel=1e-5)


def test_spherical(tmp_path) -> None:
    d = {"train": {"images": RNG.integers(0, 256, (10, 3, 60, 60)).astype(np.uint8), "labels": np.arange(10)},
         "test": {"images": np.full((4, 3, 60, 60), 255, np.uint8), "labels": np.arange(4)}}
    with gzip.open(tmp_path / "s2_cifar100.gz", "wb") as fh:
        pickle.dump(d, fh)
    s = formats.read_spherical(tmp_path)
    assert (len(s.train), len(s.val), len(s.test)) == (8, 2, 4) and s.test.X.max() == 1.0
    assert list(s.val.y) == [8, 9]


def test_ninapro(tmp_path) -> None:
    for name, n in (("train", 6), ("val", 3), ("test", 2)):
        np.save(tmp_path / f"ninapro_{name}.npy", RNG.normal(size=(n, 52, 16)).astype(np.float32))
        np.save(tmp_path / f"label_{name}.npy", np.arange(n) % 18)
    s = formats.read_ninapro(tmp_path)
    assert s.train.X.shape == (6, 1, 16, 52) and len(s.val) == 3 and len(s.test) == 2
    raw = np.load(tmp_path / "ninapro_train.npy")
    assert s.train.X[1, 0, 5, 7] == raw[1, 7, 5]  # (time, channel) -> (channel, time)


def test_satellite(tmp_path) -> None:
    for name, n in (("train", 12), ("test", 3)):
        np.save(tmp_path / f"satellite_{name}.npy", {"data": RNG.normal(size=(n, 46)), "label": 1 + np.arange(n) % 24},
                allow_pickle=True)
    s = formats.read_satellite(tmp_path)
    assert (len(s.train), len(s.val), len(s.test)) == (9, 3, 3) and s.train.X.shape == (9, 1, 46)
    assert s.train.y.min() == 0 and np.allclose(s.train.X.mean(axis=2), 0, atol=1e-5)
    assert np.allclose(s.train.X.std(axis=2), 1, atol=1e-4)
    raw = formats.read_satellite(tmp_path, zscore_rows=False)
    assert not np.allclose(raw.train.X.mean(axis=2), 0, atol=1e-3)


def test_deepsea(tmp_path) -> None:
    arrays = {}
    for name, n in (("train", 5), ("val", 2), ("test", 3)):
        arrays[f"x_{name}"] = np.eye(4, dtype=np.uint8)[RNG.integers(0, 4, (n, 1000))]  # (n, 1000, 4)
        arrays[f"y_{name}"] = RNG.integers(0, 2, (n, 36)).astype(np.uint8)
    np.savez(tmp_path / "deepsea_filtered.npz", **arrays)
    s = formats.read_deepsea(tmp_path)
    assert s.train.X.shape == (5, 4, 1000) and s.test.y.shape == (3, 36)
    assert np.array_equal(s.val.X.sum(axis=1), np.ones((2, 1000)))  # one-hot along the channel axis


def test_ecg_records_windows_and_split(tmp_path) -> None:
    records = [RNG.normal(size=int(n)) * 5 + 3 for n in RNG.integers(1001, 3000, 40)]
    labels = [["N", "A", "O", "~"][i % 4] for i in range(40)]
    (tmp_path / "challenge2017.pkl").write_bytes(pickle.dumps({"data": records, "label": labels}))
    s = formats.read_ecg(tmp_path)
    ids = [set(p.extra["record"]) for p in (s.train, s.val, s.test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert len(ids[2]) == 4 and len(ids[1]) == 4 and len(ids[0]) == 32  # 20 % held out, halved into val / test
    assert s.train.X.shape[1:] == (1, 1000)
    # window count follows the class stride: a 2 000-sample 'A' record gives starts range(0, 1000, 83)
    one = formats.ecg_windows([np.arange(2000.0)], np.array([1]), np.array([7]))
    assert len(one) == len(range(0, 1000, 83)) and set(one.extra["record"]) == {7}
    # a 1 500-sample 'N' record: range(0, 500, 500) -> one window; the one ending at the last sample is not cut
    assert len(formats.ecg_windows([np.arange(1500.0)], np.array([0]), np.array([0]))) == 1
    assert one.X[0, 0].mean() == pytest.approx((np.arange(1000) - 999.5).mean() / np.arange(2000).std(), rel=1e-4)


def test_darcy_mat(tmp_path) -> None:
    from scipy.io import savemat

    for k in (1, 2):
        coeff = RNG.choice([3.0, 12.0], size=(1000 if k == 1 else 100, 11, 11))
        savemat(tmp_path / f"piececonst_r421_N1024_smooth{k}.mat", {"coeff": coeff, "sol": coeff * 0.01})
    s = formats.read_darcy(tmp_path, sub=5)
    assert s.train.X.shape == (900, 1, 3, 3) and len(s.val) == 100 and len(s.test) == 100
    assert np.allclose(s.train.y, s.train.X * 0.01)


def test_psicov(tmp_path) -> None:
    def protein(subset: str, pid: str, L: int) -> None:
        for sub in ("features", "distance"):
            (tmp_path / subset / sub).mkdir(parents=True, exist_ok=True)
        feat = {"ss": RNG.random((3, L)), "pssm": RNG.random((L, 22)), "sa": RNG.random(L), "entropy": RNG.random(L),
                "ccmpred": RNG.random((L, L)), "freecon": RNG.random((L, L)), "potential": RNG.random((L, L))}
        (tmp_path / subset / "features" / f"{pid}.pkl").write_bytes(pickle.dumps(feat, protocol=2))
        d = RNG.random((L, L)) * 20
        d = (d + d.T) / 2
        d[0, 1] = 0.3
        obj = np.empty(3, dtype=object)
        obj[:] = [L, "A" * L, d]
        np.save(tmp_path / subset / "distance" / f"{pid}-cb.npy", obj, allow_pickle=True)

    ids = [f"d{i}" for i in range(12)]
    for i, pid in enumerate(ids):
        protein("deepcov", pid, 30 + i)
    protein("psicov", "p0", 40)
    (tmp_path / "deepcov.lst").write_text("\n".join(ids) + "\n")
    (tmp_path / "psicov.lst").write_text("p0\n")
    s = formats.read_psicov(tmp_path)
    assert len(s.train) == 11 and len(s.val) == 1 and list(s.val.extra["id"]) == ["d0"]  # first entries are val
    x, y = s.test.X[0], s.test.y[0]
    assert x.shape == (57, 40, 40) and y.shape == (40, 40) and s.test.extra["length"][0] == 40
    assert y[0, 1] == 1.0  # distances below 1 are set to 1
    feat = pickle.loads((tmp_path / "psicov" / "features" / "p0.pkl").read_bytes())
    assert x[3 + 5, 2, 9] == pytest.approx(feat["pssm"][2, 5]) and x[27 + 3 + 5, 2, 9] == pytest.approx(feat["pssm"][9, 5])
    assert np.allclose(x[54], feat["ccmpred"])


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_cosmic_tar(tmp_path) -> None:
    visits = {"train": ["10760/2", "10595/2", "13737/2", "10631/3", "12513/2", "9442/1", "10182/pb", "10260/5",
                        "10407/3", "13057/1"],  # GAL, GC, GAL, EX, GAL, GC, GAL, GAL, GAL, GAL in NAS-Bench-360's table
              "test": ["13364/95", "10146/4"]}  # GAL, GC
    for name in ("train", "test"):
        with tarfile.open(tmp_path / f"deepCR.ACS-WFC.{name}.tar", "w") as tar:
            for visit in visits[name]:
                for filt in ("f435w", "f606w"):
                    arr = RNG.random((3, 256, 256)).astype(np.float32)
                    arr[1] = arr[1] > 0.9
                    arr[2] = arr[2] > 0.95
                    for member, data in ((f"npy_{name}/{filt}/{visit}/img.npy", arr),
                                         (f"npy_{name}/{filt}/{visit}/sky.npy", np.ones(1))):
                        blob = _npy_bytes(data)
                        info = tarfile.TarInfo(member)
                        info.size = len(blob)
                        tar.addfile(info, io.BytesIO(blob))
    everything = formats.read_cosmic(tmp_path, fields=None)
    assert (len(everything.train), len(everything.val), len(everything.test)) == (9, 1, 2)
    assert "all f435w visits" in everything.notes[0]
    s = formats.read_cosmic(tmp_path)  # NAS-Bench-360's field table by default: 7 GAL train visits, 1 GAL test
    assert (len(s.train), len(s.val), len(s.test)) == (6, 1, 1) and s.train.X.shape == (6, 1, 128, 128)
    assert set(np.unique(s.train.y)) <= {0.0, 1.0} and s.train.extra["ignore"].shape == (6, 1, 128, 128)
    assert "GAL fields only" in s.notes[0]
    with pytest.raises(DataError, match=r"visit \d+_\w+ is not in the field-type table"):
        formats.read_cosmic(tmp_path, fields={"10595_2": "GC"})


def _write_wav(path, samples: np.ndarray, rate: int = audio.SR) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def test_fsd50k_chunks_and_log_mel(tmp_path) -> None:
    chunks = tmp_path / "chunks"
    chunks.mkdir()
    (chunks / "lbl_map.json").write_text(json.dumps({"Bark": 0, "Meow": 1, "Rain": 2}))
    t = np.arange(audio.SR) / audio.SR
    _write_wav(tmp_path / "a0.wav", 0.5 * np.sin(2 * np.pi * 1000 * t))  # clip 123: two 1 s chunks
    _write_wav(tmp_path / "a1.wav", 0.4 * np.sin(2 * np.pi * 1000 * t))
    _write_wav(tmp_path / "short.wav", 0.5 * np.sin(2 * np.pi * 440 * t[: audio.SR // 3]))  # tiled to 1 s
    for name in ("tr", "val", "eval"):
        with open(chunks / f"{name}.csv", "w", encoding="utf-8") as fh:
            fh.write('files,labels,ext\na0.wav,"Bark,Rain",123\na1.wav,"Bark,Rain",123\nshort.wav,Meow,77\n')
    s = formats.read_fsd50k(tmp_path)
    assert s.test.X.shape == (3, 1, 96, 101) and list(s.test.extra["clip"]) == ["123", "123", "77"]
    assert s.test.y[0].tolist() == [1, 0, 1] and s.test.y[2].tolist() == [0, 1, 0]
    spec = s.test.X[0, 0]
    assert abs(spec.mean()) < 1e-4  # chunk mean removed
    fb = audio.mel_filterbank()
    freqs = np.linspace(0, audio.SR / 2, audio.N_FFT // 2 + 1)
    assert spec.mean(axis=1).argmax() == fb[:, np.argmin(np.abs(freqs - 1000))].argmax()  # the tone's band
    _write_wav(tmp_path / "long.wav", np.zeros(2 * audio.SR))
    with open(chunks / "eval.csv", "w", encoding="utf-8") as fh:
        fh.write("files,labels,ext\nlong.wav,Bark,1\n")
    with pytest.raises(DataError, match="long.wav holds 2.00 s; each row of chunks/tr.csv|long.wav holds 2.00 s"):
        formats.read_fsd50k(tmp_path)
    _write_wav(tmp_path / "bad.wav", np.zeros(100), rate=16000)
    with pytest.raises(DataError, match="22050 Hz"):
        audio.read_wav(tmp_path / "bad.wav")


def test_missing_file_says_where_and_how(tmp_path) -> None:
    with pytest.raises(formats.MissingFile, match=r"deepsea_filtered.npz was not found in .*download deepsea"):
        formats.read_deepsea(tmp_path)


# ---- metrics against hand-computed values ------------------------------------------------------------------
def test_error_percent() -> None:
    scores = np.eye(3)[[0, 2, 2, 1]]
    assert metrics.error_percent(np.array([0, 1, 2, 1]), scores) == 25.0


def test_ecg_window_and_record_f1() -> None:
    # record 0 (class A): windows predicted A, A, N -> vote A; record 1 (class N): N, O -> tie -> N (voted first)
    y = np.array([1, 1, 1, 0, 0])
    pred = np.eye(4)[[1, 1, 0, 0, 2]]
    records = np.array([0, 0, 0, 1, 1])
    # windows: N has precision 1/2, recall 1/2 -> F1 1/2; A: precision 1, recall 2/3 -> 0.8; O: 0 -> macro 1.3/3
    assert metrics.ecg_error(y, pred, records, "window") == pytest.approx(1 - 1.3 / 3)
    # records: both votes right -> error 0
    assert metrics.ecg_error(y, pred, records, "record") == pytest.approx(0.0)
    # a tie goes to the class voted for first (Counter.most_common), not the lower class: O, N -> O
    assert metrics.ecg_error(np.array([2, 2, 0, 0]), np.eye(4)[[2, 0, 0, 0]], np.array([0, 0, 1, 1]),
                             "record") == pytest.approx(0.0)


def test_cosmic_auroc_variants() -> None:
    mask = np.array([1, 0, 1, 0, 0, 1], dtype=float)
    logits = np.array([0.8, 0.3, 0.2, -1.0, 0.9, 2.0])
    ignore = np.array([0, 0, 0, 0, 1, 0], dtype=float)
    keep = ignore == 0
    assert metrics.cosmic_error(mask, logits, ignore, "score") == pytest.approx(
        1 - skm.roc_auc_score(mask[keep], logits[keep]))
    # NB360: hard labels logit > 0.5 -> [1, 0, 0, 0, 1, 1] over all pixels, the ignored one included
    assert metrics.cosmic_error(mask, logits, ignore, "nb360") == pytest.approx(
        1 - skm.roc_auc_score(mask, [1, 0, 0, 0, 1, 1]))
    # ORCA: prediction and target zeroed where ignored, then logit > 0 -> [1, 1, 1, 0, 0, 1]
    assert metrics.cosmic_error(mask, logits, ignore, "paper") == pytest.approx(
        1 - skm.roc_auc_score(mask, [1, 1, 1, 0, 0, 1]))


def test_psicov_mae8_by_hand() -> None:
    L = 30
    true = np.full((L, L), 20.0)
    true[0, 25] = true[25, 0] = 6.0  # the only pair with j - i >= 24 within 8 Å ...
    true[0, 10] = 5.0  # ... this one is too close in sequence
    pred = np.full((L, L), 20.0)
    pred[0, 25], pred[25, 0] = 9.0, 7.0  # symmetrised: 8.0 -> error 2.0
    other = np.full((40, 40), 20.0)
    other[1, 30] = 7.0
    pred_other = other.copy()
    pred_other[1, 30] = pred_other[30, 1] = 7.5  # error 0.5 (its own length: 40)
    assert metrics.psicov_mae8([pred, pred_other], [true, other]) == pytest.approx((2.0 + 0.5) / 2)
    with pytest.raises(ValueError, match="no protein"):
        metrics.psicov_mae8([np.zeros((5, 5))], [np.zeros((5, 5))])


def test_fsd50k_clip_level_map() -> None:
    labels = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    logits = np.array([[3.0, -3.0], [-1.0, 0.0], [0.0, 2.0], [0.0, 2.0]])
    clips = np.array([0, 0, 1, 1])
    mean = np.array([[1.0, -1.5], [0.0, 2.0]])
    expect = 1 - skm.average_precision_score([[1, 0], [0, 1]], 1 / (1 + np.exp(-mean)), average="macro")
    assert metrics.fsd50k_error(labels, logits, clips) == pytest.approx(expect)


def test_deepsea_leaves_out_single_class_labels_and_darcy_by_hand() -> None:
    # DeepSEA against NAS-Bench-360's own calculate_stats: tests/test_reference_scoring.py. Here: a label with a
    # single class in the test set has no AUROC and is left out (NAS-Bench-360's code would raise).
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    s = np.array([[0.9, 0.1], [0.2, 0.3], [0.7, 0.5], [0.1, 0.2]])
    assert metrics.deepsea_error(y, s) == pytest.approx(0.0)
    t = np.ones((2, 1, 4, 4))
    p = t.copy()
    p[0] *= 1.5
    assert metrics.relative_l2(t, p) == pytest.approx(0.25)
