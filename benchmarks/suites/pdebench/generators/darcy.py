"""Steady 2D Darcy flow ``-div(a grad u) = f`` on cells of (0, 1)^2 with zero Dirichlet ghost cells.

Two coefficient laws share one solver:

- :func:`pdebench_coefficients` (PDEBench's Darcy, ``benchmarks.md`` §1.5 (6)): five Gaussian bumps
  ``g = sum_i exp(-|x - m_i|^2 / s_i)``, ``m_i ~ U((0,1)^2)``, ``s_i = 0.5 U(0,1)``; ``a = 1`` where ``g`` exceeds
  its mean over the whole batch, else 0.1; forcing ``beta``.
- the FNO/NAS-Bench-360 law (Gaussian random field thresholded to 12/3, forcing 1) for the NAS-Bench-360 suite.

PDEBench reaches the steady state by explicit pseudo-time stepping and stores the frame at t = 1.75; this solves
the steady five-point system directly (face coefficient: the arithmetic mean of the two cells; at the boundary
the cell's own value, with the ghost value u = 0 at distance dx), one sparse LU per sample.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve
from tqdm.auto import tqdm

from .base import Generated, drop_non_finite
from .initial import cell_centres


def face_coefficients(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arithmetic-mean coefficients on the x faces (H, W + 1) and y faces (H + 1, W) of one field ``a`` (H, W);
    boundary faces take the adjacent cell's value."""
    ax = np.concatenate([a[:, :1], 0.5 * (a[:, 1:] + a[:, :-1]), a[:, -1:]], axis=1)
    ay = np.concatenate([a[:1], 0.5 * (a[1:] + a[:-1]), a[-1:]], axis=0)
    return ax, ay


def darcy_matrix(a: np.ndarray, dx: float) -> sparse.csc_matrix:
    """The five-point operator ``-div(a grad .)`` with zero ghost values, for ``a`` (H, W) in row-major order."""
    h, w = a.shape
    ax, ay = face_coefficients(a)
    idx = np.arange(h * w).reshape(h, w)
    diag = (ax[:, :-1] + ax[:, 1:] + ay[:-1] + ay[1:]) / dx**2
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [diag.ravel()]
    for (di, dj), coef in (((0, 1), ax[:, 1:-1]), ((1, 0), ay[1:-1])):  # east and south neighbours, symmetric
        src = idx[: h - di, : w - dj].ravel()
        dst = idx[di:, dj:].ravel()
        v = -coef.ravel() / dx**2
        rows += [src, dst]
        cols += [dst, src]
        vals += [v, v]
    return sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w,) * 2)


def darcy_residual(u: np.ndarray, a: np.ndarray, forcing: float, dx: float) -> np.ndarray:
    """``-div(a grad u) - f`` evaluated with array shifts (independent of :func:`darcy_matrix`)."""
    ax, ay = face_coefficients(a)
    g = np.pad(u, 1)  # zero ghost cells
    flux_x = ax * (g[1:-1, 1:] - g[1:-1, :-1]) / dx  # (H, W + 1)
    flux_y = ay * (g[1:, 1:-1] - g[:-1, 1:-1]) / dx  # (H + 1, W)
    div = (flux_x[:, 1:] - flux_x[:, :-1]) / dx + (flux_y[1:] - flux_y[:-1]) / dx
    return -div - forcing


def solve_darcy(coefficients: np.ndarray, forcing: float, progress: bool = True) -> np.ndarray:
    """Solutions (n, H, W) for coefficient fields (n, H, W) on (0, 1)^2."""
    n, h, w = coefficients.shape
    dx = 1.0 / h
    out = np.empty((n, h, w))
    for i in tqdm(range(n), desc="darcy", leave=False, disable=not progress):
        out[i] = spsolve(darcy_matrix(coefficients[i], dx), np.full(h * w, forcing)).reshape(h, w)
    return out


def pdebench_coefficients(n: int, res: int, rng: np.random.Generator, n_bumps: int = 5) -> np.ndarray:
    """PDEBench's two-valued coefficient from Gaussian bumps, thresholded at the batch mean: (n, res, res)."""
    x = cell_centres(res)
    xx, yy = np.meshgrid(x, x, indexing="xy")  # (res, res): columns vary along x
    centres = rng.uniform(size=(n, n_bumps, 2))
    widths = 0.5 * rng.uniform(size=(n, n_bumps))
    # (n, bumps, res, res): squared distance of every cell to every centre
    d2 = (xx[None, None] - centres[..., 0, None, None]) ** 2 + (yy[None, None] - centres[..., 1, None, None]) ** 2
    g = np.exp(-d2 / np.maximum(widths, 1e-12)[..., None, None]).sum(axis=1)
    return np.where(g > g.mean(), 1.0, 0.1)


def darcy(n: int, nx: int, seed: int, beta: float = 0.1, progress: bool = True) -> Generated:
    """``n`` PDEBench-style Darcy samples at ``nx`` x ``nx`` cells: solution (n, 1, nx, nx), coefficient (n, nx, nx)."""
    a = pdebench_coefficients(n, nx, np.random.default_rng(seed))
    u = solve_darcy(a, beta, progress)[:, None]
    u, (a,), dropped = drop_non_finite(u, a)
    x = cell_centres(nx)
    return Generated("darcy", u.astype(np.float32), x, y=x, coefficient=a.astype(np.float32),
                     attrs={"beta": beta, "pde": "-div(a grad u) = beta", "scheme": "five-point, direct solve"},
                     dropped=dropped)
