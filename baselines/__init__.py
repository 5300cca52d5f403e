"""Baselines registered under ``orca.available('baseline')``: table models as scikit-learn estimators built
by ``get("baseline", name)(seed=..., **settings)`` (logreg, ridge, xgboost, lightgbm, catboost, tabpfn), and
neural models as ``nn.Module`` builders (fno, unet, wide-resnet, resnet1d) that train through
:func:`baselines.supervised.train_supervised`: on the job's device, checkpointed and resumed like ORCA; and
``spectral-linear``, an affine operator on the low Fourier modes fitted in closed form."""

from . import cnn, fno, gbdt, linear, spectral_linear, tabpfn, unet  # noqa: F401  (registers the baselines)
