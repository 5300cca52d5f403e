"""The FNO / NAS-Bench-360 Darcy-flow data (``piececonst_r421_N1024_smooth{1,2}.mat``) regenerated from the
specification in ``benchmarks.md`` §2.3, directly at the resolution NAS-Bench-360 uses (85 x 85 = the 421 grid
taken every 5th point), so a CPU can produce the 900 / 100 / 100 samples in about a minute.

- Coefficient: a Gaussian random field with covariance ``tau^(2 alpha - 2) (-Laplace + tau^2)^(-alpha)``
  (alpha = 2, tau = 3, zero-Neumann Laplacian), sampled by its Karhunen-Loeve expansion on the ``s x s`` cell
  centres with an orthonormal 2D inverse DCT-II (the (0, 0) mode set to 0), thresholded to 12 where it is
  >= 0 and 3 elsewhere.
- Problem: ``-div(a grad u) = 1`` on (0, 1)^2, ``u = 0`` on the boundary, solved as FNO's ``solve_gwf`` does:
  cubic-spline ``a`` from the cell centres ``(2i - 1) / (2s)`` onto the nodes ``linspace(0, 1, s)``, five-point
  stencil on the ``(s - 2)^2`` interior nodes with face coefficients the mean of the two nodal values, one sparse
  solve, and a spline back to the cell centres.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.fft import idctn
from scipy.interpolate import RectBivariateSpline
from scipy.sparse.linalg import spsolve
from tqdm.auto import tqdm

from .base import Generated, drop_non_finite


def grf_fields(n: int, s: int, rng: np.random.Generator, alpha: float = 2.0, tau: float = 3.0) -> np.ndarray:
    """``n`` Gaussian random fields (n, s, s) on the cell centres by Karhunen-Loeve / inverse DCT-II."""
    k = np.arange(s)
    # (s, s) KL coefficient scale of mode (k1, k2); the constant mode is removed
    scale = s * tau ** (alpha - 1) * (np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau**2) ** (-alpha / 2)
    scale[0, 0] = 0.0
    xi = rng.standard_normal((n, s, s))
    return idctn(scale[None] * xi, type=2, axes=(1, 2), norm="ortho")


def threshold(field: np.ndarray, high: float = 12.0, low: float = 3.0) -> np.ndarray:
    """The piecewise-constant coefficient: ``high`` where the field is >= 0, else ``low``."""
    return np.where(field >= 0, high, low)


def _to_nodes(values: np.ndarray, s: int) -> np.ndarray:
    """Cubic spline from the cell centres (2i - 1)/(2s) to the nodes linspace(0, 1, s) (extrapolating at the ends)."""
    centres = (2 * np.arange(1, s + 1) - 1) / (2 * s)
    return RectBivariateSpline(centres, centres, values, kx=3, ky=3)(np.linspace(0, 1, s), np.linspace(0, 1, s))


def _to_centres(values: np.ndarray, s: int) -> np.ndarray:
    nodes = np.linspace(0, 1, s)
    centres = (2 * np.arange(1, s + 1) - 1) / (2 * s)
    return RectBivariateSpline(nodes, nodes, values, kx=3, ky=3)(centres, centres)


def node_matrix(a: np.ndarray) -> sparse.csc_matrix:
    """``-div(a grad .)`` on the interior nodes of an ``s x s`` nodal grid (spacing 1/(s-1)); face coefficient =
    mean of the two nodal values; boundary values are 0."""
    s = a.shape[0]
    m = s - 2
    h2 = (s - 1) ** 2
    inner = a[1:-1, 1:-1]
    east, west = 0.5 * (inner + a[1:-1, 2:]), 0.5 * (inner + a[1:-1, :-2])
    north, south = 0.5 * (inner + a[2:, 1:-1]), 0.5 * (inner + a[:-2, 1:-1])
    idx = np.arange(m * m).reshape(m, m)
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [h2 * (east + west + north + south).ravel()]
    for coef, (di, dj) in ((east, (0, 1)), (west, (0, -1)), (north, (1, 0)), (south, (-1, 0))):
        here = (slice(max(0, -di), m - max(0, di)), slice(max(0, -dj), m - max(0, dj)))  # nodes with that neighbour
        there = (slice(max(0, di), m - max(0, -di)), slice(max(0, dj), m - max(0, -dj)))  # the neighbours
        src, dst, c = idx[here], idx[there], coef[here]
        rows.append(src.ravel())
        cols.append(dst.ravel())
        vals.append(-h2 * c.ravel())
    return sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * m,) * 2)


def solve_gwf(coefficient: np.ndarray, forcing: float = 1.0) -> np.ndarray:
    """FNO's Darcy solve for one cell-centred coefficient (s, s); returns the cell-centred solution (s, s)."""
    s = coefficient.shape[0]
    a = _to_nodes(coefficient, s)
    f = np.full((s - 2) ** 2, forcing)
    u = np.zeros((s, s))
    u[1:-1, 1:-1] = spsolve(node_matrix(a), f).reshape(s - 2, s - 2)
    return _to_centres(u, s)


def darcy_fno(n: int, nx: int, seed: int, alpha: float = 2.0, tau: float = 3.0, high: float = 12.0,
              low: float = 3.0, progress: bool = True) -> Generated:
    """``n`` FNO-style Darcy pairs at ``nx`` x ``nx``: solution (n, 1, nx, nx), coefficient (n, nx, nx)."""
    a = threshold(grf_fields(n, nx, np.random.default_rng(seed), alpha, tau), high, low)
    u = np.stack([solve_gwf(ai) for ai in tqdm(a, desc="darcy (FNO)", leave=False, disable=not progress)])[:, None]
    u, (a,), dropped = drop_non_finite(u, a)
    x = (2 * np.arange(1, nx + 1) - 1) / (2 * nx)
    return Generated("darcy", u.astype(np.float32), x, y=x, coefficient=a.astype(np.float32),
                     attrs={"alpha": alpha, "tau": tau, "threshold": [high, low], "forcing": 1.0,
                            "pde": "-div(a grad u) = 1, u = 0 on the boundary",
                            "scheme": "FNO solve_gwf: splines to nodes, five-point, direct solve"}, dropped=dropped)
