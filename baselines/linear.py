"""Linear baselines on tables: logistic regression (classification) and ridge (regression).

The harness issues add XGBoost, TabPFN, FNO and U-Net next to these; each is a thin adapter registered here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from orca.registry import register


def table_encoder(n_features: int, categorical: Sequence[int] = ()) -> ColumnTransformer:
    """Numeric columns: mean imputation and standardisation; categorical codes: mode imputation and one-hot
    (categories unseen in training are ignored)."""
    numeric = [i for i in range(n_features) if i not in set(categorical)]
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         list(categorical)),
    ])


@register("baseline", "logreg")
def logistic_regression(seed: int = 0, C: float = 1.0, max_iter: int = 2000, n_features: int | None = None,
                        categorical: Sequence[int] = ()) -> Pipeline:
    """L2-regularised logistic regression (lbfgs) after :func:`table_encoder` (or plain imputation and
    standardisation when the column layout is not given)."""
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    if n_features is None:
        return make_pipeline(SimpleImputer(), StandardScaler(), model)
    return make_pipeline(table_encoder(n_features, categorical), model)


@register("baseline", "ridge")
def ridge(seed: int = 0, alpha: float = 1.0, n_features: int | None = None,
          categorical: Sequence[int] = ()) -> Pipeline:
    """Ridge regression after :func:`table_encoder` (or plain mean imputation and standardisation when the column
    layout is not given)."""
    if n_features is None:
        return make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=alpha))
    return make_pipeline(table_encoder(n_features, categorical), Ridge(alpha=alpha))
