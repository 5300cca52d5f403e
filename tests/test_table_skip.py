"""``predictor.linear_skip``: the pooled head's linear model of the table (``orca.table_skip``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orca import OrcaConfig, Task, build
from orca.config import PredictorConfig
from orca.exceptions import ConfigError
from orca.pipeline import warm_start_skip
from orca.predictors import build_predictor
from orca.table_skip import TableSkip

CFG = OrcaConfig().with_overrides({"predictor.linear_skip": True})


def _table(n: int, seed: int = 0) -> tuple[np.ndarray, list[int], list[int]]:
    """``n`` rows: 3 standardised numeric columns and 2 categorical ones (codes of 3 and 4 categories), in the
    order num, cat, num, cat, num; column 0 carries a linear signal."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=(n, 3))
    num = (num - num.mean(0)) / num.std(0)  # standardised on these rows, as the preprocessor leaves them
    X = np.stack([num[:, 0], rng.integers(0, 3, n), num[:, 1], rng.integers(0, 4, n), num[:, 2]], axis=1)
    return X.astype(np.float32), [1, 3], [3, 4]


def test_encoding_by_hand() -> None:
    """Numeric values with NaN as 0 and a missing indicator; each categorical column one-hot over its
    categories plus a last "missing" slot; the blocks in the order numeric values, indicators, categories."""
    task = Task("t", (3,), "classification", (2,), categorical=(1,), cardinalities=(2,))
    skip = TableSkip(task)
    x = torch.tensor([[0.5, 1.0, -2.0], [float("nan"), float("nan"), 3.0]])
    expected = torch.tensor([[0.5, -2.0, 0, 0, 0, 1, 0],
                             [0.0, 3.0, 1, 0, 0, 0, 1]])
    torch.testing.assert_close(skip.encode(x), expected)
    with pytest.raises(ValueError, match="cardinality"):
        skip.encode(torch.tensor([[0.0, 5.0, 1.0]]))


@pytest.mark.parametrize("classes", [2, 3])
def test_stage_3_starts_from_the_logreg_baseline(tiny_body, classes) -> None:
    """With the skip, the head's own map starts at zero and the rest is drawn as without it; after the
    pipeline's warm start the whole model's class probabilities are those of the suite's ``logreg`` baseline
    (its own imputation, scaling and one-hot pipeline) fitted on the same rows, to the solvers' tolerance."""
    from baselines.linear import logistic_regression

    X, cat, cards = _table(300)
    rng = np.random.default_rng(1)
    logits = 2 * X[:, 0] + (X[:, 1] == 2) - 0.5 * X[:, 4]
    cuts = np.quantile(logits, np.linspace(0, 1, classes + 1)[1:-1])
    y = np.digitize(logits + rng.normal(scale=0.5, size=len(X)), cuts)
    task = Task("t", (5,), "classification", (classes,), categorical=tuple(cat), cardinalities=tuple(cards))
    plain = build(task, OrcaConfig(), tiny_body("bert"))
    model = build(task, CFG, tiny_body("bert"))
    assert set(model.state_dict()) - set(plain.state_dict()) == {"predictor.skip.weight", "predictor.skip.bias"}
    for name, tensor in plain.embedder.state_dict().items():
        torch.testing.assert_close(model.embedder.state_dict()[name], tensor)
    assert not model.predictor.linear.weight.any() and not model.predictor.linear.bias.any()

    warm_start_skip(model, X, y)
    model.eval()
    with torch.no_grad():
        ours = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    reference = logistic_regression(n_features=5, categorical=cat).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(ours, reference, atol=2e-3)
    assert np.abs(ours - 1 / classes).max() > 0.2  # a fitted model, not the uniform one

    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    assert model.predictor.skip.weight.grad.abs().sum() > 0
    assert model.predictor.linear.weight.grad.abs().sum() > 0


def test_regression_starts_from_ridge_and_multilabel_from_per_label_logistic(tiny_body) -> None:
    """Regression targets: the suite's ``ridge`` baseline's predictions; multilabel: one logistic model per label
    (a label constant in training gets weight 0 and a confident bias)."""
    from sklearn.linear_model import LogisticRegression

    from baselines.linear import ridge

    X, cat, cards = _table(200, seed=2)
    rng = np.random.default_rng(3)
    y = np.stack([X[:, 0] - X[:, 2], (X[:, 3] == 1) + 0.3 * X[:, 4]], axis=1) + rng.normal(scale=0.1, size=(200, 2))
    task = Task("r", (5,), "regression", (2,), categorical=tuple(cat), cardinalities=tuple(cards))
    model = build(task, CFG, tiny_body("bert")).eval()
    warm_start_skip(model, X, y.astype(np.float32))
    with torch.no_grad():
        ours = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours, ridge(n_features=5, categorical=cat).fit(X, y).predict(X), atol=1e-4)

    labels = np.stack([X[:, 0] > 0, np.zeros(200, bool)], axis=1).astype(np.float32)
    task = Task("m", (5,), "multilabel", (2,), categorical=tuple(cat), cardinalities=tuple(cards))
    model = build(task, CFG, tiny_body("bert")).eval()
    warm_start_skip(model, X, labels)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.from_numpy(X))).numpy()
    e = model.predictor.skip.encode(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(p[:, 0], LogisticRegression(max_iter=2000).fit(e, labels[:, 0]).predict_proba(e)[:, 1],
                               atol=1e-3)
    assert (p[:, 1] < 0.01).all() and not model.predictor.skip.weight[1].any()


def test_refused_off_tables() -> None:
    """A sequence task's pooled head and a table task's settings on a dense task are refused with the reason."""
    cfg = PredictorConfig(linear_skip=True)
    with pytest.raises(ConfigError, match="tabular input"):
        build_predictor(Task("s", (2, 16), "classification", (3,)), 8, 4, None, cfg)
    with pytest.raises(ConfigError, match="pooled output"):
        build_predictor(Task("d", (1, 16), "dense", (1, 16)), 8, 4, None, cfg)
    with pytest.raises(ConfigError, match="expected true or false"):
        PredictorConfig(linear_skip=1)


def test_the_facade_fits_a_dataframe_with_the_skip_and_the_model_file_keeps_it(tiny_body, tmp_path) -> None:
    """Through ``CrossModalClassifier`` on a DataFrame with a string column and missing values: the refined
    model's validation ROC AUC is at least the warm start's level (a label that is linear in the row), and the
    skip's weights travel with the model file."""
    import pandas as pd
    from conftest import config_schedule

    from orca import CrossModalClassifier

    rng = np.random.default_rng(4)
    n = 240
    df = pd.DataFrame({"a": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n),
                       "b": rng.normal(size=n)})
    y = ((df["a"] + (df["colour"] == "red") * 1.5 + rng.normal(scale=0.5, size=n)) > 0.5).astype(int).to_numpy()
    df.loc[rng.choice(n, 20, replace=False), "b"] = np.nan
    params = {**config_schedule(), "refine__epochs": 2, "refine__batch_size": 32, "align__objective": "none",
              "device": "cpu", "metric": "roc_auc", "predictor__linear_skip": True}
    clf = CrossModalClassifier(tiny_body("bert"), **params).fit(df, y)
    assert clf.result_["metrics"]["val"]["roc_auc"] > 0.85
    again = CrossModalClassifier.load(clf.save(tmp_path / "skip.safetensors"), body=tiny_body("bert"))
    assert again.get_params()["predictor__linear_skip"] is True
    np.testing.assert_allclose(again.predict_proba(df), clf.predict_proba(df), rtol=1e-5, atol=1e-6)
