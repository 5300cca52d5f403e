"""1D advection, Burgers and Fisher-KPP reaction-diffusion (PDEBench's single-tensor families), on periodic cells
of (0, 1), from ``benchmarks.md`` §1.4-1.5.

- Advection ``u_t + beta u_x = 0``: MUSCL-PC, ``dt = cfl dx / |beta|`` (PDEBench: cfl 0.4); the exact solution
  is the initial function at ``(x - beta t) mod 1`` (:func:`advection_exact`).
- Burgers ``u_t + (u^2/2)_x = (nu/pi) u_xx``: Strang splitting of MUSCL-PC convection (``dt = cfl dx / max|u|``)
  and the exact periodic discrete heat step. PDEBench integrates the viscous flux explicitly (about 5 M steps at
  ν = 1 and 1,024 cells); the split scheme solves the same semi-discrete equations within O(dt^2).
- Reaction-diffusion ``u_t = nu u_xx + rho u (1 - u)``: Strang splitting of the exact logistic step and the
  exact heat step (PDEBench: explicit diffusion inside a predictor-corrector with an exact reaction step).
"""

from __future__ import annotations

import numpy as np

from .base import Generated, drop_non_finite
from .fv1d import advection_flux, burgers_flux, heat_step, integrate, muscl_pc_step
from .initial import cell_centres, draw_initial, normalise_unit


def _times(t_end: float, dt_save: float) -> np.ndarray:
    return np.round(np.arange(0, round(t_end / dt_save) + 1) * dt_save, 12)


def advection(n: int, nx: int, seed: int, beta: float = 0.4, t_end: float = 2.0, dt_save: float = 0.01,
              cfl: float = 0.4, progress: bool = True) -> Generated:
    """``n`` advection runs at ``nx`` cells: ``fields`` (n, T, nx) with T = t_end / dt_save + 1 (201)."""
    x, t = cell_centres(nx), _times(t_end, dt_save)
    dx = 1.0 / nx
    u0 = draw_initial(x, n, np.random.default_rng(seed)).evaluate(x)
    flux = advection_flux(beta)
    frames = integrate(u0, t, lambda u: cfl * dx / abs(beta), lambda u, dt: muscl_pc_step(u, dt, dx, flux),
                       desc="advection" if progress else "")
    frames, _, dropped = drop_non_finite(frames)
    return Generated("tensor", frames.astype(np.float32), x, t,
                     attrs={"beta": beta, "pde": "u_t + beta u_x = 0", "scheme": "MUSCL-PC", "cfl": cfl},
                     dropped=dropped)


def advection_exact(n: int, nx: int, seed: int, beta: float = 0.4, t_end: float = 2.0,
                    dt_save: float = 0.01) -> Generated:
    """The same draws as :func:`advection` (same seed), solved exactly: ``u0((x - beta t) mod 1)``."""
    x, t = cell_centres(nx), _times(t_end, dt_save)
    draws = draw_initial(x, n, np.random.default_rng(seed))
    # (T, nx) shifted coordinates, evaluated for every sample -> (n, T, nx)
    frames = np.stack([draws.evaluate(np.mod(x - beta * tk, 1.0)) for tk in t], axis=1)
    return Generated("tensor", frames.astype(np.float32), x, t, attrs={"beta": beta, "scheme": "exact"})


def burgers(n: int, nx: int, seed: int, nu: float = 1.0, t_end: float = 2.0, dt_save: float = 0.01,
            cfl: float = 0.4, progress: bool = True) -> Generated:
    """``n`` viscous Burgers runs (viscosity ``nu / pi``, as PDEBench) at ``nx`` cells: (n, 201, nx)."""
    x, t = cell_centres(nx), _times(t_end, dt_save)
    dx = 1.0 / nx
    kappa = nu / np.pi
    u0 = draw_initial(x, n, np.random.default_rng(seed)).evaluate(x)

    def step(u: np.ndarray, dt: float) -> np.ndarray:
        u = heat_step(u, 0.5 * kappa * dt, dx)
        u = muscl_pc_step(u, dt, dx, burgers_flux)
        return heat_step(u, 0.5 * kappa * dt, dx)

    frames = integrate(u0, t, lambda u: cfl * dx / max(float(np.abs(u).max()), 1e-8), step,
                       desc="burgers" if progress else "")
    frames, _, dropped = drop_non_finite(frames)
    return Generated("tensor", frames.astype(np.float32), x, t,
                     attrs={"Nu": nu, "pde": "u_t + (u^2/2)_x = (nu/pi) u_xx",
                            "scheme": "Strang: MUSCL-PC convection + exact discrete heat step", "cfl": cfl},
                     dropped=dropped)


def logistic_step(u: np.ndarray, rho_dt: float) -> np.ndarray:
    """Exact solution of ``u' = rho u (1 - u)`` after ``dt`` (``rho_dt = rho * dt``); 0 and 1 are fixed points."""
    return u / (u + (1.0 - u) * np.exp(-rho_dt))


def reaction_diffusion(n: int, nx: int, seed: int, nu: float = 0.5, rho: float = 1.0, t_end: float = 1.0,
                       dt_save: float = 0.01, substeps: int = 10, progress: bool = True) -> Generated:
    """``n`` Fisher-KPP runs at ``nx`` cells, initial states normalised to [0, 1]: (n, 101, nx)."""
    x, t = cell_centres(nx), _times(t_end, dt_save)
    dx = 1.0 / nx
    u0 = normalise_unit(draw_initial(x, n, np.random.default_rng(seed)).evaluate(x))

    def step(u: np.ndarray, dt: float) -> np.ndarray:
        u = logistic_step(u, 0.5 * rho * dt)
        u = heat_step(u, nu * dt, dx)
        return logistic_step(u, 0.5 * rho * dt)

    frames = integrate(u0, t, lambda u: dt_save / substeps, step, desc="reaction-diffusion" if progress else "")
    frames, _, dropped = drop_non_finite(frames)
    return Generated("tensor", frames.astype(np.float32), x, t,
                     attrs={"Nu": nu, "rho": rho, "pde": "u_t = nu u_xx + rho u (1 - u)",
                            "scheme": "Strang: exact logistic + exact discrete heat step", "substeps": substeps},
                     dropped=dropped)
