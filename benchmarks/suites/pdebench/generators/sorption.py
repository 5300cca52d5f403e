"""1D diffusion-sorption ``u_t = D / R(u) u_xx`` with Freundlich retardation (``benchmarks.md`` §1.5 (4)).

Method of lines on ``nx`` cells of (0, 1): 3-point Laplacian, left Dirichlet ``u = 1`` as a ghost value at distance
dx, right "Cauchy" condition as PDEBench writes it (a source ``D / (R dx^2) * D (u[-2] - u[-1]) / dx`` in the last
cell, which otherwise has no flux through its right face). PDEBench integrates with RK45; the problem is stiff,
so this uses BDF with the Jacobian's sparsity (tridiagonal per sample), all samples in one system.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.integrate import solve_ivp

from .base import Generated, drop_non_finite
from .initial import cell_centres

CONSTANTS = {"D": 5e-4, "porosity": 0.29, "rho_s": 2880.0, "k_f": 3.5e-4, "n_f": 0.874}


def retardation(u: np.ndarray, porosity: float, rho_s: float, k_f: float, n_f: float) -> np.ndarray:
    """Freundlich retardation factor R(u) = 1 + (1 - phi)/phi rho_s k_f n_f (u + 1e-6)^(n_f - 1)."""
    return 1.0 + (1.0 - porosity) / porosity * rho_s * k_f * n_f * (np.abs(u) + 1e-6) ** (n_f - 1.0)


def sorption_rhs(u: np.ndarray, dx: float, D: float, porosity: float, rho_s: float, k_f: float,
                 n_f: float) -> np.ndarray:
    """Time derivative of the cell values ``u`` (n, nx)."""
    left = np.concatenate([np.ones_like(u[:, :1]), u[:, :-1]], axis=1)  # Dirichlet ghost u = 1
    right = np.concatenate([u[:, 1:], u[:, -1:]], axis=1)  # no flux through the last face ...
    lap = (left - 2 * u + right) / dx**2
    r = retardation(u, porosity, rho_s, k_f, n_f)
    du = D / r * lap
    du[:, -1] += D / (r[:, -1] * dx**2) * D * (u[:, -2] - u[:, -1]) / dx  # ... plus PDEBench's Cauchy source
    return du


def diffusion_sorption(n: int, nx: int, seed: int, t_end: float = 500.0, n_frames: int = 101,
                       rtol: float = 1e-5, atol: float = 1e-7, progress: bool = True) -> Generated:
    """``n`` runs from spatially constant ``u0 ~ U(0, 0.2)`` (one rng seeded by ``seed``): fields (n, T, nx, 1)."""
    x = cell_centres(nx)
    dx = 1.0 / nx
    t = np.linspace(0.0, t_end, n_frames)
    u0 = np.repeat(np.random.default_rng(seed).uniform(0.0, 0.2, size=(n, 1)), nx, axis=1)
    block = sparse.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(nx, nx))
    pattern = sparse.block_diag([block] * n, format="csc")  # samples do not couple

    def rhs(_: float, flat: np.ndarray) -> np.ndarray:
        return sorption_rhs(flat.reshape(n, nx), dx, **CONSTANTS).ravel()

    sol = solve_ivp(rhs, (0.0, t_end), u0.ravel(), method="BDF", t_eval=t, rtol=rtol, atol=atol,
                    jac_sparsity=pattern)
    if not sol.success:
        raise RuntimeError(f"diffusion-sorption solver failed: {sol.message}")
    frames = sol.y.reshape(n, nx, len(t)).transpose(0, 2, 1)[..., None]  # (n, T, nx, 1)
    frames, _, dropped = drop_non_finite(frames)
    return Generated("groups", frames.astype(np.float32), x, t,
                     attrs={**CONSTANTS, "pde": "u_t = D / R(u) u_xx", "scheme": "method of lines, BDF",
                            "rtol": rtol, "atol": atol}, dropped=dropped)
