"""The scikit-learn facade: clone/get_params, learning on real data with the real MiniLM body, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import config_schedule
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.model_selection import train_test_split

from orca import CrossModalClassifier, CrossModalRegressor
from orca.exceptions import BodyUnavailableError, ConfigError, DataError, NotFittedError
from orca.metrics import get_metric

FAST = {**config_schedule(), **dict(refine__epochs=2, refine__batch_size=16, refine__lr=1e-3, refine__new_params_lr_mult=3.0, device="cpu",
            align__objective="none", embedder__target_seq_len=8)}  # tiny random bodies have no tokenizer for text source features


def test_clone_and_params_round_trip() -> None:
    clf = CrossModalClassifier("minilm", refine__lr=3e-4, refine__epochs=7, align__objective="mmd",
                               embedder__tabular_mode="paper")
    params = clf.get_params()
    assert params["refine__lr"] == 3e-4 and params["refine__epochs"] == 7 and params["body"] == "minilm"
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    twin.set_params(refine__epochs=2)
    assert twin.refine__epochs == 2 and clf.refine__epochs == 7
    cfg = clf.make_config()
    assert (cfg.refine.lr, cfg.align.objective, cfg.embedder.tabular_mode) == (3e-4, "mmd", "paper")
    assert CrossModalClassifier.from_config(cfg).get_params() == {**params}


def test_bad_parameter_fails_at_fit_with_the_allowed_values() -> None:
    with pytest.raises(ConfigError, match="expected one of"):
        CrossModalClassifier(refine__schedule="exponential").make_config()


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        CrossModalClassifier().predict(np.zeros((2, 3)))
    assert issubclass(NotFittedError, SkNotFittedError)


def test_wdbc_with_minilm_reaches_auc_097(minilm_body) -> None:
    """The issue's learning check: MiniLM on scikit-learn's breast-cancer data (OpenML wdbc, 1510)."""
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    X_before = X_tr.copy()
    clf = CrossModalClassifier(minilm_body, refine__epochs=3, refine__batch_size=32, refine__lr=1e-4,
                               refine__val_fraction=0.15, device="cpu", **config_schedule())
    clf.fit(X_tr, y_tr, X_test=X_te, y_test=y_te)
    auc = get_metric("roc_auc")(y_te, clf.predict_proba(X_te))
    assert auc >= 0.97
    assert clf.result_["metrics"]["test"]["roc_auc"] == pytest.approx(auc, abs=1e-6)
    assert np.array_equal(X_tr, X_before), "fit must not modify the caller's array"
    assert set(clf.predict(X_te)) <= set(clf.classes_)
    align = clf.result_["align"]  # the paper's stage 2 ran: OTDD to offline text features, and it fell
    assert align["objective"] == "otdd-exact" and align["source"]["recipe"] == "pydoc-topics"
    assert align["final_distance"] < 0.5 * align["initial_distance"]
    assert clf.result_["split"] == {"train": len(X_tr) - round(0.15 * len(X_tr)), "val": round(0.15 * len(X_tr)),
                                    "test": len(X_te)}


def test_fit_emits_no_warnings(minilm_body, recwarn) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    CrossModalClassifier(minilm_body, refine__epochs=1, align__steps=5, refine__max_steps=2, device="cpu").fit(X[:80], y[:80])
    assert [str(w.message) for w in recwarn.list] == []


def _sequences(n: int = 48):
    rng = np.random.default_rng(0)
    labels = np.array(["cat", "dog", "eel"])[np.arange(n) % 3]
    X = rng.normal(size=(n, 2, 12)).astype(np.float32) + (np.arange(n) % 3)[:, None, None]
    return X, labels


def test_string_labels_sequences_and_save_load(tiny_body, tmp_path) -> None:
    X, labels = _sequences()
    body = tiny_body("bert")
    clf = CrossModalClassifier(body, **FAST).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (48, 3) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert list(clf.classes_) == ["cat", "dog", "eel"] and set(clf.predict(X)) <= {"cat", "dog", "eel"}
    path = clf.save(tmp_path / "model.safetensors")
    again = CrossModalClassifier.load(path, body=tiny_body("bert"))
    np.testing.assert_allclose(again.predict_proba(X), proba, atol=1e-5)


def test_dataframe_with_categoricals_and_missing(tiny_body) -> None:
    rng = np.random.default_rng(1)
    n = 60
    df = pd.DataFrame({"a": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n),
                       "b": rng.normal(size=n)})
    df.loc[3, "a"] = np.nan
    df.loc[5, "colour"] = None
    y = (df["colour"] == "red").astype(int).to_numpy()
    reg = CrossModalClassifier(tiny_body("bert"), **FAST).fit(df, y)
    assert reg.task_.categorical == (1,) and reg.task_.cardinalities == (3,)
    unseen = df.head(4).copy()
    unseen.loc[0, "colour"] = "purple"  # unseen category: read as missing
    assert reg.predict_proba(unseen).shape == (4, 2)


def test_regressor_scalar_and_dense(tiny_body, tmp_path) -> None:
    X, _ = _sequences(32)
    y = 1000.0 + 50.0 * X.mean(axis=(1, 2))  # far from unit scale: standardisation must map back
    reg = CrossModalRegressor(tiny_body("bert"), **FAST).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (32,) and abs(pred.mean() - y.mean()) < 5 * y.std()
    assert isinstance(reg.score(X, y), float)
    assert reg.result_["metrics"]["val"]["rmse"] < 5 * y.std()  # reported in original units
    again = CrossModalRegressor.load(reg.save(tmp_path / "r.safetensors"), body=tiny_body("bert"))
    np.testing.assert_allclose(again.predict(X), pred, rtol=1e-5)
    dense_y = X[:, :1, :] * 2.0  # (N, 1, L): a field of the input's length
    dense = CrossModalRegressor(tiny_body("bert"), **FAST).fit(X, dense_y)
    assert dense.task_.output == "dense" and dense.predict(X).shape == (32, 1, 12)
    smooth = CrossModalRegressor(tiny_body("bert"), predictor__smooth=3, **FAST).fit(X, dense_y)
    again = CrossModalRegressor.load(smooth.save(tmp_path / "s.safetensors"), body=tiny_body("bert"))
    assert again.get_params()["predictor__smooth"] == 3  # the seam smoother's weights travel with the file
    np.testing.assert_allclose(again.predict(X), smooth.predict(X), rtol=1e-5, atol=1e-6)


def test_bad_inputs_get_clear_errors(tiny_body) -> None:
    X, labels = _sequences()
    with pytest.raises(DataError, match="X has 48 rows but y has 47"):
        CrossModalClassifier(tiny_body(), **FAST).fit(X, labels[:-1])
    with pytest.raises(DataError, match="at least 2 classes"):
        CrossModalClassifier(tiny_body(), **FAST).fit(X, np.zeros(48))
    with pytest.raises(DataError, match=r"\(N, C, H, W\)"):
        CrossModalClassifier(tiny_body(), **FAST).fit(np.zeros((4, 1, 2, 3, 4)), np.arange(4) % 2)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        CrossModalClassifier(tiny_body(), **FAST).fit(bad, labels)
    bad[0, 0, 0] = np.inf
    with pytest.raises(DataError, match="inf"):
        CrossModalClassifier(tiny_body(), **FAST).fit(bad, labels)
    clf = CrossModalClassifier(tiny_body(), **FAST).fit(X, labels)
    with pytest.raises(DataError, match=r"labels \['fox'\] were not seen in training"):
        clf.score(X[:2], np.array(["cat", "fox"]))
    with pytest.raises(DataError, match="example shape"):
        clf.predict(X[:, :, :10])
    with pytest.raises(DataError, match="only missing values"):
        CrossModalClassifier(tiny_body(), **FAST).fit(np.c_[np.full(6, np.nan), np.arange(6.0)], np.arange(6) % 2)
    with pytest.raises(ConfigError, match="tokenizer"):  # alignment needs text source features
        CrossModalClassifier(tiny_body(), **{**FAST, "align__objective": "otdd-exact"}).fit(X, labels)
    with pytest.raises(BodyUnavailableError, match="work offline"):
        CrossModalClassifier("./no/such/body", **FAST).fit(X, labels)


def test_series_inputs_are_standardised_per_channel_so_their_units_do_not_matter(tiny_body, tmp_path) -> None:
    """A user's raw series in large units (case counts, say) train exactly as the same series at unit scale:
    each channel is standardised with its training mean and std, in fit and at prediction, and the statistics
    travel with the saved model. With ``standardize_input=False`` the units reach the embedder."""
    from orca.data import InputScaler

    X, _ = _sequences(32)
    y = X.mean(axis=(1, 2))
    raw = X * np.array([2.0e4, 3.0], dtype=np.float32)[None, :, None] + 7.0e3  # (N, 2, L), per-channel units
    unit = CrossModalRegressor(tiny_body("bert"), **FAST).fit(X, y)
    big = CrossModalRegressor(tiny_body("bert"), **FAST).fit(raw, y)
    scaler = InputScaler.fit(raw)
    assert scaler.mean.shape == (X.shape[1],) and np.allclose(scaler.transform(raw).std(axis=(0, 2)), 1, atol=1e-4)
    np.testing.assert_allclose(big.predict(raw), unit.predict(X), rtol=1e-3, atol=1e-4)
    again = CrossModalRegressor.load(big.save(tmp_path / "r.safetensors"), body=tiny_body("bert"))
    np.testing.assert_allclose(again.predict(raw), big.predict(raw), rtol=1e-5)
    off = CrossModalRegressor(tiny_body("bert"), standardize_input=False, **FAST).fit(raw, y)
    assert off.input_scaler_ is None and not np.allclose(off.predict(raw), big.predict(raw), rtol=1e-3)


def test_the_metric_parameter_decides_which_epoch_is_kept(tiny_body, tmp_path) -> None:
    """``metric`` is the validation score refine selects, stops and reports on: with ``roc_auc`` on a table whose
    minority class is 10 %, every epoch's reported value is that epoch's validation ROC AUC and the kept epoch is
    its best; by default the classifier reports accuracy. A name the estimator cannot score is refused before any
    work, and the parameter travels with a saved model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 1.3).astype(int)  # about 10 % positives
    params = {**FAST, "refine__epochs": 4, "refine__patience": None, "refine__select_on": "metric",
              "refine__min_steps": None}
    for metric, key in (("roc_auc", "val_roc_auc"), (None, "val_accuracy")):
        seen: list[tuple[int, float]] = []
        clf = CrossModalClassifier(tiny_body("bert"), metric=metric, **params)
        clf.fit(X, y, on_epoch=lambda e, v: seen.append((e, v)) or False)
        history = [h[key] for h in clf.history_]
        assert clf.task_.metric == (metric or "accuracy") and len(history) == 4
        assert [v for _, v in seen] == pytest.approx(history)
        if metric == "roc_auc":
            assert len(set(np.round(history, 6))) > 1  # the ranking score moves between epochs
            assert clf.result_["refine"]["training"]["best_epoch"] == int(np.argmax(history))
            path = clf.save(tmp_path / "auc.safetensors")
            assert CrossModalClassifier.load(path, body=tiny_body("bert")).metric == "roc_auc"
    with pytest.raises(ConfigError, match=r"metric='rmse'; expected None \(the default, accuracy\) or one of"):
        CrossModalClassifier(tiny_body("bert"), metric="rmse", **FAST).fit(X, y)
    with pytest.raises(ConfigError, match=r"metric='roc_auc'; expected None .* or one of \['mse'"):
        CrossModalRegressor(tiny_body("bert"), metric="roc_auc", **FAST).fit(X, X[:, 0])
    reg = CrossModalRegressor(tiny_body("bert"), metric="mae", **{**FAST, "refine__epochs": 1}).fit(X, X[:, 0])
    assert reg.task_.metric == "mae" and "val_mae" in reg.history_[0]
