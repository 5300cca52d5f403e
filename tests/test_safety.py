"""Safe by default and never silently wrong: one test per finding of the safety issue (model files, predict,
resume, divergence, early validation, the facade's whole config, clear errors for bad input)."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import config_schedule, config_schedule_sets, tiny_hf_model

from orca import CrossModalClassifier, CrossModalRegressor, OrcaConfig
from orca.cli import main
from orca.config import flatten
from orca.estimators import CONFIG_PARAMS, FACADE_PARAMS
from orca.exceptions import ConfigError, DataError, DivergenceError
from orca.modelfile import ModelFileError

FAST = {**config_schedule(), **dict(refine__epochs=2, refine__batch_size=16, refine__lr=1e-3, device="cpu", align__objective="none",
            embedder__target_seq_len=8)}


class _Payload:
    """Unpickling this runs ``print`` (a stand-in for ``os.system``): a file holding it must never be executed."""

    def __reduce__(self):
        return (print, ("PAYLOAD-RAN",))


def _table(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    frame = pd.DataFrame({"x1": rng.normal(size=n) + 2 * y, "x2": rng.normal(size=n) - y,
                          "kind": rng.choice(["a", "b"], n)})
    return frame, np.where(y == 1, "yes", "no")


@pytest.fixture(scope="module")
def fitted():
    from orca.bodies import Body

    torch.manual_seed(0)
    frame, y = _table()
    clf = CrossModalClassifier(Body(tiny_hf_model("bert"), name="tiny-bert"), **FAST).fit(frame, y)
    return clf, frame, y


# ---- 1. no code execution from a model file ---------------------------------------------------------------
def test_old_pickled_model_file_is_refused_without_running_it(tmp_path, capfd) -> None:
    bad = tmp_path / "model.pt"
    torch.save({"class": "CrossModalClassifier", "model": _Payload()}, bad)
    with pytest.raises(ModelFileError, match="orca convert-model"):
        CrossModalClassifier.load(bad)
    assert main(["predict", str(bad), str(tmp_path / "x.csv"), "--out", str(tmp_path / "p.csv")]) == 2
    assert main(["convert-model", str(bad), str(tmp_path / "new.safetensors")]) == 2  # weights_only refuses it
    assert "PAYLOAD-RAN" not in capfd.readouterr().out


def test_resume_from_a_malicious_checkpoint_is_refused_without_running_it(tmp_path, capfd) -> None:
    from orca.bodies import Body

    frame, y = _table()
    torch.save({"fingerprint": _Payload(), "model": {}}, tmp_path / "last.pt")
    clf = CrossModalClassifier(Body(tiny_hf_model("bert")), **FAST, checkpoint_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="cannot be read as tensors and plain data"):
        clf.fit(frame, y, resume=True)
    assert "PAYLOAD-RAN" not in capfd.readouterr().out


def test_model_file_round_trip_and_legacy_conversion(fitted, tmp_path) -> None:
    clf, frame, _ = fitted
    path = clf.save(tmp_path / "m.safetensors")
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:  # weights are tensors; the rest is JSON in the header
        meta = json.loads(fh.metadata()["orca"])
    assert meta["preprocessor"]["columns"] == ["x1", "x2", "kind"] and meta["classes"]["values"] == ["no", "yes"]
    dtypes = meta["preprocessor"]["dtypes"]
    assert dtypes[:2] == ["float64", "float64"] and dtypes[2] in ("object", "str") and len(meta["data_sha256"]) == 64
    assert {"orca", "torch", "transformers"} <= set(meta["versions"])
    again = CrossModalClassifier.load(path, body=clf.model_.body)
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    with pytest.raises(ModelFileError, match="holds a CrossModalClassifier"):
        CrossModalRegressor.load(path, body=clf.model_.body)
    # an orca 0.1 file (torch pickle of plain data and tensors) converts without executing anything
    old = {"class": "CrossModalClassifier", "params": {"categorical_features": None}, "body": "tiny",
           "config": clf.config_.to_dict(), "task": clf.task_.to_dict(), "model": clf.model_.state_dict(),
           "input_kind": "tabular", "preprocessor": {k: v for k, v in clf.preprocessor_.state().items()
                                                     if k not in ("named", "dtypes")},
           "classes": clf.classes_, "target_scaler": None, "target_shape": None}
    torch.save(old, tmp_path / "old.pt")
    from orca import modelfile

    converted = modelfile.convert_legacy(tmp_path / "old.pt", tmp_path / "new.safetensors", body=clf.model_.body)
    back = CrossModalClassifier.load(converted, body=clf.model_.body)
    np.testing.assert_array_equal(back.predict_proba(frame.to_numpy()), clf.predict_proba(frame))


# ---- 2. predict matches columns by name and checks dtypes -------------------------------------------------
def test_predict_matches_columns_by_name_and_refuses_renamed_missing_or_text(fitted) -> None:
    clf, frame, _ = fitted
    np.testing.assert_array_equal(clf.predict_proba(frame[["kind", "x2", "x1"]]), clf.predict_proba(frame))
    with pytest.raises(DataError, match=r"missing columns \['x1'\]; unexpected columns \['X1'\]"):
        clf.predict(frame.rename(columns={"x1": "X1"}))
    with pytest.raises(DataError, match=r"missing columns \['x2'\]"):
        clf.predict(frame.drop(columns=["x2"]))
    with pytest.raises(DataError, match=r"unexpected columns \['extra'\]"):
        clf.predict(frame.assign(extra=1.0))
    text = frame.assign(x1=frame["x1"].astype(str).where(frame.index > 2, "n/a"))
    with pytest.raises(DataError, match=r"not numbers \(e.g. 'n/a' in 'x1', 3 cells"):
        clf.predict(text)
    np.testing.assert_allclose(clf.predict_proba(frame.assign(x1=frame["x1"].astype(str))),
                               clf.predict_proba(frame), atol=1e-6)  # numbers written as text are numbers
    with pytest.raises(DataError, match="X has 2 features, but CrossModalClassifier is expecting 3"):
        CrossModalClassifier.predict(_array_fitted(clf), np.zeros((3, 2)))


def _array_fitted(clf):
    """``clf`` as if it had been fitted on an unnamed array (positional columns)."""
    import copy

    twin = copy.copy(clf)
    twin.preprocessor_ = copy.copy(clf.preprocessor_)
    twin.preprocessor_.named_ = False
    return twin


def test_cli_predict_by_name_with_proba_id_and_score(tmp_path) -> None:
    frame, y = _table(60)
    frame.insert(0, "row_id", [f"r{i}" for i in range(60)])
    frame["label"] = y
    frame.to_csv(tmp_path / "train.csv", index=False)
    tiny_hf_model("bert").save_pretrained(tmp_path / "body")
    out = tmp_path / "run"
    assert main(["fit", *config_schedule_sets(), str(tmp_path / "train.csv"), "--target", "label", "--id", "row_id", "--out", str(out),
                 "--body", str(tmp_path / "body"), "--set", "refine.epochs=1", "--set", "align.objective=none",
                 "--quiet"]) == 0
    meta = json.loads(json.dumps(CrossModalClassifier.load(out / "model.safetensors").metadata_))
    assert meta["preprocessor"]["columns"] == ["x1", "x2", "kind"]  # the id column is not a feature
    shuffled = frame[["label", "kind", "row_id", "x2", "x1"]].iloc[::-1]
    shuffled.to_csv(tmp_path / "new.csv", index=False)
    pred = tmp_path / "pred.csv"
    assert main(["predict", str(out / "model.safetensors"), str(tmp_path / "new.csv"), "--out", str(pred),
                 "--proba"]) == 0
    got = pd.read_csv(pred)
    assert list(got.columns) == ["row_id", "prediction", "proba_no", "proba_yes"]
    assert list(got["row_id"]) == list(shuffled["row_id"])
    np.testing.assert_allclose(got[["proba_no", "proba_yes"]].sum(axis=1), 1.0, atol=1e-5)
    score = json.loads(pred.with_suffix(".score.json").read_text())
    assert score["metric"] == "accuracy" and score["rows"] == 60
    assert score["value"] == pytest.approx(float(np.mean(got["prediction"].to_numpy() == shuffled["label"])))


# ---- 3. resume refuses other data ----------------------------------------------------------------------------
def test_resume_with_other_training_data_is_refused(tmp_path) -> None:
    from orca.bodies import Body

    frame, y = _table()
    params = dict(**FAST, checkpoint_dir=str(tmp_path))
    CrossModalClassifier(Body(tiny_hf_model("bert")), **params).fit(frame, y)
    flipped = np.where(y == "yes", "no", "yes")
    with pytest.raises(ConfigError, match="another config, task or training data"):
        CrossModalClassifier(Body(tiny_hf_model("bert")), **params).fit(frame, flipped, resume=True)
    CrossModalClassifier(Body(tiny_hf_model("bert")), **params).fit(frame, y, resume=True)  # same data: fine


# ---- 5. divergence is an error, and nothing is saved ------------------------------------------------------
def test_divergence_stops_training_and_saves_nothing(tmp_path) -> None:
    from orca.bodies import Body

    frame, y = _table()
    big = {**FAST, "refine__lr": 1e6, "refine__grad_clip": None, "refine__epochs": 3}
    with pytest.raises(DivergenceError, match="lower refine.lr"):
        CrossModalClassifier(Body(tiny_hf_model("bert")), **big).fit(frame, y)
    with pytest.raises(ConfigError, match="refine.lr=nan must be a finite number"):
        CrossModalClassifier(refine__lr=float("nan")).make_config()
    frame.assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    tiny_hf_model("bert").save_pretrained(tmp_path / "body")
    code = main(["fit", *config_schedule_sets(), str(tmp_path / "t.csv"), "--target", "label", "--out", str(tmp_path / "run"), "--body",
                 str(tmp_path / "body"), "--set", "refine.lr=1e6", "--set", "refine.grad_clip=None",
                 "--set", "align.objective=none", "--quiet"])
    assert code == 2 and not (tmp_path / "run" / "model.safetensors").exists()


def test_non_finite_predictions_are_an_error_not_a_silent_nan(fitted) -> None:
    import copy

    clf, frame, _ = fitted
    broken = copy.deepcopy(clf)
    with torch.no_grad():
        next(broken.model_.predictor.parameters()).fill_(float("nan"))
    with pytest.raises(DivergenceError, match="non-finite outputs for 80 of 80 rows"):
        broken.predict_proba(frame)


# ---- 6. validation before any data or body is loaded ---------------------------------------------------------
def test_misspelt_names_device_and_body_fail_before_loading(tmp_path, monkeypatch, capsys) -> None:
    with pytest.raises(ConfigError, match=r"align.objective='otd-exact' is not allowed \(did you mean 'otdd-exact'"):
        OrcaConfig().with_overrides(["align.objective=otd-exact"])
    with pytest.raises(ConfigError, match="align.source='pydoc' is not allowed"):
        OrcaConfig().with_overrides(["align.source=pydoc"])
    missing = tmp_path / "never-read.csv"  # the data file does not exist: the config check must come first
    assert main(["fit", *config_schedule_sets(), str(missing), "--out", str(tmp_path / "o"), "--body", "no-such-body-xyz"]) == 2
    assert "body 'no-such-body-xyz' cannot be loaded" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["fit", *config_schedule_sets(), str(missing), "--out", str(tmp_path / "o"), "--set", "device=cuda"]) == 2
        assert "no CUDA device" in capsys.readouterr().err
    from benchmarks.run import main as run_main

    assert run_main(["openml", "--set", "method_params.orca.align.objective=otd-exact", "--results",
                     str(tmp_path / "r")]) == 2
    assert "did you mean 'otdd-exact'" in capsys.readouterr().err
    # packaged: a suite whose data is always here (openml is skipped, exit 0, in a clone without ../shared)
    assert run_main(["packaged", "--set", "method_params.orca.body.name=./no/such/folder", "--results",
                     str(tmp_path / "r")]) == 2
    assert "that folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before any job ran


def test_explicit_set_wins_over_the_environment_and_the_environment_is_reported(tmp_path, monkeypatch,
                                                                                capsys) -> None:
    from benchmarks.suites.openml import mirror_folder

    monkeypatch.setenv("ORCA_OPENML_MIRROR", str(tmp_path / "from-env"))
    with pytest.raises(DataError, match="from-set has no manifest"):
        mirror_folder({"data": {"mirror": str(tmp_path / "from-set")}})
    err = capsys.readouterr().err
    assert "$ORCA_OPENML_MIRROR" in err and "is ignored" in err
    default = json.loads((Path(__file__).parent.parent / "benchmarks/suites/openml/default.json").read_text())
    with pytest.raises(DataError, match="from-env has no manifest"):
        mirror_folder({"data": {"mirror": default["data"]["mirror"]}})
    assert "comes from $ORCA_OPENML_MIRROR" in capsys.readouterr().err


# ---- 7. the facade holds the whole config ------------------------------------------------------------------
_OTHER = {bool: lambda v: not v, int: lambda v: v + 3, float: lambda v: v / 2 if v else 0.5}
_CHOICES = {"body.finetune": "layernorm", "embedder.tabular_mode": "paper", "predictor.head": "pool",
            "align.objective": "mmd", "align.source": "skimage-crops", "refine.optimizer": "sgd",
            "refine.schedule": "linear", "device": "cpu", "body.name": "dinov2-small-offline",
            "refine.mixed_precision": "bf16", "refine.select_on": "loss", "refine.augment": "series"}
_OPTIONAL = {"body.dropout": 0.2, "body.attention_dropout": None, "embedder.patch_size": 4, "embedder.resize": 64,
             "align.patience": None, "refine.warmup_epochs": 2.0, "refine.decay_epochs": 30.0,
             "refine.grad_clip": None, "refine.patience": 3, "refine.max_steps": 100, "refine.max_seconds": 60.0,
             "refine.min_steps": 200, "refine.ema_decay": 0.99}


@pytest.mark.parametrize("dotted", sorted(flatten(OrcaConfig().to_dict())))
def test_every_config_field_round_trips_through_the_facade(dotted) -> None:
    default = flatten(OrcaConfig().to_dict())[dotted]
    if dotted in _CHOICES or dotted in _OPTIONAL:
        value = _CHOICES.get(dotted, _OPTIONAL.get(dotted))
    else:
        value = _OTHER[type(default)](default)
    if dotted in ("refine.momentum", "refine.beta2", "refine.val_fraction", "refine.warmup_ratio"):
        value = default * 0.9
    assert value != default, dotted
    config = OrcaConfig().with_overrides({dotted: value})
    est = CrossModalClassifier.from_config(config)
    assert est.make_config() == config  # config -> parameters -> config
    name = {v: k for k, v in CONFIG_PARAMS.items()}[dotted]
    assert est.get_params()[name] == value  # the parameter is the field
    twin = CrossModalClassifier(**{name: value})
    assert flatten(twin.make_config().to_dict())[dotted] == value  # parameters -> config


def test_facade_parameters_are_exactly_the_config_fields_plus_its_own() -> None:
    params = set(CrossModalClassifier().get_params())
    assert params == set(CONFIG_PARAMS) | set(FACADE_PARAMS)
    assert len(CONFIG_PARAMS) == len(flatten(OrcaConfig().to_dict()))
    with pytest.raises(TypeError, match=r"'lr' \(did you mean 'align__lr' or 'refine__lr'\?\)"):
        CrossModalClassifier(lr=1e-4)
    with pytest.raises(ValueError, match="'epochs'"):
        CrossModalClassifier().set_params(epochs=3)


def test_cli_set_reaches_training(tmp_path) -> None:
    frame, y = _table(40)
    frame.assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    tiny_hf_model("bert").save_pretrained(tmp_path / "body")
    assert main(["fit", *config_schedule_sets(), str(tmp_path / "t.csv"), "--target", "label", "--out", str(tmp_path / "o"), "--body",
                 str(tmp_path / "body"), "--set", "refine.optimizer=sgd", "--set", "refine.beta2=0.98",
                 "--set", "refine.warmup_epochs=1.0", "--set", "refine.epochs=1", "--set", "align.objective=none",
                 "--quiet"]) == 0
    config = json.loads((tmp_path / "o" / "result.json").read_text())["config"]["refine"]
    assert (config["optimizer"], config["beta2"], config["warmup_epochs"]) == ("sgd", 0.98, 1.0)


# ---- 8. a clear message for every bad input --------------------------------------------------------------
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


CLI_FIT_CASES = {
    "empty csv": (lambda d: _write(d / "e.csv", ""), [], "is empty: it has no header and no rows"),
    "header-only csv": (lambda d: _write(d / "h.csv", "a,b,label\n"), [], "has a header"),
    "one row": (lambda d: _write(d / "o.csv", "a,b,label\n1,2,x\n"), [], r"has 1 row\(s\); fit needs at least 3"),
    "NaN target": (lambda d: _write(d / "n.csv", "a,label\n" + "".join(f"{i},{'' if i == 3 else i % 2}\n"
                                                                      for i in range(20))),
                   [], r"y is missing \(NaN/None\) in 1 of"),
    "one-row class": (lambda d: _write(d / "c.csv", "a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20))
                                      + "99,7\n"), [], r"classes \['7'\] have a single row"),
    "continuous target": (lambda d: _write(d / "r.csv", "a,label\n" + "".join(f"{i},{i * 0.37}\n"
                                                                              for i in range(40))),
                          ["--test", None], "Unknown label type: continuous"),
    "X/y length mismatch in npz": (lambda d: _npz(d / "m.npz", X=np.zeros((5, 2)), y=np.zeros(4)), [],
                                   "X has 5 rows but y has 4"),
    "object npz": (lambda d: _npz(d / "obj.npz", X=np.array([[1, "a"]], dtype=object), y=np.zeros(1)), [],
                   "holds arrays of Python objects"),
    "missing config": (lambda d: _write(d / "ok.csv", "a,label\n1,0\n2,1\n3,0\n"),
                       ["--config", "nope.json"], "config file 'nope.json' does not exist"),
    "bad config": (lambda d: _write(d / "ok.csv", "a,label\n1,0\n2,1\n3,0\n"), ["--config", "BAD"],
                   "is not valid JSON"),
    "out is a file": (lambda d: _write(d / "ok.csv", "a,label\n1,0\n2,1\n3,0\n"), ["--out", "FILE"],
                      "is a file; it must be a folder"),
}


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("case", sorted(CLI_FIT_CASES))
def test_cli_fit_bad_input_gets_one_clear_line(case, tmp_path, capsys) -> None:
    make, extra, message = CLI_FIT_CASES[case]
    tiny_hf_model("bert").save_pretrained(tmp_path / "body")
    data = make(tmp_path)
    (tmp_path / "BAD").write_text("{not json")
    (tmp_path / "FILE").write_text("x")
    extra = [str(data) if a is None else str(tmp_path / a) if a in ("BAD", "FILE", "nope.json") else a
             for a in extra]
    if "--config" in extra and extra[-1].endswith("nope.json"):
        extra[-1] = "nope.json"
    args = ["fit", *config_schedule_sets(), str(data), "--target", "label", "--body", str(tmp_path / "body"), "--set",
            "align.objective=none", "--set", "refine.epochs=1", "--quiet"]
    if "--out" not in extra:
        args += ["--out", str(tmp_path / "run")]
    if data.suffix == ".npz":
        args.remove("--target"), args.remove("label")
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # (above it: the fixture's own progress bars)
    assert last.startswith("orca: error: ") and "Traceback" not in err
    assert re.search(message, last), err


@pytest.mark.parametrize("fraction", ["0", "1.5", "abc"])
def test_cli_test_fraction_out_of_range(fraction, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["fit", *config_schedule_sets(), "x.csv", "--out", str(tmp_path), "--test-fraction", fraction])
    assert stop.value.code == 2 and "(0, 1)" in capsys.readouterr().err


PREDICT_CASES = {
    "missing file": (lambda d: d / "absent.csv", "does not exist"),
    "npz without X": (lambda d: _npz(d / "nox.npz", Z=np.zeros(3)), r"lacks arrays \['X'\]"),
    "header-only csv": (lambda d: _write(d / "h.csv", "x1,x2,kind\n"), "has a header"),
    "not a csv": (lambda d: _write(d / "p.txt", "hello"), "expected one of"),
}


@pytest.mark.parametrize("case", sorted(PREDICT_CASES))
def test_cli_predict_bad_input_gets_one_clear_line(case, fitted, tmp_path, capsys) -> None:
    clf, _, _ = fitted
    model = clf.save(tmp_path / "m.safetensors")
    make, message = PREDICT_CASES[case]
    from orca import estimators

    original = estimators.load_body
    estimators.load_body = lambda *a, **k: clf.model_.body  # the tiny body is not registered
    try:
        assert main(["predict", str(model), str(make(tmp_path)), "--out", str(tmp_path / "p.csv")]) == 2
    finally:
        estimators.load_body = original
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("orca: error: ") and "Traceback" not in err and re.search(message, last), err


FACADE_CASES = {
    "NaN labels": (lambda X: (X, np.r_[np.nan, np.arange(79) % 2.0]), r"y is missing \(NaN/None\) in 1 of 80"),
    "None labels": (lambda X: (X, np.array([None] + ["a", "b"] * 39 + ["a"], dtype=object)),
                    "y is missing .* in 1 of 80"),
    "inf label": (lambda X: (X, np.r_[np.inf, np.arange(79) % 2.0]), "y holds inf in 1 rows"),
    "continuous y": (lambda X: (X, np.linspace(0, 1, 80)), "Unknown label type: continuous"),
    "y is None": (lambda X: (X, None), "requires y to be passed, but the target y is None"),
    "one row": (lambda X: (X[:1], np.array([0])), "at least 2 rows .* got 1 sample"),
    "empty X": (lambda X: (X[:0], np.array([])), "X has 0 rows"),
    "complex X": (lambda X: (X + 1j, np.arange(80) % 2), "Complex data not supported"),
    "1D X": (lambda X: (X[:, 0], np.arange(80) % 2), "Expected 2D array, got 1D array"),
    "val_fraction 0.99": (lambda X: (X, np.arange(80) % 2), "refine.val_fraction=0.99 of 80 training rows leaves 1"),
}


@pytest.mark.parametrize("case", sorted(FACADE_CASES))
def test_facade_bad_input_gets_a_clear_error(case) -> None:
    from orca.bodies import Body

    X = np.random.default_rng(0).normal(size=(80, 3))
    Xc, yc = FACADE_CASES[case][0](X)
    params = {**FAST, "refine__val_fraction": 0.99} if "val_fraction" in case else FAST
    with pytest.raises(DataError, match=FACADE_CASES[case][1]):
        CrossModalClassifier(Body(tiny_hf_model("bert")), **params).fit(Xc, yc)


def test_facade_refuses_sparse_input_and_empty_predict(fitted) -> None:
    import scipy.sparse as sp

    clf, frame, _ = fitted
    with pytest.raises(TypeError, match="sparse input"):
        CrossModalClassifier(**FAST).fit(sp.csr_matrix(np.eye(4)), np.arange(4) % 2)
    with pytest.raises(DataError, match="X has 0 rows"):
        clf.predict(frame.iloc[:0])


# ---- the restricted unpickler: no escaping exceptions, no allocation by size --------------------------------
@pytest.mark.parametrize("payload, message", [
    (b"\x80\x02cbuiltins\nbytearray\nJ\x00\x00\x00\x40\x85R.", r"bytearray\(1073741824\)"),
    (b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.", r"bytearray\(1073741824\)"),
    (b"\x80\x02cnumpy\nndarray\n(J\x00\xca\x9a;J\x00\xca\x9a;t\x85R.", "refusing to unpickle an array of shape"),
    (b"\x80\x02cbuiltins\ndict\n(I1\nt\x85R.", "TypeError"),
    (b"\x80\x02cnumpy\ndtype\n(S'zz9'\nt\x85R.", "TypeError"),
    (b"\x80\x02cbuiltins\nlist\n)R(I1\nt\x85R.", "cannot unpickle"),
])
def test_restricted_unpickler_turns_every_failure_into_a_data_error(payload, message) -> None:
    import io

    from benchmarks.suites.nasbench360 import safe_pickle

    with pytest.raises(DataError, match=message):
        safe_pickle.load(io.BytesIO(payload))
    for obj in (np.arange(6).reshape(2, 3), np.array(["a", "bc"]), bytearray(b"xy"), {"k": [1.5, None]}):
        for protocol in (2, 4):
            back = safe_pickle.load(io.BytesIO(pickle.dumps(obj, protocol=protocol)))
            assert type(back) is type(obj) and str(back) == str(obj)


def test_no_unsafe_torch_load_in_the_code() -> None:
    root = Path(__file__).parent.parent
    found = subprocess.run(["git", "grep", "-n", "weights_only=False", "--", "orca", "baselines", "benchmarks"],
                           cwd=root, capture_output=True, text=True).stdout
    assert found == "", found
    loads = subprocess.run(["git", "grep", "-nE", r"(^|[^_a-z])pickle\.loads?\(|allow_pickle=True", "--", "orca",
                            "baselines", "benchmarks"], cwd=root, capture_output=True, text=True).stdout
    assert loads == "", loads
