"""The two time-dependent 2D families (``benchmarks.md`` §1.5 (7)-(8)), vectorised over samples.

- Diffusion-reaction (FitzHugh-Nagumo) on [-1, 1]^2 with no-flux walls:
  ``u_t = Du Lap u + u - u^3 - k - v``, ``v_t = Dv Lap v + u - v`` (Du 1e-3, Dv 5e-3, k 5e-3), u, v ~ N(0, 1)
  per cell. Strang splitting: the exact no-flux discrete heat step (the cell-centred five-point Laplacian with
  walls is diagonal in the DCT-II basis) around an RK4 reaction step. PDEBench integrates the method-of-lines
  system with RK45.
- Shallow water, radial dam break on [-2.5, 2.5]^2 with outflow boundaries, g = 1: ``h = 2`` inside a radius
  r0 ~ U(0.3, 0.7), 1 outside, at rest. Finite volumes with MC-limited linear reconstruction, the HLL flux and a
  second-order (Heun) time step with CFL 0.4, unsplit. PDEBench uses PyClaw (Roe solver, MC limiter, dimensional
  splitting). Only h is stored, as in PDEBench's file.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dctn, idctn
from tqdm.auto import tqdm

from .base import Generated, drop_non_finite
from .initial import cell_centres

FHN = {"Du": 1e-3, "Dv": 5e-3, "k": 5e-3}


def neumann_heat(field: np.ndarray, kappa_dt: float, dx: float) -> np.ndarray:
    """Exact ``exp(kappa dt Lap_h)`` for the no-flux cell-centred five-point Laplacian on the last two axes."""
    n1, n2 = field.shape[-2:]
    lam1 = -4.0 / dx**2 * np.sin(np.pi * np.arange(n1) / (2 * n1)) ** 2
    lam2 = -4.0 / dx**2 * np.sin(np.pi * np.arange(n2) / (2 * n2)) ** 2
    decay = np.exp(kappa_dt * (lam1[:, None] + lam2[None, :]))  # (n1, n2)
    return idctn(dctn(field, type=2, axes=(-2, -1), norm="ortho") * decay, type=2, axes=(-2, -1), norm="ortho")


def fhn_reaction(u: np.ndarray, v: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    return u - u**3 - k - v, u - v


def fhn_reaction_step(u: np.ndarray, v: np.ndarray, dt: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """One classical RK4 step of the reaction terms alone."""
    a = fhn_reaction(u, v, k)
    b = fhn_reaction(u + 0.5 * dt * a[0], v + 0.5 * dt * a[1], k)
    c = fhn_reaction(u + 0.5 * dt * b[0], v + 0.5 * dt * b[1], k)
    d = fhn_reaction(u + dt * c[0], v + dt * c[1], k)
    return (u + dt / 6 * (a[0] + 2 * b[0] + 2 * c[0] + d[0]), v + dt / 6 * (a[1] + 2 * b[1] + 2 * c[1] + d[1]))


def diffusion_reaction_2d(n: int, nx: int, seed: int, t_end: float = 5.0, n_frames: int = 101, dt: float = 0.01,
                          Du: float = FHN["Du"], Dv: float = FHN["Dv"], k: float = FHN["k"],
                          progress: bool = True) -> Generated:
    """``n`` FitzHugh-Nagumo runs at ``nx`` x ``nx``: fields (n, T, nx, nx, 2) holding (u, v)."""
    dx = 2.0 / nx
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal((n, nx, nx)), rng.standard_normal((n, nx, nx))
    t = np.linspace(0.0, t_end, n_frames)
    frames = np.empty((n, n_frames, nx, nx, 2), dtype=np.float32)
    frames[:, 0, ..., 0], frames[:, 0, ..., 1] = u, v
    for j in tqdm(range(1, n_frames), desc="diffusion-reaction 2D", leave=False, disable=not progress):
        steps = max(1, int(np.ceil((t[j] - t[j - 1]) / dt - 1e-9)))
        h = (t[j] - t[j - 1]) / steps
        for _ in range(steps):
            u, v = neumann_heat(u, 0.5 * Du * h, dx), neumann_heat(v, 0.5 * Dv * h, dx)
            u, v = fhn_reaction_step(u, v, h, k)
            u, v = neumann_heat(u, 0.5 * Du * h, dx), neumann_heat(v, 0.5 * Dv * h, dx)
        frames[:, j, ..., 0], frames[:, j, ..., 1] = u, v
    frames, _, dropped = drop_non_finite(frames)
    x = cell_centres(nx, -1.0, 1.0)
    return Generated("groups", frames, x, t, y=x, attrs={**FHN, "Du": Du, "Dv": Dv, "k": k, "pde": "FitzHugh-Nagumo",
                                                          "scheme": "Strang: exact no-flux heat step + RK4 reaction",
                                                          "dt": dt}, dropped=dropped)


def _mc_slope(q: np.ndarray, axis: int) -> np.ndarray:
    """MC-limited slopes along ``axis`` with zero-gradient (outflow) ghost values."""
    pad = [(0, 0)] * q.ndim
    pad[axis] = (1, 1)
    g = np.pad(q, pad, mode="edge")
    lo = np.take(g, range(0, q.shape[axis]), axis=axis)
    mid = np.take(g, range(1, q.shape[axis] + 1), axis=axis)
    hi = np.take(g, range(2, q.shape[axis] + 2), axis=axis)
    a, b = mid - lo, hi - mid
    return np.where(a * b > 0, np.sign(a) * np.minimum(np.minimum(2 * np.abs(a), 2 * np.abs(b)), 0.5 * np.abs(a + b)), 0)


def _physical_flux(h: np.ndarray, un: np.ndarray, ut: np.ndarray, g: float) -> tuple[np.ndarray, ...]:
    """Flux normal to a face of (h, h un, h ut) with normal velocity un and tangential ut."""
    return h * un, h * un**2 + 0.5 * g * h**2, h * un * ut


def _hll_divergence(q: np.ndarray, axis: int, dx: float, g: float) -> np.ndarray:
    """-(F_{i+1/2} - F_{i-1/2}) / dx along ``axis`` for q = (h, hu, hv) of shape (3, n, N, N), HLL fluxes."""
    normal = 1 if axis == -1 else 2  # momentum component normal to the faces
    slopes = _mc_slope(q, axis)
    left_state = q + 0.5 * slopes  # value at the right face of each cell
    right_state = q - 0.5 * slopes  # value at the left face of each cell
    pad = [(0, 0)] * q.ndim
    pad[axis] = (1, 1)
    L = np.pad(left_state, pad, mode="edge")  # outflow: the ghost states copy the boundary cells
    R = np.pad(right_state, pad, mode="edge")
    n = q.shape[axis]
    qL = np.take(L, range(0, n + 1), axis=axis)  # (3, ..., n + 1 faces ...)
    qR = np.take(R, range(1, n + 2), axis=axis)
    hL, hR = np.maximum(qL[0], 1e-8), np.maximum(qR[0], 1e-8)
    tangential = 3 - normal
    unL, unR = qL[normal] / hL, qR[normal] / hR
    utL, utR = qL[tangential] / hL, qR[tangential] / hR
    cL, cR = np.sqrt(g * hL), np.sqrt(g * hR)
    sL = np.minimum(unL - cL, unR - cR)
    sR = np.maximum(unL + cL, unR + cR)
    fL = _physical_flux(hL, unL, utL, g)
    fR = _physical_flux(hR, unR, utR, g)
    flux = np.empty_like(qL)
    order = {0: 0, normal: 1, tangential: 2}
    for comp in range(3):
        fl, fr = fL[order[comp]], fR[order[comp]]
        hll = (sR * fl - sL * fr + sL * sR * (qR[comp] - qL[comp])) / np.where(sR - sL == 0, 1e-12, sR - sL)
        flux[comp] = np.where(sL >= 0, fl, np.where(sR <= 0, fr, hll))
    upper = np.take(flux, range(1, n + 1), axis=axis)
    lower = np.take(flux, range(0, n), axis=axis)
    return -(upper - lower) / dx


def swe_rhs(q: np.ndarray, dx: float, g: float = 1.0) -> np.ndarray:
    return _hll_divergence(q, -1, dx, g) + _hll_divergence(q, -2, dx, g)


def shallow_water(n: int, nx: int, seed: int, t_end: float = 1.0, n_frames: int = 101, cfl: float = 0.4,
                  g: float = 1.0, progress: bool = True) -> Generated:
    """``n`` radial dam breaks at ``nx`` x ``nx`` on [-2.5, 2.5]^2: fields (n, T, nx, nx, 1) holding h."""
    x = cell_centres(nx, -2.5, 2.5)
    dx = 5.0 / nx
    radius = np.random.default_rng(seed).uniform(0.3, 0.7, size=n)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    q = np.zeros((3, n, nx, nx))
    q[0] = np.where(np.sqrt(xx**2 + yy**2)[None] < radius[:, None, None], 2.0, 1.0)
    t = np.linspace(0.0, t_end, n_frames)
    frames = np.empty((n, n_frames, nx, nx, 1), dtype=np.float32)
    frames[:, 0, ..., 0] = q[0]
    for j in tqdm(range(1, n_frames), desc="shallow water", leave=False, disable=not progress):
        now = t[j - 1]
        while now < t[j] - 1e-12:
            h = np.maximum(q[0], 1e-8)
            speed = np.max(np.maximum(np.abs(q[1] / h), np.abs(q[2] / h)) + np.sqrt(g * h))
            dt = min(cfl * dx / speed, t[j] - now)
            stage = q + dt * swe_rhs(q, dx, g)
            q = 0.5 * (q + stage + dt * swe_rhs(stage, dx, g))  # Heun (SSP-RK2)
            now += dt
        frames[:, j, ..., 0] = q[0]
    frames, _, dropped = drop_non_finite(frames)
    return Generated("groups", frames, x, t, y=x, attrs={"g": g, "pde": "shallow water, radial dam break",
                                                          "scheme": "MC-limited FV, HLL flux, Heun, unsplit",
                                                          "cfl": cfl}, dropped=dropped)
