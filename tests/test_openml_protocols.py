"""Both OpenML protocols' splits: sizes, class coverage, no train/test overlap, no test rows in validation; and
the suite's ROC AUC against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.openml import check_in_lists, lift_split, paper_lists, tabpfn_split
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
