"""Periodic 1D finite-volume building blocks shared by the advection, Burgers and reaction-diffusion generators.

- :func:`muscl_pc_step`: PDEBench's "MUSCL-PC" scheme (``benchmarks.md`` §1.5): limited linear reconstruction
  with slope ``sign(c) 1[ab > 0] min(2|a|, 2|b|, |c|)``, face values ``u -+ slope/2``, a numerical flux, and a
  predictor-corrector step ``u* = u - dt/2 D[F(u)]``, ``u' = u - dt D[F(u*)]``; conservative by construction.
- :func:`heat_step`: the exact solution of ``u_t = kappa * Lap_h u`` over ``dt`` for the periodic 3-point
  Laplacian ``Lap_h`` (a diagonal multiplier in Fourier space). It conserves the cell sum exactly, keeps a
  non-negative field non-negative, and is unconditionally stable, which is what makes ν = 1 Burgers and
  Fisher-KPP cheap on a CPU (the explicit viscous limit needs millions of steps at 1,024 cells).
- :func:`integrate`: advance to each save time with steps that land exactly on it, vectorised over samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

Flux = Callable[[np.ndarray, np.ndarray], np.ndarray]


def limited_slopes(u: np.ndarray) -> np.ndarray:
    """Slopes of the cells of ``u`` (n, m) from their neighbours; returns (n, m - 2) for the interior cells."""
    a = u[:, 1:-1] - u[:, :-2]
    b = u[:, 2:] - u[:, 1:-1]
    c = 0.5 * (u[:, 2:] - u[:, :-2])
    return np.sign(c) * (a * b > 0) * np.minimum(np.minimum(2 * np.abs(a), 2 * np.abs(b)), np.abs(c))


def face_fluxes(u: np.ndarray, flux: Flux) -> np.ndarray:
    """Numerical fluxes at the nx + 1 faces of periodic cells ``u`` (n, nx)."""
    g = np.concatenate([u[:, -2:], u, u[:, :2]], axis=1)  # two periodic ghost cells each side: (n, nx + 4)
    slope = limited_slopes(g)  # cells -1 .. nx: (n, nx + 2)
    inner = g[:, 1:-1]
    right_face = inner + 0.5 * slope  # value at the right face of each cell
    left_face = inner - 0.5 * slope
    # face i - 1/2 for i = 0..nx: left state = right face of cell i - 1, right state = left face of cell i
    return flux(right_face[:, :-1], left_face[:, 1:])


def muscl_pc_step(u: np.ndarray, dt: float, dx: float, flux: Flux) -> np.ndarray:
    """One predictor-corrector MUSCL step of ``u_t + f(u)_x = 0`` on periodic cells."""
    f = face_fluxes(u, flux)
    half = u - 0.5 * dt / dx * (f[:, 1:] - f[:, :-1])
    f = face_fluxes(half, flux)
    return u - dt / dx * (f[:, 1:] - f[:, :-1])


def advection_flux(beta: float) -> Flux:
    """Upwind flux of ``beta * u`` (with PDEBench's 2023-08 fix: the leading 1/2)."""
    def flux(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return 0.5 * (beta * (left + right) - abs(beta) * (right - left))
    return flux


def burgers_flux(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Local Lax-Friedrichs flux of ``u^2 / 2`` (with the 2023-10 fix: the leading 1/2)."""
    return 0.5 * (0.5 * left**2 + 0.5 * right**2 - 0.5 * np.abs(left + right) * (right - left))


def heat_step(u: np.ndarray, kappa_dt: float, dx: float) -> np.ndarray:
    """Exact ``exp(kappa dt Lap_h)`` applied to periodic cells ``u`` (n, nx); ``kappa_dt = kappa * dt``."""
    nx = u.shape[-1]
    m = np.arange(nx // 2 + 1)
    symbol = -4.0 / dx**2 * np.sin(np.pi * m / nx) ** 2  # eigenvalues of the periodic 3-point Laplacian
    return np.fft.irfft(np.fft.rfft(u, axis=-1) * np.exp(kappa_dt * symbol), n=nx, axis=-1)


def integrate(u0: np.ndarray, save_times: np.ndarray, max_dt: Callable[[np.ndarray], float],
              step: Callable[[np.ndarray, float], np.ndarray], desc: str = "") -> np.ndarray:
    """Advance ``u0`` (n, nx) with ``step(u, dt)`` and return the states at ``save_times`` (n, T, nx).

    ``max_dt(u)`` is the stable step for the current state; steps are shortened so that every save time is hit
    exactly. ``save_times[0]`` must be 0 (the initial state)."""
    frames = np.empty((u0.shape[0], len(save_times), u0.shape[1]), dtype=np.float64)
    frames[:, 0] = u = u0
    for k in tqdm(range(1, len(save_times)), desc=desc, leave=False, disable=not desc):
        interval = save_times[k] - save_times[k - 1]
        n_steps = max(1, int(np.ceil(interval / max_dt(u) - 1e-9)))
        for _ in range(n_steps):
            u = step(u, interval / n_steps)
        frames[:, k] = u
    return frames
