"""PDEBench's field metrics (``benchmarks.md`` §1.6) for one predicted frame, in physical units.

Arrays are (N, C, *space). Each metric is computed per (sample, channel) as PDEBench defines it and averaged over
samples and channels by plain means, so there is no B - 1 batch-averaging bug and a single batch works.
``nrmse`` is ||pred - true|| / ||true|| per sample and channel (ORCA's nRMSE is the same over all channels at
once; :func:`field_metrics` reports both).
"""

from __future__ import annotations

import numpy as np

from orca.metrics import relative_l2


def _bins(shape: tuple[int, ...]) -> np.ndarray:
    """Integer wavenumber magnitude of every FFT coefficient (rfft on the last axis)."""
    axes = [np.fft.fftfreq(n, 1.0 / n) for n in shape[:-1]] + [np.fft.rfftfreq(shape[-1], 1.0 / shape[-1])]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.rint(np.sqrt(sum(m**2 for m in mesh))).astype(int)


def field_metrics(y_true: np.ndarray, y_pred: np.ndarray, lengths: tuple[float, ...] | None = None,
                  bands: tuple[int, int] = (4, 12)) -> dict[str, float]:
    """RMSE, nRMSE, cRMSE, bRMSE, fRMSE (low/mid/high bands) and max error of ``y_pred`` against ``y_true``.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (N, C, *space)
        One or two spatial axes.
    lengths : tuple of float, optional
        Domain length per spatial axis (default 1), for fRMSE's physical scaling.
    bands : (int, int)
        fRMSE band edges in integer wavenumber: low k < 4, mid 4 <= k < 12, high k >= 12 (PDEBench's).
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim not in (3, 4):
        raise ValueError(f"expected equal shapes (N, C, X) or (N, C, X, Y); got {t.shape} and {p.shape}")
    space = t.shape[2:]
    axes = tuple(range(2, t.ndim))
    err = p - t
    n_points = int(np.prod(space))
    rmse = np.sqrt(np.mean(err**2, axis=axes))  # (N, C)
    nrmse = rmse / np.maximum(np.sqrt(np.mean(t**2, axis=axes)), 1e-12)
    crmse = np.sqrt(np.mean((err.sum(axis=axes)) ** 2, axis=0)) / n_points  # (C,)
    if t.ndim == 3:
        edge = np.stack([err[..., 0], err[..., -1]], axis=-1)  # (N, C, 2)
    else:
        edge = np.concatenate([err[..., 0, :], err[..., -1, :], err[..., :, 0], err[..., :, -1]], axis=-1)
    brmse = np.sqrt(np.mean(edge**2, axis=-1))
    lengths = lengths or (1.0,) * len(space)
    spec = np.fft.rfftn(err, axes=axes)  # FFT of the difference = difference of the FFTs
    per_k = np.sqrt(np.mean(np.abs(spec) ** 2, axis=0)) / n_points * float(np.prod(lengths))  # (C, *k)
    k = _bins(space)
    lo, hi = bands
    fr = {name: float(per_k[:, mask].mean()) if mask.any() else float("nan")
          for name, mask in (("frmse_low", k < lo), ("frmse_mid", (k >= lo) & (k < hi)), ("frmse_high", k >= hi))}
    return {"relative_l2": relative_l2(t, p), "nrmse": float(nrmse.mean()), "rmse": float(rmse.mean()),
            "crmse": float(crmse.mean()), "brmse": float(brmse.mean()), **fr, "max_error": float(np.abs(err).max())}
