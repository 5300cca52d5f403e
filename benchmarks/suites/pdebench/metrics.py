"""PDEBench's field metrics (``benchmarks.md`` §1.6) for one predicted frame, in physical units, exactly as
PDEBench's ``metric_func`` (``pdebench/models/metrics.py``) computes them on one batch holding every test sample.

Arrays are (N, C, *space), one or two spatial axes. Per channel, then averaged over channels (PDEBench's final
``mean(dim=[0, -1])`` over channels and, for a trajectory, time steps; :mod:`.scoring` averages the steps):

=============  =============================================================================================
``nrmse``      mean over samples of ||pred - true|| / ||true|| (per sample and channel): PDEBench's nRMSE, the
               suite's ranking metric
``relative_l2`` ||pred - true|| / ||true|| per sample over all channels at once, mean over samples: the ORCA
               code's ``nmse`` (equal to ``nrmse`` on single-channel tasks)
``rmse``       mean over samples of the per-sample RMSE
``crmse``      RMS over samples of the error of the field's sum, divided by the number of grid points
``brmse``      RMSE on the boundary points (2D: the four edges, corners counted twice), mean over samples
``max_error``  the largest absolute error over samples and points, per channel, then the channel mean
``frmse_*``    RMS over samples of the spectral error, binned by wavenumber, mean over the bins of a band (low
               k < 4, mid 4 <= k < 12, high k >= 12); 1D: the ``rfft`` coefficients k = 0 .. nx/2; 2D: the
               coefficients (i, j) with 0 <= i < nx/2, 0 <= j < ny/2 summed into bins floor(sqrt(i² + j²)) <
               min(nx, ny)/2, as PDEBench does (the other three quadrants and the Nyquist row are not used)
=============  =============================================================================================

Deviation kept on purpose: PDEBench's ``metrics`` loop adds each batch's averages and divides by the number of
batches minus one (``benchmarks.md`` §1.6); one batch of all test samples has no such bias, and that is what
is computed here. ``tests/fixtures/reference/pdebench_metrics.json`` holds PDEBench's own outputs on fixed
fields; ``tests/test_reference_scoring.py`` checks these functions against them.
"""

from __future__ import annotations

import numpy as np

from orca.metrics import relative_l2

METRIC_VERSION = 2
"""Bumped whenever a number these functions return changes (1: fRMSE 2D per coefficient, global max error, ranking
by the all-channel relative l2; 2: PDEBench's own definitions)."""


def _spectral_bins(err: np.ndarray, lengths: tuple[float, ...]) -> np.ndarray:
    """PDEBench's per-bin spectral error (C, n_bins): sqrt(mean over samples of the binned |FFT(err)|²) / points
    * prod(lengths)."""
    space = err.shape[2:]
    n_points = int(np.prod(space))
    if len(space) == 1:
        power = np.abs(np.fft.rfft(err, axis=2)) ** 2  # (N, C, nx // 2 + 1): one bin per coefficient
    else:
        nx, ny = space
        n_bins = min(nx // 2, ny // 2)
        quadrant = np.abs(np.fft.fftn(err, axes=(2, 3))[:, :, : nx // 2, : ny // 2]) ** 2  # (N, C, nx/2, ny/2)
        i, j = np.meshgrid(np.arange(nx // 2), np.arange(ny // 2), indexing="ij")
        radius = np.floor(np.sqrt(i**2 + j**2)).astype(int)  # (nx/2, ny/2)
        power = np.zeros(err.shape[:2] + (n_bins,))
        inside = radius < n_bins
        np.add.at(power, (slice(None), slice(None), radius[inside]), quadrant[:, :, inside])
    return np.sqrt(power.mean(axis=0)) / n_points * float(np.prod(lengths))


def _band_mean(per_bin: np.ndarray, lo: int, hi: int | None) -> float:
    """Mean over the bins ``lo:hi`` per channel, then over channels (NaN when the band holds no bin, as PDEBench's
    mean of an empty slice)."""
    band = per_bin[:, lo:hi]
    return float(band.mean(axis=1).mean()) if band.shape[1] else float("nan")


def field_metrics(y_true: np.ndarray, y_pred: np.ndarray, lengths: tuple[float, ...] | None = None,
                  bands: tuple[int, int] = (4, 12)) -> dict[str, float]:
    """nRMSE, ORCA's relative l2, RMSE, cRMSE, bRMSE, fRMSE (low/mid/high bands) and max error.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (N, C, X) or (N, C, X, Y)
    lengths : tuple of float, optional
        Domain length per spatial axis (default 1, PDEBench's ``Lx``, ``Ly``), for fRMSE's physical scaling.
    bands : (int, int)
        fRMSE band edges in bins (PDEBench's ``iLow=4``, ``iHigh=12``).

    Returns
    -------
    dict of str to float
        Every value is a float; ``frmse_high`` is NaN on grids too small to have a bin >= 12.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim not in (3, 4):
        raise ValueError(f"expected equal shapes (N, C, X) or (N, C, X, Y); got {t.shape} and {p.shape}")
    n, c = t.shape[:2]
    space = t.shape[2:]
    err = p - t
    flat_err, flat_true = err.reshape(n, c, -1), t.reshape(n, c, -1)  # (N, C, points)
    rmse = np.sqrt(np.mean(flat_err**2, axis=2))  # (N, C)
    norm = np.sqrt(np.mean(flat_true**2, axis=2))  # (N, C); a zero field gives inf/NaN, as in PDEBench
    with np.errstate(divide="ignore", invalid="ignore"):
        nrmse = rmse / norm
    crmse = np.sqrt(np.mean(flat_err.sum(axis=2) ** 2, axis=0)) / flat_err.shape[2]  # (C,)
    max_error = np.abs(flat_err).max(axis=(0, 2))  # (C,): over samples and points
    if t.ndim == 3:
        edge = np.stack([err[..., 0], err[..., -1]], axis=-1)  # (N, C, 2)
    else:  # x-edges (2 * ny points) and y-edges (2 * nx points); the corners appear twice, as in PDEBench
        edge = np.concatenate([err[:, :, 0, :], err[:, :, -1, :], err[:, :, :, 0], err[:, :, :, -1]], axis=-1)
    brmse = np.sqrt(np.mean(edge**2, axis=-1))  # (N, C)
    per_bin = _spectral_bins(err, tuple(lengths) if lengths else (1.0,) * len(space))  # (C, bins)
    lo, hi = bands
    return {"nrmse": float(nrmse.mean()), "relative_l2": relative_l2(t, p), "rmse": float(rmse.mean()),
            "crmse": float(crmse.mean()), "brmse": float(brmse.mean()),
            "frmse_low": _band_mean(per_bin, 0, lo), "frmse_mid": _band_mean(per_bin, lo, hi),
            "frmse_high": _band_mean(per_bin, hi, None), "max_error": float(max_error.mean())}
