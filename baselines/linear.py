"""Linear baselines on tables: logistic regression (classification) and ridge (regression).

The harness issues add XGBoost, TabPFN, FNO and U-Net next to these; each is a thin adapter registered here.
"""

from __future__ import annotations

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from orca.registry import register


@register("baseline", "logreg")
def logistic_regression(seed: int = 0, C: float = 1.0) -> Pipeline:
    """Mean imputation, standardisation, L2-regularised logistic regression (lbfgs, 2,000 iterations)."""
    return make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))


@register("baseline", "ridge")
def ridge(seed: int = 0, alpha: float = 1.0) -> Pipeline:
    """Mean imputation, standardisation, ridge regression."""
    return make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=alpha))
