"""The best affine operator on a field's lowest Fourier modes, fitted in closed form: a reference for ORCA's
spectral input skip (``predictor.skip_modes``, :mod:`orca.spectral`).

``spectral-linear`` is :class:`orca.spectral.SpectralSkip` alone, its weights and bias set by ridge least squares
on the training fields (no gradient steps). Whatever ORCA with the skip gains over it is the body's; whatever FNO
gains over it is its nonlinearity's.
"""

from __future__ import annotations

import numpy as np

from orca.registry import register
from orca.spectral import SpectralSkip


@register("baseline", "spectral-linear")
def fit_spectral_linear(X: np.ndarray, y: np.ndarray, modes: int = 12, ridge: float = 1e-4) -> SpectralSkip:
    """The ridge least-squares affine map from ``X`` ``(N, C_in, *space)`` to ``y`` ``(N, C_out, *space)`` on the
    lowest ``modes`` Fourier modes per axis, ready to predict (parameters frozen, so
    :func:`baselines.supervised.predict_batches` runs it; a grid mismatch is refused by the fit)."""
    model = SpectralSkip(X.shape[1], y.shape[1], tuple(X.shape[2:]), modes)
    model.fit_least_squares(X, y, ridge=ridge)
    model.requires_grad_(False)
    return model.eval()

