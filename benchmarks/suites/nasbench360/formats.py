"""Readers for the ten NAS-Bench-360 tasks' on-disk formats, with the splits NAS-Bench-360 defines.

Each ``read_<task>(folder)`` takes the folder the task's files were downloaded or unpacked into
(``benchmarks.md`` §2.2) and returns a :class:`Splits`: arrays for ``train``, ``val`` and ``test``, plus what a
metric needs beyond the targets (ECG record ids, FSD50K clip ids, Cosmic ignore masks, PSICOV lengths). Pickled
files go through :mod:`.safe_pickle`, never :mod:`pickle`. A missing file raises :class:`MissingFile`, naming the
file, where it was looked for and how to get it.

Where we differ from NAS-Bench-360 on purpose, the docstring says so (all of it is listed in docs/nasbench360.md).
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from orca.exceptions import DataError

from . import safe_pickle
from .audio import SR, clip_chunks, log_mel, mel_filterbank, read_wav


class MissingFile(DataError):
    """A task file that is not where the suite looked for it."""


@dataclass
class Split:
    """Inputs ``X``, targets ``y`` and per-row extras (record or clip ids, ignore masks, lengths)."""

    X: np.ndarray
    y: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class Splits:
    train: Split
    val: Split
    test: Split
    notes: list[str] = field(default_factory=list)
    """Preprocessing facts worth recording in results (e.g. which variant of a split was used)."""


def need(folder: Path, name: str, hint: str) -> Path:
    """``folder / name`` if it exists, else a :class:`MissingFile` that says where it was looked for."""
    path = Path(folder) / name
    if not path.exists():
        raise MissingFile(f"{name} was not found in {Path(folder).resolve()}; {hint}")
    return path


def _get(d: dict, key: str):
    """A key of a dict unpickled from Python 2 (bytes keys) or 3 (str keys)."""
    if key in d:
        return d[key]
    if key.encode() in d:
        return d[key.encode()]
    raise DataError(f"expected key {key!r}; the file has {sorted(map(str, d))}")


def _tail_split(X: np.ndarray, y: np.ndarray, n_val: int) -> tuple[Split, Split]:
    """The last ``n_val`` rows as validation, the rest as training (NAS-Bench-360's rule for several tasks)."""
    return Split(X[:-n_val], y[:-n_val]), Split(X[-n_val:], y[-n_val:])


# ---- images ------------------------------------------------------------------------------------------------
CIFAR100_MEAN = np.array([0.5071, 0.4867, 0.4408], dtype=np.float32)
CIFAR100_STD = np.array([0.2675, 0.2565, 0.2761], dtype=np.float32)


def read_cifar100(folder: Path) -> Splits:
    """``cifar-100-python/{train,test}`` (the torchvision tarball, unpacked): 40 000 / 10 000 / 10 000, the last
    10 000 training images as validation, normalised per channel. Training augmentation (crop and flip) is not
    applied: the suite trains on fixed arrays."""
    hint = "download cifar-100-python.tar.gz (see files.json) and unpack it there"
    parts = {}
    for name in ("train", "test"):
        d = safe_pickle.load_file(need(folder, f"cifar-100-python/{name}", hint), encoding="bytes")
        images = np.asarray(_get(d, "data"), dtype=np.uint8).reshape(-1, 3, 32, 32)  # (N, 3072) -> (N, 3, 32, 32)
        X = (images.astype(np.float32) / 255.0 - CIFAR100_MEAN[:, None, None]) / CIFAR100_STD[:, None, None]
        parts[name] = (X, np.asarray(_get(d, "fine_labels"), dtype=np.int64))
    train, val = _tail_split(*parts["train"], n_val=10_000 if len(parts["train"][0]) > 20_000 else
                             max(1, len(parts["train"][0]) // 5))
    return Splits(train, val, Split(*parts["test"]))


def read_spherical(folder: Path) -> Splits:
    """``s2_cifar100.gz``: a gzipped pickle ``{"train": {"images", "labels"}, "test": ...}``, images
    (N, 3, 60, 60) in 0..255 (divided by 255, as ORCA does); the last 20 % of training as validation."""
    d = safe_pickle.load_file(need(folder, "s2_cifar100.gz", "download spherical/s2_cifar100.gz (files.json)"))
    parts = {}
    for name in ("train", "test"):
        part = _get(d, name)
        parts[name] = (np.asarray(_get(part, "images"), dtype=np.float32) / 255.0,
                       np.asarray(_get(part, "labels"), dtype=np.int64))
    n_val = max(1, int(round(0.2 * len(parts["train"][0]))))
    train, val = _tail_split(*parts["train"], n_val=n_val)
    return Splits(train, val, Split(*parts["test"]))


def read_ninapro(folder: Path) -> Splits:
    """``ninapro_{train,val,test}.npy`` and ``label_*.npy``: sEMG windows stored (N, 52, 16) (time x channel),
    returned (N, 1, 16, 52); 18 classes; NAS-Bench-360's own three splits."""
    splits = []
    for name in ("train", "val", "test"):
        hint = "download ninapro/*.npy (files.json; MD5-checked)"
        X = np.asarray(safe_pickle.load_npy(need(folder, f"ninapro_{name}.npy", hint)), dtype=np.float32)
        y = np.asarray(safe_pickle.load_npy(need(folder, f"label_{name}.npy", hint)), dtype=np.int64)
        splits.append(Split(np.transpose(X, (0, 2, 1))[:, None], y))  # (N, 52, 16) -> (N, 1, 16, 52)
    return Splits(*splits)


def read_satellite(folder: Path, zscore_rows: bool = True) -> Splits:
    """``satellite_{train,test}.npy``: pickled dicts ``{"data": (N, 46), "label": 1..24}`` (labels minus 1); the
    last ``len(test)`` training rows as validation. NAS-Bench-360 z-scores each row (``zscore_rows``); ORCA does
    not."""
    parts = {}
    for name in ("train", "test"):
        d = safe_pickle.load_npy(need(folder, f"satellite_{name}.npy", "download satellite/*.npy (files.json)"))
        X = np.asarray(_get(d, "data"), dtype=np.float32)
        if zscore_rows:
            X = (X - X.mean(axis=1, keepdims=True)) / np.maximum(X.std(axis=1, keepdims=True), 1e-8)
        parts[name] = (X[:, None, :], np.asarray(_get(d, "label"), dtype=np.int64) - 1)  # (N, 46) -> (N, 1, 46)
    train, val = _tail_split(*parts["train"], n_val=len(parts["test"][0]))
    return Splits(train, val, Split(*parts["test"]), notes=[f"rows z-scored: {zscore_rows}"])


def read_deepsea(folder: Path) -> Splits:
    """``deepsea_filtered.npz``: ``x_{train,val,test}`` (N, 1000, 4) one-hot, returned (N, 4, 1000), and
    ``y_*`` (N, 36) binary labels."""
    path = need(folder, "deepsea_filtered.npz", "download deepsea/deepsea_filtered.npz (files.json)")
    with np.load(path, allow_pickle=False) as z:
        return Splits(*[Split(np.transpose(z[f"x_{s}"], (0, 2, 1)).astype(np.float32), z[f"y_{s}"].astype(np.float32))
                        for s in ("train", "val", "test")])


# ---- ECG ---------------------------------------------------------------------------------------------------
ECG_CLASSES = ("N", "A", "O", "~")
ECG_STRIDE = {"N": 500, "A": 83, "O": 250, "~": 25}
"""Window stride per class: NAS-Bench-360 oversamples the rare classes, in the test set too."""


def ecg_windows(records: list[np.ndarray], labels: np.ndarray, ids: np.ndarray, window: int = 1000,
                strides: tuple[int, ...] = tuple(ECG_STRIDE.values()), include_last: bool = False) -> Split:
    """Z-score every record (in float64, as NAS-Bench-360), then cut windows of ``window`` samples with the
    stride of the record's class (``strides[label]``), starting at ``range(0, len - window, stride)`` as
    NAS-Bench-360's ``slide_and_cut`` does: a window ending exactly at the record's end is not cut, and a record
    no longer than one window gives none (it is left out, upstream too). ``include_last`` also cuts the window
    starting at ``len - window`` (the offline proxy, whose beats are exactly one window long)."""
    xs, ys, rec = [], [], []
    for signal, label, rid in zip(records, labels, ids):
        s = np.asarray(signal, dtype=np.float64)
        s = (s - s.mean()) / s.std()
        starts = range(0, len(s) - window + (1 if include_last else 0), strides[label])
        xs += [s[i:i + window].astype(np.float32) for i in starts]
        ys += [label] * len(starts)
        rec += [rid] * len(starts)
    if not xs:
        raise DataError(f"no ECG record is longer than one window ({window} samples)")
    return Split(np.stack(xs)[:, None, :], np.asarray(ys, dtype=np.int64), {"record": np.asarray(rec)})


def record_split(labels: np.ndarray, seed: int = 0, stratify: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NAS-Bench-360's ECG split of records with a validation part (``read_data_physionet_4_with_val``, also
    ORCA's ``load_ecg`` with ``valid_split``): 20 % held out with scikit-learn's
    ``train_test_split(test_size=0.2, random_state=seed)``, then halved (``test_size=0.5``, same seed) into
    validation and test. ``seed`` 0 is upstream's. ``stratify`` keeps the class shares in every part (the
    proxy's rare classes need it; NAS-Bench-360 does not stratify)."""
    from sklearn.model_selection import train_test_split

    ids = np.arange(len(labels))
    train, held = train_test_split(ids, test_size=0.2, random_state=seed, stratify=labels if stratify else None)
    val, test = train_test_split(held, test_size=0.5, random_state=seed,
                                 stratify=labels[held] if stratify else None)
    return train, val, test


def read_ecg(folder: Path, seed: int = 0) -> Splits:
    """``challenge2017.pkl``: ``{"data": [records at 300 Hz], "label": [N|A|O|~ or 0..3]}``. Records are split
    80/10/10 as NAS-Bench-360 does when it keeps a validation part (:func:`record_split`), then cut into windows
    (:func:`ecg_windows`). ``extra["record"]`` names each window's record for the record-level F1.

    NAS-Bench-360's final evaluation (``read_data_physionet_4``, no validation) tests on a different 10 %
    (``test_size=0.1``); with a validation part, this split is the one both references use."""
    d = safe_pickle.load_file(need(folder, "challenge2017.pkl", "download ECG/challenge2017.pkl (files.json)"),
                              encoding="latin1")
    records = list(_get(d, "data"))
    raw = list(_get(d, "label"))
    labels = np.asarray([ECG_CLASSES.index(v.decode() if isinstance(v, bytes) else v) if not
                         isinstance(v, (int, np.integer)) else int(v) for v in raw], dtype=np.int64)
    return Splits(*[ecg_windows([records[i] for i in part], labels[part], part)
                    for part in record_split(labels, seed)])


# ---- Darcy Flow --------------------------------------------------------------------------------------------
def read_mat(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Arrays from a MATLAB file: SciPy for v5 files, h5py for v7.3 (HDF5; its axes are reversed)."""
    from scipy.io import loadmat

    try:
        m = loadmat(path, variable_names=list(keys))
        return {k: np.asarray(m[k]) for k in keys}
    except NotImplementedError:  # v7.3
        import h5py

        with h5py.File(path, "r") as f:
            return {k: np.asarray(f[k]).transpose() for k in keys}


def read_darcy(folder: Path, sub: int = 5) -> Splits:
    """``piececonst_r421_N1024_smooth{1,2}.mat`` (``coeff``, ``sol``), sub-sampled ``::5`` to 85 x 85: train =
    smooth1[:900], val = smooth1[900:1000], test = smooth2[:100]. Inputs (N, 1, 85, 85) coefficients, targets
    (N, 1, 85, 85) solutions; the pointwise normalisation and grid channels are added by the task."""
    hint = "download darcy/piececonst_r421_N1024_smooth{1,2}.mat (files.json), or use the regenerated task"
    one = read_mat(need(folder, "piececonst_r421_N1024_smooth1.mat", hint), ("coeff", "sol"))
    two = read_mat(need(folder, "piececonst_r421_N1024_smooth2.mat", hint), ("coeff", "sol"))

    def cut(m: dict, rows: slice) -> Split:
        return Split(m["coeff"][rows, ::sub, ::sub][:, None].astype(np.float32),
                     m["sol"][rows, ::sub, ::sub][:, None].astype(np.float32))

    return Splits(cut(one, slice(0, 900)), cut(one, slice(900, 1000)), cut(two, slice(0, 100)))


# ---- PSICOV ------------------------------------------------------------------------------------------------
def psicov_features(feat: dict) -> np.ndarray:
    """57 channels (57, L, L) from one DeepCov feature dict: ss (3, L), pssm (L, 22), sa (L) and entropy (L), each
    tiled along rows and along columns (2 x 27 = 54), then ccmpred, freecon and potential (L, L)."""
    one_d = [np.asarray(_get(feat, "ss"), dtype=np.float32).reshape(3, -1),
             np.asarray(_get(feat, "pssm"), dtype=np.float32).T,  # (L, 22) -> (22, L)
             np.asarray(_get(feat, "sa"), dtype=np.float32).reshape(1, -1),
             np.asarray(_get(feat, "entropy"), dtype=np.float32).reshape(1, -1)]
    stacked = np.concatenate(one_d)  # (27, L)
    L = stacked.shape[1]
    rows = np.broadcast_to(stacked[:, :, None], (27, L, L))  # channel c at (i, j) = f_c(i)
    cols = np.broadcast_to(stacked[:, None, :], (27, L, L))  # channel c at (i, j) = f_c(j)
    pair = [np.asarray(_get(feat, k), dtype=np.float32).reshape(L, L) for k in ("ccmpred", "freecon", "potential")]
    return np.concatenate([rows, cols, np.stack(pair)])


def read_psicov_set(folder: Path, subset: str, ids: list[str]) -> Split:
    """Features and Cβ distance maps of ``ids`` under ``<subset>/{features,distance}``; maps vary in size, so
    ``X`` and ``y`` are object arrays of (57, L, L) and (L, L), with ``extra["length"]``."""
    hint = "download protein.zip (files.json) and unpack it there"
    xs, ys = [], []
    for pid in ids:
        feat = safe_pickle.load_file(need(folder, f"{subset}/features/{pid}.pkl", hint), encoding="latin1")
        dist = safe_pickle.load_npy(need(folder, f"{subset}/distance/{pid}-cb.npy", hint), encoding="latin1")
        cb = np.asarray(dist[-1] if isinstance(dist, (tuple, list)) or getattr(dist, "dtype", None) == object
                        else dist, dtype=np.float32)
        cb = np.maximum(cb, 1.0)  # distances below 1 Å are set to 1
        x = psicov_features(feat)
        if x.shape[1:] != cb.shape:
            raise DataError(f"{pid}: features are {x.shape[1:]} but the distance map is {cb.shape}")
        xs.append(x)
        ys.append(cb)
    X, y = np.empty(len(xs), dtype=object), np.empty(len(ys), dtype=object)
    X[:], y[:] = xs, ys
    return Split(X, y, {"length": np.asarray([len(c) for c in ys]), "id": np.asarray(ids)})


def read_psicov(folder: Path) -> Splits:
    """``deepcov.lst`` (train = entries 100 on, val = the first 100) and ``psicov.lst`` (test, 150 proteins)."""
    hint = "download protein.zip (files.json) and unpack it there"

    def listed(name: str) -> list[str]:
        return [ln.split()[0] for ln in need(folder, name, hint).read_text().splitlines() if ln.strip()]

    deepcov = listed("deepcov.lst")
    n_val = min(100, max(1, len(deepcov) // 10))
    return Splits(read_psicov_set(folder, "deepcov", deepcov[n_val:]),
                  read_psicov_set(folder, "deepcov", deepcov[:n_val]),
                  read_psicov_set(folder, "psicov", listed("psicov.lst")))


# ---- Cosmic ------------------------------------------------------------------------------------------------
def cosmic_field_types() -> dict[str, str]:
    """NAS-Bench-360's field type (GC, GAL or EX) of every deepCR visit, keyed ``<proposal id>_<visit>``
    (``cosmic_fields.json``, read from NAS-Bench-360's ``cosmic_dataset.py``)."""
    return json.loads((Path(__file__).with_name("cosmic_fields.json")).read_text())["fields"]


def read_cosmic(folder: Path, filter_name: str = "f435w", fields: dict[str, str] | None | str = "nb360",
                crop: int = 128, offset: int = 64) -> Splits:
    """``deepCR.ACS-WFC.{train,test}.tar``: members ``npy_<split>/<filter>/<prop>/<visit>/*.npy`` of (3, H, W)
    (image, cosmic-ray mask, ignore mask), the ``sky.npy`` of each visit left out. Only ``filter_name``, and only
    the visits whose field type is GAL, as NAS-Bench-360 does: ``fields`` is a ``"<prop>_<visit>" -> GC|GAL|EX``
    table, by default (``"nb360"``) NAS-Bench-360's own (:func:`cosmic_field_types`); a visit missing from it is
    an error; ``None`` keeps every visit of the filter. A fixed ``crop`` x ``crop`` window at ``(offset,
    offset)``; the last 10 % of training paths are validation. Inputs (N, 1, crop, crop), targets the mask,
    ``extra["ignore"]`` the ignore mask. Sky augmentation is not applied."""
    if fields == "nb360":
        fields = cosmic_field_types()
    elif isinstance(fields, str):
        raise DataError(f"fields {fields!r}; expected 'nb360', a table or None")
    parts = {}
    for name in ("train", "test"):
        path = need(folder, f"deepCR.ACS-WFC.{name}.tar", "download cosmic/deepCR.ACS-WFC.*.tar (files.json)")
        images, masks, ignores = [], [], []
        with tarfile.open(path) as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile() and m.name.endswith(".npy")
                              and not m.name.endswith("sky.npy")), key=lambda m: m.name)
            for m in members:
                bits = Path(m.name).parts
                if filter_name not in bits:
                    continue
                at = bits.index(filter_name)
                key = "_".join(bits[at + 1:at + 3])
                if fields is not None and key not in fields:
                    raise DataError(f"{m.name}: visit {key} is not in the field-type table ({len(fields)} visits); "
                                    "pass fields=None to keep every visit")
                if fields is not None and fields[key] != "GAL":
                    continue
                arr = np.lib.format.read_array(io.BytesIO(tar.extractfile(m).read()), allow_pickle=False)
                if arr.ndim != 3 or arr.shape[0] != 3:
                    raise DataError(f"{m.name}: expected (3, H, W) image/mask/ignore, got {arr.shape}")
                window = arr[:, offset:offset + crop, offset:offset + crop].astype(np.float32)
                images.append(window[0:1])
                masks.append(window[1:2])
                ignores.append(window[2:3])
        if not images:
            raise DataError(f"{path.name} holds no {filter_name} images" + (" of GAL fields" if fields else ""))
        parts[name] = Split(np.stack(images), np.stack(masks), {"ignore": np.stack(ignores)})
    tr = parts["train"]
    n_val = max(1, len(tr) // 10)
    head, tail = slice(0, len(tr) - n_val), slice(len(tr) - n_val, len(tr))
    notes = ["GAL fields only" if fields else f"all {filter_name} visits (no field-type table given)"]
    return Splits(Split(tr.X[head], tr.y[head], {"ignore": tr.extra["ignore"][head]}),
                  Split(tr.X[tail], tr.y[tail], {"ignore": tr.extra["ignore"][tail]}), parts["test"], notes)


# ---- FSD50K ------------------------------------------------------------------------------------------------
def read_fsd50k(folder: Path) -> Splits:
    """``chunks/{tr,val,eval}.csv`` (columns ``files``: one 1-second chunk's WAV, ``labels``: comma-separated
    names, ``ext``: the clip the chunk was cut from) and ``chunks/lbl_map.json`` (name -> index), as NAS-Bench-360
    writes them. Each row is one input, (1, 96, 101) log-mel; ``extra["clip"]`` is the row's ``ext``, so
    evaluation averages a clip's chunk logits (NAS-Bench-360's ``FSD50kEvalDataset`` groups rows by ``ext``)."""
    hint = "download audio.zip (files.json) and unpack it there"
    label_map = json.loads(need(folder, "chunks/lbl_map.json", hint).read_text())
    fb = mel_filterbank()
    out = []
    for name in ("tr", "val", "eval"):
        xs, ys, clips = [], [], []
        with open(need(folder, f"chunks/{name}.csv", hint), newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"files", "labels", "ext"} - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"chunks/{name}.csv has no column {sorted(missing)}; expected files, labels, ext")
            for row_id, row in enumerate(reader):
                target = np.zeros(len(label_map), dtype=np.float32)
                for lab in row["labels"].split(","):
                    if lab not in label_map:
                        raise DataError(f"{name}.csv row {row_id}: label {lab!r} is not in lbl_map.json")
                    target[label_map[lab]] = 1.0
                audio_path = Path(folder) / row["files"]
                if not audio_path.is_file():
                    raise MissingFile(f"{row['files']} (listed in chunks/{name}.csv) was not found in "
                                      f"{Path(folder).resolve()}; {hint}")
                audio = read_wav(audio_path)
                if len(audio) > SR:
                    raise DataError(f"{row['files']} holds {len(audio) / SR:.2f} s; each row of chunks/{name}.csv "
                                    "must be one chunk of at most 1 s")
                xs.append(log_mel(clip_chunks(audio)[0], fb)[None])  # a shorter chunk is tiled to 1 s
                ys.append(target)
                clips.append(row["ext"])
        out.append(Split(np.stack(xs), np.stack(ys), {"clip": np.asarray(clips)}))
    return Splits(*out)
