"""Both OpenML protocols' splits: sizes, class coverage, no train/test overlap, no test rows in validation; and
the suite's ROC AUC against scikit-learn."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.suites.openml import check_in_lists, lift_split, paper_lists, tabpfn_split
from orca.data import split_train_val
from orca.metrics import get_metric


def _data(n: int, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = np.c_[np.arange(n, dtype=float), rng.normal(size=(n, 3))]  # column 0 identifies the row
    return X, y


@pytest.mark.parametrize("n,expected", [(600, (300, 300)), (1999, (999, 1000)), (5000, (1000, 1000))])
def test_tabpfn_split_sizes_coverage_and_disjointness(n, expected) -> None:
    X, y = _data(n)
    for split in range(5):
        X_tr, X_te, y_tr, y_te = tabpfn_split(X, y, split, 1000, 1000)
        assert (len(y_tr), len(y_te)) == expected
        assert set(y_tr) == set(y_te) == {0, 1, 2}
        assert not set(X_tr[:, 0]) & set(X_te[:, 0])
        tr, va = split_train_val(len(y_tr), 0.15, split, y_tr)  # validation comes from the training part only
        assert not set(X_tr[va, 0]) & set(X_te[:, 0]) and not set(tr) & set(va)
    first, second = tabpfn_split(X, y, 0, 1000, 1000), tabpfn_split(X, y, 1, 1000, 1000)
    assert not np.array_equal(first[1][:, 0], second[1][:, 0])  # splits differ by seed


def test_lift_split_is_stratified_80_20_with_seed_0() -> None:
    X, y = _data(500, k=4)
    X_dev, X_te, y_dev, y_te = lift_split(X, y)
    assert (len(y_dev), len(y_te)) == (400, 100)
    assert np.bincount(y_te).tolist() == [25, 25, 25, 25]
    assert not set(X_dev[:, 0]) & set(X_te[:, 0])
    again = lift_split(X, y)
    assert np.array_equal(again[1], X_te)  # fixed random_state=0


def test_paper_lists_and_out_of_list_warning() -> None:
    lists = paper_lists()
    assert len(lists["tabpfn30"]) == 30 and len(lists["lift14"]) == 14
    assert set(lists["tabpfn30"]) & set(lists["lift14"]) == {23, 54}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_in_lists(1510)  # in the list: silent
    with pytest.warns(UserWarning, match="not in the paper's benchmark lists"):
        check_in_lists(999999)


def test_suite_auc_equals_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    p = rng.random((300, 3))
    p /= p.sum(1, keepdims=True)
    assert get_metric("roc_auc")(y, p) == pytest.approx(roc_auc_score(y, p, multi_class="ovo"))


def test_a_class_with_one_example_gets_a_clear_message() -> None:
    from orca.exceptions import DataError

    X, y = _data(50)
    y[0] = 7  # a class with a single example
    with pytest.raises(DataError, match=r"classes \[7\] have a single example"):
        tabpfn_split(X, y, 0, 1000, 1000)
    with pytest.raises(DataError, match="single example"):
        lift_split(X, y)


@pytest.mark.parametrize("n,expected", [(600, (300, 300)), (1999, (999, 999)), (5000, (1000, 1000))])
def test_tabpfn_window_protocol(n, expected) -> None:
    from benchmarks.suites.openml import tabpfn_window_split

    X, y = _data(n)
    tests = []
    for split in range(5):
        X_tr, X_te, y_tr, y_te = tabpfn_window_split(X, y, split, 1000, 1000)
        assert (len(y_tr), len(y_te)) == expected
        assert set(y_tr) == set(y_te) == {0, 1, 2} and not set(X_tr[:, 0]) & set(X_te[:, 0])
        rows = np.r_[X_tr[:, 0], X_te[:, 0]]
        if split == 0:  # split 0 keeps the order: a contiguous window of the original rows
            assert np.array_equal(np.diff(rows), np.ones(len(rows) - 1))
        tests.append(X_te[:, 0])
    assert not np.array_equal(tests[1], tests[2])
    y_bad = np.r_[np.zeros(n - 2, int), 1, 1]  # class 1 only at the very end: never in both halves of split 0
    from orca.exceptions import DataError

    with pytest.raises(DataError, match="no window in 8 attempts"):
        tabpfn_window_split(X, y_bad, 0, 1000, 1000)


def test_all_missing_column_and_unknown_split_are_refused(monkeypatch, tmp_path) -> None:
    from benchmarks.suites.openml import check_columns
    from orca.exceptions import DataError

    X = np.ones((5, 3))
    X[:, 1] = np.nan
    with pytest.raises(DataError, match=r"columns \[1\] hold only missing values"):
        check_columns(X, "toy")
    check_columns(np.ones((5, 3)), "toy")


def test_online_source_goes_through_the_openml_client(monkeypatch, tmp_path) -> None:
    """The real openml client against a loopback server answering in OpenML's formats (the dataset description
    XML, then the ARFF file it names, checked by the client against the description's MD5): DataFrame output
    with a nominal column and missing values becomes ordinal codes with NaN kept, the labels integers."""
    import hashlib
    import http.server
    import threading

    openml = pytest.importorskip("openml")
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config

    fixtures = Path(__file__).parent / "fixtures" / "openml"
    arff = (fixtures / "toy.arff").read_bytes()
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            hits.append(path)
            base = f"http://127.0.0.1:{server.server_address[1]}"
            if path.startswith("/api/v1/xml/data/features/"):
                body = (fixtures / "features.xml").read_bytes()
            elif path.startswith("/api/v1/xml/data/"):
                body = (fixtures / "description.xml").read_text().format(
                    id=path.rsplit("/", 1)[1], base=base, md5=hashlib.md5(arff).hexdigest()).encode()
            elif path.startswith("/data/v1/download/"):
                body = arff
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(openml.config, "server", f"http://127.0.0.1:{server.server_address[1]}/api/v1/xml")
    openml.config.set_root_cache_directory(str(tmp_path / "openml-cache"))
    try:
        suite = get_suite("openml")
        data = suite.load_task("61", resolve_config(suite, "lift", {"tasks": ["61"]}), 0)
    finally:
        server.shutdown()
    assert hits[:2] == ["/api/v1/xml/data/61", "/data/v1/download/61/toy-online.arff"]
    assert data.data["source"] == "openml client (online)" and data.data["name"] == "toy-online"
    assert data.data["categorical"] == [1] and (len(data.y_train), len(data.y_test)) == (32, 8)  # LIFT's 80/20
    X = np.vstack([data.X_train, data.X_test])
    assert np.isnan(X[:, 1]).sum() == 1 and set(np.unique(X[~np.isnan(X[:, 1]), 1])) == {0.0, 1.0, 2.0}
    assert np.isnan(X[:, 2]).sum() == 1  # the missing numeric value stays missing
    assert data.task.metric == "accuracy"


def test_tabpfn_needs_local_weights_and_says_where(monkeypatch, tmp_path) -> None:
    from baselines.tabpfn import tabpfn_weights
    from orca.exceptions import DataError

    monkeypatch.delenv("ORCA_TABPFN_WEIGHTS", raising=False)
    with pytest.raises(DataError, match="never downloads them inside a run"):
        tabpfn_weights(None)
    with pytest.raises(DataError, match="weights not found at"):
        tabpfn_weights(str(tmp_path / "missing.ckpt"))
    ckpt = tmp_path / "w.ckpt"
    ckpt.write_bytes(b"x")
    monkeypatch.setenv("ORCA_TABPFN_WEIGHTS", str(ckpt))
    assert tabpfn_weights(None) == ckpt


def test_new_settings_at_their_defaults_keep_recorded_hashes() -> None:
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import expand_jobs, resolve_config
    from benchmarks.suites.openml import mirror_folder
    from orca.exceptions import DataError
    from orca.io import read_json

    suite = get_suite("openml")
    try:  # the smoke preset's task list is the mirror's; CI has it at ../shared
        mirror_folder(read_json(suite.root / "default.json"))
    except DataError as exc:
        pytest.skip(f"OpenML mirror not available here: {exc}")
    default = expand_jobs(suite, resolve_config(suite, "smoke"))[0]
    explicit = expand_jobs(suite, resolve_config(suite, "smoke", {"protocol": {"split": "stratified"}}))[0]
    window = expand_jobs(suite, resolve_config(suite, "smoke", {"protocol": {"split": "tabpfn-window"}}))[0]
    assert default.config_hash == explicit.config_hash != window.config_hash
    assert "split" not in default.hashed["protocol"] and window.hashed["protocol"]["split"] == "tabpfn-window"


def test_the_body_size_preset_changes_only_the_body() -> None:
    """``orca-mpnet`` is ``orca`` with the MPNet body and nothing else, so the preset answers whether body size
    matters; its 10 tables are the ones with the fewest columns (the cheapest for the larger body), 5 splits."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config
    from orca.config import flatten

    config = resolve_config(get_suite("openml"), "body-size")
    small, large = (flatten(config["method_params"][m]) for m in ("orca", "orca-mpnet"))
    assert {k for k in small if small[k] != large[k]} == {"body.name"} and large["body.name"] == "mpnet"
    assert len(config["tasks"]) == 10 and config["seeds"] == [0, 1, 2, 3, 4]
    columns = {Path(p).name.split("-")[0]: np.load(p)["X"].shape[1]
               for p in (Path(__file__).resolve().parents[2] / "shared" / "data" / "openml-cc18-tabpfn30").glob("*.npz")}
    if columns:  # the mirror beside the project (CI has it): no table left out has fewer columns than one kept
        assert max(columns[t] for t in config["tasks"]) <= min(c for t, c in columns.items() if t not in config["tasks"])


def test_logreg_check_holds_out_orca_checks_rows_and_scores_them(tmp_path) -> None:
    """``logreg-check`` fits on exactly the rows ``orca-check`` fits on (the check share of the same seed held out)
    and scores the held-out rows: its check ROC AUC equals scikit-learn's scaled logistic regression fitted on the
    fit rows alone, which a fit that also saw the check rows would not reproduce."""
    from conftest import tiny_table_job
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from benchmarks.runner.table_methods import check_split, run_logreg

    _, data = tiny_table_job(tmp_path, n=120)
    out = run_logreg(data, {"C": 1.0, "max_iter": 2000, "check": {"fraction": 0.25}}, seed=3)
    fit, check = check_split(data.y_train, 0.25, 3)
    assert out["check"] == {"fraction": 0.25, "rows": {"fit": len(fit), "check": len(check)}} and len(check) == 20

    def auc(rows):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(
            data.X_train[rows], data.y_train[rows])
        return roc_auc_score(data.y_train[check], model.predict_proba(data.X_train[check]), multi_class="ovo")  # TabPFN's multi-class AUC

    assert out["metrics"]["check"]["roc_auc"] == pytest.approx(auc(fit), abs=1e-9)
    assert auc(np.arange(len(data.y_train))) != pytest.approx(auc(fit), abs=1e-6)  # the held-out rows matter
    plain = run_logreg(data, {"C": 1.0, "max_iter": 2000}, seed=3)
    assert "check" not in plain["metrics"] and "check" not in plain
