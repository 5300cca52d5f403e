"""Metrics against scikit-learn and closed forms; task validation and data checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from orca import Task
from orca.exceptions import ConfigError, DataError
from orca.metrics import get_metric
from orca.tasks import check_classes_present, check_inputs, check_targets, stage2_labels

rng = np.random.default_rng(0)


def _probs(n: int, k: int) -> np.ndarray:
    p = rng.random((n, k))
    return p / p.sum(1, keepdims=True)


def test_classification_metrics_match_sklearn() -> None:
    y, p = rng.integers(0, 4, 200), _probs(200, 4)
    assert get_metric("accuracy")(y, p) == pytest.approx(skm.accuracy_score(y, p.argmax(1)))
    assert get_metric("error")(y, p) == pytest.approx(1 - skm.accuracy_score(y, p.argmax(1)))
    assert get_metric("f1_macro")(y, p) == pytest.approx(skm.f1_score(y, p.argmax(1), average="macro"))
    assert get_metric("roc_auc")(y, p) == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovo"))
    yb, pb = rng.integers(0, 2, 100), _probs(100, 2)
    assert get_metric("roc_auc")(yb, pb) == pytest.approx(skm.roc_auc_score(yb, pb[:, 1]))


def test_multilabel_metrics_match_sklearn() -> None:
    y, p = rng.integers(0, 2, (300, 5)), rng.random((300, 5))
    assert get_metric("map")(y, p) == pytest.approx(skm.average_precision_score(y, p, average="macro"))
    assert get_metric("mean_auroc")(y, p) == pytest.approx(skm.roc_auc_score(y, p, average="macro"))


def test_regression_metrics() -> None:
    y, p = rng.normal(size=(50, 3, 8)), rng.normal(size=(50, 3, 8))
    assert get_metric("mse")(y, p) == pytest.approx(skm.mean_squared_error(y.ravel(), p.ravel()))
    assert get_metric("rmse")(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y.ravel(), p.ravel())))
    assert get_metric("mae")(y, p) == pytest.approx(skm.mean_absolute_error(y.ravel(), p.ravel()))
    # relative l2 by hand: per sample ||p - y|| / ||y||, then the mean
    rel = np.mean([np.linalg.norm(p[i] - y[i]) / np.linalg.norm(y[i]) for i in range(50)])
    assert get_metric("relative_l2")(y, p) == pytest.approx(rel)
    assert get_metric("relative_l2")(y, y) == 0.0
    assert get_metric("rmse").higher_is_better is False and get_metric("roc_auc").higher_is_better is True


def test_task_defaults_and_validation() -> None:
    t = Task("x", (3, 32), "dense", (1, 32))
    assert (t.loss, t.metric, t.stage2_labels, t.input_kind, t.higher_is_better) == (
        "mse", "relative_l2", "kmeans", "sequence", False)
    assert Task.from_dict(t.to_dict()) == t
    with pytest.raises(ConfigError, match="expected one of"):
        Task("x", (3,), "segmentation", (2,))
    with pytest.raises(ConfigError, match="dense output"):
        Task("x", (3, 32), "dense", (32,))
    with pytest.raises(ValueError, match="unknown metric"):
        Task("x", (3,), "classification", (2,), metric="acc")
    with pytest.raises(ConfigError, match="input_shape"):
        Task("x", (1, 2, 3, 4), "classification", (2,))


def test_check_inputs_errors() -> None:
    t = Task("x", (2, 10), "classification", (3,))
    with pytest.raises(DataError, match="rank 2"):
        check_inputs(t, np.zeros((4, 10)))
    with pytest.raises(DataError, match=r"example shape \(3, 10\)"):
        check_inputs(t, np.zeros((4, 3, 10)))
    bad = np.zeros((4, 2, 10))
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        check_inputs(t, bad)
    bad[0, 0, 0] = np.inf
    with pytest.raises(DataError, match="inf"):
        check_inputs(t, bad, allow_nan=True)


def test_check_targets_errors() -> None:
    t = Task("x", (4,), "classification", (3,))
    with pytest.raises(DataError, match="X has 5 examples but y has 4"):
        check_targets(t, np.zeros(4, int), 5)
    with pytest.raises(DataError, match=r"class indices must lie in \[0, 3\)"):
        check_targets(t, np.array([0, 1, 3]), 3)
    with pytest.raises(DataError, match="no training examples"):
        check_classes_present(t, np.array([0, 0, 1, 1]))
    r = Task("r", (4,), "regression", (1,))
    assert check_targets(r, np.arange(3.0), 3).shape == (3, 1)
    with pytest.raises(DataError, match="finite"):
        check_targets(r, np.array([1.0, np.nan, 2.0]), 3)


def test_kmeans_pseudo_labels_are_bounded_and_deterministic() -> None:
    t = Task("d", (1, 600), "dense", (1, 600), n_pseudo_labels=4)
    y = np.concatenate([rng.normal(m, 0.1, (20, 1, 600)) for m in range(4)])
    a, b = stage2_labels(t, y, seed=1), stage2_labels(t, y, seed=1)
    assert np.array_equal(a, b) and set(a) == {0, 1, 2, 3}
    assert all(len(set(a[i * 20:(i + 1) * 20])) == 1 for i in range(4))  # each cluster recovered


def test_pseudo_labels_never_leave_a_single_member_cluster() -> None:
    from orca.tasks import merge_singletons

    centres = np.array([[0.0], [1.0], [10.0], [10.5]])
    labels = np.array([0, 0, 1, 2, 2, 2, 3])  # clusters 1 and 3 have one member: into 0 and 2
    merged = merge_singletons(labels, centres)
    assert merged.tolist() == [0, 0, 0, 1, 1, 1, 1]
    t = Task("field", (1, 8), "dense", (1, 8))
    y = np.random.default_rng(0).normal(size=(12, 1, 8))
    y[0] += 50  # an outlier would be its own k-means cluster
    lab = stage2_labels(t, y, seed=0)
    assert np.bincount(lab).min() >= 2
